//! The life of a credential after its create (API.md §2 pagination, §4.2 read and list, §4.3
//! update, §4.4 delete, §4.6 test credentials): listing page by page with exact `meta`, the
//! list filters and who sees what, reading one back, updating every field and each field's
//! refusal, key rotation, racing updates, deletes, and a test credential from attach to delete.

mod delete;
mod listing;
mod races;
mod rotation;
mod test_credentials;
mod update;

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

/// `fields` as a JWT update body (`mode` is required on every PUT).
fn jwt(mut fields: Value) -> Value {
    fields["mode"] = json!("JWT");
    fields
}

async fn put(server: &Server, id: impl std::fmt::Display, key: &str, body: Value) -> (u16, Value) {
    server
        .call(Method::PUT, &cred_path(id), Some(key), Some(body))
        .await
}

/// Millisecond timestamps: a short pause makes the next write's time differ. (Real time must
/// pass inside the server; there is nothing to poll.)
async fn pause() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

/// `GET /user_credentials?{query}` as `key`, which must answer 200.
async fn list(server: &Server, key: &str, query: &str) -> Value {
    let (status, body) = server.get(&format!("{CREDENTIALS}?{query}"), key).await;
    assert_eq!(status, 200, "?{query}: {body}");
    body
}

fn items(body: &Value) -> &Vec<Value> {
    body["user_credentials"]
        .as_array()
        .unwrap_or_else(|| panic!("no user_credentials array: {body}"))
}

fn ids(body: &Value) -> Vec<i64> {
    items(body).iter().map(id_of).collect()
}

/// `next` equals `prev` except for `updated_at` (which moved) and the `changed` fields.
#[track_caller]
fn assert_only_changed(prev: &Value, next: &Value, changed: &[&str]) {
    let (p, n) = (prev.as_object().unwrap(), next.as_object().unwrap());
    let mut keys: Vec<&String> = p.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    // The issuer fields follow the key, jwt_headers.kid and the algorithm's family (an HS*
    // credential publishes nothing); they are checked in `issuer`.
    let key_changes = ["jwt_algorithm", "jwt_headers", "jwt_private_key"];
    let derived: &[&str] = if changed.iter().any(|c| key_changes.contains(c)) {
        &[
            "jwt_key_id",
            "jwt_key_rotated_at",
            "issuer_id",
            "issuer_url",
            "jwks_url",
        ]
    } else {
        &[]
    };
    for key in keys {
        let key_str = key.as_str();
        if key == "updated_at" || changed.contains(&key_str) || derived.contains(&key_str) {
            continue;
        }
        assert_eq!(
            p.get(key),
            n.get(key),
            "{key} changed, but only {changed:?} should have"
        );
    }
    assert_eq!(prev["created_at"], next["created_at"]);
    assert!(is_timestamp(&next["updated_at"]), "{next}");
    assert!(
        next["updated_at"].as_str() > prev["updated_at"].as_str(),
        "updated_at did not move: {} then {}",
        prev["updated_at"],
        next["updated_at"]
    );
}

/// The body of an attach request: a test credential for `live_id` with a P-384 key as ES384.
fn attach_body(live_id: i64) -> Value {
    json!({
        "mode": "JWT",
        "live_credential_id": live_id,
        "jwt_algorithm": "ES384",
        "jwt_payload": { "iss": "test-environment" },
        "jwt_private_key": fixture_key("ec-p384-pkcs8.pem"),
    })
}
