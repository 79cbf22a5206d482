//! Keys generated inside credvault (API.md §6): `jwt_generate_key: true` instead of
//! `jwt_private_key`, with `jwt_key_size` for RSA. The key signs tokens that verify with the
//! published JWKS key, and is never shown.

use serde_json::{json, Value};

use crate::support::*;

/// A create body that asks for a generated key.
fn generated(team_id: i64, name: &str, alg: &str) -> Value {
    json!({
        "name": name,
        "mode": "JWT",
        "team_id": team_id,
        "jwt_algorithm": alg,
        "jwt_payload": { "sub": "generated" },
        "jwt_generate_key": true,
    })
}

#[tokio::test]
async fn every_asymmetric_algorithm_and_rsa_size_gets_a_key_that_mints_verifiable_tokens() {
    let server = Server::start();
    let team = server.team("generated").await;
    // (algorithm, jwt_key_size, RSA modulus bytes)
    let cases: [(&str, Option<u32>, usize); 9] = [
        ("RS256", None, 256),
        ("RS384", Some(3072), 384),
        ("RS512", Some(4096), 512),
        ("PS256", Some(2048), 256),
        ("PS512", Some(3072), 384),
        ("ES256", None, 0),
        ("ES384", None, 0),
        ("ES512", None, 0),
        ("EdDSA", None, 0),
    ];
    for (alg, size, modulus_bytes) in cases {
        let mut body = generated(team, &format!("generated {alg} {size:?}"), alg);
        if let Some(size) = size {
            body["jwt_key_size"] = json!(size);
        }
        let (status, created) = server.create_credential(OWNER_KEY, body).await;
        assert_eq!(status, 201, "{alg}: {created}");
        assert!(created.get("jwt_private_key").is_none(), "{created}");
        let id = id_of(&created);
        let token = token_of(&mint_ok(&server, id, None).await);
        let jwk = jwk_of(&server, id).await;
        assert!(verifies_with_jwk(&token, &jwk, alg), "{alg}: {jwk}");
        assert_eq!(split_jws(&token).header["kid"], jwk["kid"], "{alg}");
        if modulus_bytes > 0 {
            let n = unb64url(jwk["n"].as_str().unwrap());
            assert_eq!(n.len(), modulus_bytes, "{alg} modulus: {jwk}");
        }
    }
}

#[tokio::test]
async fn a_put_with_jwt_generate_key_replaces_the_key() {
    let server = Server::start();
    let team = server.team("generated").await;
    let id = create_ok(&server, generated(team, "replaced", "ES256")).await;
    let before = jwk_of(&server, id).await;
    put_ok(
        &server,
        id,
        json!({ "mode": "JWT", "jwt_generate_key": true }),
    )
    .await;
    let after = jwk_of(&server, id).await;
    assert_ne!(before["x"], after["x"], "the key did not change");
    let token = token_of(&mint_ok(&server, id, None).await);
    assert!(verifies_with_jwk(&token, &after, "ES256"));
}

#[tokio::test]
async fn generated_key_requests_are_refused_when_they_cannot_be_met() {
    let server = Server::in_process().await;
    let team = server.team("generated").await;
    let rsa_key = fixture_key("rsa2048-pkcs8.pem");
    let cases: [(&str, Value, &str, &str); 6] = [
        (
            "a key given too",
            json!({ "jwt_private_key": rsa_key }),
            "jwt_generate_key",
            "not both",
        ),
        (
            "an HMAC algorithm",
            json!({ "jwt_algorithm": "HS256" }),
            "jwt_generate_key",
            "shared secret",
        ),
        (
            "an RSA size not offered",
            json!({ "jwt_key_size": 1024 }),
            "jwt_key_size",
            "2048, 3072 or 4096",
        ),
        (
            "a size for a curve",
            json!({ "jwt_algorithm": "ES256", "jwt_key_size": 2048 }),
            "jwt_key_size",
            "RS* and PS*",
        ),
        (
            "a size without generation",
            json!({ "jwt_generate_key": false, "jwt_key_size": 2048 }),
            "jwt_key_size",
            "only given with",
        ),
        (
            "not a boolean",
            json!({ "jwt_generate_key": "yes" }),
            "jwt_generate_key",
            "true or false",
        ),
    ];
    for (what, change, field, needle) in cases {
        let mut body = generated(team, what, "RS256");
        for (name, value) in change.as_object().unwrap() {
            body[name] = value.clone();
        }
        let (status, resp) = server.create_credential(OWNER_KEY, body).await;
        assert_error(status, &resp, 422, Some(field), needle);
    }
    let (status, list) = server.get(CREDENTIALS, OWNER_KEY).await;
    assert_eq!(
        (status, listed_ids(&list)),
        (200, vec![]),
        "a refused create wrote"
    );
}
