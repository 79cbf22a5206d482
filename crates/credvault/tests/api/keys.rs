//! Every algorithm with every key format it accepts, and every wrong pairing refused with a
//! 422 naming `jwt_private_key`.

use serde_json::{json, Value};

use crate::support::*;

fn body(team_id: i64, n: usize, alg: &str, key: &str, passphrase: Option<&str>) -> Value {
    let mut body = json!({
        "name": format!("key {n}"),
        "mode": "JWT",
        "team_id": team_id,
        "jwt_algorithm": alg,
        "jwt_payload": { "sub": "svc" },
        "jwt_auto_generate_time_claims": true,
        "jwt_private_key": key,
    });
    if let Some(p) = passphrase {
        body["jwt_private_key_passphrase"] = json!(p);
    }
    body
}

#[tokio::test]
async fn every_algorithm_accepts_each_of_its_key_formats() {
    let rsa = [
        "rsa2048-pkcs8.pem",
        "rsa2048-pkcs1.pem",
        "rsa2048.jwk.json",
        "rsa3072-pkcs8.pem",
        "rsa-pss-pkcs8.pem",
    ];
    let mut table: Vec<(&str, &str)> = Vec::new();
    for alg in ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"] {
        table.extend(rsa.iter().map(|k| (alg, *k)));
    }
    table.extend([
        ("ES256", "ec-p256-sec1.pem"),
        ("ES256", "ec-p256-sec1-noparams.pem"),
        ("ES256", "ec-p256-pkcs8.pem"),
        ("ES256", "ec-p256.jwk.json"),
        ("ES384", "ec-p384-sec1.pem"),
        ("ES384", "ec-p384-pkcs8.pem"),
        ("ES384", "ec-p384.jwk.json"),
        ("ES512", "ec-p521-sec1.pem"),
        ("ES512", "ec-p521-pkcs8.pem"),
        ("ES512", "ec-p521.jwk.json"),
        ("EdDSA", "ed25519-pkcs8.pem"),
        ("EdDSA", "ed25519.jwk.json"),
    ]);
    let server = Server::start();
    let team_id = server.team("Keys").await;
    let mut n = 0;
    for (alg, file) in &table {
        n += 1;
        let (status, resp) = server
            .create_credential(OWNER_KEY, body(team_id, n, alg, &fixture_key(file), None))
            .await;
        assert_eq!(status, 201, "{alg} with {file}: {resp}");
        assert_eq!(resp["jwt_algorithm"], *alg);
    }
    for (alg, file) in [
        ("RS256", "rsa2048-encrypted.pem"),
        ("PS512", "rsa2048-encrypted.pem"),
        ("ES256", "ec-p256-encrypted.pem"),
    ] {
        n += 1;
        let (status, resp) = server
            .create_credential(
                OWNER_KEY,
                body(team_id, n, alg, &fixture_key(file), Some("correct horse")),
            )
            .await;
        assert_eq!(status, 201, "{alg} with {file}: {resp}");
    }
    for alg in ["HS256", "HS384", "HS512", "hs256"] {
        n += 1;
        let (status, resp) = server
            .create_credential(OWNER_KEY, body(team_id, n, alg, "a shared secret", None))
            .await;
        assert_eq!(status, 201, "{alg}: {resp}");
        assert_eq!(resp["jwt_algorithm"], alg.to_uppercase());
    }
}

#[tokio::test]
async fn wrong_keys_are_refused_naming_jwt_private_key() {
    let rsa_pem = fixture_key("rsa2048-pkcs8.pem");
    let p256_pem = fixture_key("ec-p256-pkcs8.pem");
    let k = fixture_key;
    let pem =
        |body: &str| format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
    // (algorithm, key text, passphrase, words the message must contain)
    #[rustfmt::skip]
    let table: Vec<(&str, String, Option<&str>, &str)> = vec![
        ("RS256", p256_pem.clone(), None, "EC key on curve P-256, but RS256 needs an RSA"),
        ("PS256", k("ec-p256.jwk.json"), None, "RSA"),
        ("RS256", k("ed25519-pkcs8.pem"), None, "Ed25519"),
        ("ES256", k("ec-p384-pkcs8.pem"), None, "curve P-384, but ES256 needs"),
        ("ES256", k("ec-p384-sec1.pem"), None, "curve P-384"),
        ("ES384", k("ec-p521.jwk.json"), None, "P-521"),
        ("ES512", k("ec-p256-sec1.pem"), None, "P-256, but ES512 needs an EC private key on curve P-521"),
        ("ES256", rsa_pem.clone(), None, "RSA key, but ES256"),
        ("EdDSA", rsa_pem.clone(), None, "RSA key, but EdDSA"),
        ("EdDSA", p256_pem.clone(), None, "EC key"),
        ("ES256", k("rsa2048.jwk.json"), None, "RSA JWK"),
        ("RS256", k("rsa1024-pkcs8.pem"), None, "2048 bits"),
        ("RS256", k("rsa1024-pkcs1.pem"), None, "2048 bits"),
        ("RS256", k("rsa2048-pub.pem"), None, "public key"),
        ("RS256", k("rsa2048-pub.jwk.json"), None, "public key"),
        ("ES256", k("ec-p256-pub.pem"), None, "public key"),
        ("EdDSA", k("ed25519-pub.pem"), None, "public key"),
        ("RS256", "not a key at all".into(), None, "not a PEM private key"),
        ("RS256", pem("AAAA"), None, "malformed"),
        ("RS256", pem("!!!!"), None, "base64"),
        ("ES256", "{\"kty\":\"EC\",\"crv\":\"P-256\"}".into(), None, "public key"),
        ("RS256", k("rsa2048-encrypted.pem"), None, "jwt_private_key_passphrase"),
        ("RS256", k("rsa2048-encrypted.pem"), Some("wrong horse"), "could not be decrypted"),
        ("ES256", k("ec-p256-encrypted.pem"), Some(""), "could not be decrypted"),
        ("RS256", k("rsa2048-legacy-encrypted.pem"), Some("correct horse"), "legacy encrypted"),
        ("ES256", k("ec-secp256k1-pkcs8.pem"), None, "secp256k1"),
        ("EdDSA", k("x25519-pkcs8.pem"), None, "X25519"),
        ("EdDSA", k("ed448-pkcs8.pem"), None, "Ed448"),
    ];
    let server = Server::start();
    let team_id = server.team("Keys").await;
    for (n, (alg, key, passphrase, needle)) in table.iter().enumerate() {
        let (status, resp) = server
            .create_credential(OWNER_KEY, body(team_id, n, alg, key, *passphrase))
            .await;
        assert_error(status, &resp, 422, Some("jwt_private_key"), needle);
    }
    // An RSA JWK whose members do not belong together fails (consistency or trial signature).
    let mut jwk: Value = serde_json::from_str(&fixture_key("rsa2048.jwk.json")).unwrap();
    let other: Value = serde_json::from_str(&fixture_key("ec-p256.jwk.json")).unwrap();
    jwk["d"] = other["d"].clone();
    let (status, resp) = server
        .create_credential(
            OWNER_KEY,
            body(team_id, 999, "RS256", &jwk.to_string(), None),
        )
        .await;
    assert_error(
        status,
        &resp,
        422,
        Some("jwt_private_key"),
        "jwt_private_key",
    );
    // Nothing was stored by any refusal: the first name is still free.
    let (status, resp) = server
        .create_credential(OWNER_KEY, body(team_id, 0, "RS256", &rsa_pem, None))
        .await;
    assert_eq!(status, 201, "{resp}");
    assert_eq!(resp["id"], 1);
}
