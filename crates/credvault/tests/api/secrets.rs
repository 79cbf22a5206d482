//! Secrets never leave the service in plain text: not in responses, not in logs (even at
//! debug level), not in the bytes of the database files.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

const CANARY_TEXT: &str = "CANARY-text-value-7c1e9d";
const CANARY_HMAC: &str = "CANARY-hmac-secret-42f0aa";
const CANARY_PASSPHRASE: &str = "correct horse";

#[tokio::test]
async fn canaries_appear_in_no_response_log_or_database_file() {
    let server = Server::start();
    let team_id = server.team("Vault").await;
    let rsa_pem = fixture_key("rsa2048-pkcs8.pem");
    let encrypted = fixture_key("ec-p256-encrypted.pem");
    // A distinctive run of base64 from inside the RSA private key.
    let rsa_body_line = rsa_pem.lines().nth(10).unwrap().to_string();
    let jwk: serde_json::Value = serde_json::from_str(&fixture_key("ec-p256.jwk.json")).unwrap();
    let jwk_d = jwk["d"].as_str().unwrap().to_string();

    let mut responses = Vec::new();
    let bodies = [
        json!({ "name": "text", "mode": "TEXT", "team_id": team_id, "value": CANARY_TEXT }),
        json!({ "name": "hmac", "mode": "JWT", "team_id": team_id, "jwt_algorithm": "HS256",
                "jwt_private_key": CANARY_HMAC }),
        json!({ "name": "rsa", "mode": "JWT", "team_id": team_id, "jwt_algorithm": "RS256",
                "jwt_private_key": rsa_pem }),
        json!({ "name": "jwk", "mode": "JWT", "team_id": team_id, "jwt_algorithm": "ES256",
                "jwt_private_key": jwk.to_string() }),
        json!({ "name": "enc", "mode": "JWT", "team_id": team_id, "jwt_algorithm": "ES256",
                "jwt_private_key": encrypted, "jwt_private_key_passphrase": CANARY_PASSPHRASE }),
    ];
    for body in &bodies {
        let (status, resp) = server.create_credential(OWNER_KEY, body.clone()).await;
        assert_eq!(status, 201, "{resp}");
        responses.push(resp.to_string());
        let id = resp["id"].as_i64().unwrap();
        let (_, read) = server
            .get(&format!("/api/v1/user_credentials/{id}"), OWNER_KEY)
            .await;
        responses.push(read.to_string());
    }
    // Refusals must not echo secrets either.
    for body in [
        json!({ "name": "bad", "mode": "JWT", "team_id": team_id, "jwt_algorithm": "ES256",
                "jwt_private_key": format!("{CANARY_HMAC}-not-a-key") }),
        json!({ "name": "bad", "mode": "JWT", "team_id": team_id, "jwt_algorithm": "ES256",
                "jwt_private_key": fixture_key("ec-p256-encrypted.pem"),
                "jwt_private_key_passphrase": format!("{CANARY_PASSPHRASE}-wrong") }),
        json!({ "name": "bad", "mode": "TEXT", "team_id": team_id, "value": CANARY_TEXT,
                "read_access": "NOPE" }),
    ] {
        let (status, resp) = server.create_credential(OWNER_KEY, body).await;
        assert_eq!(status, 422, "{resp}");
        responses.push(resp.to_string());
    }
    // A new API key is shown once, in its create response, and nowhere else.
    let (_, key) = server
        .post(
            "/api/v1/admin/users/1/api_keys",
            OWNER_KEY,
            json!({ "name": "canary" }),
        )
        .await;
    let api_key = key["key"].as_str().unwrap().to_string();
    let (status, _) = Server::read(
        server
            .request(Method::GET, "/api/v1/teams")
            .bearer_auth(&api_key),
    )
    .await;
    assert_eq!(status, 200);

    let canaries = [
        CANARY_TEXT,
        CANARY_HMAC,
        CANARY_PASSPHRASE,
        rsa_body_line.as_str(),
        jwk_d.as_str(),
        OWNER_KEY,
    ];
    let mut server = server;
    assert!(server.stop(), "graceful shutdown must exit 0");
    // The server ran at debug level; every line it wrote, now flushed, is checked.
    let logs = server.logs();
    assert!(
        logs.contains("credential created"),
        "debug logs were captured"
    );
    for canary in canaries.iter().chain([&api_key.as_str()]) {
        assert!(!logs.contains(canary), "logs leak {canary}");
    }

    for response in &responses {
        for canary in canaries {
            assert!(
                !response.contains(canary),
                "response leaks {canary}: {response}"
            );
        }
    }
    for (name, bytes) in server.stored_bytes() {
        for canary in canaries.iter().chain([&api_key.as_str()]) {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{name} holds {canary} in plain text"
            );
        }
    }
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_and_redact_auth_headers() {
    let tmp = tempfile::TempDir::new().unwrap();
    let mut server = Server::start_in(tmp.path(), &[("CREDVAULT_LOG_FORMAT", "json")]).unwrap();
    let team_id = server.team("Logs").await;
    let (status, _) = Server::read(
        server
            .request(Method::GET, &format!("/api/v1/teams/{team_id}"))
            .header("X-User-Token", OWNER_KEY),
    )
    .await;
    assert_eq!(status, 200);
    assert!(server.stop());
    let logs = server.logs();
    let mut lines = 0;
    for line in logs.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(value["level"].is_string() && value["timestamp"].is_string());
        lines += 1;
    }
    assert!(lines > 5);
    assert!(logs.contains("finished processing request"));
    assert!(!logs.contains(OWNER_KEY));
}
