//! credvault's HTTP API: the axum router, authentication, handlers and the error mapping.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::HeaderName;
use axum::middleware;
use axum::routing::{delete, get, post};
use axum::Router;
use credvault_core::crypto::Keyring;
use credvault_store::Store;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub mod auth;
pub mod body;
pub mod credentials;
pub mod error;
pub mod folders;
pub mod health;
pub mod metrics;
pub mod pagination;
pub mod ratelimit;
pub mod teams;
pub mod users;

/// Largest request body accepted (413 above it).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub keyring: Arc<Keyring>,
    /// Base of the links in pagination `meta`, without a trailing slash.
    pub public_url: Arc<str>,
    /// None: no rate limit.
    pub rate_limiter: Option<Arc<ratelimit::RateLimiter>>,
    pub metrics: Arc<metrics::Metrics>,
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/admin/users", post(users::create).get(users::list))
        .route("/admin/users/{id}/api_keys", post(users::create_api_key))
        .route(
            "/admin/users/{id}/api_keys/{key_id}",
            delete(users::revoke_api_key),
        )
        .route("/teams", post(teams::create).get(teams::list))
        .route("/teams/{id}", get(teams::get))
        .route("/teams/{id}/invite_member", post(teams::invite_member))
        .route("/folders", post(folders::create).get(folders::list))
        .route(
            "/user_credentials",
            post(credentials::create).get(credentials::list),
        )
        .route(
            "/user_credentials/{id}",
            get(credentials::get)
                .put(credentials::update)
                .delete(credentials::delete),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ));

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::scrape))
        .nest("/api/v1", api)
        .fallback(|| async { error::ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        // Outermost, so that the trace layer above only ever sees these headers redacted.
        .layer(SetSensitiveRequestHeadersLayer::new([
            AUTHORIZATION,
            COOKIE,
            HeaderName::from_static("x-user-token"),
        ]))
        .with_state(state)
}

/// Parses a path id; anything that is not an integer cannot name a resource, so it is a 404.
pub fn path_id(raw: &str, what: &str) -> error::ApiResult<i64> {
    raw.parse()
        .map_err(|_| error::ApiError::not_found(format!("{what} {raw} not found")))
}
