//! Data-key rotation (API.md §9): `POST /admin/encryption/rotate` makes a new term for new
//! writes and every stored secret is re-sealed under it in the background, while the server
//! serves, across instances, and after a `kill -9`; emptied old terms are dropped.

use std::time::Duration;

use credvault_api::encryption::{status, Reencryption, DROP_AFTER_MS};
use credvault_core::timefmt::now_millis;
use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::*;

const ENCRYPTION: &str = "/api/v1/admin/encryption";
const ROTATE: &str = "/api/v1/admin/encryption/rotate";

async fn rotate(server: &Server) -> Value {
    let (status, body) = server
        .call(Method::POST, ROTATE, Some(OWNER_KEY), None)
        .await;
    assert_eq!(status, 202, "{body}");
    body
}

async fn encryption(server: &Server) -> Value {
    let (status, body) = server.get(ENCRYPTION, OWNER_KEY).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Waits until no secret of an older term is left; returns the last answer.
async fn resealed(server: &Server) -> Value {
    for _ in 0..200 {
        let body = encryption(server).await;
        if body["reencryption"]["state"] == "IDLE" {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("re-sealing did not finish: {}", encryption(server).await);
}

/// `n` ES256 credentials of a new team `team`; returns their ids.
async fn signing_credentials(server: &Server, team: &str, n: usize) -> Vec<i64> {
    let team = server.team(team).await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            create_ok(
                server,
                jwt_credential(team, &format!("c{i}"), "ES256", &key, 600),
            )
            .await,
        );
    }
    ids
}

/// The secrets each term seals, as `(term, secrets)`.
fn terms(body: &Value) -> Vec<(i64, i64)> {
    body["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["term"].as_i64().unwrap(), t["secrets"].as_i64().unwrap()))
        .collect()
}

#[tokio::test]
async fn a_fresh_server_has_one_term_and_nothing_to_reseal() {
    let server = Server::in_process().await;
    let body = encryption(&server).await;
    assert_eq!(body["current_term"], 1);
    assert_eq!(terms(&body), vec![(1, 0)]);
    assert!(is_api_time(
        body["terms"][0]["created_at"].as_str().unwrap()
    ));
    assert_eq!(
        body["reencryption"],
        json!({"state": "IDLE", "remaining": 0})
    );
}

#[tokio::test]
async fn only_tenant_admins_see_and_rotate_the_data_key() {
    let server = Server::in_process().await;
    let w = World::new(&server, "Ops", &[Role::TeamAdmin]).await;
    let (status, body) = server.get(ENCRYPTION, w.team_admin_key()).await;
    assert_refused(status, &body, 403);
    let (status, body) = server
        .call(Method::POST, ROTATE, Some(w.team_admin_key()), None)
        .await;
    assert_refused(status, &body, 403);
    let (status, _) = server.call(Method::POST, ROTATE, None, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        encryption(&server).await["current_term"],
        1,
        "nothing rotated"
    );
}

#[tokio::test]
async fn a_rotation_answers_202_and_reseals_every_secret_under_the_new_term() {
    let server = Server::start();
    let ids = signing_credentials(&server, "Keys", 5).await;
    let text = create_ok(&server, text_body(server.team("Text").await, "t", "s3cret")).await;
    let body = rotate(&server).await;
    assert_eq!(body["current_term"], 2);
    assert_eq!(terms(&body)[1].0, 2);
    let body = resealed(&server).await;
    assert_eq!(terms(&body), vec![(1, 0), (2, 6)]);
    for id in ids {
        mint_ok(&server, id, None).await;
    }
    let (status, _) = server.get(&cred_path(text), OWNER_KEY).await;
    assert_eq!(status, 200);
    let (status, _) = server.get("/api/v1/teams", OWNER_KEY).await;
    assert_eq!(
        status, 200,
        "API keys are hashed with a key the rotation keeps"
    );
}

#[tokio::test]
async fn a_rotation_is_recorded_in_the_audit_log() {
    let server = Server::in_process().await;
    rotate(&server).await;
    let (status, body) = server
        .get(
            "/api/v1/audit_logs?operation_name=EncryptionKeyRotation",
            OWNER_KEY,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let entry = &body["audit_logs"][0];
    assert_eq!(
        entry["inputs"],
        json!({"inputs": {}, "reason": "request", "term": 2})
    );
    assert_eq!(entry["user_email"], "owner@localhost");
}

#[tokio::test]
async fn new_writes_after_a_rotation_are_sealed_under_the_new_term() {
    let server = Server::in_process().await;
    rotate(&server).await;
    signing_credentials(&server, "Keys", 2).await;
    assert_eq!(terms(&encryption(&server).await), vec![(1, 0), (2, 2)]);
}

#[tokio::test]
async fn writes_during_the_resealing_are_neither_lost_nor_left_behind() {
    let server = Server::start();
    let ids = signing_credentials(&server, "Keys", 40).await;
    let writes = async {
        for &id in ids.iter().take(20) {
            put_ok(
                &server,
                id,
                json!({"mode": "JWT", "description": format!("during {id}")}),
            )
            .await;
        }
    };
    tokio::join!(rotate(&server), writes);
    let more = signing_credentials(&server, "More", 3).await;
    let body = resealed(&server).await;
    assert_eq!(terms(&body), vec![(1, 0), (2, 43)]);
    for id in ids.iter().chain(&more) {
        mint_ok(&server, *id, None).await;
    }
    let (_, got) = server.get(&cred_path(ids[0]), OWNER_KEY).await;
    assert_eq!(got["description"], format!("during {}", ids[0]));
}

#[tokio::test]
async fn a_resealing_killed_midway_resumes_at_the_next_start() {
    let tmp = TempDir::new().unwrap();
    let mut server = Server::start_in(tmp.path(), &[]).unwrap();
    let ids = signing_credentials(&server, "Keys", 300).await;
    rotate(&server).await;
    server.kill();
    let server = Server::start_in(tmp.path(), &[]).unwrap();
    let body = resealed(&server).await;
    assert_eq!(terms(&body), vec![(1, 0), (2, 300)]);
    for id in [ids[0], ids[150], ids[299]] {
        mint_ok(&server, id, None).await;
    }
}

#[tokio::test]
async fn another_instance_reads_secrets_resealed_under_a_term_it_has_not_loaded() {
    let tmp = TempDir::new().unwrap();
    let first = Server::start_in(tmp.path(), &[]).unwrap();
    let second = Server::start_in(tmp.path(), &[]).unwrap();
    let ids = signing_credentials(&first, "Keys", 3).await;
    rotate(&first).await;
    resealed(&first).await;
    // At once, before the second instance's next look at the keyring.
    for id in &ids {
        mint_ok(&second, *id, None).await;
    }
    let team = second.team("Later").await;
    create_ok(&second, text_body(team, "later", "v")).await;
    assert_eq!(terms(&encryption(&first).await), vec![(1, 0), (2, 4)]);
}

#[tokio::test]
async fn an_emptied_term_is_dropped_once_it_has_been_superseded_long_enough() {
    let server = Server::in_process().await;
    signing_credentials(&server, "Keys", 2).await;
    rotate(&server).await;
    let state = server.app_state();
    let store = state.store.as_ref();
    let soon = Reencryption::tick(&state.keyring, store, now_millis())
        .await
        .unwrap();
    assert_eq!(
        (soon.resealed, soon.dropped.clone()),
        (2, vec![]),
        "kept for a while"
    );
    let later = now_millis() + DROP_AFTER_MS;
    let done = Reencryption::tick(&state.keyring, store, later)
        .await
        .unwrap();
    assert_eq!(done.dropped, vec![1]);
    let body = status(&state.keyring, store).await.unwrap();
    assert_eq!(terms(&body), vec![(2, 2)]);
    let (_, log) = server
        .get(
            "/api/v1/audit_logs?operation_name=EncryptionKeyRetirement",
            OWNER_KEY,
        )
        .await;
    assert_eq!(log["audit_logs"][0]["inputs"]["terms"], json!([1]));
    assert_eq!(log["audit_logs"][0]["user_id"], Value::Null);
}

#[tokio::test]
async fn an_instance_left_on_a_rotated_master_key_refuses_secrets_it_cannot_follow() {
    let tmp = TempDir::new().unwrap();
    let old = Server::start_in(tmp.path(), &[]).unwrap();
    let ids = signing_credentials(&old, "Keys", 2).await;
    let new_key = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
    let mut rekey = std::process::Command::new(env!("CARGO_BIN_EXE_credvault"));
    rekey
        .args(["rekey", "--data-dir"])
        .arg(tmp.path())
        .env("CREDVAULT_NEW_MASTER_KEY", new_key)
        .env_remove("CREDVAULT_DATABASE_URL");
    if let Some(url) = old.database_url() {
        rekey.env("CREDVAULT_DATABASE_URL", url);
    }
    assert!(rekey.output().unwrap().status.success());
    // After a rekey alone the old instance keeps serving, writes included.
    mint_ok(&old, ids[0], None).await;
    let team = old.team("Still").await;
    create_ok(&old, text_body(team, "still", "v")).await;
    let new = Server::start_in(tmp.path(), &[("CREDVAULT_MASTER_KEY", new_key)]).unwrap();
    rotate(&new).await;
    resealed(&new).await;
    // The old instance cannot load the new term: it says so rather than answer garbage.
    let (status, body) = mint(&old, Some(OWNER_KEY), ids[1], None).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("restarted with the new key"),
        "{body}"
    );
    let (status, _) = old
        .create_credential(OWNER_KEY, text_body(team, "refused", "v"))
        .await;
    assert_eq!(status, 503);
    mint_ok(&new, ids[1], None).await;
}

#[tokio::test]
async fn rotations_in_a_loop_stop_at_the_most_terms_a_keyring_holds() {
    let server = Server::in_process().await;
    for term in 2..=credvault_api::encryption::MAX_TERMS {
        assert_eq!(rotate(&server).await["current_term"], term);
    }
    let (status, body) = server
        .call(Method::POST, ROTATE, Some(OWNER_KEY), None)
        .await;
    assert_refused(status, &body, 409);
    assert_eq!(body["errors"][0]["field"], "current_term");
    assert_eq!(
        encryption(&server).await["current_term"],
        credvault_api::encryption::MAX_TERMS,
        "nothing rotated"
    );
}
