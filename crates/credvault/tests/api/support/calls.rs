//! Credential calls that many tests make: paths, create, update, mint and the JWKS, each
//! expecting success unless its name says otherwise.

use std::fmt::Display;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::server::{Server, OWNER_KEY};

pub const CREDENTIALS: &str = "/api/v1/user_credentials";

/// `/api/v1/user_credentials/{id}` (any text for `id`, for ids that are not numbers).
pub fn cred_path(id: impl Display) -> String {
    format!("{CREDENTIALS}/{id}")
}

pub fn token_path(id: impl Display) -> String {
    format!("{CREDENTIALS}/{id}/token")
}

pub fn jwks_path(id: impl Display) -> String {
    format!("{CREDENTIALS}/{id}/jwks")
}

/// The `id` of a response body.
#[track_caller]
pub fn id_of(body: &Value) -> i64 {
    body["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id: {body}"))
}

/// The credential (read as the owner every 100 ms) once `done` holds for it; fails when that
/// takes longer than `within`. For what the server does in the background (recording use,
/// scheduled rotation).
pub async fn credential_when(
    server: &Server,
    id: i64,
    within: Duration,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let (status, read) = server.get(&cred_path(id), OWNER_KEY).await;
        assert_eq!(status, 200, "{read}");
        if done(&read) {
            return read;
        }
        assert!(
            Instant::now() < deadline,
            "{what} not within {within:?}: {read}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates a credential as the owner, expecting 201; returns its id.
pub async fn create_ok(server: &Server, body: Value) -> i64 {
    let (status, resp) = server.create_credential(OWNER_KEY, body.clone()).await;
    assert_eq!(status, 201, "set-up: create {body} → {resp}");
    id_of(&resp)
}

/// `PUT` as the owner, expecting 200; returns the response.
pub async fn put_ok(server: &Server, id: i64, body: Value) -> Value {
    let path = cred_path(id);
    let (status, resp) = server
        .call(Method::PUT, &path, Some(OWNER_KEY), Some(body.clone()))
        .await;
    assert_eq!(status, 200, "PUT {path} {body} → {resp}");
    resp
}

/// `POST /user_credentials/{id}/token` as `key` (None: no key at all).
pub async fn mint(
    server: &Server,
    key: Option<&str>,
    id: i64,
    body: Option<Value>,
) -> (u16, Value) {
    server.call(Method::POST, &token_path(id), key, body).await
}

/// Mints as the owner and expects 200; returns the response.
pub async fn mint_ok(server: &Server, id: i64, body: Option<Value>) -> Value {
    let (status, resp) = mint(server, Some(OWNER_KEY), id, body.clone()).await;
    assert_eq!(
        status,
        200,
        "POST {} {body:?} → {status}: {resp}",
        token_path(id)
    );
    resp
}

/// The `token` of a mint response.
#[track_caller]
pub fn token_of(resp: &Value) -> String {
    resp["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {resp}"))
        .to_string()
}

/// The current key of `GET /jwks` as the owner: the first (retired keys follow it).
pub async fn jwk_of(server: &Server, id: i64) -> Value {
    let (status, body) = server.get(&jwks_path(id), OWNER_KEY).await;
    assert_eq!(status, 200, "GET {} → {body}", jwks_path(id));
    let keys = body["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no keys array: {body}"));
    assert!(!keys.is_empty(), "{body}");
    keys[0].clone()
}
