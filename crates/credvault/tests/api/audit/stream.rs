//! `--audit-log-file` (`CREDVAULT_AUDIT_LOG_FILE`, API.md §8): every entry is also appended to
//! the file as one JSON line, the list's JSON, in chain order; while the file cannot be
//! written, changes are refused with 503 and not made (fail closed), and reads and mints go on.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

use super::*;

/// A server on `dir/data` streaming to `file`.
fn streaming_to(dir: &Path, file: &Path) -> Server {
    let env = [("CREDVAULT_AUDIT_LOG_FILE", file.to_str().unwrap())];
    Server::start_in(&dir.join("data"), &env).unwrap()
}

/// The lines of the audit file, parsed.
fn lines(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

#[tokio::test]
async fn the_file_holds_every_entry_as_the_list_shows_it_in_chain_order() {
    let tmp = TempDir::new().unwrap();
    let file = tmp.path().join("audit.jsonl");
    let server = streaming_to(tmp.path(), &file);
    let team = server.team("Stream").await;
    let id = create_ok(&server, jwt_body(team, "Streamed")).await;
    put_ok(
        &server,
        id,
        json!({ "mode": "JWT", "description": "changed" }),
    )
    .await;
    let path = format!("{}/rotate", cred_path(id));
    let (status, _) = server
        .call(Method::POST, &path, Some(OWNER_KEY), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = server.delete(&cred_path(id), OWNER_KEY).await;
    assert_eq!(status, 204);
    let streamed = lines(&file);
    assert_eq!(streamed, chain(&server).await);
    assert_eq!(
        streamed.len(),
        7,
        "bootstrap (2), team, create, update, rotation, delete"
    );
}

#[tokio::test]
async fn the_file_is_created_for_the_service_user_only() {
    let tmp = TempDir::new().unwrap();
    let file = tmp.path().join("audit.jsonl");
    let _server = streaming_to(tmp.path(), &file);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

/// What a server that cannot write its audit file is given: a team, a TEXT credential and a
/// JWT credential made before (the directory, the server on `/dev/full`, and the two ids).
async fn on_dev_full() -> (TempDir, Server, i64, i64) {
    let tmp = TempDir::new().unwrap();
    let mut before = Server::start_in(tmp.path(), &[]).unwrap();
    let team = before.team("Full").await;
    let text = create_ok(&before, text_body(team, "Text", "s")).await;
    let jwt = create_ok(&before, jwt_body(team, "Signing")).await;
    assert!(before.stop());
    let env = [("CREDVAULT_AUDIT_LOG_FILE", "/dev/full")];
    let server = Server::start_in(tmp.path(), &env).unwrap();
    (tmp, server, text, jwt)
}

/// A 503 that says the audit log cannot be written.
#[track_caller]
fn assert_unrecorded(status: u16, body: &Value) {
    assert_error(status, body, 503, None, "audit log cannot be written");
}

#[tokio::test]
async fn changes_are_refused_with_503_and_not_made_while_the_file_cannot_be_written() {
    let (_tmp, server, text, jwt) = on_dev_full().await;
    let (_, credentials) = server.get(CREDENTIALS, OWNER_KEY).await;
    let (_, stored) = server.get(&cred_path(text), OWNER_KEY).await;
    let team = stored["team_id"].as_i64().unwrap();
    let entries_before = list(&server, "per_page=500").await;

    let (status, body) = server
        .create_credential(OWNER_KEY, text_body(team, "New", "s"))
        .await;
    assert_unrecorded(status, &body);
    let change = json!({ "mode": "TEXT", "name": "Renamed", "value": "t" });
    let (status, body) = server
        .call(Method::PUT, &cred_path(text), Some(OWNER_KEY), Some(change))
        .await;
    assert_unrecorded(status, &body);
    let (status, body) = server.delete(&cred_path(text), OWNER_KEY).await;
    assert_unrecorded(status, &body);

    assert_eq!(server.get(CREDENTIALS, OWNER_KEY).await, (200, credentials));
    assert_eq!(server.get(&cred_path(text), OWNER_KEY).await, (200, stored));
    assert_eq!(list(&server, "per_page=500").await, entries_before);
    mint_ok(&server, jwt, None).await;
}

#[tokio::test]
async fn the_chain_verifies_after_a_file_that_could_not_be_written() {
    let (tmp, mut server, text, jwt) = on_dev_full().await;
    let (status, _) = server.delete(&cred_path(text), OWNER_KEY).await;
    assert_eq!(status, 503);
    mint_ok(&server, jwt, None).await;
    // Its mint count cannot be written either.
    assert!(server.stop());
    let server = Server::start_in(tmp.path(), &[]).unwrap();
    let count = list(&server, "per_page=1").await["meta"]["count"]
        .as_i64()
        .unwrap();
    assert_eq!(verified_count(&server), count);
    assert!(entries_of(&server, "CredentialDestruction")
        .await
        .is_empty());
    let (status, _) = server.delete(&cred_path(text), OWNER_KEY).await;
    assert_eq!(status, 204, "changes are recorded again");
    assert_eq!(verified_count(&server), count + 1);
}
