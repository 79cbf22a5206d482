//! The web console (API.md §11): its pages and files as the server hands them out, the one
//! API call made for it (`GET /api/v1/me`), and the console itself driven in a real headless
//! Chromium (`tests/console_e2e.py`, one scenario per test).

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::notifications::notifications_until;
use crate::support::*;

/// The policy every console response carries: scripts and styles only from the server, no
/// inline script, no framing, no talking to other origins.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The paths of the console's pages: each answers with the same shell.
const PAGES: &[&str] = &[
    "/",
    "/credentials",
    "/credentials/new",
    "/credentials/12",
    "/credentials/12/edit",
    "/users",
    "/teams",
    "/audit_logs",
];

async fn fetch(server: &Server, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = server.request(Method::GET, path).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[track_caller]
fn assert_console_headers(headers: &reqwest::header::HeaderMap, content_type: &str) {
    assert_eq!(header(headers, "content-type"), content_type);
    assert_eq!(header(headers, "content-security-policy"), CSP);
    assert_eq!(header(headers, "x-frame-options"), "DENY");
    assert_eq!(header(headers, "referrer-policy"), "no-referrer");
    assert_eq!(header(headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(headers, "cache-control"), "no-cache");
}

#[tokio::test]
async fn every_console_page_answers_with_the_shell_under_a_strict_policy() {
    let server = Server::start();
    for path in PAGES {
        let (status, headers, body) = fetch(&server, path).await;
        assert_eq!(status, 200, "{path}");
        assert_console_headers(&headers, "text/html; charset=utf-8");
        assert!(
            body.contains(r#"<script type="module" src="/console/app.js"></script>"#),
            "{path}: {body}"
        );
        // No inline script: the one script element names its file.
        assert_eq!(body.matches("<script").count(), 1, "{path}: {body}");
        assert!(!body.contains(" style="), "{path}: inline style");
    }
}

#[tokio::test]
async fn the_console_files_are_served_with_their_types_and_unknown_ones_are_404() {
    let server = Server::start();
    for (path, content_type) in [
        ("/console/app.js", "text/javascript; charset=utf-8"),
        (
            "/console/pages/credential.js",
            "text/javascript; charset=utf-8",
        ),
        ("/console/style.css", "text/css; charset=utf-8"),
        ("/console/icon.svg", "image/svg+xml"),
    ] {
        let (status, headers, body) = fetch(&server, path).await;
        assert_eq!(status, 200, "{path}");
        assert_console_headers(&headers, content_type);
        assert!(!body.is_empty(), "{path}");
    }
    for path in [
        "/console/nope.js",
        "/console/",
        "/console/pages/",
        "/credentials/12/other",
    ] {
        let (status, _, body) = fetch(&server, path).await;
        assert_eq!(status, 404, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert!(body["errors"][0]["message"].is_string(), "{path}: {body}");
    }
    let resp = server
        .request(Method::POST, "/credentials/new")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
}

#[tokio::test]
async fn me_is_the_user_the_key_belongs_to() {
    let server = Server::start();
    let w = World::new(&server, "Ops", &[Role::Editor]).await;
    let (status, me) = server.get("/api/v1/me", w.editor_key()).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["id"], w.editor_id());
    assert_eq!(me["email"], Role::Editor.email());
    assert_eq!(me["admin"], false);
    assert_eq!(me["is_active"], true);
    let (status, owner) = server.get("/api/v1/me", OWNER_KEY).await;
    assert_eq!(status, 200, "{owner}");
    assert_eq!(owner["admin"], true);
    let (status, body) = server.get("/api/v1/me", "cvk_unknown").await;
    assert_refused(status, &body, 401);
}

#[tokio::test]
async fn a_team_admin_signs_in_creates_mints_rotates_and_deletes_in_the_browser() {
    let server = Server::start();
    let w = World::new(&server, "Payments", &[Role::TeamAdmin]).await;
    let world = json!({
        "keys": { "team_admin": w.team_admin_key() },
        "rsa_key_file": fixture_path("rsa2048-pkcs8.pem"),
    });
    let out = drive_console(&server, "journey", world);

    // The token the page showed was signed with the uploaded key.
    let token = out["token"].as_str().unwrap();
    let public = fixture_json("rsa2048-pub.jwk.json");
    assert!(verifies_with_jwk(token, &public, "RS256"));
    assert_ne!(out["key_id"], out["rotated_key_id"]);
    // Deleted for the API too.
    let (status, body) = server.get(&cred_path(id_of(&out)), OWNER_KEY).await;
    assert_refused(status, &body, 404);
}

#[tokio::test]
async fn the_list_warns_of_near_expiry_shows_last_use_and_filters_in_the_browser() {
    // Reminders are planned each second, so the expiring credential's page lists one.
    let dir = tempfile::TempDir::new().unwrap();
    let env = [("CREDVAULT_NOTIFY_INTERVAL_SECONDS", "1")];
    let server = Server::start_in(dir.path(), &env).unwrap();
    let w = World::new(&server, "Ops", &[Role::Editor]).await;
    let in_days = |days: f64| {
        let at = OffsetDateTime::now_utc() + Duration::from_secs_f64(days * 86_400.0);
        at.format(&Rfc3339).unwrap()
    };
    let mut soon = jwt_body(w.team_id, "Expiring soon");
    soon["expires_at"] = in_days(9.5).into();
    soon["expiry_notifications_enabled"] = true.into();
    let soon = create_ok(&server, soon).await;
    let mut later = jwt_body(w.team_id, "Long lived");
    later["expires_at"] = in_days(89.5).into();
    create_ok(&server, later).await;
    let mut restricted = jwt_body(w.team_id, "Partner webhook");
    restricted["allowed_hosts"] = json!(["hooks.partner.example", "*.partner.example"]);
    let restricted_id = create_ok(&server, restricted).await;
    let used = create_ok(&server, jwt_body(w.team_id, "In use")).await;
    mint_ok(&server, used, None).await;
    // Both happen in the background: use is recorded within seconds, reminders each second.
    let recorded = |read: &Value| read["last_used_at"].is_string();
    credential_when(&server, used, Duration::from_secs(5), "last use", recorded).await;
    notifications_until(&server, soon, "a reminder", |found| found.len() == 1).await;

    let world = json!({
        "keys": { "editor": w.editor_key() },
        "restricted_id": restricted_id,
    });
    drive_console(&server, "list", world);
}

#[tokio::test]
async fn an_editor_has_no_admin_pages_attaches_a_test_credential_edits_and_signs_out() {
    let server = Server::start();
    let w = World::new(&server, "Ledger", &[Role::Editor]).await;
    let mut body = jwt_body(w.team_id, "Signing service");
    body["jwt_payload"] = json!({ "sub": "signing" });
    // The editor's own credential: an editor may change its allowed hosts.
    let (status, created) = server.post(CREDENTIALS, w.editor_key(), body).await;
    assert_eq!(status, 201, "{created}");
    let id = id_of(&created);

    let world = json!({ "keys": { "editor": w.editor_key() }, "credential_id": id });
    drive_console(&server, "editor", world);

    let (status, stored) = server.get(&cred_path(id), OWNER_KEY).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["description"], "Signs requests to the ledger");
    assert_eq!(
        stored["allowed_hosts"],
        json!(["ledger.example.com", "*.ledger.example.com"])
    );
    assert_eq!(stored["jwt_payload"], json!({ "sub": "signing" }));
    assert_eq!(stored["test_credential_enabled"], true);
    assert!(stored["test_credential"]["created_at"].is_string());
}

#[tokio::test]
async fn a_tenant_admin_manages_users_and_teams_and_reads_the_audit_log_in_the_browser() {
    let server = Server::start();
    let path = "/api/v1/audit_logs?operation_name=TeamCreation";
    let (status, before) = server.get(path, OWNER_KEY).await;
    assert_eq!(status, 200, "{before}");
    let world = json!({
        "keys": { "owner": OWNER_KEY },
        "team_creations": before["meta"]["count"],
    });
    let out = drive_console(&server, "admin", world);

    // The key the page showed once works, as the new user, in the new team.
    let key = out["api_key"].as_str().unwrap();
    let (status, me) = server.get("/api/v1/me", key).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["email"], "new.person@example.com");
    assert_eq!(me["first_name"], "New");
    let (status, teams) = server.get("/api/v1/teams", key).await;
    assert_eq!(status, 200, "{teams}");
    assert_eq!(teams["teams"][0]["name"], "Platform");
}

#[tokio::test]
async fn a_user_deactivated_while_signed_in_is_sent_back_to_sign_in() {
    let server = Server::start();
    let w = World::new(&server, "Ops", &[Role::Editor, Role::TeamAdmin]).await;
    let world = json!({
        "keys": { "editor": w.editor_key(), "team_admin": w.team_admin_key(), "owner": OWNER_KEY },
        "editor_id": w.editor_id(),
        "team_admin_id": w.team_admin_id(),
    });
    drive_console(&server, "revoked", world);
}

#[tokio::test]
async fn the_console_works_from_the_keyboard_with_labelled_named_fields() {
    let server = Server::start();
    let w = World::new(&server, "Ops", &[Role::Editor]).await;
    let world = json!({
        "keys": { "editor": w.editor_key() },
        "text_value": "pager-secret-8c1f0e",
    });
    drive_console(&server, "keyboard", world);
    let (status, list) = server.get(CREDENTIALS, w.editor_key()).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["user_credentials"][0]["name"], "Pager token");
    assert_eq!(list["user_credentials"][0]["mode"], "TEXT");
}
