//! credvault's HTTP API. A request's way through it: `connections` (the accept loop and its
//! deadlines) → the router below → `middleware` (rate limit, metrics) → `extract` (caller,
//! body, list query) → a handler in `handlers`, or the mint path in `mint` → the store.
//! Failures of every kind become an `error::ApiError`, mapped to HTTP in one place. See
//! docs/architecture.md.

#![forbid(unsafe_code)]

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::HeaderName;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, MethodRouter};
use axum::Router;
use credvault_store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub mod audit;
pub mod connections;
pub mod console;
pub mod encryption;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod key_work;
pub mod middleware;
pub mod mint;
pub mod notify;
pub mod rotation;
pub mod secrets;

use handlers::{audit_logs, credentials, folders, health, issuers, openapi, teams, users};
use middleware::{metrics, ratelimit};

/// Largest request body accepted (413 above it).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The keyring, kept in step with the stored one (data-key rotation, API.md §9).
    pub keyring: Arc<encryption::KeyringCell>,
    /// Re-sealing of secrets after a data-key rotation.
    pub reencryption: Arc<encryption::Reencryption>,
    /// Base of the links in pagination `meta`, without a trailing slash.
    pub public_url: Arc<str>,
    /// None: no rate limit.
    pub rate_limiter: Option<Arc<ratelimit::RateLimiter>>,
    pub metrics: Arc<metrics::Metrics>,
    pub key_cache: Arc<mint::caches::KeyCache>,
    pub token_cache: Arc<mint::caches::TokenCache>,
    pub usage: Arc<mint::usage::UsageRecorder>,
    /// Mints and refused mints, counted per minute for the audit log.
    pub mint_audit: Arc<audit::mints::MintAudit>,
    /// Bounded pool for key parsing, checks, KDFs and trial signatures.
    pub key_work: Arc<key_work::KeyWork>,
}

/// What a server is configured with besides its store and keyring.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base of the links in responses, e.g. `https://vault.example.com`.
    pub public_url: String,
    /// 0 turns the rate limit off.
    pub rate_limit_per_minute: u32,
    /// How long a minted token may be reused; 0 turns reuse off.
    pub token_cache_seconds: u64,
    /// Entries per mint cache.
    pub key_cache_size: usize,
    /// Bytes per mint cache.
    pub cache_bytes: usize,
}

impl AppState {
    /// The state of a server on `store`; starts the background usage recorder.
    pub fn new(
        store: Arc<dyn Store>,
        keyring: encryption::KeyringCell,
        settings: &Settings,
    ) -> AppState {
        AppState {
            store: store.clone(),
            keyring: Arc::new(keyring),
            reencryption: Arc::default(),
            public_url: settings.public_url.trim_end_matches('/').into(),
            rate_limiter: ratelimit::RateLimiter::new(settings.rate_limit_per_minute).map(Arc::new),
            metrics: Arc::default(),
            key_cache: Arc::new(mint::caches::KeyCache::new(
                settings.key_cache_size,
                settings.cache_bytes,
            )),
            token_cache: Arc::new(mint::caches::TokenCache::new(
                settings.token_cache_seconds,
                settings.key_cache_size,
                settings.cache_bytes,
            )),
            usage: Arc::new(mint::usage::UsageRecorder::start(store.clone())),
            mint_audit: {
                let mint_audit = Arc::new(audit::mints::MintAudit::default());
                mint_audit.start(store);
                mint_audit
            },
            key_work: Arc::new(key_work::KeyWork::for_this_machine()),
        }
    }
}

type Routes = Vec<(
    &'static str,
    &'static [&'static str],
    MethodRouter<AppState>,
)>;

/// The routes under `/api/v1`: path, the methods it answers, handlers. The methods are
/// listed beside the handlers so the two are read (and changed) together; the OpenAPI
/// document must describe exactly these (see `openapi::tests`).
fn api_routes() -> Routes {
    let mut routes = tenant_routes();
    routes.extend(credential_routes());
    routes
}

/// Users, API keys, teams, folders and the API's own description.
fn tenant_routes() -> Routes {
    vec![
        ("/openapi.json", &["GET"], get(openapi::document)),
        ("/me", &["GET"], get(users::me)),
        (
            "/admin/users",
            &["POST", "GET"],
            post(users::create).get(users::list),
        ),
        ("/admin/users/{id}", &["DELETE"], delete(users::deactivate)),
        (
            "/admin/users/{id}/api_keys",
            &["POST"],
            post(users::create_api_key),
        ),
        (
            "/admin/users/{id}/api_keys/{key_id}",
            &["DELETE"],
            delete(users::revoke_api_key),
        ),
        (
            "/teams",
            &["POST", "GET"],
            post(teams::create).get(teams::list),
        ),
        ("/teams/{id}", &["GET"], get(teams::get)),
        (
            "/teams/{id}/invite_member",
            &["POST"],
            post(teams::invite_member),
        ),
        (
            "/teams/{id}/remove_member",
            &["POST"],
            post(teams::remove_member),
        ),
        (
            "/folders",
            &["POST", "GET"],
            post(folders::create).get(folders::list),
        ),
        ("/audit_logs", &["GET"], get(audit_logs::list)),
        (
            "/admin/encryption",
            &["GET"],
            get(handlers::encryption::get),
        ),
        (
            "/admin/encryption/rotate",
            &["POST"],
            post(handlers::encryption::rotate),
        ),
    ]
}

/// Credentials and the mint path.
fn credential_routes() -> Routes {
    vec![
        (
            "/user_credentials",
            &["POST", "GET"],
            post(credentials::create).get(credentials::list),
        ),
        (
            "/user_credentials/{id}",
            &["GET", "PUT", "DELETE"],
            get(credentials::get)
                .put(credentials::update)
                .delete(credentials::delete),
        ),
        (
            "/user_credentials/{id}/rotate",
            &["POST"],
            post(credentials::rotate),
        ),
        (
            "/user_credentials/{id}/notifications",
            &["GET"],
            get(credentials::notifications::list),
        ),
        (
            "/user_credentials/{id}/token",
            &["POST"],
            post(mint::handler::token),
        ),
        (
            "/user_credentials/{id}/jwks",
            &["GET"],
            get(mint::handler::jwks),
        ),
    ]
}

/// The public issuer endpoints (API.md §6): no auth, rate-limited per client IP.
fn issuer_routes() -> Routes {
    vec![
        ("/issuers/{issuer}/jwks.json", &["GET"], get(issuers::jwks)),
        (
            "/issuers/{issuer}/.well-known/openid-configuration",
            &["GET"],
            get(issuers::discovery),
        ),
    ]
}

/// Routes outside `/api/v1`: no auth, no rate limit.
fn service_routes() -> Routes {
    vec![
        ("/healthz", &["GET"], get(health::healthz)),
        ("/readyz", &["GET"], get(health::readyz)),
        ("/metrics", &["GET"], get(metrics::scrape)),
    ]
}

pub const API_PREFIX: &str = "/api/v1";

/// Every route as (full path, methods), for checking the OpenAPI document against.
pub fn route_table() -> Vec<(String, &'static [&'static str])> {
    let api = api_routes()
        .into_iter()
        .map(|(path, methods, _)| (format!("{API_PREFIX}{path}"), methods));
    let outside = issuer_routes().into_iter().chain(service_routes());
    let outside = outside.map(|(path, methods, _)| (path.to_string(), methods));
    api.chain(outside).collect()
}

/// `routes`, each behind the rate limit and counted in the metrics.
fn limited(routes: Routes, state: &AppState) -> Router<AppState> {
    let mut limited = Router::new();
    for (path, _, handlers) in routes {
        limited = limited.route(path, handlers);
    }
    limited
        .route_layer(from_fn_with_state(state.clone(), ratelimit::limit))
        .route_layer(from_fn_with_state(state.clone(), metrics::track))
}

pub fn router(state: AppState) -> Router {
    let api = limited(api_routes(), &state);
    // The issuer routes take no key, so the limiter counts each client IP there.
    let mut app = Router::new().merge(limited(issuer_routes(), &state));
    for (path, _, handlers) in service_routes() {
        app = app.route(path, handlers);
    }
    app.merge(console::routes())
        .nest(API_PREFIX, api)
        .fallback(|| async { error::ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // A bug that panics still answers (500, logged) instead of dropping the connection.
        .layer(CatchPanicLayer::custom(|_| {
            error::ApiError::bug("a request handler panicked").into_response()
        }))
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

/// Where the public issuer of a credential is published (API.md §6).
pub fn issuer_url(public_url: &str, issuer_id: &str) -> String {
    format!("{public_url}/issuers/{issuer_id}")
}

/// Parses a path id; anything that is not an integer cannot name a resource, so it is a 404.
pub fn path_id(raw: &str, what: &str) -> error::ApiResult<i64> {
    raw.parse()
        .map_err(|_| error::ApiError::not_found(format!("{what} {raw} not found")))
}
