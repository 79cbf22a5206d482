//! `POST /user_credentials/{id}/token` and `GET /user_credentials/{id}/jwks`.
//!
//! A mint checks the policy on what [`MintCaller`] read, then signs with the cached key or
//! reuses a cached token. Signing runs on the request's own worker thread: it is the work the
//! request exists for, and handing it to another thread would only add a context switch.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::Json;
use credvault_core::jwt::{Minted, DEFAULT_LIFETIME_SECONDS};
use credvault_core::model::Mode;
use credvault_core::timefmt::{format_millis, now_millis};
use credvault_store::{Credential, MintContext};
use serde_json::{json, Value};

use super::keys::{jwk_set, prepared_key};
use super::policy::{authorize, check_expiry, check_hosts};
use crate::audit::mints::MintEvent;
use crate::error::{ApiError, ApiResult};
use crate::extract::auth::{Caller, MintCaller};
use crate::extract::body::{Fields, OptionalJsonBody};
use crate::middleware::metrics::MintOutcome;
use crate::{path_id, AppState};

pub async fn token(
    State(state): State<AppState>,
    MintCaller(ctx, ip): MintCaller,
    OptionalJsonBody(body): OptionalJsonBody,
) -> ApiResult<Json<Value>> {
    let event = |refusal: Option<&str>| MintEvent {
        at: now_millis(),
        credential_id: ctx.credential.id,
        user_id: ctx.caller_id,
        ip,
        test: matches!(body.bool("test"), Ok(Some(true))),
        refusal: refusal.map(str::to_string),
    };
    let outcome = checked_mint(&state, &body, &ctx).await;
    // Refusals are the caller's own doing (role, hosts, expiry, request); a 404 is not one:
    // for that caller the credential does not exist.
    match &outcome {
        Ok(_) => state.mint_audit.count(event(None)),
        Err(e @ (ApiError::Forbidden { .. } | ApiError::Invalid { .. })) => {
            state.mint_audit.count(event(Some(&e.to_string())));
        }
        Err(_) => {}
    }
    outcome.map(Json)
}

/// The policy checks, then the mint, counted in the metrics.
async fn checked_mint(state: &AppState, body: &Fields, ctx: &MintContext) -> ApiResult<Value> {
    authorize(ctx)?;
    let live = ctx.credential.clone();
    require_jwt(&live, "mint tokens")?;
    let settings = MintSettings::of(&live);
    let algorithm = settings.algorithm.clone();
    let outcome = mint(state, body, live, settings).await;
    state.metrics.mint(&algorithm, MintOutcome::of(&outcome));
    outcome
}

fn require_jwt(c: &Credential, what: &str) -> ApiResult<()> {
    if c.mode == Mode::Jwt {
        return Ok(());
    }
    Err(ApiError::invalid(
        "mode",
        format!(
            "credential {} is a {} credential; only JWT credentials {what}",
            c.id, c.mode
        ),
    ))
}

/// The two settings every mint needs, read from the stored text without building the payload
/// (serde skips what it is not asked for).
#[derive(serde::Deserialize)]
struct MintSettings {
    #[serde(rename = "jwt_algorithm", default = "unknown_algorithm")]
    algorithm: String,
    #[serde(rename = "jwt_lifetime_seconds", default = "default_lifetime")]
    lifetime_seconds: i64,
}

fn unknown_algorithm() -> String {
    "unknown".into()
}

fn default_lifetime() -> i64 {
    DEFAULT_LIFETIME_SECONDS
}

impl MintSettings {
    fn of(row: &Credential) -> MintSettings {
        row.config.parse().unwrap_or(MintSettings {
            algorithm: unknown_algorithm(),
            lifetime_seconds: default_lifetime(),
        })
    }
}

/// Mints from `live` (whose settings the caller has read), or from its test credential.
async fn mint(
    state: &AppState,
    body: &Fields,
    live: Credential,
    live_settings: MintSettings,
) -> ApiResult<Value> {
    let test = body.bool("test")?.unwrap_or(false);
    check_hosts(&live.allowed_hosts, body.str("url")?, body.str("host")?)?;
    let now_ms = now_millis();
    check_expiry(&live, now_ms)?;
    let (row, settings) = if test {
        let test_row = test_credential(state, &live).await?;
        check_expiry(&test_row, now_ms)?;
        let settings = MintSettings::of(&test_row);
        (test_row, settings)
    } else {
        (live, live_settings)
    };
    let minted = sign(state, &row, settings.lifetime_seconds, now_ms).await?;
    let credential_id = row.live_id.unwrap_or(row.id);
    state.usage.record(credential_id);
    Ok(json!({
        "token": minted.token,
        "credential_id": credential_id,
        "algorithm": settings.algorithm,
        "issued_at": format_millis(minted.issued_at * 1000),
        "expires_at": minted.expires_at.map(|s| format_millis(s * 1000)),
        "test": test,
    }))
}

/// The enabled test credential of `live`; 403 when there is none.
async fn test_credential(state: &AppState, live: &Credential) -> ApiResult<Credential> {
    let refused = || {
        ApiError::forbidden(format!(
            "credential {} has no enabled test credential",
            live.id
        ))
    };
    if !live.test_credential_enabled {
        return Err(refused());
    }
    state
        .store
        .get_test_credential(live.id)
        .await?
        .ok_or_else(refused)
}

/// A token for `row`: a cached one still fresh enough to reuse, or a new signature.
async fn sign(state: &AppState, row: &Credential, lifetime: i64, now_ms: i64) -> ApiResult<Minted> {
    let cache_key = (row.id, row.version);
    let now = Instant::now();
    if let Some(minted) = state.token_cache.get(cache_key, lifetime, now) {
        state.metrics.token_cache(true);
        return Ok(minted);
    }
    if state.token_cache.enabled() {
        state.metrics.token_cache(false);
    }
    let prepared = prepared_key(state, row).await?;
    let minted = prepared
        .mint(now_ms / 1000)
        .map_err(|e| ApiError::internal(format!("signing with credential {}", row.id), e))?;
    state.token_cache.insert(cache_key, minted.clone(), now);
    Ok(minted)
}

/// `GET /user_credentials/{id}/jwks`: the public key, for whoever may read the credential.
pub async fn jwks(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&raw_id, "credential")?;
    let (view, _) = caller.credential(&state, id).await?;
    let row = view.credential;
    require_jwt(&row, "have keys")?;
    let set = jwk_set(&state, &row).await?.ok_or_else(|| {
        ApiError::invalid(
            "jwt_algorithm",
            "the credential uses a shared secret (HS*): there is no public key to publish",
        )
    })?;
    Ok(Json(set))
}
