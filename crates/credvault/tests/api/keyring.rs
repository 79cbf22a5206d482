//! Keys at rest (API.md §9): the master key wraps a keyring stored in the database; a
//! database made before the keyring migrates on start with nothing lost; `credvault rekey`
//! re-wraps the keyring so that only the new master key starts a server, while API keys,
//! secrets and running servers carry on.

use std::path::Path;
use std::process::{Command, Output};

use reqwest::Method;
use serde_json::json;
use tempfile::TempDir;

use crate::support::*;

const PREVIOUS_OWNER_KEY: &str = "cvk_previous_release_owner_key_0123456789abcdefghij";
const PREVIOUS_ADA_KEY: &str = "cvk_7soFomcmyACmBpbft-BCOztbshf9SoM5FBIZplg4bmI";
const ANOTHER_MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Copies the database the previous release made (`tests/fixtures/previous-release`) and its
/// master key into `dir`.
fn previous_release_into(dir: &Path) {
    let fixture = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/previous-release");
    std::fs::create_dir_all(dir).unwrap();
    for file in ["credvault.db", "master.key"] {
        std::fs::copy(fixture.join(file), dir.join(file)).unwrap();
    }
}

/// `credvault rekey` on `server`'s database (stopped or not), with `env`.
fn rekey(server: &Server, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_credvault"));
    cmd.arg("rekey")
        .arg("--data-dir")
        .arg(&server.data_dir)
        .env_remove("CREDVAULT_MASTER_KEY")
        .env_remove("CREDVAULT_NEW_MASTER_KEY")
        .env_remove("CREDVAULT_DATABASE_URL");
    if let Some(url) = server.database_url() {
        cmd.env("CREDVAULT_DATABASE_URL", url);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// A new master key in a file of `dir`; returns the file and the key.
fn new_master_key(dir: &Path) -> (std::path::PathBuf, String) {
    let key = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=".to_string();
    let path = dir.join("new-master.key");
    std::fs::write(&path, &key).unwrap();
    (path, key)
}

/// An ES256 credential of a new team, minted once; returns its id.
async fn signing_credential(server: &Server) -> i64 {
    let team = server.team("Keys").await;
    let key = fixture_key("ec-p256-pkcs8.pem");
    let id = create_ok(server, jwt_credential(team, "signing", "ES256", &key, 600)).await;
    mint_ok(server, id, None).await;
    id
}

#[tokio::test]
async fn a_database_made_before_the_keyring_migrates_with_nothing_lost() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("data");
    previous_release_into(&dir);
    // That file, whatever the backend of this run.
    let url = format!("sqlite://{}", dir.join("credvault.db").display());
    let env = [("CREDVAULT_DATABASE_URL", url.as_str())];
    for start in ["migrating", "migrated"] {
        let server = Server::start_in(&dir, &env).unwrap();
        for key in [PREVIOUS_OWNER_KEY, PREVIOUS_ADA_KEY] {
            let (status, text) = server.get(&cred_path(2), key).await;
            assert_eq!(
                (status, text["name"].clone()),
                (200, json!("text")),
                "{start}"
            );
        }
        let (status, minted) = server
            .call(Method::POST, &token_path(1), Some(PREVIOUS_ADA_KEY), None)
            .await;
        assert_eq!(status, 200, "{start}: {minted}");
        let public = p256_public_jwk("ec-p256-pkcs8.pem");
        assert!(verifies_with_jwk(
            minted["token"].as_str().unwrap(),
            &public,
            "ES256"
        ));
    }
}

#[tokio::test]
async fn a_keyring_lost_from_the_database_is_made_again_from_the_master_key() {
    let tmp = TempDir::new().unwrap();
    let mut server = Server::start_in(tmp.path(), &[]).unwrap();
    let id = signing_credential(&server).await;
    assert!(server.stop());
    // As a database from before the keyring has none.
    server.run_sql("DELETE FROM meta WHERE key = 'keyring'");
    let again = Server::start_in(tmp.path(), &[]).unwrap();
    mint_ok(&again, id, None).await;
}

#[tokio::test]
async fn rekey_rewraps_the_keyring_and_only_the_new_key_starts_a_server() {
    let tmp = TempDir::new().unwrap();
    let mut server = Server::start_in(tmp.path(), &[]).unwrap();
    let id = signing_credential(&server).await;
    let (_, key) = server.user("ada@example.com", None).await;
    assert!(server.stop());
    let (file, new_key) = new_master_key(tmp.path());
    let out = rekey(&server, &[("CREDVAULT_NEW_MASTER_KEY", new_key.as_str())]);
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{logs}");
    assert!(!logs.contains(&new_key), "{logs}");
    // The old key (still in master.key) is refused now.
    let refused = Server::start_in(tmp.path(), &[]).err().expect("refused");
    assert!(
        refused.logs.contains("master key does not match"),
        "{}",
        refused.logs
    );
    let file = file.to_str().unwrap();
    let server = Server::start_in(tmp.path(), &[("CREDVAULT_MASTER_KEY_FILE", file)]).unwrap();
    mint_ok(&server, id, None).await;
    let (status, teams) = server.get("/api/v1/teams", &key).await;
    assert_eq!(status, 200, "the API key still authenticates: {teams}");
}

#[tokio::test]
async fn rekey_with_the_wrong_current_key_changes_nothing() {
    let tmp = TempDir::new().unwrap();
    let mut server = Server::start_in(tmp.path(), &[]).unwrap();
    let id = signing_credential(&server).await;
    assert!(server.stop());
    let (_, new_key) = new_master_key(tmp.path());
    let out = rekey(
        &server,
        &[
            ("CREDVAULT_MASTER_KEY", ANOTHER_MASTER_KEY),
            ("CREDVAULT_NEW_MASTER_KEY", new_key.as_str()),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.contains("master key does not match"), "{logs}");
    let server = Server::start_in(tmp.path(), &[]).unwrap();
    mint_ok(&server, id, None).await;
}

#[tokio::test]
async fn a_running_server_keeps_serving_through_a_rekey() {
    let tmp = TempDir::new().unwrap();
    let server = Server::start_in(tmp.path(), &[]).unwrap();
    let id = signing_credential(&server).await;
    let (_, new_key) = new_master_key(tmp.path());
    let out = rekey(&server, &[("CREDVAULT_NEW_MASTER_KEY", new_key.as_str())]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    mint_ok(&server, id, None).await;
    let (status, _) = server
        .call(Method::GET, &cred_path(id), Some(OWNER_KEY), None)
        .await;
    assert_eq!(status, 200);
}
