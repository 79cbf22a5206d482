//! Using a JWT credential (API.md §5): minting tokens, and the public key as a JWKS.
//!
//! A mint reads the caller and the credential in one query (whose row version keys both
//! caches), checks who may mint and the credential's policy, then signs with a cached key, or
//! reuses a cached token. Signing runs on the request's own worker thread: it is the work the
//! request exists for, and handing it to another thread would only add a context switch.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use credvault_core::crypto::hashes_equal;
use credvault_core::hosts::{self, Target, TargetError, MAX_HOST_LEN, MAX_URL_LEN};
use credvault_core::jwt::{KeyFamily, Minted, PreparedKey, DEFAULT_LIFETIME_SECONDS};
use credvault_core::keys::{jwk_thumbprint, load_stored_key};
use credvault_core::model::{Mode, ReadAccess, Role};
use credvault_core::timefmt::{format_millis, now_millis};
use credvault_store::{Credential, MintContext};
use serde_json::{json, Value};

use crate::auth::{authenticated, presented_key, Caller, BAD_KEY, NO_KEY};
use crate::body::OptionalJsonBody;
use crate::credentials::{jwt_settings, open_secret, visible};
use crate::error::{ApiError, ApiResult};
use crate::metrics::MintOutcome;
use crate::{path_id, AppState};

/// The credential's key, parsed and ready, from the key cache or loaded into it. Loading an
/// RSA key checks it (milliseconds), so that goes to the key-work pool.
pub(crate) async fn prepared_key(
    state: &AppState,
    row: &Credential,
) -> ApiResult<Arc<PreparedKey>> {
    let cache_key = (row.id, row.version);
    if let Some(prepared) = state.key_cache.get(cache_key) {
        state.metrics.key_cache(true);
        return Ok(prepared);
    }
    state.metrics.key_cache(false);
    let settings = jwt_settings(row)?;
    let plain = open_secret(state, row)?;
    let id = row.id;
    let slow = settings.algorithm.family() == KeyFamily::Rsa;
    let load = move || {
        let key = load_stored_key(settings.algorithm, &plain)
            .map_err(|e| ApiError::Internal(format!("credential {id}: stored key: {e}")))?;
        Ok(PreparedKey::new(key, settings))
    };
    let prepared = Arc::new(match slow {
        true => state.key_work.run(load).await?,
        false => load()?,
    });
    state.key_cache.insert(cache_key, prepared.clone());
    Ok(prepared)
}

/// API.md §5: EDITOR+ of the owning team; with GLOBAL, EDITOR+ of any team; with
/// SPECIFIC_TEAMS, EDITOR+ of a listed team; tenant admins always. Someone related to the
/// credential without such a role gets 403; anyone else 404.
fn authorize(ctx: &MintContext) -> ApiResult<()> {
    if ctx.caller_admin {
        return Ok(());
    }
    let c = &ctx.credential;
    let related = |m: &&credvault_store::Membership| match c.read_access {
        _ if m.team_id == c.team_id => true,
        ReadAccess::Global => true,
        ReadAccess::SpecificTeams => c.shared_team_slugs.contains(&m.team_slug),
        ReadAccess::Team => false,
    };
    let roles: Vec<Role> = ctx
        .memberships
        .iter()
        .filter(related)
        .map(|m| m.role)
        .collect();
    if roles.iter().any(|r| *r >= Role::Editor) {
        Ok(())
    } else if roles.is_empty() {
        Err(ApiError::not_found(format!(
            "credential {} not found",
            c.id
        )))
    } else {
        Err(ApiError::forbidden(
            "minting needs EDITOR or higher in a team that may use this credential",
        ))
    }
}

/// `allowed_hosts` (API.md §4.5): when set, the request must say where the token goes.
fn check_hosts(allowed: &[String], url: Option<&str>, host: Option<&str>) -> ApiResult<()> {
    let target = match (url, host) {
        (Some(url), _) => Some(Target::from_url(url).map_err(|e| match e {
            TargetError::TooLong => ApiError::invalid(
                "url",
                format!("url must be at most {MAX_URL_LEN} characters"),
            ),
            TargetError::Ambiguous => ApiError::forbidden_field(
                "url",
                "url contains a backslash, a space or a control character, so HTTP clients \
                 disagree on where its host ends; send the URL as the client will",
            ),
            TargetError::NotAHost | TargetError::Invalid => ApiError::invalid(
                "url",
                "url must be an absolute URL such as https://api.example.com/v1",
            ),
        })?),
        (None, Some(host)) => Some(Target::from_host(host).map_err(|e| match e {
            TargetError::TooLong => ApiError::invalid(
                "host",
                format!("host must be at most {MAX_HOST_LEN} characters"),
            ),
            TargetError::NotAHost | TargetError::Ambiguous => ApiError::invalid(
                "host",
                "host must be a host name, optionally with :port; / ? # \\ @ and spaces are not allowed",
            ),
            TargetError::Invalid => ApiError::invalid(
                "host",
                "host must be a host name, optionally with :port",
            ),
        })?),
        (None, None) => None,
    };
    if allowed.is_empty() {
        return Ok(());
    }
    match target {
        None => Err(ApiError::forbidden(
            "this credential is restricted to allowed_hosts: give the url or host the token is for",
        )),
        Some(target) if hosts::allowed(allowed, &target) => Ok(()),
        Some(_) => Err(ApiError::forbidden(
            "the url or host is not in the credential's allowed_hosts",
        )),
    }
}

fn check_expiry(c: &Credential, now_ms: i64) -> ApiResult<()> {
    match c.expires_at {
        Some(at) if at <= now_ms => Err(ApiError::forbidden(format!(
            "the credential expired at {}",
            format_millis(at)
        ))),
        _ => Ok(()),
    }
}

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody,
) -> ApiResult<Json<Value>> {
    let id = path_id(&raw_id, "credential")?;
    let key = presented_key(&headers).ok_or(NO_KEY)?;
    let hash = state.keyring.hash_api_key(key);
    let ctx = match state.store.mint_context(&hash, id).await? {
        Some(ctx) if hashes_equal(&ctx.key_hash, &hash) => {
            authenticated(&state, key);
            ctx
        }
        _ => {
            return Err(match state.store.find_api_key(&hash).await? {
                Some(_) => ApiError::not_found(format!("credential {id} not found")),
                None => BAD_KEY,
            })
        }
    };
    authorize(&ctx)?;
    let live = ctx.credential;
    if live.mode != Mode::Jwt {
        return Err(ApiError::invalid(
            "mode",
            format!(
                "credential {id} is a {} credential; only JWT credentials mint tokens",
                live.mode
            ),
        ));
    }
    let settings = MintSettings::of(&live);
    let algorithm = settings.algorithm.clone();
    let outcome = mint(&state, &body, live, settings).await;
    state.metrics.mint(&algorithm, MintOutcome::of(&outcome));
    outcome.map(Json)
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
    body: &crate::body::Fields,
    live: Credential,
    live_settings: MintSettings,
) -> ApiResult<Value> {
    let test = body.bool("test")?.unwrap_or(false);
    check_hosts(&live.allowed_hosts, body.str("url")?, body.str("host")?)?;
    let now_ms = now_millis();
    check_expiry(&live, now_ms)?;
    let (row, settings) = if test {
        let refused = || {
            ApiError::forbidden(format!(
                "credential {} has no enabled test credential",
                live.id
            ))
        };
        if !live.test_credential_enabled {
            return Err(refused());
        }
        let test_row = state
            .store
            .get_test_credential(live.id)
            .await?
            .ok_or_else(refused)?;
        check_expiry(&test_row, now_ms)?;
        let settings = MintSettings::of(&test_row);
        (test_row, settings)
    } else {
        (live, live_settings)
    };

    let cache_key = (row.id, row.version);
    let lifetime = settings.lifetime_seconds;
    let now = Instant::now();
    let minted = match state.token_cache.get(cache_key, lifetime, now) {
        Some(minted) => {
            state.metrics.token_cache(true);
            minted
        }
        None => {
            if state.token_cache.enabled() {
                state.metrics.token_cache(false);
            }
            let prepared = prepared_key(state, &row).await?;
            let minted: Minted = prepared
                .mint(now_ms / 1000)
                .map_err(|e| ApiError::Internal(format!("credential {}: {e}", row.id)))?;
            state.token_cache.insert(cache_key, minted.clone(), now);
            minted
        }
    };
    state.usage.record(row.live_id.unwrap_or(row.id));
    Ok(json!({
        "token": minted.token,
        "credential_id": row.live_id.unwrap_or(row.id),
        "algorithm": settings.algorithm,
        "issued_at": format_millis(minted.issued_at * 1000),
        "expires_at": minted.expires_at.map(|s| format_millis(s * 1000)),
        "test": test,
    }))
}

/// `GET /user_credentials/{id}/jwks`: the public key, for whoever may read the credential.
pub async fn jwks(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&raw_id, "credential")?;
    let (view, _) = visible(&state, &caller, id).await?;
    let row = view.credential;
    if row.mode != Mode::Jwt {
        return Err(ApiError::invalid(
            "mode",
            format!(
                "credential {id} is a {} credential; only JWT credentials have keys",
                row.mode
            ),
        ));
    }
    let prepared = prepared_key(&state, &row).await?;
    let alg = prepared.settings.algorithm;
    let mut jwk = prepared.key.public_jwk().ok_or_else(|| {
        ApiError::invalid(
            "jwt_algorithm",
            format!("{alg} uses a shared secret: there is no public key to publish"),
        )
    })?;
    let kid = match prepared.settings.headers.get("kid").and_then(Value::as_str) {
        Some(kid) => kid.to_string(),
        None => jwk_thumbprint(&jwk),
    };
    jwk.insert("kid".into(), json!(kid));
    jwk.insert("use".into(), json!("sig"));
    jwk.insert("alg".into(), json!(alg.as_str()));
    Ok(Json(json!({ "keys": [jwk] })))
}
