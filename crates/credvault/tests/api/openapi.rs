//! The OpenAPI document: it is served, names this server, is valid OpenAPI 3.1, and real
//! responses of the main routes (successes and errors) match the schemas it gives for them.
//! The checking is done by `tests/openapi_check.py` with openapi-spec-validator and jsonschema,
//! in the tests' virtualenv ([`test_python`]).

use std::path::Path;
use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

/// Real responses, as the checker reads them: method, path template, status and body.
struct Samples<'a> {
    server: &'a Server,
    list: Vec<Value>,
}

impl Samples<'_> {
    fn record(&mut self, method: &Method, template: &str, status: u16, body: &Value) {
        self.list.push(json!({
            "method": method.as_str(),
            "path_template": template,
            "status": status,
            "body": body,
        }));
    }

    fn new(server: &Server) -> Samples<'_> {
        Samples {
            server,
            list: Vec::new(),
        }
    }

    /// Sends a request, asserts its status and records the response. `path` is `template`
    /// with its ids filled in.
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        want: u16,
    ) -> Value {
        let (status, response) = self.server.call(method.clone(), path, key, body).await;
        assert_eq!(status, want, "{method} {path}: {response}");
        self.record(&method, template, status, &response);
        response
    }

    /// [`Samples::call`] for each row: (method, template, path, key, body, status).
    async fn run(&mut self, rows: Vec<Row<'_>>) {
        for (method, template, path, key, body, want) in rows {
            self.call(method, template, &path, key, body, want).await;
        }
    }

    /// Checks the document as served, and every response recorded, with the checker.
    async fn check(self) {
        let (status, doc) = self
            .server
            .call(Method::GET, "/api/v1/openapi.json", None, None)
            .await;
        assert_eq!(status, 200, "{doc}");
        check_with_document(&doc, &self.list);
    }
}

/// A request of a table: method, path template, path, key, body, and the status it must get.
type Row<'a> = (Method, &'a str, String, Option<&'a str>, Option<Value>, u16);

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs `tests/openapi_check.py` on the document and the samples: the document must be valid
/// OpenAPI 3.1 and every sample must match it.
fn check_with_document(doc: &Value, samples: &[Value]) {
    let tmp = tempfile::TempDir::new().unwrap();
    let doc_path = tmp.path().join("openapi.json");
    let samples_path = tmp.path().join("samples.json");
    std::fs::write(&doc_path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    std::fs::write(&samples_path, serde_json::to_vec_pretty(samples).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi_check.py");
    let out = run(Command::new(test_python())
        .arg(&script)
        .arg(&doc_path)
        .arg(&samples_path));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "openapi_check.py failed ({}):\n{report}",
        out.status
    );
    assert!(
        report.contains(&format!("{} samples valid", samples.len())),
        "{report}"
    );
    println!("{}", report.trim_end());
}

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;
const USERS: &str = "/api/v1/admin/users";
const KEYS: &str = "/api/v1/admin/users/{id}/api_keys";
const TEAMS: &str = "/api/v1/teams";
const TEAM: &str = "/api/v1/teams/{id}";
const INVITE: &str = "/api/v1/teams/{id}/invite_member";
const FOLDERS: &str = "/api/v1/folders";
const ONE: &str = "/api/v1/user_credentials/{id}";
const TOKEN: &str = "/api/v1/user_credentials/{id}/token";
const JWKS: &str = "/api/v1/user_credentials/{id}/jwks";
const ROTATE: &str = "/api/v1/user_credentials/{id}/rotate";
const NOTIFICATIONS: &str = "/api/v1/user_credentials/{id}/notifications";

/// Blue Team with Ada (its EDITOR) and a VIEWER; Red Team, of which Ada is no member.
struct Fixture {
    server: Server,
    team_id: i64,
    other_team: i64,
    ada_id: i64,
    ada: String,
    viewer: String,
}

async fn fixture() -> Fixture {
    let server = Server::start();
    let w = World::new(&server, "Blue Team", &[Role::Editor, Role::Viewer]).await;
    let other_team = server.team("Red Team").await;
    Fixture {
        team_id: w.team_id,
        other_team,
        ada_id: w.editor_id(),
        ada: w.editor_key().to_string(),
        viewer: w.viewer_key().to_string(),
        server,
    }
}

/// Ada's JWT credential "Signing key" (in `folder_id`, restricted to api.example.com, with a
/// `kid`) and TEXT credential "Webhook secret", created unrecorded; returns their ids.
async fn credentials(f: &Fixture, folder_id: i64) -> (i64, i64) {
    let jwt = signing_key(f.team_id, folder_id);
    let (status, created) = f.server.create_credential(&f.ada, jwt).await;
    assert_eq!(status, 201, "{created}");
    let text = text_body(f.team_id, "Webhook secret", "s3cr3t");
    let (status, text) = f.server.create_credential(&f.ada, text).await;
    assert_eq!(status, 201, "{text}");
    (id_of(&created), id_of(&text))
}

fn signing_key(team_id: i64, folder_id: i64) -> Value {
    let mut jwt = jwt_body(team_id, "Signing key");
    jwt["folder_id"] = json!(folder_id);
    jwt["jwt_auto_generate_time_claims"] = json!(true);
    jwt["jwt_headers"] = json!({ "kid": "k1" });
    jwt["allowed_hosts"] = json!(["api.example.com"]);
    jwt["expires_at"] = json!("2040-01-31T12:00:00Z");
    jwt
}

#[tokio::test]
async fn the_document_needs_no_key_names_this_server_and_is_valid_openapi_3_1() {
    let server = Server::start();
    let mut s = Samples::new(&server);
    let path = "/api/v1/openapi.json";
    let doc = s.call(GET, path, path, None, None, 200).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], server.base.as_str(), "{doc}");
    // Service routes.
    s.run(vec![
        (GET, "/healthz", "/healthz".into(), None, None, 200),
        (GET, "/readyz", "/readyz".into(), None, None, 200),
    ])
    .await;
    let metrics = server.request(GET, "/metrics").send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let content_type = metrics.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    s.check().await;
}

#[tokio::test]
async fn user_and_api_key_responses_match_the_document() {
    let server = Server::start();
    let mut s = Samples::new(&server);
    let o = Some(OWNER_KEY);
    let ada = json!({ "email": "ada@example.com", "first_name": "Ada", "last_name": "L" });
    let user = s.call(POST, USERS, USERS, o, Some(ada), 201).await;
    let keys = format!("{USERS}/{}/api_keys", id_of(&user));
    #[rustfmt::skip]
    s.run(vec![
        (POST, USERS, USERS.into(), o, Some(json!({ "email": "ada@example.com" })), 409),
        (POST, USERS, USERS.into(), o, Some(json!({ "email": "not an address" })), 422),
        (GET, USERS, format!("{USERS}?per_page=1"), o, None, 200),
    ]).await;
    let key = s
        .call(POST, KEYS, &keys, o, Some(json!({ "name": "laptop" })), 201)
        .await;
    let a = key["key"].as_str();
    let spare = s
        .call(POST, KEYS, &keys, a, Some(json!({ "name": "spare" })), 201)
        .await;
    // Revoked, then no key at all, then someone else's keys.
    #[rustfmt::skip]
    s.run(vec![
        (DELETE, "/api/v1/admin/users/{id}/api_keys/{key_id}", format!("{keys}/{}", spare["id"]), a, None, 204),
        (GET, TEAMS, TEAMS.into(), spare["key"].as_str(), None, 401),
        (GET, CREDENTIALS, CREDENTIALS.into(), None, None, 401),
        (POST, KEYS, format!("{USERS}/1/api_keys"), a, Some(json!({ "name": "not mine" })), 403),
        (GET, USERS, USERS.into(), a, None, 403),
        (GET, "/api/v1/me", "/api/v1/me".into(), a, None, 200),
        (GET, "/api/v1/me", "/api/v1/me".into(), None, None, 401),
    ]).await;
    s.check().await;
}

#[tokio::test]
async fn team_and_membership_responses_match_the_document() {
    let f = fixture().await;
    let mut s = Samples::new(&f.server);
    let (o, a) = (Some(OWNER_KEY), Some(f.ada.as_str()));
    let team = s
        .call(
            POST,
            TEAMS,
            TEAMS,
            o,
            Some(json!({ "name": "Green Team" })),
            201,
        )
        .await;
    let (green, blue, red) = (id_of(&team), f.team_id, f.other_team);
    let editor = json!({ "user_id": f.ada_id, "role": "EDITOR" });
    let team_admin = json!({ "user_id": f.ada_id, "role": "TEAM_ADMIN" });
    #[rustfmt::skip]
    s.run(vec![
        (POST, TEAMS, TEAMS.into(), o, Some(json!({ "name": "green team" })), 409),
        (POST, INVITE, format!("{TEAMS}/{green}/invite_member"), o, Some(editor), 200),
        (GET, TEAMS, TEAMS.into(), a, None, 200),
        (GET, TEAM, format!("{TEAMS}/{blue}"), a, None, 200),
        (GET, TEAM, format!("{TEAMS}/{red}"), a, None, 404),
        (POST, INVITE, format!("{TEAMS}/{blue}/invite_member"), a, Some(team_admin), 403),
    ]).await;
    s.check().await;
}

#[tokio::test]
async fn member_removal_and_user_deactivation_responses_match_the_document() {
    let f = fixture().await;
    let mut s = Samples::new(&f.server);
    let (o, a) = (Some(OWNER_KEY), Some(f.ada.as_str()));
    let (leaver_id, _) = f
        .server
        .user("leaver@example.com", Some((f.team_id, "EDITOR")))
        .await;
    let (remove, user) = (
        "/api/v1/teams/{id}/remove_member",
        "/api/v1/admin/users/{id}",
    );
    let remove_path = format!("{TEAMS}/{}/remove_member", f.team_id);
    let leaver = || Some(json!({ "user_id": leaver_id }));
    #[rustfmt::skip]
    s.run(vec![
        (POST, remove, remove_path.clone(), a, leaver(), 403),
        (POST, remove, remove_path.clone(), o, leaver(), 200),
        (POST, remove, remove_path, o, leaver(), 422),
        (DELETE, user, format!("{USERS}/{leaver_id}"), a, None, 403),
        (DELETE, user, format!("{USERS}/{leaver_id}"), o, None, 204),
        (DELETE, user, format!("{USERS}/1"), o, None, 422),
        (DELETE, user, format!("{USERS}/999999"), o, None, 404),
    ]).await;
    s.check().await;
}

#[tokio::test]
async fn folder_responses_match_the_document() {
    let f = fixture().await;
    let mut s = Samples::new(&f.server);
    let (a, team_id) = (Some(f.ada.as_str()), f.team_id);
    let folder =
        json!({ "name": "Signing keys", "content_type": "CREDENTIAL", "team_id": team_id });
    let story = json!({ "name": "Stories", "content_type": "STORY", "team_id": team_id });
    #[rustfmt::skip]
    s.run(vec![
        (POST, FOLDERS, FOLDERS.into(), a, Some(folder), 201),
        (POST, FOLDERS, FOLDERS.into(), a, Some(story), 422),
        (GET, FOLDERS, format!("{FOLDERS}?team_id={team_id}"), a, None, 200),
    ]).await;
    s.check().await;
}

#[tokio::test]
async fn credential_create_responses_match_the_document() {
    let f = fixture().await;
    let mut s = Samples::new(&f.server);
    let (a, v, team_id) = (Some(f.ada.as_str()), Some(f.viewer.as_str()), f.team_id);
    let folder_id = f.server.folder(&f.ada, team_id, "Signing keys").await;
    let jwt = signing_key(team_id, folder_id);
    let text = text_body(team_id, "Webhook secret", "s3cr3t");
    let mut too_long = jwt_body(team_id, "Too long");
    too_long["jwt_lifetime_seconds"] = json!(86_401);
    let oauth = json!({ "name": "OAuth", "mode": "OAUTH", "team_id": team_id });
    let c = || CREDENTIALS.to_string();
    #[rustfmt::skip]
    s.run(vec![
        (POST, CREDENTIALS, c(), a, Some(jwt.clone()), 201),
        (POST, CREDENTIALS, c(), a, Some(jwt), 409),
        (POST, CREDENTIALS, c(), a, Some(text.clone()), 201),
        (POST, CREDENTIALS, c(), v, Some(text), 403),
        (POST, CREDENTIALS, c(), a, Some(too_long), 422),
        (POST, CREDENTIALS, c(), a, Some(oauth), 422),
        (POST, CREDENTIALS, c(), a, Some(jwt_body(f.other_team, "Elsewhere")), 404),
    ]).await;
    s.check().await;
}

#[tokio::test]
async fn malformed_bodies_and_test_credential_attach_responses_match_the_document() {
    let f = fixture().await;
    let mut s = Samples::new(&f.server);
    let folder_id = f.server.folder(&f.ada, f.team_id, "Signing keys").await;
    let (jwt_id, _) = credentials(&f, folder_id).await;
    for (content_type, body, want) in [
        ("application/json", "{\"name\": ", 400),
        ("text/plain", "name=x", 415),
    ] {
        let request = f.server.request(POST, CREDENTIALS).bearer_auth(&f.ada);
        let request = request.header("content-type", content_type).body(body);
        let (status, body) = Server::read(request).await;
        assert_eq!(status, want, "{body}");
        s.record(&POST, CREDENTIALS, status, &body);
    }
    // Test credential: the response is the live credential, now with its test credential.
    let attach = json!({
        "live_credential_id": jwt_id,
        "mode": "JWT",
        "jwt_algorithm": "HS256",
        "jwt_private_key": "test-secret",
    });
    let a = Some(f.ada.as_str());
    let attached = s
        .call(POST, CREDENTIALS, CREDENTIALS, a, Some(attach.clone()), 201)
        .await;
    assert_eq!(attached["id"], jwt_id);
    assert!(attached["test_credential"].is_object(), "{attached}");
    s.call(POST, CREDENTIALS, CREDENTIALS, a, Some(attach), 409)
        .await;
    s.check().await;
}

#[tokio::test]
async fn credential_read_and_list_responses_match_the_document() {
    let f = fixture().await;
    let mut s = Samples::new(&f.server);
    let (a, v, team_id) = (Some(f.ada.as_str()), Some(f.viewer.as_str()), f.team_id);
    let folder_id = f.server.folder(&f.ada, team_id, "Signing keys").await;
    let (jwt_id, text_id) = credentials(&f, folder_id).await;
    let path = |query: &str| format!("{CREDENTIALS}?{query}");
    let filtered = path(&format!(
        "team_id={team_id}&folder_id={folder_id}&filter=RESTRICTED"
    ));
    #[rustfmt::skip]
    s.run(vec![
        (GET, ONE, cred_path(jwt_id), v, None, 200),
        (GET, ONE, cred_path(text_id), a, None, 200),
        (GET, ONE, cred_path(999_999), a, None, 404),
        (GET, CREDENTIALS, filtered, v, None, 200),
        (GET, CREDENTIALS, path("filter=SOMETIMES"), a, None, 422),
    ]).await;
    let listed = s
        .call(GET, CREDENTIALS, &path("per_page=1"), a, None, 200)
        .await;
    assert_eq!(listed["meta"]["count"], 2, "{listed}");
    s.check().await;
}

#[tokio::test]
async fn credential_update_responses_match_the_document() {
    let f = fixture().await;
    let mut s = Samples::new(&f.server);
    let (a, v) = (Some(f.ada.as_str()), Some(f.viewer.as_str()));
    let folder_id = f.server.folder(&f.ada, f.team_id, "Signing keys").await;
    let (jwt_id, text_id) = credentials(&f, folder_id).await;
    let rename = json!({
        "mode": "JWT",
        "name": "Signing key v2",
        "description": "rotated",
        "jwt_lifetime_seconds": 600,
        "metadata": { "owner": "blue" },
    });
    let new_value = json!({ "mode": "TEXT", "value": "n3w", "expires_at": null });
    let mine = json!({ "mode": "TEXT", "description": "mine now" });
    #[rustfmt::skip]
    s.run(vec![
        (PUT, ONE, cred_path(jwt_id), a, Some(rename), 200),
        (PUT, ONE, cred_path(text_id), a, Some(new_value), 200),
        (PUT, ONE, cred_path(text_id), a, Some(json!({ "mode": "JWT" })), 422),
        (PUT, ONE, cred_path(text_id), v, Some(mine), 403),
    ]).await;
    s.check().await;
}

#[tokio::test]
async fn mint_and_jwks_responses_match_the_document() {
    let f = fixture().await;
    let mut s = Samples::new(&f.server);
    let (a, v) = (Some(f.ada.as_str()), Some(f.viewer.as_str()));
    let folder_id = f.server.folder(&f.ada, f.team_id, "Signing keys").await;
    let (jwt_id, _) = credentials(&f, folder_id).await;
    // The JWT credential is restricted to api.example.com.
    let url = Some(json!({ "url": "https://api.example.com/v1/things" }));
    let minted = s.call(POST, TOKEN, &token_path(jwt_id), a, url, 200).await;
    assert_eq!(minted["credential_id"], jwt_id, "{minted}");
    assert_eq!(minted["algorithm"], "ES256", "{minted}");
    assert_eq!(minted["test"], false, "{minted}");
    assert!(minted["expires_at"].is_string(), "{minted}");
    let evil = Some(json!({ "host": "evil.example.org" }));
    s.run(vec![
        (POST, TOKEN, token_path(jwt_id), a, evil, 403),
        (POST, TOKEN, token_path(999_999), a, None, 404),
    ])
    .await;
    // The public key: ES256 has one, HS256 has none.
    let set = s.call(GET, JWKS, &jwks_path(jwt_id), v, None, 200).await;
    assert_eq!(set["keys"][0]["kty"], "EC", "{set}");
    assert_eq!(set["keys"][0]["crv"], "P-256", "{set}");
    assert_eq!(set["keys"][0]["kid"], "k1", "{set}");
    // After a rotation the set holds the new key and the one it replaced (Schemathesis found
    // the document allowing only one).
    let rotate = format!("{}/rotate", cred_path(jwt_id));
    s.call(POST, ROTATE, &rotate, a, None, 200).await;
    let set = s.call(GET, JWKS, &jwks_path(jwt_id), v, None, 200).await;
    assert_eq!(set["keys"].as_array().unwrap().len(), 2, "{set}");
    let mut hmac = jwt_body(f.team_id, "Shared secret");
    hmac["jwt_algorithm"] = json!("HS256");
    hmac["jwt_private_key"] = json!("a-shared-secret");
    let (status, created) = f.server.create_credential(&f.ada, hmac).await;
    assert_eq!(status, 201, "{created}");
    s.call(GET, JWKS, &jwks_path(id_of(&created)), a, None, 422)
        .await;
    s.check().await;
}

#[tokio::test]
async fn credential_delete_responses_match_the_document() {
    let f = fixture().await;
    let mut s = Samples::new(&f.server);
    let (o, a, v) = (
        Some(OWNER_KEY),
        Some(f.ada.as_str()),
        Some(f.viewer.as_str()),
    );
    let folder_id = f.server.folder(&f.ada, f.team_id, "Signing keys").await;
    let (_, text_id) = credentials(&f, folder_id).await;
    // EDITORs may not delete (Tines); tenant admins and TEAM_ADMINs may.
    s.run(vec![
        (DELETE, ONE, cred_path(text_id), v, None, 403),
        (DELETE, ONE, cred_path(text_id), a, None, 403),
        (DELETE, ONE, cred_path(text_id), o, None, 204),
        (DELETE, ONE, cred_path(text_id), a, None, 404),
    ])
    .await;
    s.check().await;
}

#[tokio::test]
async fn notification_and_test_expiry_responses_match_the_document() {
    let dir = tempfile::TempDir::new().unwrap();
    let env = [("CREDVAULT_NOTIFY_INTERVAL_SECONDS", "1")];
    let server = Server::start_in(dir.path(), &env).unwrap();
    let w = World::new(&server, "Blue Team", &[Role::Editor, Role::Viewer]).await;
    let mut s = Samples::new(&server);
    let (a, v) = (Some(w.editor_key()), Some(w.viewer_key()));
    let mut text = text_body(w.team_id, "Webhook secret", "s3cr3t");
    text["expires_at"] = json!("2000-01-01T00:00:00Z");
    text["expiry_notifications_enabled"] = json!(true);
    let created = s
        .call(POST, CREDENTIALS, CREDENTIALS, a, Some(text), 201)
        .await;
    let id = id_of(&created);
    let mut attach = text_body(w.team_id, "Webhook secret", "test-s3cr3t");
    attach["live_credential_id"] = json!(id);
    attach["expires_at"] = json!("2000-01-02T00:00:00Z");
    attach["expiry_notifications_enabled"] = json!(true);
    attach["credential_notification_recipient_user_ids"] = json!([w.editor_id()]);
    s.call(POST, CREDENTIALS, CREDENTIALS, a, Some(attach), 201)
        .await;
    // No channel is configured: both reminders are recorded, pending.
    crate::notifications::notifications_until(&server, id, "two reminders", |f| f.len() == 2).await;
    let path = format!("{}/notifications", cred_path(id));
    #[rustfmt::skip]
    s.run(vec![
        (GET, NOTIFICATIONS, path.clone(), v, None, 200),
        (GET, NOTIFICATIONS, format!("{path}?per_page=1&page=2"), a, None, 200),
        (GET, NOTIFICATIONS, format!("{path}?page=0"), a, None, 422),
        (GET, NOTIFICATIONS, format!("{}/notifications", cred_path(999_999)), a, None, 404),
        (GET, ONE, cred_path(id), v, None, 200),
    ]).await;
    s.check().await;
}
