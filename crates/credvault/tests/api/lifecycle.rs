//! The process: health, readiness, restart with the same data, refusal to start with a wrong
//! master key, graceful shutdown, and the generated key files.

use std::os::unix::fs::PermissionsExt;

use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::*;

#[tokio::test]
async fn health_and_readiness_need_no_auth() {
    let server = Server::start();
    let (status, body) = server.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((status, body), (200, json!({ "status": "ok" })));
    let (status, body) = server.call(Method::GET, "/readyz", None, None).await;
    assert_eq!((status, body), (200, json!({ "status": "ready" })));
}

/// Starts on `dir`, creates five JWT credentials and a TEXT one, and stops the server with
/// SIGTERM, which must exit 0 after logging its shutdown. Returns the created credentials.
async fn credentials_then_sigterm(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let mut server = Server::start_in(dir, &[]).unwrap();
    let team_id = server.team("Ops").await;
    let mut bodies: Vec<_> = (0..5)
        .map(|i| jwt_body(team_id, &format!("cred {i}")))
        .collect();
    bodies.push(text_body(team_id, "t", "v"));
    let mut created = Vec::new();
    for body in bodies {
        let (status, body) = server.create_credential(OWNER_KEY, body).await;
        assert_eq!(status, 201, "{body}");
        created.push(body);
    }
    assert!(server.stop(), "SIGTERM must exit 0");
    assert!(server.logs().contains("shutting down"));
    created
}

#[tokio::test]
async fn credentials_survive_a_restart_and_the_master_key_file_is_private() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("data");
    let created = credentials_then_sigterm(&dir).await;
    // The generated master key is private to its owner.
    let mode = std::fs::metadata(dir.join("master.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let server = Server::start_in(&dir, &[]).unwrap();
    for body in &created {
        let (status, read) = server.get(&cred_path(id_of(body)), OWNER_KEY).await;
        assert_eq!(status, 200);
        // The issuer links follow the public URL, here the listen address, whose port is new.
        assert_eq!(links_on(&read, "X"), links_on(body, "X"));
    }
    // The owner was bootstrapped once, not again.
    let (_, users) = server.get("/api/v1/admin/users", OWNER_KEY).await;
    assert_eq!(users["meta"]["count"], 1);
}

#[tokio::test]
async fn a_wrong_missing_or_malformed_master_key_refuses_to_start() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("data");
    credentials_then_sigterm(&dir).await;
    let key_file = dir.join("master.key");
    // Another master key, given by the environment: refused, with a clear message.
    let other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let failure = Server::start_in(&dir, &[("CREDVAULT_MASTER_KEY", other)])
        .err()
        .expect("must refuse to start");
    assert!(!failure.success);
    let mismatch = "master key does not match this database";
    assert!(failure.logs.contains(mismatch), "{}", failure.logs);

    // The key file gone: refused rather than silently replaced by a new key.
    std::fs::rename(&key_file, dir.join("master.key.bak")).unwrap();
    let failure = Server::start_in(&dir, &[])
        .err()
        .expect("must refuse to start");
    assert!(failure.logs.contains("no master key"), "{}", failure.logs);
    assert!(!key_file.exists());

    // A malformed master key.
    let failure = Server::start_in(&dir, &[("CREDVAULT_MASTER_KEY", "c2hvcnQ=")])
        .err()
        .expect("must refuse to start");
    assert!(failure.logs.contains("32 bytes"), "{}", failure.logs);

    // The original key given by the environment works.
    let original = std::fs::read_to_string(dir.join("master.key.bak")).unwrap();
    let server = Server::start_in(&dir, &[("CREDVAULT_MASTER_KEY", original.trim())]).unwrap();
    let (status, _) = server.get("/api/v1/user_credentials/1", OWNER_KEY).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_generated_owner_key_is_written_to_a_private_file_and_never_logged() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("data");
    let mut server = Server::start_in(&dir, &[("CREDVAULT_BOOTSTRAP_API_KEY", "")]).unwrap();
    let path = dir.join("owner-api-key");
    let key = std::fs::read_to_string(&path).unwrap().trim().to_string();
    assert!(key.starts_with("cvk_"));
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (status, users) = server.get("/api/v1/admin/users", &key).await;
    assert_eq!(status, 200);
    assert_eq!(users["admin/users"][0]["email"], "owner@localhost");
    assert_eq!(users["admin/users"][0]["admin"], true);
    assert!(server.stop());
    assert!(!server.logs().contains(&key));
    assert!(server.logs().contains("owner-api-key"));
}

#[tokio::test]
async fn migrate_creates_the_schema_and_public_url_shapes_links() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("data");
    let mut migrate = std::process::Command::new(env!("CARGO_BIN_EXE_credvault"));
    migrate
        .args(["migrate", "--data-dir"])
        .arg(&dir)
        .env_remove("CREDVAULT_DATABASE_URL");
    let pg_database = on_postgres().then(|| {
        let url = fresh_postgres_database(&postgres_server().unwrap());
        migrate.env("CREDVAULT_DATABASE_URL", &url);
        url
    });
    assert!(migrate.status().unwrap().success());
    match &pg_database {
        // The schema is there: the server below starts on it.
        Some(_) => assert!(!dir.join("credvault.db").exists()),
        None => assert!(dir.join("credvault.db").exists()),
    }
    // migrate needs no master key and creates none.
    assert!(!dir.join("master.key").exists());

    let mut env = vec![("CREDVAULT_PUBLIC_URL", "https://vault.example.com/")];
    if let Some(url) = &pg_database {
        env.push(("CREDVAULT_DATABASE_URL", url));
    }
    let server = Server::start_in(&dir, &env).unwrap();
    let (status, teams) = server
        .get("/api/v1/teams?per_page=5&x=a%20b", OWNER_KEY)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        teams["meta"]["current_page"],
        "https://vault.example.com/api/v1/teams?per_page=5&x=a+b&page=1"
    );
}

#[tokio::test]
async fn last_seen_records_authenticated_use() {
    let server = Server::start();
    let (id, key) = server.user("seen@example.com", None).await;
    let (_, users) = server.get("/api/v1/admin/users", OWNER_KEY).await;
    assert_eq!(
        users["admin/users"][1]["last_seen"],
        serde_json::Value::Null
    );
    assert_eq!(server.get("/api/v1/teams", &key).await.0, 200);
    // Recorded in the background: poll briefly.
    for _ in 0..50 {
        let (_, users) = server.get("/api/v1/admin/users", OWNER_KEY).await;
        let user = &users["admin/users"][1];
        assert_eq!(user["id"], id);
        if user["last_seen"].is_string() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("last_seen was never recorded");
}

/// `credential` with the base of its issuer links replaced by `base`.
fn links_on(credential: &Value, base: &str) -> Value {
    let mut out = credential.clone();
    for field in ["issuer_url", "jwks_url"] {
        if let Some(url) = credential[field].as_str() {
            let path = &url[url.find("/issuers/").unwrap()..];
            out[field] = Value::from(format!("{base}{path}"));
        }
    }
    out
}
