//! No entry holds a secret (API.md §8): not the private keys, their passphrases, text values
//! or API keys that changes carried, in the list, in the audit file or in the stored rows.

use std::process::Command;

use reqwest::Method;
use serde_json::json;
use tempfile::TempDir;

use super::*;

const PASSPHRASE: &str = "correct horse";
const FIRST_VALUE: &str = "text-secret-first-8c1e0d";
const SECOND_VALUE: &str = "text-secret-second-5f2a91";

/// The lines of a PEM's base64 body: any of them in a log would leak the key.
fn pem_lines(name: &str) -> Vec<String> {
    fixture_key(name)
        .lines()
        .filter(|line| !line.starts_with("-----") && line.len() >= 16)
        .map(str::to_string)
        .collect()
}

/// Every row of the `audit_logs` table, as text, read behind the server's back.
fn audit_rows(server: &Server) -> String {
    let sql = "SELECT * FROM audit_logs";
    let out = match server.database_url() {
        Some(url) => Command::new("psql").arg(url).args(["-tAc", sql]).output(),
        None => Command::new("python3")
            .args([
                "-c",
                "import sqlite3, sys\nfor row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]):\n    print('|'.join(map(str, row)))",
            ])
            .arg(server.data_dir.join("credvault.db"))
            .arg(sql)
            .output(),
    }
    .expect("cannot run psql or python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn no_entry_holds_a_key_a_passphrase_a_text_value_or_an_api_key() {
    let tmp = TempDir::new().unwrap();
    let file = tmp.path().join("audit.jsonl");
    let env = [("CREDVAULT_AUDIT_LOG_FILE", file.to_str().unwrap())];
    let server = Server::start_in(&tmp.path().join("data"), &env).unwrap();
    let team = server.team("Ops").await;
    let jwt = json!({
        "name": "Signing",
        "mode": "JWT",
        "team_id": team,
        "jwt_algorithm": "RS256",
        "jwt_payload": { "iss": "credvault-tests" },
        "jwt_private_key": fixture_key("rsa2048-encrypted.pem"),
        "jwt_private_key_passphrase": PASSPHRASE,
    });
    let jwt_id = create_ok(&server, jwt).await;
    let text_id = create_ok(&server, text_body(team, "Text", FIRST_VALUE)).await;
    let new_key = json!({
        "mode": "JWT",
        "jwt_algorithm": "ES256",
        "jwt_private_key": fixture_key("ec-p256-encrypted.pem"),
        "jwt_private_key_passphrase": PASSPHRASE,
    });
    put_ok(&server, jwt_id, new_key).await;
    put_ok(
        &server,
        text_id,
        json!({ "mode": "TEXT", "value": SECOND_VALUE }),
    )
    .await;
    let (_, api_key) = server.user("ci@example.com", None).await;
    let path = format!("{}/rotate", cred_path(jwt_id));
    let (status, _) = server
        .call(Method::POST, &path, Some(OWNER_KEY), None)
        .await;
    assert_eq!(status, 200);

    let mut secrets = pem_lines("rsa2048-encrypted.pem");
    secrets.extend(pem_lines("ec-p256-encrypted.pem"));
    for secret in [PASSPHRASE, FIRST_VALUE, SECOND_VALUE, &api_key, OWNER_KEY] {
        secrets.push(secret.to_string());
    }
    let listed = list(&server, "per_page=500").await.to_string();
    let streamed = std::fs::read_to_string(&file).unwrap();
    let stored = audit_rows(&server);
    for (place, text) in [("list", &listed), ("file", &streamed), ("rows", &stored)] {
        assert!(
            text.contains("jwtPrivateKeyPassphrase"),
            "{place} holds the entries"
        );
        assert!(text.contains("REDACTED"), "{place} holds the entries");
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "the {place} holds {secret:?}"
            );
        }
    }
}
