//! Scheduled key rotation (API.md §6): `jwt_rotation_period_seconds`, exactly one rotation per
//! due period across instances sharing the database, and a rotation that fell due while every
//! instance was down happens at the next start. A rotation is made due by moving the row's
//! `rotate_at` into the past, instead of waiting the minute the shortest period takes.

use std::time::Duration;

use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::*;

/// Servers look for due rotations every second.
const EVERY_SECOND: (&str, &str) = ("CREDVAULT_ROTATION_CHECK_SECONDS", "1");

/// An ES256 credential rotated every minute; returns its id and response object.
async fn rotating(server: &Server) -> (i64, Value) {
    let team = server.team("scheduled").await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let mut body = jwt_credential(team, "scheduled", "ES256", &key, 600);
    body["jwt_rotation_period_seconds"] = json!(60);
    let (status, created) = server.create_credential(OWNER_KEY, body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["jwt_rotation_period_seconds"], 60);
    (id_of(&created), created)
}

fn make_due(server: &Server, id: i64) {
    server.run_sql(&format!(
        "UPDATE credentials SET rotate_at = 1 WHERE id = {id}"
    ));
}

/// The credential once its key has been rotated (within 15 s).
async fn once_rotated(server: &Server, id: i64) -> Value {
    let rotated = |read: &Value| !read["jwt_key_rotated_at"].is_null();
    credential_when(server, id, Duration::from_secs(15), "rotation", rotated).await
}

async fn published_keys(server: &Server, id: i64) -> usize {
    let (_, set) = server.get(&jwks_path(id), OWNER_KEY).await;
    set["keys"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_due_rotation_happens_once_with_two_instances_on_one_database() {
    let dir = TempDir::new().unwrap();
    let a = Server::start_in(dir.path(), &[EVERY_SECOND]).unwrap();
    let b = Server::start_in(dir.path(), &[EVERY_SECOND]).unwrap();
    let (id, created) = rotating(&a).await;
    make_due(&a, id);
    let rotated = once_rotated(&b, id).await;
    assert_ne!(rotated["jwt_key_id"], created["jwt_key_id"]);
    // Both instances have had their rounds since; a second rotation would publish a third key.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        published_keys(&a, id).await,
        2,
        "one new key and the retired one"
    );
    let (_, now) = a.get(&cred_path(id), OWNER_KEY).await;
    assert_eq!(now["jwt_key_id"], rotated["jwt_key_id"], "rotated again");
}

#[tokio::test]
async fn a_rotation_due_while_every_instance_was_down_happens_at_the_next_start() {
    let dir = TempDir::new().unwrap();
    let mut first = Server::start_in(dir.path(), &[EVERY_SECOND]).unwrap();
    let (id, created) = rotating(&first).await;
    assert!(first.stop());
    make_due(&first, id);
    let next =
        Server::start_in(dir.path(), &[("CREDVAULT_ROTATION_CHECK_SECONDS", "3600")]).unwrap();
    let rotated = once_rotated(&next, id).await;
    assert_ne!(rotated["jwt_key_id"], created["jwt_key_id"]);
}

#[tokio::test]
async fn a_credential_not_yet_due_keeps_its_key() {
    let dir = TempDir::new().unwrap();
    let server = Server::start_in(dir.path(), &[EVERY_SECOND]).unwrap();
    let (id, created) = rotating(&server).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, read) = server.get(&cred_path(id), OWNER_KEY).await;
    assert_eq!(read["jwt_key_id"], created["jwt_key_id"]);
    assert_eq!(read["jwt_key_rotated_at"], Value::Null);
}

#[tokio::test]
async fn rotation_periods_are_checked() {
    let server = Server::in_process().await;
    let team = server.team("periods").await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let with = |period: Value, alg: &str, key: &str| {
        let mut body = jwt_credential(team, &format!("{alg} {period}"), alg, key, 600);
        body["jwt_rotation_period_seconds"] = period;
        body
    };
    for (period, alg, secret, needle) in [
        (json!(59), "ES256", key.as_str(), "between 60"),
        (json!(315_360_001), "ES256", key.as_str(), "between 60"),
        (json!(60), "HS256", "a shared secret", "shared secret"),
    ] {
        let (status, body) = server
            .create_credential(OWNER_KEY, with(period, alg, secret))
            .await;
        assert_error(
            status,
            &body,
            422,
            Some("jwt_rotation_period_seconds"),
            needle,
        );
    }
    let id = create_ok(&server, with(json!(315_360_000), "ES256", &key)).await;
    let cleared = put_ok(
        &server,
        id,
        json!({ "mode": "JWT", "jwt_rotation_period_seconds": null }),
    )
    .await;
    assert_eq!(cleared["jwt_rotation_period_seconds"], Value::Null);
}
