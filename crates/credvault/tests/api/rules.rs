//! Refusal rules, table-driven: every rule of API.md §4.1 (credential create, common, JWT and
//! TEXT fields, test credentials), §3 (users, API keys, teams, members, folders) and the §2
//! conventions, each with its exact status and error `field`. Each table runs all of its cases
//! and then reports every case that failed by name.

use std::panic::{catch_unwind, AssertUnwindSafe};

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

const CREDENTIALS: &str = "/api/v1/user_credentials";

/// Fields every credential response MUST have (API.md §4.1).
const RESPONSE_FIELDS: [&str; 22] = [
    "id",
    "name",
    "mode",
    "team_id",
    "folder_id",
    "read_access",
    "shared_team_slugs",
    "description",
    "slug",
    "created_at",
    "updated_at",
    "allowed_hosts",
    "metadata",
    "restriction_type",
    "test_credential_enabled",
    "test_credential",
    "owner",
    "expires_at",
    "expiry_notifications_enabled",
    "credential_notification_recipient_user_ids",
    "owner/user_id",
    "owner/email",
];

/// Fields that hold secrets in a request and must never come back.
const SECRET_FIELDS: [&str; 3] = ["value", "jwt_private_key", "jwt_private_key_passphrase"];

/// One change to a case's base request body.
enum Edit {
    Set(&'static str, Value),
    Remove(&'static str),
}
use Edit::{Remove, Set};

/// What a case expects back.
enum Want {
    /// This 2xx status, and these response fields (a JSON pointer without the leading `/`)
    /// with exactly these values.
    Ok(u16, Vec<(&'static str, Value)>),
    /// An error: status, the error's `field`, and a word of its message.
    Error(u16, Option<&'static str>, &'static str),
}

fn ok(status: u16, fields: Vec<(&'static str, Value)>) -> Want {
    Want::Ok(status, fields)
}

fn err(status: u16, field: Option<&'static str>, needle: &'static str) -> Want {
    Want::Error(status, field, needle)
}

/// Checks one response; on a mismatch the assertion's message is printed, followed by the
/// case's name, and `false` is returned so that the table goes on.
fn check(case: &str, status: u16, body: &Value, want: &Want) -> bool {
    let outcome = catch_unwind(AssertUnwindSafe(|| match want {
        Want::Error(want_status, field, needle) => {
            assert_error(status, body, *want_status, *field, needle)
        }
        Want::Ok(want_status, fields) => {
            assert_eq!(status, *want_status, "body: {body}");
            for (path, value) in fields {
                assert_eq!(
                    body.pointer(&format!("/{path}")),
                    Some(value),
                    "response field {path}: {body}"
                );
            }
        }
    }));
    if outcome.is_err() {
        eprintln!("^^^ case {case:?} failed");
    }
    outcome.is_ok()
}

/// `2030-01-31T12:00:00.000Z`: RFC 3339 UTC with milliseconds.
fn is_api_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// A create-credential case: `edits` applied to the table's base body, sent with `key`.
struct Case {
    name: &'static str,
    key: String,
    edits: Vec<Edit>,
    want: Want,
}

fn case(name: &'static str, key: &str, edits: Vec<Edit>, want: Want) -> Case {
    Case {
        name,
        key: key.to_string(),
        edits,
        want,
    }
}

/// Runs create-credential cases in order; each starts from `base(<unique name>)`. Every 201
/// is also checked for the full Tines response shape and for the absence of secrets.
async fn run_create_cases(server: &Server, base: impl Fn(&str) -> Value, cases: Vec<Case>) {
    let mut failed = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let mut body = base(&format!("rules case {i}"));
        let map = body.as_object_mut().unwrap();
        for edit in &c.edits {
            match edit {
                Set(k, v) => {
                    map.insert(k.to_string(), v.clone());
                }
                Remove(k) => {
                    map.remove(*k);
                }
            }
        }
        let (status, resp) = server.create_credential(&c.key, body.clone()).await;
        let mut passed = check(c.name, status, &resp, &c.want);
        if passed && (200..300).contains(&status) {
            passed = check_credential_shape(c.name, &body, &resp);
        }
        if !passed {
            failed.push(c.name);
        }
    }
    assert!(failed.is_empty(), "failed cases: {failed:?}");
}

/// A credential response has every Tines field and no secret (API.md §2, §4.1).
fn check_credential_shape(case: &str, request: &Value, resp: &Value) -> bool {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        for path in RESPONSE_FIELDS {
            assert!(
                resp.pointer(&format!("/{path}")).is_some(),
                "response lacks {path}: {resp}"
            );
        }
        for field in SECRET_FIELDS {
            assert!(resp.get(field).is_none(), "response has {field}: {resp}");
            if let Some(secret) = request[field].as_str().filter(|s| s.len() >= 8) {
                assert!(
                    !resp.to_string().contains(secret),
                    "response contains the {field} sent: {resp}"
                );
            }
        }
        for time in ["created_at", "updated_at"] {
            assert!(
                resp[time].as_str().is_some_and(is_api_time),
                "{time} is not an RFC 3339 UTC time with milliseconds: {resp}"
            );
        }
        let restricted = resp["allowed_hosts"]
            .as_array()
            .is_some_and(|h| !h.is_empty());
        let want = if restricted {
            "RESTRICTED"
        } else {
            "UNRESTRICTED"
        };
        assert_eq!(resp["restriction_type"], want, "{resp}");
    }));
    if outcome.is_err() {
        eprintln!("^^^ case {case:?} failed");
    }
    outcome.is_ok()
}

/// An arbitrary request case.
struct Call {
    name: &'static str,
    method: Method,
    path: String,
    key: String,
    body: Option<Value>,
    want: Want,
}

fn call(
    name: &'static str,
    method: Method,
    path: impl Into<String>,
    key: &str,
    body: Option<Value>,
    want: Want,
) -> Call {
    Call {
        name,
        method,
        path: path.into(),
        key: key.to_string(),
        body,
        want,
    }
}

async fn run_calls(server: &Server, calls: Vec<Call>) {
    let mut failed = Vec::new();
    for c in &calls {
        let (status, resp) = server
            .call(c.method.clone(), &c.path, Some(&c.key), c.body.clone())
            .await;
        if !check(c.name, status, &resp, &c.want) {
            failed.push(c.name);
        }
    }
    assert!(failed.is_empty(), "failed cases: {failed:?}");
}

async fn folder(server: &Server, key: &str, team_id: i64, name: &str) -> i64 {
    let (status, body) = server
        .post(
            "/api/v1/folders",
            key,
            json!({ "name": name, "content_type": "CREDENTIAL", "team_id": team_id }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn create_credential_common_field_rules() {
    let server = Server::start();
    let alpha = server.team("Rules Alpha").await;
    let beta = server.team("Rules Beta").await;
    let gamma = server.team("Rules Gamma").await;
    let delta = server.team("Rules Delta").await;
    // `ta`: TEAM_ADMIN of Alpha, VIEWER of Beta, EDITOR of Delta, not in Gamma.
    let (ta_id, ta) = server
        .user("ta@rules.test", Some((alpha, "TEAM_ADMIN")))
        .await;
    server.invite(beta, ta_id, "VIEWER").await;
    server.invite(delta, ta_id, "EDITOR").await;
    let (ed_id, ed) = server.user("ed@rules.test", Some((alpha, "EDITOR"))).await;
    let (vw_id, vw) = server.user("vw@rules.test", Some((alpha, "VIEWER"))).await;
    let (out_id, out) = server.user("out@rules.test", None).await;
    let mut editors = vec![ta_id, ed_id];
    for i in 0..4 {
        let (id, _) = server
            .user(&format!("e{i}@rules.test"), Some((alpha, "EDITOR")))
            .await;
        editors.push(id);
    }
    let folder_alpha = folder(&server, &ta, alpha, "alpha creds").await;
    let folder_beta = folder(&server, OWNER_KEY, beta, "beta creds").await;

    let long_name = "n".repeat(256);
    let max_name = "m".repeat(255);

    #[rustfmt::skip]
    let cases = vec![
        // name
        case("name missing", &ta, vec![Remove("name")], err(422, Some("name"), "required")),
        case("name null", &ta, vec![Set("name", Value::Null)], err(422, Some("name"), "required")),
        case("name with empty slug", &ta, vec![Set("name", json!("!!!"))], err(422, Some("name"), "letter or digit")),
        case("name only spaces", &ta, vec![Set("name", json!("   "))], err(422, Some("name"), "letter or digit")),
        case("name too long", &ta, vec![Set("name", json!(long_name))], err(422, Some("name"), "255")),
        case("name not a string", &ta, vec![Set("name", json!(5))], err(422, Some("name"), "string")),
        case("name with a NUL character", &ta, vec![Set("name", json!("nul\u{0}name"))], err(422, Some("name"), "NUL")),
        case("description with a NUL character", &ta, vec![Set("description", json!("a\u{0}b"))], err(422, Some("description"), "NUL")),
        case("name of 255 characters", &ta, vec![Set("name", json!(max_name))], ok(201, vec![("name", json!(max_name))])),
        case("slug of a name", &ta, vec![Set("name", json!("  My  API-Key!! "))], ok(201, vec![("slug", json!("my_api_key"))])),
        // mode
        case("mode missing", &ta, vec![Remove("mode")], err(422, Some("mode"), "required")),
        case("mode unknown", &ta, vec![Set("mode", json!("SAML"))], err(422, Some("mode"), "one of")),
        case("mode not a string", &ta, vec![Set("mode", json!(1))], err(422, Some("mode"), "string")),
        case("mode OAUTH", &ta, vec![Set("mode", json!("OAUTH"))], err(422, Some("mode"), "not supported")),
        case("mode AWS", &ta, vec![Set("mode", json!("AWS"))], err(422, Some("mode"), "not supported")),
        case("mode MTLS", &ta, vec![Set("mode", json!("MTLS"))], err(422, Some("mode"), "not supported")),
        case("mode HTTP_REQUEST_AGENT", &ta, vec![Set("mode", json!("HTTP_REQUEST_AGENT"))], err(422, Some("mode"), "not supported")),
        case("mode MULTI_REQUEST", &ta, vec![Set("mode", json!("MULTI_REQUEST"))], err(422, Some("mode"), "not supported")),
        // team_id and the caller's role
        case("team_id missing", &ta, vec![Remove("team_id")], err(422, Some("team_id"), "required")),
        case("team_id not an integer", &ta, vec![Set("team_id", json!("abc"))], err(422, Some("team_id"), "integer")),
        case("team_id a fraction", &ta, vec![Set("team_id", json!(1.5))], err(422, Some("team_id"), "integer")),
        case("team_id a boolean", &ta, vec![Set("team_id", json!(true))], err(422, Some("team_id"), "integer")),
        case("team_id of a team the caller is not in", &ta, vec![Set("team_id", json!(gamma))], err(404, None, "not found")),
        case("team_id of no team", &ta, vec![Set("team_id", json!(999_999))], err(404, None, "not found")),
        case("caller is a VIEWER", &vw, vec![], err(403, None, "EDITOR")),
        case("caller in no team", &out, vec![], err(404, None, "not found")),
        case("caller is an EDITOR", &ed, vec![], ok(201, vec![("team_id", json!(alpha)), ("owner/user_id", json!(ed_id)), ("owner/email", json!("ed@rules.test"))])),
        // folder_id
        case("folder_id of another team", &ta, vec![Set("folder_id", json!(folder_beta))], err(422, Some("folder_id"), "CREDENTIAL folder")),
        case("folder_id of no folder", &ta, vec![Set("folder_id", json!(999_999))], err(422, Some("folder_id"), "CREDENTIAL folder")),
        case("folder_id not an integer", &ta, vec![Set("folder_id", json!("abc"))], err(422, Some("folder_id"), "integer")),
        case("folder_id of the team", &ed, vec![Set("folder_id", json!(folder_alpha))], ok(201, vec![("folder_id", json!(folder_alpha))])),
        // read_access and shared_team_slugs
        case("read_access unknown", &ta, vec![Set("read_access", json!("PUBLIC"))], err(422, Some("read_access"), "one of")),
        case("read_access not a string", &ta, vec![Set("read_access", json!(1))], err(422, Some("read_access"), "string")),
        case("GLOBAL by an EDITOR", &ed, vec![Set("read_access", json!("GLOBAL"))], err(403, Some("read_access"), "TEAM_ADMIN")),
        case("SPECIFIC_TEAMS by an EDITOR", &ed, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!(["rules_alpha"]))], err(403, Some("read_access"), "TEAM_ADMIN")),
        case("SPECIFIC_TEAMS without shared_team_slugs", &ta, vec![Set("read_access", json!("SPECIFIC_TEAMS"))], err(422, Some("shared_team_slugs"), "at least one")),
        case("SPECIFIC_TEAMS with no slugs", &ta, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!([]))], err(422, Some("shared_team_slugs"), "at least one")),
        case("shared_team_slugs with TEAM", &ta, vec![Set("read_access", json!("TEAM")), Set("shared_team_slugs", json!(["rules_delta"]))], err(422, Some("shared_team_slugs"), "SPECIFIC_TEAMS")),
        case("shared_team_slugs with read_access absent", &ta, vec![Set("shared_team_slugs", json!(["rules_delta"]))], err(422, Some("shared_team_slugs"), "SPECIFIC_TEAMS")),
        case("shared_team_slugs with GLOBAL", &ta, vec![Set("read_access", json!("GLOBAL")), Set("shared_team_slugs", json!(["rules_delta"]))], err(422, Some("shared_team_slugs"), "SPECIFIC_TEAMS")),
        case("shared_team_slugs not an array", &ta, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!("rules_delta"))], err(422, Some("shared_team_slugs"), "array")),
        case("shared_team_slugs with a number", &ta, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!([1]))], err(422, Some("shared_team_slugs"), "string")),
        case("shared_team_slugs unknown slug", &ta, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!(["rules_nowhere"]))], err(422, Some("shared_team_slugs"), "rules_nowhere")),
        case("shared with a team where the caller is VIEWER", &ta, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!(["rules_beta"]))], err(403, Some("shared_team_slugs"), "EDITOR")),
        case("shared with a team the caller is not in", &ta, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!(["rules_delta", "rules_gamma"]))], err(403, Some("shared_team_slugs"), "EDITOR")),
        case("TEAM with an empty list by an EDITOR", &ed, vec![Set("read_access", json!("TEAM")), Set("shared_team_slugs", json!([]))], ok(201, vec![("read_access", json!("TEAM")), ("shared_team_slugs", json!([]))])),
        case("GLOBAL by a TEAM_ADMIN", &ta, vec![Set("read_access", json!("GLOBAL"))], ok(201, vec![("read_access", json!("GLOBAL")), ("shared_team_slugs", json!([]))])),
        case(
            "SPECIFIC_TEAMS where the caller is EDITOR",
            &ta,
            vec![
                Set("read_access", json!("SPECIFIC_TEAMS")),
                Set("shared_team_slugs", json!(["rules_delta"])),
            ],
            ok(
                201,
                vec![
                    ("read_access", json!("SPECIFIC_TEAMS")),
                    ("shared_team_slugs", json!(["rules_delta"])),
                ],
            ),
        ),
        case(
            "SPECIFIC_TEAMS by the tenant admin, in no team",
            OWNER_KEY,
            vec![
                Set("read_access", json!("SPECIFIC_TEAMS")),
                Set("shared_team_slugs", json!(["rules_gamma"])),
            ],
            ok(
                201,
                vec![
                    ("read_access", json!("SPECIFIC_TEAMS")),
                    ("shared_team_slugs", json!(["rules_gamma"])),
                ],
            ),
        ),
        // description, metadata
        case("description not a string", &ta, vec![Set("description", json!(5))], err(422, Some("description"), "string")),
        case("metadata an array", &ta, vec![Set("metadata", json!([1, 2]))], err(422, Some("metadata"), "object")),
        case("metadata a string", &ta, vec![Set("metadata", json!("{}"))], err(422, Some("metadata"), "object")),
        case("metadata a number", &ta, vec![Set("metadata", json!(3))], err(422, Some("metadata"), "object")),
        // allowed_hosts
        case("allowed_hosts not an array", &ta, vec![Set("allowed_hosts", json!("api.example.com"))], err(422, Some("allowed_hosts"), "array")),
        case("allowed_hosts with an empty string", &ta, vec![Set("allowed_hosts", json!(["api.example.com", ""]))], err(422, Some("allowed_hosts"), "empty")),
        case("allowed_hosts with a space", &ta, vec![Set("allowed_hosts", json!(["a b"]))], err(422, Some("allowed_hosts"), "whitespace")),
        case("allowed_hosts with a leading space", &ta, vec![Set("allowed_hosts", json!([" api.example.com"]))], err(422, Some("allowed_hosts"), "whitespace")),
        case("allowed_hosts with a number", &ta, vec![Set("allowed_hosts", json!([5]))], err(422, Some("allowed_hosts"), "string")),
        case("allowed_hosts an object", &ta, vec![Set("allowed_hosts", json!({"host": "a.com"}))], err(422, Some("allowed_hosts"), "array")),
        // expires_at, expiry_notifications_enabled
        case("expires_at not a time", &ta, vec![Set("expires_at", json!("tomorrow"))], err(422, Some("expires_at"), "RFC 3339")),
        case("expires_at an impossible date", &ta, vec![Set("expires_at", json!("2030-13-45T00:00:00Z"))], err(422, Some("expires_at"), "RFC 3339")),
        case("expires_at without an offset", &ta, vec![Set("expires_at", json!("2030-01-31T12:00:00"))], err(422, Some("expires_at"), "RFC 3339")),
        case("expires_at with an offset", &ta, vec![Set("expires_at", json!("2030-01-31T13:00:00.25+01:00"))], ok(201, vec![("expires_at", json!("2030-01-31T12:00:00.250Z"))])),
        case("expires_at a number", &ta, vec![Set("expires_at", json!(1_900_000_000))], err(422, Some("expires_at"), "string")),
        case("expiry_notifications_enabled not a boolean", &ta, vec![Set("expiry_notifications_enabled", json!("yes"))], err(422, Some("expiry_notifications_enabled"), "true or false")),
        // credential_notification_recipient_user_ids
        case(
            "six recipients",
            &ta,
            vec![Set(
                "credential_notification_recipient_user_ids",
                json!([editors[0], editors[1], editors[2], editors[3], editors[4], editors[5]]),
            )],
            err(
                422,
                Some("credential_notification_recipient_user_ids"),
                "at most 5",
            ),
        ),
        case("a VIEWER recipient", &ta, vec![Set("credential_notification_recipient_user_ids", json!([ed_id, vw_id]))], err(422, Some("credential_notification_recipient_user_ids"), "EDITOR")),
        case("a recipient not in the team", &ta, vec![Set("credential_notification_recipient_user_ids", json!([out_id]))], err(422, Some("credential_notification_recipient_user_ids"), "EDITOR")),
        case("a recipient who is no user", &ta, vec![Set("credential_notification_recipient_user_ids", json!([999_999]))], err(422, Some("credential_notification_recipient_user_ids"), "EDITOR")),
        case("a recipient not an integer", &ta, vec![Set("credential_notification_recipient_user_ids", json!(["abc"]))], err(422, Some("credential_notification_recipient_user_ids"), "integer")),
        case("recipients not an array", &ta, vec![Set("credential_notification_recipient_user_ids", json!(ed_id))], err(422, Some("credential_notification_recipient_user_ids"), "array")),
        // every optional field valid at once
        case(
            "all optional fields valid",
            &ta,
            vec![
                Set("folder_id", json!(folder_alpha)),
                Set("description", json!("used by the rules tests")),
                Set("metadata", json!({ "env": "prod", "n": 1 })),
                Set(
                    "allowed_hosts",
                    json!([
                        "api.example.com",
                        "*.example.org",
                        "https://x.example.com/v1/*"
                    ]),
                ),
                Set("expires_at", json!("2030-01-31T12:00:00Z")),
                Set("expiry_notifications_enabled", json!(true)),
                Set(
                    "credential_notification_recipient_user_ids",
                    json!(editors[..5]),
                ),
            ],
            ok(
                201,
                vec![
                    ("folder_id", json!(folder_alpha)),
                    ("description", json!("used by the rules tests")),
                    ("metadata", json!({ "env": "prod", "n": 1 })),
                    (
                        "allowed_hosts",
                        json!([
                            "api.example.com",
                            "*.example.org",
                            "https://x.example.com/v1/*"
                        ]),
                    ),
                    ("restriction_type", json!("RESTRICTED")),
                    ("expires_at", json!("2030-01-31T12:00:00.000Z")),
                    ("expiry_notifications_enabled", json!(true)),
                    (
                        "credential_notification_recipient_user_ids",
                        json!(editors[..5]),
                    ),
                ],
            ),
        ),
        case(
            "defaults",
            &ta,
            vec![],
            ok(
                201,
                vec![
                    ("mode", json!("JWT")),
                    ("team_id", json!(alpha)),
                    ("folder_id", Value::Null),
                    ("read_access", json!("TEAM")),
                    ("shared_team_slugs", json!([])),
                    ("description", json!("")),
                    ("metadata", json!({})),
                    ("allowed_hosts", json!([])),
                    ("restriction_type", json!("UNRESTRICTED")),
                    ("test_credential_enabled", json!(false)),
                    ("test_credential", Value::Null),
                    ("owner/user_id", json!(ta_id)),
                    ("expires_at", Value::Null),
                    ("expiry_notifications_enabled", json!(false)),
                    ("credential_notification_recipient_user_ids", json!([])),
                ],
            ),
        ),
        case("unknown fields are ignored", &ta, vec![Set("unknown_field", json!({"x": [1]})), Set("tines_extra", json!("ignored"))], ok(201, vec![("mode", json!("JWT"))])),
        // the slug is unique per team
        case("first Jwt Credential", &ta, vec![Set("name", json!("Jwt Credential"))], ok(201, vec![("name", json!("Jwt Credential")), ("slug", json!("jwt_credential"))])),
        case("same name again", &ta, vec![Set("name", json!("Jwt Credential"))], err(409, Some("name"), "already exists")),
        case("same slug, other case", &ta, vec![Set("name", json!("jwt credential"))], err(409, Some("name"), "already exists")),
        case("same slug, other punctuation", &ed, vec![Set("name", json!("JWT -- credential!"))], err(409, Some("name"), "already exists")),
        case("same slug, TEXT mode", &ta, vec![Set("name", json!("jwt_credential")), Set("mode", json!("TEXT")), Set("value", json!("some text value"))], err(409, Some("name"), "already exists")),
        case("same name in another team", &ta, vec![Set("name", json!("Jwt Credential")), Set("team_id", json!(delta))], ok(201, vec![("team_id", json!(delta)), ("slug", json!("jwt_credential"))])),
    ];
    run_create_cases(&server, |name| jwt_body(alpha, name), cases).await;
}

#[tokio::test]
async fn create_credential_jwt_field_rules() {
    let server = Server::start();
    let team = server.team("Rules Jwt").await;
    let rsa = fixture_key("rsa2048-pkcs8.pem");
    let k = OWNER_KEY;
    #[rustfmt::skip]
    let cases = vec![
        // jwt_algorithm
        case("jwt_algorithm missing", k, vec![Remove("jwt_algorithm")], err(422, Some("jwt_algorithm"), "required")),
        case("jwt_algorithm none", k, vec![Set("jwt_algorithm", json!("none"))], err(422, Some("jwt_algorithm"), "EdDSA")),
        case("jwt_algorithm ES256K", k, vec![Set("jwt_algorithm", json!("ES256K"))], err(422, Some("jwt_algorithm"), "EdDSA")),
        case("jwt_algorithm lists names", k, vec![Set("jwt_algorithm", json!("HS1"))], err(422, Some("jwt_algorithm"), "HS256, HS384, HS512, RS256")),
        case("jwt_algorithm not a string", k, vec![Set("jwt_algorithm", json!(256))], err(422, Some("jwt_algorithm"), "string")),
        case("jwt_algorithm rsa256", k, vec![Set("jwt_algorithm", json!("rsa256")), Set("jwt_private_key", json!(rsa))], ok(201, vec![("jwt_algorithm", json!("RS256"))])),
        case("jwt_algorithm rs256", k, vec![Set("jwt_algorithm", json!("rs256")), Set("jwt_private_key", json!(rsa))], ok(201, vec![("jwt_algorithm", json!("RS256"))])),
        case("jwt_algorithm eddsa", k, vec![Set("jwt_algorithm", json!("eddsa")), Set("jwt_private_key", json!(fixture_key("ed25519-pkcs8.pem")))], ok(201, vec![("jwt_algorithm", json!("EdDSA"))])),
        // jwt_payload
        case("jwt_payload an array", k, vec![Set("jwt_payload", json!([1, 2]))], err(422, Some("jwt_payload"), "JSON object")),
        case("jwt_payload a number", k, vec![Set("jwt_payload", json!(42))], err(422, Some("jwt_payload"), "JSON object")),
        case("jwt_payload a boolean", k, vec![Set("jwt_payload", json!(true))], err(422, Some("jwt_payload"), "JSON object")),
        case("jwt_payload invalid JSON text", k, vec![Set("jwt_payload", json!("{not json"))], err(422, Some("jwt_payload"), "JSON object")),
        case("jwt_payload text of an array", k, vec![Set("jwt_payload", json!("[1, 2]"))], err(422, Some("jwt_payload"), "JSON object")),
        case("jwt_payload text of a number", k, vec![Set("jwt_payload", json!("7"))], err(422, Some("jwt_payload"), "JSON object")),
        case("jwt_payload text of an object", k, vec![Set("jwt_payload", json!("{\"sub\":\"abc\",\"n\":1}"))], ok(201, vec![("jwt_payload", json!({"sub": "abc", "n": 1}))])),
        case("jwt_payload an object", k, vec![Set("jwt_payload", json!({"iss": "x", "aud": ["a", "b"]}))], ok(201, vec![("jwt_payload", json!({"iss": "x", "aud": ["a", "b"]}))])),
        case("jwt_payload absent", k, vec![Remove("jwt_payload")], ok(201, vec![("jwt_payload", json!({}))])),
        // jwt_auto_generate_time_claims
        case("jwt_auto_generate_time_claims a string", k, vec![Set("jwt_auto_generate_time_claims", json!("true"))], err(422, Some("jwt_auto_generate_time_claims"), "true or false")),
        case("jwt_auto_generate_time_claims a number", k, vec![Set("jwt_auto_generate_time_claims", json!(1))], err(422, Some("jwt_auto_generate_time_claims"), "true or false")),
        case("jwt_auto_generate_time_claims true", k, vec![Set("jwt_auto_generate_time_claims", json!(true))], ok(201, vec![("jwt_auto_generate_time_claims", json!(true))])),
        // jwt_headers
        case("jwt_headers a string", k, vec![Set("jwt_headers", json!("kid"))], err(422, Some("jwt_headers"), "JSON object")),
        case("jwt_headers an array", k, vec![Set("jwt_headers", json!([["kid", "k1"]]))], err(422, Some("jwt_headers"), "JSON object")),
        case("jwt_headers with alg", k, vec![Set("jwt_headers", json!({"alg": "none", "kid": "k1"}))], err(422, Some("jwt_headers"), "alg")),
        case("jwt_headers with kid", k, vec![Set("jwt_headers", json!({"kid": "k1"}))], ok(201, vec![("jwt_headers", json!({"kid": "k1"}))])),
        // jwt_lifetime_seconds
        case("jwt_lifetime_seconds 0", k, vec![Set("jwt_lifetime_seconds", json!(0))], err(422, Some("jwt_lifetime_seconds"), "86400")),
        case("jwt_lifetime_seconds negative", k, vec![Set("jwt_lifetime_seconds", json!(-5))], err(422, Some("jwt_lifetime_seconds"), "86400")),
        case("jwt_lifetime_seconds 86401", k, vec![Set("jwt_lifetime_seconds", json!(86_401))], err(422, Some("jwt_lifetime_seconds"), "86400")),
        case("jwt_lifetime_seconds text", k, vec![Set("jwt_lifetime_seconds", json!("abc"))], err(422, Some("jwt_lifetime_seconds"), "integer")),
        case("jwt_lifetime_seconds fraction", k, vec![Set("jwt_lifetime_seconds", json!(1.5))], err(422, Some("jwt_lifetime_seconds"), "integer")),
        case("jwt_lifetime_seconds 1", k, vec![Set("jwt_lifetime_seconds", json!(1))], ok(201, vec![("jwt_lifetime_seconds", json!(1))])),
        case("jwt_lifetime_seconds 86400", k, vec![Set("jwt_lifetime_seconds", json!(86_400))], ok(201, vec![("jwt_lifetime_seconds", json!(86_400))])),
        // jwt_private_key
        case("jwt_private_key missing", k, vec![Remove("jwt_private_key")], err(422, Some("jwt_private_key"), "required")),
        case("jwt_private_key empty", k, vec![Set("jwt_private_key", json!(""))], err(422, Some("jwt_private_key"), "empty")),
        case("jwt_private_key not a string", k, vec![Set("jwt_private_key", json!({"kty": 1}))], err(422, Some("jwt_private_key"), "string")),
        case("jwt_private_key garbage", k, vec![Set("jwt_private_key", json!("this is not a key at all"))], err(422, Some("jwt_private_key"), "jwt_private_key")),
        case("jwt_private_key a public key", k, vec![Set("jwt_private_key", json!(fixture_key("ec-p256-pub.pem")))], err(422, Some("jwt_private_key"), "public")),
        case("jwt_private_key RSA for ES256", k, vec![Set("jwt_private_key", json!(rsa))], err(422, Some("jwt_private_key"), "ES256")),
        case("jwt_private_key P-384 for ES256", k, vec![Set("jwt_private_key", json!(fixture_key("ec-p384-pkcs8.pem")))], err(422, Some("jwt_private_key"), "ES256")),
        case("jwt_private_key RSA of 1024 bits", k, vec![Set("jwt_algorithm", json!("RS256")), Set("jwt_private_key", json!(fixture_key("rsa1024-pkcs8.pem")))], err(422, Some("jwt_private_key"), "2048")),
        case("jwt_private_key encrypted, no passphrase", k, vec![Set("jwt_private_key", json!(fixture_key("ec-p256-encrypted.pem")))], err(422, Some("jwt_private_key"), "passphrase")),
        case("HS256 with a plain secret", k, vec![Set("jwt_algorithm", json!("HS256")), Set("jwt_private_key", json!("a plain shared secret"))], ok(201, vec![("jwt_algorithm", json!("HS256"))])),
        case(
            "JWT defaults",
            k,
            vec![],
            ok(
                201,
                vec![
                    ("mode", json!("JWT")),
                    ("jwt_algorithm", json!("ES256")),
                    ("jwt_payload", json!({"iss": "credvault-tests"})),
                    ("jwt_auto_generate_time_claims", json!(false)),
                    ("jwt_headers", json!({})),
                    ("jwt_lifetime_seconds", json!(3600)),
                ],
            ),
        ),
    ];
    run_create_cases(&server, |name| jwt_body(team, name), cases).await;
}

#[tokio::test]
async fn create_credential_text_rules() {
    let server = Server::start();
    let team = server.team("Rules Text").await;
    let k = OWNER_KEY;
    #[rustfmt::skip]
    let cases = vec![
        case("value missing", k, vec![Remove("value")], err(422, Some("value"), "required")),
        case("value null", k, vec![Set("value", Value::Null)], err(422, Some("value"), "required")),
        case("value empty", k, vec![Set("value", json!(""))], err(422, Some("value"), "empty")),
        case("value a number", k, vec![Set("value", json!(12345))], err(422, Some("value"), "string")),
        case("value an object", k, vec![Set("value", json!({"a": 1}))], err(422, Some("value"), "string")),
        case("value valid", k, vec![], ok(201, vec![("mode", json!("TEXT")), ("team_id", json!(team)), ("restriction_type", json!("UNRESTRICTED"))])),
    ];
    let base = |name: &str| json!({ "name": name, "mode": "TEXT", "team_id": team, "value": "s3cret-text-value" });
    run_create_cases(&server, base, cases).await;
}

#[tokio::test]
async fn test_credential_rules() {
    let server = Server::start();
    let team = server.team("Rules Test Creds").await;
    let (_, ed) = server.user("ed@rules.test", Some((team, "EDITOR"))).await;
    let (_, vw) = server.user("vw@rules.test", Some((team, "VIEWER"))).await;
    let (_, out) = server.user("out@rules.test", None).await;

    let (status, live) = server
        .create_credential(&ed, jwt_body(team, "Live Jwt"))
        .await;
    assert_eq!(status, 201, "{live}");
    let live_id = live["id"].as_i64().unwrap();
    let (status, live_text) = server
        .create_credential(
            &ed,
            json!({ "name": "Live Text", "mode": "TEXT", "team_id": team, "value": "live text value" }),
        )
        .await;
    assert_eq!(status, 201, "{live_text}");
    let live_text_id = live_text["id"].as_i64().unwrap();

    let attach = |live: i64| {
        let mut body = jwt_body(team, "ignored");
        body.as_object_mut().unwrap().remove("name");
        body.as_object_mut().unwrap().remove("team_id");
        body["live_credential_id"] = json!(live);
        body
    };
    let with = |mut body: Value, key: &str, value: Value| {
        if value.is_null() {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value;
        }
        body
    };
    // The team is the live credential's: a team_id in the body is ignored.
    let text_attach = json!({
        "mode": "TEXT",
        "live_credential_id": live_text_id,
        "value": "test text value",
        "team_id": 999_999,
    });

    let p = CREDENTIALS;
    #[rustfmt::skip]
    let calls = vec![
        call("unknown live credential", Method::POST, p, &ed, Some(attach(999_999)), err(404, None, "not found")),
        call("live_credential_id not an integer", Method::POST, p, &ed, Some(with(attach(live_id), "live_credential_id", json!("abc"))), err(422, Some("live_credential_id"), "integer")),
        call("attach by a team outsider", Method::POST, p, &out, Some(attach(live_id)), err(404, None, "not found")),
        call("attach by a VIEWER", Method::POST, p, &vw, Some(attach(live_id)), err(403, None, "EDITOR")),
        call("attach with another mode", Method::POST, p, &ed, Some(json!({ "mode": "TEXT", "live_credential_id": live_id, "value": "text" })), err(422, Some("mode"), "JWT")),
        call("attach with an unsupported mode", Method::POST, p, &ed, Some(with(attach(live_id), "mode", json!("OAUTH"))), err(422, Some("mode"), "not supported")),
        call("attach without the key", Method::POST, p, &ed, Some(with(attach(live_id), "jwt_private_key", Value::Null)), err(422, Some("jwt_private_key"), "required")),
        call("attach with a bad algorithm", Method::POST, p, &ed, Some(with(attach(live_id), "jwt_algorithm", json!("none"))), err(422, Some("jwt_algorithm"), "EdDSA")),
        call("attach with a name of empty slug", Method::POST, p, &ed, Some(with(attach(live_id), "name", json!("!!!"))), err(422, Some("name"), "letter or digit")),
        call("attach TEXT without value", Method::POST, p, &ed, Some(with(text_attach.clone(), "value", Value::Null)), err(422, Some("value"), "required")),
        call("attach TEXT with empty value", Method::POST, p, &ed, Some(with(text_attach.clone(), "value", json!(""))), err(422, Some("value"), "empty")),
    ];
    run_calls(&server, calls).await;

    // Nothing above attached anything.
    let (status, body) = server.get(&format!("{p}/{live_id}"), &ed).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["test_credential_enabled"], false, "{body}");
    assert_eq!(body["test_credential"], Value::Null, "{body}");

    // A successful attach answers with the live credential.
    for (id, body, name) in [
        (live_id, attach(live_id), "Live Jwt"),
        (live_text_id, text_attach.clone(), "Live Text"),
    ] {
        let (status, resp) = server.create_credential(&ed, body.clone()).await;
        assert_eq!(status, 201, "{resp}");
        assert_eq!(resp["id"], id, "{resp}");
        assert_eq!(resp["name"], name, "{resp}");
        assert_eq!(resp["team_id"], team, "{resp}");
        assert_eq!(resp["test_credential_enabled"], true, "{resp}");
        let test = resp["test_credential"]
            .as_object()
            .unwrap_or_else(|| panic!("test_credential is not an object: {resp}"));
        for time in ["created_at", "updated_at"] {
            assert!(
                test[time].as_str().is_some_and(is_api_time),
                "test_credential.{time}: {resp}"
            );
        }
        assert!(check_credential_shape(name, &body, &resp));

        let (status, got) = server.get(&format!("{p}/{id}"), &ed).await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got["test_credential_enabled"], true, "{got}");
        assert_eq!(got["test_credential"], resp["test_credential"], "{got}");
    }

    #[rustfmt::skip]
    let calls = vec![
        call("second attach", Method::POST, p, &ed, Some(attach(live_id)), err(409, Some("live_credential_id"), "already")),
        call("second TEXT attach", Method::POST, p, &ed, Some(text_attach.clone()), err(409, Some("live_credential_id"), "already")),
    ];
    run_calls(&server, calls).await;

    // A test credential is not a credential of its own: every id that is not a live one is 404.
    let (status, later) = server.create_credential(&ed, jwt_body(team, "Later")).await;
    assert_eq!(status, 201, "{later}");
    let later_id = later["id"].as_i64().unwrap();
    for id in live_id..later_id {
        if id == live_text_id || id == live_id {
            continue;
        }
        let (status, body) = server.get(&format!("{p}/{id}"), &ed).await;
        assert_error(status, &body, 404, None, "not found");
        let (status, body) = server.create_credential(&ed, attach(id)).await;
        assert_error(status, &body, 404, None, "not found");
    }
}

#[tokio::test]
async fn users_keys_teams_members_and_folders_rules() {
    let server = Server::start();
    let alpha = server.team("Tenant Alpha").await;
    let beta = server.team("Tenant Beta").await;
    let (_, ta) = server
        .user("ta@tenant.test", Some((alpha, "TEAM_ADMIN")))
        .await;
    let (ed_id, ed) = server.user("ed@tenant.test", Some((alpha, "EDITOR"))).await;
    let (vw_id, vw) = server.user("vw@tenant.test", Some((alpha, "VIEWER"))).await;
    let (out_id, out) = server.user("out@tenant.test", None).await;
    let folder_alpha = folder(&server, &ed, alpha, "alpha folder").await;
    let folder_beta = folder(&server, OWNER_KEY, beta, "beta folder").await;

    // Keys of other users, to try revoking them through the wrong path.
    let (status, ed_key) = server
        .post(
            &format!("/api/v1/admin/users/{ed_id}/api_keys"),
            &ed,
            json!({ "name": "ed's own" }),
        )
        .await;
    assert_eq!(status, 201, "{ed_key}");
    assert_eq!(ed_key["name"], "ed's own", "{ed_key}");
    assert!(
        ed_key["key"].as_str().is_some_and(|k| !k.is_empty()),
        "{ed_key}"
    );
    assert!(
        ed_key["created_at"].as_str().is_some_and(is_api_time),
        "{ed_key}"
    );
    let ed_key_id = ed_key["id"].as_i64().unwrap();

    let users = "/api/v1/admin/users";
    let keys = |id: i64| format!("/api/v1/admin/users/{id}/api_keys");
    let invite = |team: i64| format!("/api/v1/teams/{team}/invite_member");
    let post = Method::POST;
    let get = Method::GET;
    let delete = Method::DELETE;
    let o = OWNER_KEY;
    #[rustfmt::skip]
    let calls = vec![
        // users
        call("create user as a non-admin", post.clone(), users, &ta, Some(json!({ "email": "x@tenant.test" })), err(403, None, "admin")),
        call("list users as a non-admin", get.clone(), users, &ta, None, err(403, None, "admin")),
        call("user email missing", post.clone(), users, o, Some(json!({ "first_name": "No" })), err(422, Some("email"), "required")),
        call("user email invalid", post.clone(), users, o, Some(json!({ "email": "not-an-email" })), err(422, Some("email"), "email")),
        call("user email without local part", post.clone(), users, o, Some(json!({ "email": "@tenant.test" })), err(422, Some("email"), "email")),
        call("user email with a space", post.clone(), users, o, Some(json!({ "email": "a b@tenant.test" })), err(422, Some("email"), "email")),
        call("user email not a string", post.clone(), users, o, Some(json!({ "email": 5 })), err(422, Some("email"), "string")),
        call("user first_name with a NUL character", post.clone(), users, o, Some(json!({ "email": "nul@tenant.test", "first_name": "a\u{0}" })), err(422, Some("first_name"), "NUL")),
        call("user admin not a boolean", post.clone(), users, o, Some(json!({ "email": "adm@tenant.test", "admin": "yes" })), err(422, Some("admin"), "true or false")),
        call(
            "user created",
            post.clone(),
            users,
            o,
            Some(json!({ "email": "dup@tenant.test", "first_name": "Du", "last_name": "P" })),
            ok(
                201,
                vec![
                    ("email", json!("dup@tenant.test")),
                    ("first_name", json!("Du")),
                    ("last_name", json!("P")),
                    ("admin", json!(false)),
                    ("is_active", json!(true)),
                ],
            ),
        ),
        call("user email taken", post.clone(), users, o, Some(json!({ "email": "dup@tenant.test" })), err(409, Some("email"), "already exists")),
        call("user email taken, other case", post.clone(), users, o, Some(json!({ "email": "DUP@Tenant.TEST" })), err(409, Some("email"), "already exists")),
        // API keys
        call("key for another user as a non-admin", post.clone(), keys(ed_id), &ta, Some(json!({ "name": "k" })), err(403, None, "admin")),
        call("key name missing", post.clone(), keys(vw_id), &vw, Some(json!({})), err(422, Some("name"), "required")),
        call("key name empty", post.clone(), keys(vw_id), &vw, Some(json!({ "name": "" })), err(422, Some("name"), "empty")),
        call("key name not a string", post.clone(), keys(vw_id), &vw, Some(json!({ "name": 1 })), err(422, Some("name"), "string")),
        call("key for no user, as admin", post.clone(), keys(999_999), o, Some(json!({ "name": "k" })), err(404, None, "not found")),
        call("key for a non-numeric user", post.clone(), "/api/v1/admin/users/abc/api_keys", o, Some(json!({ "name": "k" })), err(404, None, "not found")),
        call("own key created", post.clone(), keys(out_id), &out, Some(json!({ "name": "mine" })), ok(201, vec![("name", json!("mine"))])),
        call("revoke an unknown key", delete.clone(), format!("{}/999999", keys(vw_id)), &vw, None, err(404, None, "not found")),
        call("revoke a non-numeric key id", delete.clone(), format!("{}/abc", keys(vw_id)), &vw, None, err(404, None, "not found")),
        call("revoke another user's key through one's own path", delete.clone(), format!("{}/{ed_key_id}", keys(vw_id)), &vw, None, err(404, None, "not found")),
        call("revoke another user's key as a non-admin", delete.clone(), format!("{}/{ed_key_id}", keys(ed_id)), &vw, None, err(403, None, "admin")),
        // teams
        call("create team as a non-admin", post.clone(), "/api/v1/teams", &ta, Some(json!({ "name": "Nope" })), err(403, None, "admin")),
        call("team name missing", post.clone(), "/api/v1/teams", o, Some(json!({})), err(422, Some("name"), "required")),
        call("team name with empty slug", post.clone(), "/api/v1/teams", o, Some(json!({ "name": "!!!" })), err(422, Some("name"), "letter or digit")),
        call("team name not a string", post.clone(), "/api/v1/teams", o, Some(json!({ "name": ["x"] })), err(422, Some("name"), "string")),
        call("team slug taken", post.clone(), "/api/v1/teams", o, Some(json!({ "name": "tenant-alpha" })), err(409, Some("name"), "already exists")),
        call("team slug taken, other case", post.clone(), "/api/v1/teams", o, Some(json!({ "name": "TENANT ALPHA" })), err(409, Some("name"), "already exists")),
        call("team created", post.clone(), "/api/v1/teams", o, Some(json!({ "name": "Tenant  Gamma!" })), ok(201, vec![("name", json!("Tenant  Gamma!")), ("slug", json!("tenant_gamma"))])),
        call("get a team one is not in", get.clone(), format!("/api/v1/teams/{beta}"), &ta, None, err(404, None, "not found")),
        call("get a non-numeric team", get.clone(), "/api/v1/teams/abc", &ta, None, err(404, None, "not found")),
        // invite_member
        call("invite by an EDITOR", post.clone(), invite(alpha), &ed, Some(json!({ "user_id": out_id, "role": "VIEWER" })), err(403, None, "TEAM_ADMIN")),
        call("invite by a VIEWER", post.clone(), invite(alpha), &vw, Some(json!({ "user_id": out_id, "role": "VIEWER" })), err(403, None, "TEAM_ADMIN")),
        call("invite by a non-member", post.clone(), invite(beta), &ta, Some(json!({ "user_id": out_id, "role": "VIEWER" })), err(404, None, "not found")),
        call("invite into no team", post.clone(), invite(999_999), o, Some(json!({ "user_id": out_id })), err(404, None, "not found")),
        call("invite with an invalid role", post.clone(), invite(alpha), &ta, Some(json!({ "user_id": out_id, "role": "OWNER" })), err(422, Some("role"), "VIEWER")),
        call("invite with a role not a string", post.clone(), invite(alpha), &ta, Some(json!({ "user_id": out_id, "role": 2 })), err(422, Some("role"), "string")),
        call("invite an unknown user", post.clone(), invite(alpha), &ta, Some(json!({ "user_id": 999_999, "role": "VIEWER" })), err(422, Some("user_id"), "999999")),
        call("invite without user_id", post.clone(), invite(alpha), &ta, Some(json!({ "role": "VIEWER" })), err(422, Some("user_id"), "required")),
        call("invite with user_id not an integer", post.clone(), invite(alpha), &ta, Some(json!({ "user_id": "abc" })), err(422, Some("user_id"), "integer")),
        call("invite by a TEAM_ADMIN, default role", post.clone(), invite(alpha), &ta, Some(json!({ "user_id": out_id })), ok(200, vec![("id", json!(out_id)), ("email", json!("out@tenant.test")), ("role", json!("VIEWER"))])),
        call("invite again changes the role", post.clone(), invite(alpha), &ta, Some(json!({ "user_id": out_id, "role": "EDITOR" })), ok(200, vec![("id", json!(out_id)), ("role", json!("EDITOR"))])),
        call("the new role is in force", post.clone(), "/api/v1/folders", &out, Some(json!({ "name": "by out", "content_type": "CREDENTIAL", "team_id": alpha })), ok(201, vec![("team_id", json!(alpha))])),
        // folders
        call("folder content_type not CREDENTIAL", post.clone(), "/api/v1/folders", &ed, Some(json!({ "name": "f", "content_type": "STORY", "team_id": alpha })), err(422, Some("content_type"), "CREDENTIAL")),
        call("folder content_type missing", post.clone(), "/api/v1/folders", &ed, Some(json!({ "name": "f", "team_id": alpha })), err(422, Some("content_type"), "required")),
        call("folder name missing", post.clone(), "/api/v1/folders", &ed, Some(json!({ "content_type": "CREDENTIAL", "team_id": alpha })), err(422, Some("name"), "required")),
        call("folder name empty", post.clone(), "/api/v1/folders", &ed, Some(json!({ "name": "", "content_type": "CREDENTIAL", "team_id": alpha })), err(422, Some("name"), "empty")),
        call("folder team_id missing", post.clone(), "/api/v1/folders", &ed, Some(json!({ "name": "f", "content_type": "CREDENTIAL" })), err(422, Some("team_id"), "required")),
        call("folder team_id not an integer", post.clone(), "/api/v1/folders", &ed, Some(json!({ "name": "f", "content_type": "CREDENTIAL", "team_id": "abc" })), err(422, Some("team_id"), "integer")),
        call("folder by a VIEWER", post.clone(), "/api/v1/folders", &vw, Some(json!({ "name": "f", "content_type": "CREDENTIAL", "team_id": alpha })), err(403, None, "EDITOR")),
        call("folder in a team one is not in", post.clone(), "/api/v1/folders", &ed, Some(json!({ "name": "f", "content_type": "CREDENTIAL", "team_id": beta })), err(404, None, "not found")),
        call(
            "folder parent of another team",
            post.clone(),
            "/api/v1/folders",
            &ed,
            Some(
                json!({ "name": "f", "content_type": "CREDENTIAL", "team_id": alpha, "parent_folder_id": folder_beta }),
            ),
            err(422, Some("parent_folder_id"), "CREDENTIAL folder"),
        ),
        call(
            "folder parent of no folder",
            post.clone(),
            "/api/v1/folders",
            &ed,
            Some(
                json!({ "name": "f", "content_type": "CREDENTIAL", "team_id": alpha, "parent_folder_id": 999_999 }),
            ),
            err(422, Some("parent_folder_id"), "CREDENTIAL folder"),
        ),
        call(
            "folder parent not an integer",
            post.clone(),
            "/api/v1/folders",
            &ed,
            Some(
                json!({ "name": "f", "content_type": "CREDENTIAL", "team_id": alpha, "parent_folder_id": "abc" }),
            ),
            err(422, Some("parent_folder_id"), "integer"),
        ),
        call(
            "folder with a parent of the team",
            post.clone(),
            "/api/v1/folders",
            &ta,
            Some(
                json!({ "name": "child", "content_type": "CREDENTIAL", "team_id": alpha, "parent_folder_id": folder_alpha }),
            ),
            ok(
                201,
                vec![
                    ("name", json!("child")),
                    ("content_type", json!("CREDENTIAL")),
                    ("team_id", json!(alpha)),
                    ("parent_folder_id", json!(folder_alpha)),
                ],
            ),
        ),
        call("list folders of a team one is not in", get.clone(), format!("/api/v1/folders?team_id={beta}"), &ta, None, err(404, None, "not found")),
        call("list folders of no team", get.clone(), "/api/v1/folders?team_id=999999", &ta, None, err(404, None, "not found")),
        call("list folders, team_id not an integer", get.clone(), "/api/v1/folders?team_id=abc", &ta, None, err(422, Some("team_id"), "integer")),
        call("list folders of one's team", get.clone(), format!("/api/v1/folders?team_id={alpha}"), &vw, None, ok(200, vec![("folders/0/team_id", json!(alpha))])),
    ];
    run_calls(&server, calls).await;

    // The refused revocations left ed's key working.
    let (status, body) = server
        .get("/api/v1/teams", ed_key["key"].as_str().unwrap())
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.get(&format!("/api/v1/teams/{alpha}"), &ta).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], alpha, "{body}");
}

#[tokio::test]
async fn request_convention_rules() {
    let server = Server::start();
    let team = server.team("Rules Conventions").await;
    let text_body = |name: &str| json!({ "name": name, "mode": "TEXT", "team_id": team, "value": "convention value" });

    let raw = |content_type: Option<&str>, body: Vec<u8>| {
        let mut req = server
            .request(Method::POST, CREDENTIALS)
            .bearer_auth(OWNER_KEY);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.body(body)
    };
    let json_ct = Some("application/json");
    let valid = serde_json::to_vec(&text_body("raw ok")).unwrap();
    let mut big = text_body("too big");
    big["padding"] = json!("a".repeat(1_100 * 1024));
    let big = serde_json::to_vec(&big).unwrap();
    assert!(big.len() > 1024 * 1024);

    #[rustfmt::skip]
    let raw_cases: Vec<(&str, reqwest::RequestBuilder, Want)> = vec![
        ("body not JSON", raw(json_ct, b"{\"name\": ".to_vec()), err(400, None, "JSON")),
        ("body a JSON array", raw(json_ct, b"[{\"name\": \"x\"}]".to_vec()), err(400, None, "object")),
        ("body a JSON string", raw(json_ct, b"\"text\"".to_vec()), err(400, None, "object")),
        ("body JSON null", raw(json_ct, b"null".to_vec()), err(400, None, "object")),
        ("body empty", raw(json_ct, Vec::new()), err(400, None, "empty")),
        ("body only whitespace", raw(json_ct, b" \n ".to_vec()), err(400, None, "empty")),
        ("content type text/plain", raw(Some("text/plain"), valid.clone()), err(415, None, "JSON")),
        ("content type form", raw(Some("application/x-www-form-urlencoded"), b"name=x".to_vec()), err(415, None, "JSON")),
        ("body over 1 MiB", raw(json_ct, big), err(413, None, "1 MiB")),
        ("content type with charset", raw(Some("application/json; charset=utf-8"), valid), ok(201, vec![("name", json!("raw ok"))])),
    ];
    let mut failed = Vec::new();
    for (name, req, want) in raw_cases {
        let (status, body) = Server::read(req).await;
        if !check(name, status, &body, &want) {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "failed cases: {failed:?}");

    let get = Method::GET;
    let o = OWNER_KEY;
    #[rustfmt::skip]
    let calls = vec![
        call("unknown fields are ignored", Method::POST, CREDENTIALS, o, Some(json!({ "name": "extra", "mode": "TEXT", "team_id": team, "value": "v", "guid": "x", "live": true, "nested": {"a": [1]} })), ok(201, vec![("name", json!("extra")), ("mode", json!("TEXT"))])),
        call("page 0", get.clone(), "/api/v1/teams?page=0", o, None, err(422, Some("page"), "page")),
        call("page negative", get.clone(), "/api/v1/teams?page=-3", o, None, err(422, Some("page"), "page")),
        call("page not a number", get.clone(), "/api/v1/teams?page=abc", o, None, err(422, Some("page"), "page")),
        call("page 0 on users", get.clone(), "/api/v1/admin/users?page=0", o, None, err(422, Some("page"), "page")),
        call("page 0 on folders", get.clone(), "/api/v1/folders?page=0", o, None, err(422, Some("page"), "page")),
        call("per_page clamped", get.clone(), "/api/v1/teams?per_page=100000", o, None, ok(200, vec![("meta/per_page", json!(500))])),
        call("non-numeric credential id", get.clone(), format!("{CREDENTIALS}/abc"), o, None, err(404, None, "not found")),
        call("unknown credential id", get.clone(), format!("{CREDENTIALS}/999999"), o, None, err(404, None, "not found")),
        call("unknown route under /api/v1", get.clone(), "/api/v1/no_such_thing", o, None, err(404, None, "route")),
        call("unknown route", get.clone(), "/no/such/route", o, None, err(404, None, "route")),
        call("wrong method on a collection", Method::DELETE, "/api/v1/teams", o, None, err(405, None, "method")),
        call("wrong method on a team", Method::POST, format!("/api/v1/teams/{team}"), o, None, err(405, None, "method")),
        call("wrong method on folders", Method::PATCH, "/api/v1/folders", o, None, err(405, None, "method")),
    ];
    run_calls(&server, calls).await;

    // A valid request without a key: 401 with the error body.
    let (status, body) = server
        .call(Method::POST, CREDENTIALS, None, Some(text_body("no key")))
        .await;
    assert_error(status, &body, 401, None, "API key");
}
