//! Secrets never leave the service in plain text: not in responses, not in logs (even at
//! debug level), not in the bytes of the database files.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

const CANARY_TEXT: &str = "CANARY-text-value-7c1e9d";
const CANARY_HMAC: &str = "CANARY-hmac-secret-42f0aa";
const CANARY_PASSPHRASE: &str = "correct horse";

/// A server (stopped gracefully, so that every line it logged at debug level is in) that has
/// created credentials holding every kind of secret, refused creates echoing secrets, and
/// shown a new API key once. Returns it with every response body, the canaries (the secrets
/// and the owner key) and the new API key.
async fn after_secrets_passed_through() -> (Server, Vec<String>, Vec<String>, String) {
    let server = Server::start();
    let team_id = server.team("Vault").await;
    let rsa_pem = fixture_key("rsa2048-pkcs8.pem");
    let encrypted = fixture_key("ec-p256-encrypted.pem");
    // A distinctive run of base64 from inside the RSA private key.
    let rsa_body_line = rsa_pem.lines().nth(10).unwrap().to_string();
    let jwk = fixture_json("ec-p256.jwk.json");
    let jwk_d = jwk["d"].as_str().unwrap().to_string();
    let jwt = |name: &str, alg: &str, key: &str| {
        json!({ "name": name, "mode": "JWT", "team_id": team_id, "jwt_algorithm": alg,
                "jwt_private_key": key })
    };
    let mut enc = jwt("enc", "ES256", &encrypted);
    enc["jwt_private_key_passphrase"] = json!(CANARY_PASSPHRASE);
    let bodies = [
        text_body(team_id, "text", CANARY_TEXT),
        jwt("hmac", "HS256", CANARY_HMAC),
        jwt("rsa", "RS256", &rsa_pem),
        jwt("jwk", "ES256", &jwk.to_string()),
        enc,
    ];
    let mut responses = Vec::new();
    for body in bodies {
        let (status, resp) = server.create_credential(OWNER_KEY, body).await;
        assert_eq!(status, 201, "{resp}");
        responses.push(resp.to_string());
        let (_, read) = server.get(&cred_path(id_of(&resp)), OWNER_KEY).await;
        responses.push(read.to_string());
    }
    // Refusals must not echo secrets either.
    let mut wrong_passphrase = jwt("bad", "ES256", &encrypted);
    wrong_passphrase["jwt_private_key_passphrase"] = json!(format!("{CANARY_PASSPHRASE}-wrong"));
    let mut bad_access = text_body(team_id, "bad", CANARY_TEXT);
    bad_access["read_access"] = json!("NOPE");
    let not_a_key = jwt("bad", "ES256", &format!("{CANARY_HMAC}-not-a-key"));
    for body in [not_a_key, wrong_passphrase, bad_access] {
        let (status, resp) = server.create_credential(OWNER_KEY, body).await;
        assert_eq!(status, 422, "{resp}");
        responses.push(resp.to_string());
    }
    // A new API key is shown once, in its create response, and nowhere else.
    let name = json!({ "name": "canary" });
    let (_, key) = server
        .post("/api/v1/admin/users/1/api_keys", OWNER_KEY, name)
        .await;
    let api_key = key["key"].as_str().unwrap().to_string();
    let request = server
        .request(Method::GET, "/api/v1/teams")
        .bearer_auth(&api_key);
    assert_eq!(Server::read(request).await.0, 200);

    let mut server = server;
    assert!(server.stop(), "graceful shutdown must exit 0");
    let canaries = [
        CANARY_TEXT,
        CANARY_HMAC,
        CANARY_PASSPHRASE,
        &rsa_body_line,
        &jwk_d,
        OWNER_KEY,
    ];
    let canaries = canaries.map(str::to_string).to_vec();
    (server, responses, canaries, api_key)
}

#[tokio::test]
async fn no_response_holds_a_secret() {
    let (_, responses, canaries, _) = after_secrets_passed_through().await;
    for response in &responses {
        for canary in &canaries {
            assert!(
                !response.contains(canary.as_str()),
                "response leaks {canary}: {response}"
            );
        }
    }
}

#[tokio::test]
async fn no_log_line_holds_a_secret_even_at_debug_level() {
    let (server, _, canaries, api_key) = after_secrets_passed_through().await;
    let logs = server.logs();
    assert!(
        logs.contains("credential created"),
        "debug logs were captured"
    );
    for canary in canaries.iter().chain([&api_key]) {
        assert!(!logs.contains(canary.as_str()), "logs leak {canary}");
    }
}

#[tokio::test]
async fn no_database_file_holds_a_secret_in_plain_text() {
    let (server, _, canaries, api_key) = after_secrets_passed_through().await;
    for (name, bytes) in server.stored_bytes() {
        for canary in canaries.iter().chain([&api_key]) {
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
