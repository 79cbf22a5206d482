//! The process: health, readiness, restart with the same data, refusal to start with a wrong
//! master key, graceful shutdown, and the generated key files.

use std::os::unix::fs::PermissionsExt;

use reqwest::Method;
use serde_json::json;
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

#[tokio::test]
async fn credentials_survive_a_restart_and_a_wrong_master_key_refuses_to_start() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("data");
    let mut created = Vec::new();
    {
        let mut server = Server::start_in(&dir, &[]).unwrap();
        let team_id = server.team("Ops").await;
        for i in 0..5 {
            let (status, body) = server
                .create_credential(OWNER_KEY, jwt_body(team_id, &format!("cred {i}")))
                .await;
            assert_eq!(status, 201, "{body}");
            created.push(body);
        }
        let (status, body) = server
            .create_credential(
                OWNER_KEY,
                json!({ "name": "t", "mode": "TEXT", "team_id": team_id, "value": "v" }),
            )
            .await;
        assert_eq!(status, 201);
        created.push(body);
        assert!(server.stop(), "SIGTERM must exit 0");
        assert!(server.logs().contains("shutting down"));
    }

    // The generated master key is private to its owner.
    let key_file = dir.join("master.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    {
        let server = Server::start_in(&dir, &[]).unwrap();
        for body in &created {
            let id = body["id"].as_i64().unwrap();
            let (status, read) = server
                .get(&format!("/api/v1/user_credentials/{id}"), OWNER_KEY)
                .await;
            assert_eq!(status, 200);
            assert_eq!(&read, body);
        }
        // The owner was bootstrapped once, not again.
        let (_, users) = server.get("/api/v1/admin/users", OWNER_KEY).await;
        assert_eq!(users["meta"]["count"], 1);
    }

    // Another master key, given by the environment: refused, with a clear message.
    let other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let failure = Server::start_in(&dir, &[("CREDVAULT_MASTER_KEY", other)])
        .err()
        .expect("must refuse to start");
    assert!(!failure.success);
    assert!(
        failure
            .logs
            .contains("master key does not match this database"),
        "{}",
        failure.logs
    );

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
