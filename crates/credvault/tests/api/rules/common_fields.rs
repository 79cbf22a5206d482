//! API.md §4.1: the rules of the fields every credential create has, whatever its mode.

use serde_json::{json, Value};

use super::*;
use crate::support::*;

/// Teams and users of the common-field tables: `ta` is TEAM_ADMIN of Alpha, VIEWER of Beta,
/// EDITOR of Delta and not in Gamma; `ed`, `vw` are EDITOR and VIEWER of Alpha, `out` is in no
/// team; `editors` are six EDITOR+ users of Alpha (`ta`, `ed` and four more).
struct Common {
    server: Server,
    alpha: i64,
    gamma: i64,
    delta: i64,
    ta_id: i64,
    ta: String,
    ed_id: i64,
    ed: String,
    vw_id: i64,
    vw: String,
    out_id: i64,
    out: String,
    editors: Vec<i64>,
    folder_alpha: i64,
    folder_beta: i64,
    long_name: String,
    max_name: String,
}

async fn common() -> Common {
    let server = Server::in_process().await;
    let alpha = server.team("Rules Alpha").await;
    let beta = server.team("Rules Beta").await;
    let gamma = server.team("Rules Gamma").await;
    let delta = server.team("Rules Delta").await;
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
    let folder_alpha = server.folder(&ta, alpha, "alpha creds").await;
    let folder_beta = server.folder(OWNER_KEY, beta, "beta creds").await;
    Common {
        server,
        alpha,
        gamma,
        delta,
        ta_id,
        ta,
        ed_id,
        ed,
        vw_id,
        vw,
        out_id,
        out,
        editors,
        folder_alpha,
        folder_beta,
        long_name: "n".repeat(256),
        max_name: "m".repeat(255),
    }
}

#[tokio::test]
async fn names_must_have_a_slug_and_fit_255_characters() {
    let c = common().await;
    let Common {
        alpha,
        ta,
        long_name,
        max_name,
        ..
    } = &c;
    #[rustfmt::skip]
    let cases = vec![
        // name
        case("name missing", ta, vec![Remove("name")], err(422, Some("name"), "required")),
        case("name null", ta, vec![Set("name", Value::Null)], err(422, Some("name"), "required")),
        case("name with empty slug", ta, vec![Set("name", json!("!!!"))], err(422, Some("name"), "letter or digit")),
        case("name only spaces", ta, vec![Set("name", json!("   "))], err(422, Some("name"), "letter or digit")),
        case("name too long", ta, vec![Set("name", json!(long_name))], err(422, Some("name"), "255")),
        case("name not a string", ta, vec![Set("name", json!(5))], err(422, Some("name"), "string")),
        case("name with a NUL character", ta, vec![Set("name", json!("nul\u{0}name"))], err(422, Some("name"), "NUL")),
        case("description with a NUL character", ta, vec![Set("description", json!("a\u{0}b"))], err(422, Some("description"), "NUL")),
        case("name of 255 characters", ta, vec![Set("name", json!(max_name))], ok(201, vec![("name", json!(max_name))])),
        case("slug of a name", ta, vec![Set("name", json!("  My  API-Key!! "))], ok(201, vec![("slug", json!("my_api_key"))])),
    ];
    run_create_cases(&c.server, |name| jwt_body(*alpha, name), cases).await;
}

#[tokio::test]
async fn mode_must_be_a_supported_one() {
    let c = common().await;
    let Common { alpha, ta, .. } = &c;
    #[rustfmt::skip]
    let cases = vec![
        // mode
        case("mode missing", ta, vec![Remove("mode")], err(422, Some("mode"), "required")),
        case("mode unknown", ta, vec![Set("mode", json!("SAML"))], err(422, Some("mode"), "one of")),
        case("mode not a string", ta, vec![Set("mode", json!(1))], err(422, Some("mode"), "string")),
        case("mode OAUTH", ta, vec![Set("mode", json!("OAUTH"))], err(422, Some("mode"), "not supported")),
        case("mode AWS", ta, vec![Set("mode", json!("AWS"))], err(422, Some("mode"), "not supported")),
        case("mode MTLS", ta, vec![Set("mode", json!("MTLS"))], err(422, Some("mode"), "not supported")),
        case("mode HTTP_REQUEST_AGENT", ta, vec![Set("mode", json!("HTTP_REQUEST_AGENT"))], err(422, Some("mode"), "not supported")),
        case("mode MULTI_REQUEST", ta, vec![Set("mode", json!("MULTI_REQUEST"))], err(422, Some("mode"), "not supported")),
    ];
    run_create_cases(&c.server, |name| jwt_body(*alpha, name), cases).await;
}

#[tokio::test]
async fn team_id_must_name_a_team_where_the_caller_may_write() {
    let c = common().await;
    let Common {
        alpha,
        gamma,
        ta,
        ed_id,
        ed,
        vw,
        out,
        ..
    } = &c;
    #[rustfmt::skip]
    let cases = vec![
        // team_id and the caller's role
        case("team_id missing", ta, vec![Remove("team_id")], err(422, Some("team_id"), "required")),
        case("team_id not an integer", ta, vec![Set("team_id", json!("abc"))], err(422, Some("team_id"), "integer")),
        case("team_id a fraction", ta, vec![Set("team_id", json!(1.5))], err(422, Some("team_id"), "integer")),
        case("team_id a boolean", ta, vec![Set("team_id", json!(true))], err(422, Some("team_id"), "integer")),
        case("team_id of a team the caller is not in", ta, vec![Set("team_id", json!(gamma))], err(404, None, "not found")),
        case("team_id of no team", ta, vec![Set("team_id", json!(999_999))], err(404, None, "not found")),
        case("caller is a VIEWER", vw, vec![], err(403, None, "EDITOR")),
        case("caller in no team", out, vec![], err(404, None, "not found")),
        case("caller is an EDITOR", ed, vec![], ok(201, vec![("team_id", json!(alpha)), ("owner/user_id", json!(ed_id)), ("owner/email", json!("ed@rules.test"))])),
    ];
    run_create_cases(&c.server, |name| jwt_body(*alpha, name), cases).await;
}

#[tokio::test]
async fn folder_id_must_be_a_credential_folder_of_the_team() {
    let c = common().await;
    let Common {
        alpha,
        ta,
        ed,
        folder_alpha,
        folder_beta,
        ..
    } = &c;
    #[rustfmt::skip]
    let cases = vec![
        // folder_id
        case("folder_id of another team", ta, vec![Set("folder_id", json!(folder_beta))], err(422, Some("folder_id"), "CREDENTIAL folder")),
        case("folder_id of no folder", ta, vec![Set("folder_id", json!(999_999))], err(422, Some("folder_id"), "CREDENTIAL folder")),
        case("folder_id not an integer", ta, vec![Set("folder_id", json!("abc"))], err(422, Some("folder_id"), "integer")),
        case("folder_id of the team", ed, vec![Set("folder_id", json!(folder_alpha))], ok(201, vec![("folder_id", json!(folder_alpha))])),
    ];
    run_create_cases(&c.server, |name| jwt_body(*alpha, name), cases).await;
}

#[tokio::test]
async fn sharing_beyond_the_team_needs_team_admin_and_valid_slugs() {
    let c = common().await;
    let Common { alpha, ta, ed, .. } = &c;
    #[rustfmt::skip]
    let cases = vec![
        // read_access and shared_team_slugs
        case("read_access unknown", ta, vec![Set("read_access", json!("PUBLIC"))], err(422, Some("read_access"), "one of")),
        case("read_access not a string", ta, vec![Set("read_access", json!(1))], err(422, Some("read_access"), "string")),
        case("GLOBAL by an EDITOR", ed, vec![Set("read_access", json!("GLOBAL"))], err(403, Some("read_access"), "TEAM_ADMIN")),
        case("SPECIFIC_TEAMS by an EDITOR", ed, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!(["rules_alpha"]))], err(403, Some("read_access"), "TEAM_ADMIN")),
        case("SPECIFIC_TEAMS without shared_team_slugs", ta, vec![Set("read_access", json!("SPECIFIC_TEAMS"))], err(422, Some("shared_team_slugs"), "at least one")),
        case("SPECIFIC_TEAMS with no slugs", ta, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!([]))], err(422, Some("shared_team_slugs"), "at least one")),
        case("shared_team_slugs with TEAM", ta, vec![Set("read_access", json!("TEAM")), Set("shared_team_slugs", json!(["rules_delta"]))], err(422, Some("shared_team_slugs"), "SPECIFIC_TEAMS")),
        case("shared_team_slugs with read_access absent", ta, vec![Set("shared_team_slugs", json!(["rules_delta"]))], err(422, Some("shared_team_slugs"), "SPECIFIC_TEAMS")),
        case("shared_team_slugs with GLOBAL", ta, vec![Set("read_access", json!("GLOBAL")), Set("shared_team_slugs", json!(["rules_delta"]))], err(422, Some("shared_team_slugs"), "SPECIFIC_TEAMS")),
        case("shared_team_slugs not an array", ta, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!("rules_delta"))], err(422, Some("shared_team_slugs"), "array")),
        case("shared_team_slugs with a number", ta, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!([1]))], err(422, Some("shared_team_slugs"), "string")),
        case("shared_team_slugs unknown slug", ta, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!(["rules_nowhere"]))], err(422, Some("shared_team_slugs"), "rules_nowhere")),
        case("shared with a team where the caller is VIEWER", ta, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!(["rules_beta"]))], err(403, Some("shared_team_slugs"), "EDITOR")),
        case("shared with a team the caller is not in", ta, vec![Set("read_access", json!("SPECIFIC_TEAMS")), Set("shared_team_slugs", json!(["rules_delta", "rules_gamma"]))], err(403, Some("shared_team_slugs"), "EDITOR")),
        case("TEAM with an empty list by an EDITOR", ed, vec![Set("read_access", json!("TEAM")), Set("shared_team_slugs", json!([]))], ok(201, vec![("read_access", json!("TEAM")), ("shared_team_slugs", json!([]))])),
        case("GLOBAL by a TEAM_ADMIN", ta, vec![Set("read_access", json!("GLOBAL"))], ok(201, vec![("read_access", json!("GLOBAL")), ("shared_team_slugs", json!([]))])),
        case(
            "SPECIFIC_TEAMS where the caller is EDITOR",
            ta,
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
    ];
    run_create_cases(&c.server, |name| jwt_body(*alpha, name), cases).await;
}

#[tokio::test]
async fn description_metadata_and_allowed_hosts_must_have_their_types() {
    let c = common().await;
    let Common { alpha, ta, .. } = &c;
    #[rustfmt::skip]
    let cases = vec![
        // description, metadata
        case("description not a string", ta, vec![Set("description", json!(5))], err(422, Some("description"), "string")),
        case("metadata an array", ta, vec![Set("metadata", json!([1, 2]))], err(422, Some("metadata"), "object")),
        case("metadata a string", ta, vec![Set("metadata", json!("{}"))], err(422, Some("metadata"), "object")),
        case("metadata a number", ta, vec![Set("metadata", json!(3))], err(422, Some("metadata"), "object")),
        // allowed_hosts
        case("allowed_hosts not an array", ta, vec![Set("allowed_hosts", json!("api.example.com"))], err(422, Some("allowed_hosts"), "array")),
        case("allowed_hosts with an empty string", ta, vec![Set("allowed_hosts", json!(["api.example.com", ""]))], err(422, Some("allowed_hosts"), "empty")),
        case("allowed_hosts with a space", ta, vec![Set("allowed_hosts", json!(["a b"]))], err(422, Some("allowed_hosts"), "whitespace")),
        case("allowed_hosts with a leading space", ta, vec![Set("allowed_hosts", json!([" api.example.com"]))], err(422, Some("allowed_hosts"), "whitespace")),
        case("allowed_hosts with a number", ta, vec![Set("allowed_hosts", json!([5]))], err(422, Some("allowed_hosts"), "string")),
        case("allowed_hosts an object", ta, vec![Set("allowed_hosts", json!({"host": "a.com"}))], err(422, Some("allowed_hosts"), "array")),
    ];
    run_create_cases(&c.server, |name| jwt_body(*alpha, name), cases).await;
}

#[tokio::test]
async fn expiry_and_notification_recipients_must_be_valid() {
    let c = common().await;
    let Common {
        alpha,
        ta,
        ed_id,
        vw_id,
        out_id,
        editors,
        ..
    } = &c;
    #[rustfmt::skip]
    let cases = vec![
        // expires_at, expiry_notifications_enabled
        case("expires_at not a time", ta, vec![Set("expires_at", json!("tomorrow"))], err(422, Some("expires_at"), "RFC 3339")),
        case("expires_at an impossible date", ta, vec![Set("expires_at", json!("2030-13-45T00:00:00Z"))], err(422, Some("expires_at"), "RFC 3339")),
        case("expires_at without an offset", ta, vec![Set("expires_at", json!("2030-01-31T12:00:00"))], err(422, Some("expires_at"), "RFC 3339")),
        case("expires_at with an offset", ta, vec![Set("expires_at", json!("2030-01-31T13:00:00.25+01:00"))], ok(201, vec![("expires_at", json!("2030-01-31T12:00:00.250Z"))])),
        case("expires_at a number", ta, vec![Set("expires_at", json!(1_900_000_000))], err(422, Some("expires_at"), "string")),
        case("expiry_notifications_enabled not a boolean", ta, vec![Set("expiry_notifications_enabled", json!("yes"))], err(422, Some("expiry_notifications_enabled"), "true or false")),
        // credential_notification_recipient_user_ids
        case(
            "six recipients",
            ta,
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
        case("a VIEWER recipient", ta, vec![Set("credential_notification_recipient_user_ids", json!([ed_id, vw_id]))], err(422, Some("credential_notification_recipient_user_ids"), "EDITOR")),
        case("a recipient not in the team", ta, vec![Set("credential_notification_recipient_user_ids", json!([out_id]))], err(422, Some("credential_notification_recipient_user_ids"), "EDITOR")),
        case("a recipient who is no user", ta, vec![Set("credential_notification_recipient_user_ids", json!([999_999]))], err(422, Some("credential_notification_recipient_user_ids"), "EDITOR")),
        case("a recipient not an integer", ta, vec![Set("credential_notification_recipient_user_ids", json!(["abc"]))], err(422, Some("credential_notification_recipient_user_ids"), "integer")),
        case("recipients not an array", ta, vec![Set("credential_notification_recipient_user_ids", json!(ed_id))], err(422, Some("credential_notification_recipient_user_ids"), "array")),
    ];
    run_create_cases(&c.server, |name| jwt_body(*alpha, name), cases).await;
}

#[tokio::test]
async fn every_optional_field_is_accepted_and_absent_ones_default() {
    let c = common().await;
    let Common {
        alpha,
        ta_id,
        ta,
        editors,
        folder_alpha,
        ..
    } = &c;
    let hosts = json!([
        "api.example.com",
        "*.example.org",
        "https://x.example.com/v1/*"
    ]);
    #[rustfmt::skip]
    let cases = vec![
        // every optional field valid at once
        case("all optional fields valid", ta, vec![
            Set("folder_id", json!(folder_alpha)),
            Set("description", json!("used by the rules tests")),
            Set("metadata", json!({ "env": "prod", "n": 1 })),
            Set("allowed_hosts", hosts.clone()),
            Set("expires_at", json!("2030-01-31T12:00:00Z")),
            Set("expiry_notifications_enabled", json!(true)),
            Set("credential_notification_recipient_user_ids", json!(editors[..5])),
        ], ok(201, vec![
            ("folder_id", json!(folder_alpha)),
            ("description", json!("used by the rules tests")),
            ("metadata", json!({ "env": "prod", "n": 1 })),
            ("allowed_hosts", hosts),
            ("restriction_type", json!("RESTRICTED")),
            ("expires_at", json!("2030-01-31T12:00:00.000Z")),
            ("expiry_notifications_enabled", json!(true)),
            ("credential_notification_recipient_user_ids", json!(editors[..5])),
        ])),
        case("defaults", ta, vec![], ok(201, vec![
            ("mode", json!("JWT")), ("team_id", json!(alpha)), ("folder_id", Value::Null),
            ("read_access", json!("TEAM")), ("shared_team_slugs", json!([])),
            ("description", json!("")), ("metadata", json!({})), ("allowed_hosts", json!([])),
            ("restriction_type", json!("UNRESTRICTED")), ("test_credential_enabled", json!(false)),
            ("test_credential", Value::Null), ("owner/user_id", json!(ta_id)),
            ("expires_at", Value::Null), ("expiry_notifications_enabled", json!(false)),
            ("credential_notification_recipient_user_ids", json!([])),
        ])),
        case("unknown fields are ignored", ta, vec![Set("unknown_field", json!({"x": [1]})), Set("tines_extra", json!("ignored"))], ok(201, vec![("mode", json!("JWT"))])),
    ];
    run_create_cases(&c.server, |name| jwt_body(*alpha, name), cases).await;
}

#[tokio::test]
async fn the_slug_is_unique_per_team() {
    let c = common().await;
    let Common {
        alpha,
        delta,
        ta,
        ed,
        ..
    } = &c;
    #[rustfmt::skip]
    let cases = vec![
        // the slug is unique per team
        case("first Jwt Credential", ta, vec![Set("name", json!("Jwt Credential"))], ok(201, vec![("name", json!("Jwt Credential")), ("slug", json!("jwt_credential"))])),
        case("same name again", ta, vec![Set("name", json!("Jwt Credential"))], err(409, Some("name"), "already exists")),
        case("same slug, other case", ta, vec![Set("name", json!("jwt credential"))], err(409, Some("name"), "already exists")),
        case("same slug, other punctuation", ed, vec![Set("name", json!("JWT -- credential!"))], err(409, Some("name"), "already exists")),
        case("same slug, TEXT mode", ta, vec![Set("name", json!("jwt_credential")), Set("mode", json!("TEXT")), Set("value", json!("some text value")), Remove("jwt_algorithm"), Remove("jwt_payload"), Remove("jwt_private_key")], err(409, Some("name"), "already exists")),
        case("same name in another team", ta, vec![Set("name", json!("Jwt Credential")), Set("team_id", json!(delta))], ok(201, vec![("team_id", json!(delta)), ("slug", json!("jwt_credential"))])),
    ];
    run_create_cases(&c.server, |name| jwt_body(*alpha, name), cases).await;
}
