//! Mints in the audit log (API.md §8): no write per mint, but one `CredentialTokenMint` entry
//! per (credential, user, client IP, test) and minute with `outputs.count`, and refused
//! mints likewise as `CredentialTokenMintRefusal` with `outputs.reasons`. Counts are written
//! once their minute is over and on shutdown; in-process servers here flush them at once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{json, Map, Value};
use tempfile::TempDir;

use super::*;

const MINT: &str = "CredentialTokenMint";
const REFUSAL: &str = "CredentialTokenMintRefusal";

fn now_millis() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// Waits, if needed, until at least 10 s of the current minute remain, so that the mints
/// that follow fall in one minute.
async fn within_one_minute() {
    let into = now_millis() % 60_000;
    if into > 50_000 {
        tokio::time::sleep(Duration::from_millis((60_100 - into) as u64)).await;
    }
}

/// Writes the counts of an in-process server, as of `now` (every minute, with None).
async fn flush(server: &Server, now: Option<i64>) {
    let state = server.app_state();
    state.mint_audit.flush(state.store.as_ref(), now).await;
}

/// The mint entries (both kinds), oldest first.
async fn mint_entries(server: &Server) -> Vec<Value> {
    let query = format!("per_page=500&operation_name[]={MINT}&operation_name[]={REFUSAL}");
    let mut found = entries(server, &query).await;
    found.reverse();
    found
}

/// The one mint entry of `operation`.
#[track_caller]
fn only<'e>(found: &'e [Value], operation: &str) -> &'e Value {
    let of: Vec<&Value> = found
        .iter()
        .filter(|e| e["operation_name"] == operation)
        .collect();
    assert_eq!(of.len(), 1, "one {operation}: {found:#?}");
    of[0]
}

/// The inputs of a mint entry of `credential_id`, in the minute the entry names.
#[track_caller]
fn mint_inputs(entry: &Value, credential_id: i64, test: bool) -> Value {
    let minute = entry["inputs"]["minute"].as_str().unwrap_or_default();
    assert!(
        is_api_time(minute) && minute.ends_with(":00.000Z"),
        "{entry}"
    );
    json!({
        "inputs": { "credentialId": credential_id, "test": test },
        "credential_id": credential_id,
        "test": test,
        "minute": minute,
    })
}

/// An ES256 credential of a new team with the `extra` fields, as the owner.
async fn signing(server: &Server, extra: Value) -> i64 {
    let team = server.team("Mints").await;
    let mut body = jwt_body(team, "Signing");
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    create_ok(server, body).await
}

#[tokio::test]
async fn mints_by_one_user_in_one_minute_are_one_entry_with_their_count() {
    let server = Server::in_process().await;
    let id = signing(&server, json!({})).await;
    within_one_minute().await;
    let now = now_millis();
    for _ in 0..5 {
        mint_ok(&server, id, None).await;
    }
    flush(&server, None).await;
    let found = mint_entries(&server).await;
    let entry = only(&found, MINT);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(entry["inputs"], mint_inputs(entry, id, false));
    let minute = rfc3339_millis(&entry["inputs"]["minute"]);
    assert_eq!(minute, now - now % 60_000, "the minute of the mints");
    assert_eq!(entry["outputs"], json!({ "count": 5 }));
    assert_eq!(
        (&entry["user_id"], &entry["user_email"], &entry["user_name"]),
        (&json!(OWNER_ID), &json!(OWNER_EMAIL), &json!(OWNER_NAME))
    );
}

#[tokio::test]
async fn no_entry_is_written_per_mint_nor_before_its_minute_is_over() {
    let server = Server::in_process().await;
    let id = signing(&server, json!({})).await;
    let before = last_id(&server).await;
    within_one_minute().await;
    mint_ok(&server, id, None).await;
    mint_ok(&server, id, None).await;
    assert_eq!(last_id(&server).await, before, "no write per mint");
    flush(&server, Some(now_millis())).await;
    assert_eq!(last_id(&server).await, before, "the minute is not over");
    flush(&server, Some(now_millis() + 60_000)).await;
    let entry = last_entry(&server).await;
    assert_eq!(
        (entry["id"].as_i64(), &entry["outputs"]),
        (Some(before + 1), &json!({ "count": 2 }))
    );
}

#[tokio::test]
async fn each_user_minting_has_an_entry_of_their_own() {
    let server = Server::in_process().await;
    let w = World::new(&server, "Mints", &[Role::Editor]).await;
    let id = create_ok(&server, jwt_body(w.team_id, "Shared")).await;
    within_one_minute().await;
    for _ in 0..2 {
        mint_ok(&server, id, None).await;
    }
    for _ in 0..3 {
        let (status, body) = mint(&server, Some(w.editor_key()), id, None).await;
        assert_eq!(status, 200, "{body}");
    }
    flush(&server, None).await;
    let mut counts: Vec<(i64, i64)> = mint_entries(&server)
        .await
        .iter()
        .map(|e| {
            (
                e["user_id"].as_i64().unwrap(),
                e["outputs"]["count"].as_i64().unwrap(),
            )
        })
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, [(OWNER_ID, 2), (w.editor_id(), 3)]);
}

#[tokio::test]
async fn mints_from_the_test_credential_are_an_entry_of_their_own() {
    let server = Server::in_process().await;
    let id = signing(&server, json!({})).await;
    let attach = json!({
        "mode": "JWT",
        "live_credential_id": id,
        "jwt_algorithm": "ES256",
        "jwt_payload": { "iss": "sandbox" },
        "jwt_private_key": fixture_key("ec-p256-sec1-noparams.pem"),
    });
    let (status, body) = server.create_credential(OWNER_KEY, attach).await;
    assert_eq!(status, 201, "{body}");
    put_ok(
        &server,
        id,
        json!({ "mode": "JWT", "test_credential_enabled": true }),
    )
    .await;
    within_one_minute().await;
    for _ in 0..3 {
        mint_ok(&server, id, None).await;
    }
    for _ in 0..2 {
        mint_ok(&server, id, Some(json!({ "test": true }))).await;
    }
    flush(&server, None).await;
    let found = mint_entries(&server).await;
    assert_eq!(found.len(), 2, "{found:#?}");
    for (test, count) in [(false, 3), (true, 2)] {
        let entry = found.iter().find(|e| e["inputs"]["test"] == test).unwrap();
        assert_eq!(entry["operation_name"], MINT);
        assert_eq!(entry["inputs"], mint_inputs(entry, id, test));
        assert_eq!(entry["outputs"], json!({ "count": count }), "test: {test}");
    }
}

#[tokio::test]
async fn refused_mints_are_one_entry_counted_by_reason_beside_the_mints() {
    let server = Server::in_process().await;
    let id = signing(&server, json!({ "allowed_hosts": ["api.example.com"] })).await;
    within_one_minute().await;
    let elsewhere = json!({ "host": "evil.example.com" });
    for body in [Some(elsewhere.clone()), Some(elsewhere), None] {
        let (status, resp) = mint(&server, Some(OWNER_KEY), id, body).await;
        assert_refused(status, &resp, 403);
    }
    mint_ok(&server, id, Some(json!({ "host": "api.example.com" }))).await;
    flush(&server, None).await;
    let found = mint_entries(&server).await;
    assert_eq!(found.len(), 2, "{found:#?}");
    let refused = only(&found, REFUSAL);
    assert_eq!(refused["inputs"], mint_inputs(refused, id, false));
    let mut reasons = Map::new();
    reasons.insert(
        "the url or host is not in the credential's allowed_hosts".into(),
        json!(2),
    );
    reasons.insert(
        "this credential is restricted to allowed_hosts: give the url or host the token is for"
            .into(),
        json!(1),
    );
    assert_eq!(
        refused["outputs"],
        json!({ "count": 3, "reasons": reasons })
    );
    assert_eq!(only(&found, MINT)["outputs"], json!({ "count": 1 }));
}

#[tokio::test]
async fn mints_of_an_expired_credential_are_recorded_as_refused() {
    let server = Server::in_process().await;
    let expired = json!({ "expires_at": "2020-01-01T00:00:00.000Z" });
    let id = signing(&server, expired).await;
    within_one_minute().await;
    for _ in 0..2 {
        let (status, resp) = mint(&server, Some(OWNER_KEY), id, None).await;
        assert_refused(status, &resp, 403);
    }
    flush(&server, None).await;
    let found = mint_entries(&server).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        only(&found, REFUSAL)["outputs"],
        json!({ "count": 2, "reasons": { "the credential expired at 2020-01-01T00:00:00.000Z": 2 } })
    );
}

#[tokio::test]
async fn a_mint_answered_404_records_nothing() {
    let server = Server::in_process().await;
    let w = World::new(&server, "Mints", &[Role::Outsider]).await;
    let id = create_ok(&server, jwt_body(w.team_id, "Hidden")).await;
    let before = last_id(&server).await;
    let (status, body) = mint(&server, Some(OWNER_KEY), 9999, None).await;
    assert_refused(status, &body, 404);
    // Another team's credential does not exist for this caller.
    let (status, body) = mint(&server, Some(w.outsider_key()), id, None).await;
    assert_refused(status, &body, 404);
    flush(&server, None).await;
    assert_eq!(last_id(&server).await, before);
}

#[tokio::test]
async fn the_counts_of_the_minute_in_progress_are_written_on_shutdown() {
    let tmp = TempDir::new().unwrap();
    let mut server = Server::start_in(tmp.path(), &[]).unwrap();
    let id = signing(&server, json!({})).await;
    within_one_minute().await;
    for _ in 0..4 {
        let (status, body) = act(&server, Method::POST, &token_path(id), OWNER_KEY, None).await;
        assert_eq!(status, 200, "{body}");
    }
    assert!(server.stop(), "SIGTERM: exit 0");
    let server = Server::start_in(tmp.path(), &[]).unwrap();
    let found = mint_entries(&server).await;
    let entry = only(&found, MINT);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(entry["inputs"], mint_inputs(entry, id, false));
    assert_eq!(entry["outputs"], json!({ "count": 4 }));
    assert_eq!(entry["user_id"], OWNER_ID);
    assert_eq!(entry["request_ip"], "127.0.0.1");
    assert_eq!(verified_count(&server), last_id(&server).await);
}
