//! Request bodies and key files the tests share.

use std::path::PathBuf;

use serde_json::{json, Value};

/// A file of `tests/fixtures/keys`.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name)
}

/// The text of a key fixture (PEM or JWK).
pub fn fixture_key(name: &str) -> String {
    let path = fixture_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A JWK fixture, parsed.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture_key(name)).unwrap()
}

/// A minimal valid JWT credential body for `team_id`.
pub fn jwt_body(team_id: i64, name: &str) -> Value {
    json!({
        "name": name,
        "mode": "JWT",
        "team_id": team_id,
        "jwt_algorithm": "ES256",
        "jwt_payload": { "iss": "credvault-tests" },
        "jwt_private_key": fixture_key("ec-p256-pkcs8.pem"),
    })
}

/// A TEXT credential body for `team_id`.
pub fn text_body(team_id: i64, name: &str, value: &str) -> Value {
    json!({ "name": name, "mode": "TEXT", "team_id": team_id, "value": value })
}

/// The payload of the mint tests' credentials.
pub fn mint_payload() -> Value {
    json!({ "iss": "credvault-tests", "sub": "svc", "aud": "api" })
}

/// A JWT credential of `alg` with `key`, [`mint_payload`] and auto time claims.
pub fn jwt_credential(team_id: i64, name: &str, alg: &str, key: &str, lifetime: i64) -> Value {
    json!({
        "name": name,
        "mode": "JWT",
        "team_id": team_id,
        "jwt_algorithm": alg,
        "jwt_payload": mint_payload(),
        "jwt_auto_generate_time_claims": true,
        "jwt_lifetime_seconds": lifetime,
        "jwt_private_key": key,
    })
}

/// JSON nested `levels` deep: `{"a":{"a":…1…}}`.
pub fn nested(levels: usize) -> Value {
    let mut value = json!(1);
    for _ in 0..levels {
        value = json!({ "a": value });
    }
    value
}

/// `{"a": "xxx…"}` of exactly `bytes` bytes as compact JSON.
pub fn sized(bytes: usize) -> Value {
    json!({ "a": "x".repeat(bytes - 8) })
}
