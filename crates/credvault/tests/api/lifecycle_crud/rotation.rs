//! API.md §4.3 key rotation: a new algorithm or key is checked against the key it will sign
//! with (the new one, or the stored one), and no key is ever revealed.

use serde_json::{json, Value};

use super::*;

const HMAC_SECRET: &str = "rotation-shared-secret-5c1e0b7d9a";
const PASSPHRASE: &str = "correct horse";

/// What a rotation step expects: 200 with this algorithm, or 422 naming this field with a
/// message mentioning these words.
enum Step {
    Rotated(&'static str),
    Refused(&'static str, &'static str),
}
use Step::{Refused, Rotated};

/// The rotations, in order, from an ES256 credential with a P-256 key.
fn steps() -> Vec<(Value, Step)> {
    let key = |name: &str| fixture_key(name);
    let (p256, p384) = (key("ec-p256-pkcs8.pem"), key("ec-p384-pkcs8.pem"));
    let (rsa, rsa_encrypted) = (key("rsa2048-pkcs8.pem"), key("rsa2048-encrypted.pem"));
    #[rustfmt::skip]
    let steps = vec![
        // The stored P-256 key does not fit ES384; with a P-384 key it does, which is then stored.
        (json!({ "jwt_algorithm": "ES384" }), Refused("jwt_algorithm", "ES384")),
        (json!({ "jwt_algorithm": "ES384", "jwt_private_key": p384 }), Rotated("ES384")),
        (json!({ "jwt_algorithm": "ES256" }), Refused("jwt_algorithm", "ES256")),
        (json!({ "jwt_algorithm": "RS256" }), Refused("jwt_algorithm", "RS256")),
        // To RSA.
        (json!({ "jwt_algorithm": "RS256", "jwt_private_key": rsa }), Rotated("RS256")),
        // Wrong key for the algorithm, given with it or alone: refused, nothing changes.
        (json!({ "jwt_algorithm": "ES512", "jwt_private_key": p384 }), Refused("jwt_private_key", "P-521")),
        (json!({ "jwt_private_key": p256 }), Refused("jwt_private_key", "RSA")),
        (json!({ "jwt_private_key": key("rsa1024-pkcs8.pem") }), Refused("jwt_private_key", "2048")),
        (json!({ "jwt_private_key": key("rsa2048-pub.pem") }), Refused("jwt_private_key", "public")),
        (json!({ "jwt_algorithm": "HS256" }), Refused("jwt_algorithm", "HS256")),
        // The RSA key is still the stored one: it fits PS384.
        (json!({ "jwt_algorithm": "PS384" }), Rotated("PS384")),
        // An encrypted key needs its passphrase, which is used once and not stored.
        (json!({ "jwt_algorithm": "RS512", "jwt_private_key": rsa_encrypted }), Refused("jwt_private_key", "passphrase")),
        (json!({ "jwt_algorithm": "RS512", "jwt_private_key": rsa_encrypted, "jwt_private_key_passphrase": PASSPHRASE }), Rotated("RS512")),
        // To a shared secret, and the stored secret is no RSA key.
        (json!({ "jwt_algorithm": "HS384", "jwt_private_key": HMAC_SECRET }), Rotated("HS384")),
        (json!({ "jwt_algorithm": "RS256" }), Refused("jwt_algorithm", "RS256")),
        (json!({ "jwt_algorithm": "hs512" }), Rotated("HS512")),
    ];
    steps
}

/// Creates the EDITOR's ES256 credential and runs every step on it, checking each: a rotation
/// changes only `jwt_algorithm` (as a GET shows), a refusal changes nothing. Returns the
/// server, the last state, and every response body, for the leak checks.
async fn rotate_through_every_step() -> (Server, Value, Vec<String>) {
    let server = Server::start();
    let w = World::new(&server, "Rotation", &[Role::Editor]).await;
    let editor = w.editor_key();
    let (status, mut cur) = server
        .create_credential(editor, jwt_body(w.team_id, "Rotating"))
        .await;
    assert_eq!(status, 201, "{cur}");
    assert_eq!(cur["jwt_algorithm"], "ES256");
    let id = id_of(&cur);
    let mut responses = vec![cur.to_string()];
    for (body, step) in steps() {
        if let Rotated(_) = step {
            pause().await;
        }
        let (status, resp) = put(&server, id, editor, jwt(body)).await;
        responses.push(resp.to_string());
        let (_, read) = server.get(&cred_path(id), editor).await;
        responses.push(read.to_string());
        match step {
            Rotated(alg) => {
                assert_eq!(status, 200, "{resp}");
                assert_only_changed(&cur, &resp, &["jwt_algorithm"]);
                assert_eq!(resp["jwt_algorithm"], alg);
                assert_eq!(read, resp);
                cur = resp;
            }
            Refused(field, needle) => {
                assert_error(status, &resp, 422, Some(field), needle);
                assert_eq!(read, cur, "a refused rotation changed the credential");
            }
        }
    }
    let listed = list(&server, editor, "").await;
    responses.push(listed.to_string());
    (server, cur, responses)
}

#[tokio::test]
async fn key_rotation_rechecks_the_key_against_the_algorithm() {
    let (_server, cur, _) = rotate_through_every_step().await;
    assert_eq!(cur["jwt_algorithm"], "HS512");
    assert_eq!(cur["jwt_headers"], json!({}));
}

#[tokio::test]
async fn no_response_log_or_database_file_holds_a_rotated_key() {
    let (server, _, responses) = rotate_through_every_step().await;
    let mut canaries: Vec<String> = vec![HMAC_SECRET.to_string(), PASSPHRASE.to_string()];
    for pem in [
        "ec-p256-pkcs8.pem",
        "ec-p384-pkcs8.pem",
        "rsa2048-pkcs8.pem",
        "rsa2048-encrypted.pem",
    ] {
        canaries.extend(
            fixture_key(pem)
                .lines()
                .filter(|l| !l.starts_with("-----") && l.len() >= 40)
                .map(str::to_string),
        );
    }
    assert!(canaries.len() > 30);
    for response in &responses {
        for canary in &canaries {
            assert!(
                !response.contains(canary.as_str()),
                "a response leaks {canary}: {response}"
            );
        }
    }
    let logs = server.logs();
    for canary in &canaries {
        assert!(!logs.contains(canary.as_str()), "logs leak {canary}");
    }
    for (name, bytes) in server.stored_bytes() {
        for canary in &canaries {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{name} holds {canary} in plain text"
            );
        }
    }
}
