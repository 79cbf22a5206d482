//! The router of a server built in this process, for [`super::server::Server::in_process`]:
//! the same store, keyring and settings as `credvault serve` starts with, without a process or
//! a socket.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::Request;
use credvault_api::encryption::KeyringCell;
use credvault_api::{AppState, Settings};
use credvault_core::crypto::{Keyring, KeyringWrapKey, MasterKey};
use credvault_store::{AuditRecord, NewUser, PgStore, SqliteStore, Store};
use reqwest::Method;
use serde_json::{Map, Value};
use tower::ServiceExt;

use super::server::OWNER_KEY;

/// The state of a server over a fresh store in `dir` (or the PostgreSQL `database`), with the
/// tenant owner bootstrapped as the binary does it.
pub async fn state(dir: &Path, database: Option<&str>) -> AppState {
    let store: Arc<dyn Store> = match database {
        Some(url) => Arc::new(PgStore::open(url, 5).await.expect("PostgreSQL store")),
        None => Arc::new(
            SqliteStore::open(&dir.join("credvault.db"))
                .await
                .expect("SQLite store"),
        ),
    };
    let master = MasterKey::generate();
    let keyring = Keyring::derived(&master, 0);
    let owner = store
        .create_user(
            NewUser {
                email: "owner@localhost".into(),
                first_name: "Owner".into(),
                last_name: String::new(),
                admin: true,
            },
            AuditRecord::system("UserCreation", Map::new()),
        )
        .await
        .expect("owner");
    store
        .create_api_key(
            owner.id,
            "bootstrap",
            &keyring.hash_api_key(OWNER_KEY),
            AuditRecord::system("AuthenticationTokenCreation", Map::new()),
        )
        .await
        .expect("owner key");
    // `credvault serve`'s defaults.
    let settings = Settings {
        public_url: "http://in-process".into(),
        rate_limit_per_minute: 5000,
        token_cache_seconds: 30,
        key_cache_size: 10_000,
        cache_bytes: 128 * 1024 * 1024,
    };
    let cell = KeyringCell::create(store.as_ref(), keyring, KeyringWrapKey::of(&master))
        .await
        .expect("keyring");
    AppState::new(store, cell, &settings)
}

/// One request through the router, answered as [`super::server::Server::call`] answers.
pub async fn call(
    router: &axum::Router,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(key) = key {
        request = request.header(AUTHORIZATION, format!("Bearer {key}"));
    }
    let body = match body {
        Some(json) => {
            request = request.header(CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let response = router
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .expect("the router always answers");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    if bytes.is_empty() {
        return (status, Value::Null);
    }
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "non-JSON body with status {status}: {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, json)
}
