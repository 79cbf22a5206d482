//! The signer of a mint: the credential's key, parsed and ready, from the key cache or loaded
//! into it. Keyed by (id, version), so an updated credential is never signed with its old key.

use std::sync::Arc;

use credvault_core::jwt::{JwtSettings, KeyFamily, PreparedKey};
use credvault_core::keys::load_stored_key;
use credvault_core::timefmt::now_millis;
use credvault_store::{Credential, JsonText, RetiredKey};

use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::{issuer_url, secrets, AppState};

/// Loading an RSA key checks it (milliseconds), so that goes to the key-work pool; other keys
/// load in microseconds, less than the hand-off would cost.
pub async fn prepared_key(state: &AppState, row: &Credential) -> ApiResult<Arc<PreparedKey>> {
    let cache_key = (row.id, row.version);
    if let Some(prepared) = state.key_cache.get(cache_key) {
        state.metrics.key_cache(true);
        return Ok(prepared);
    }
    state.metrics.key_cache(false);
    let mut settings = secrets::jwt_settings(row)?;
    fill_issuer(&mut settings, state, row);
    let plain = secrets::open(state, row).await?;
    let id = row.id;
    let slow = settings.algorithm.family() == KeyFamily::Rsa;
    let load = move || {
        let key = load_stored_key(settings.algorithm, &plain).map_err(|e| {
            ApiError::internal(format!("loading the stored key of credential {id}"), e)
        })?;
        Ok(PreparedKey::new(key, settings))
    };
    let prepared = Arc::new(if slow {
        state.key_work.run(load).await?
    } else {
        load()?
    });
    state.key_cache.insert(cache_key, prepared.clone());
    Ok(prepared)
}

/// API.md §6: an asymmetric credential whose payload has no `iss` (or an empty one) signs
/// tokens with `iss` = its issuer URL, so that they verify against its discovery document.
fn fill_issuer(settings: &mut JwtSettings, state: &AppState, row: &Credential) {
    if settings.algorithm.family() == KeyFamily::Hmac {
        return;
    }
    let absent = match settings.payload.get("iss") {
        None => true,
        Some(Value::String(iss)) => iss.is_empty(),
        Some(_) => false,
    };
    if absent {
        let url = issuer_url(&state.public_url, &row.issuer_id);
        settings.payload.insert("iss".into(), Value::from(url));
    }
}

/// The public JWK of a prepared key, as both JWKS documents publish it: with its `kid`, `use`
/// and `alg`. None for HMAC keys, which have nothing public.
pub fn published_jwk(prepared: &PreparedKey) -> Option<Map<String, Value>> {
    let mut jwk = prepared.key.public_jwk()?;
    jwk.insert("kid".into(), json!(prepared.kid));
    jwk.insert("use".into(), json!("sig"));
    jwk.insert("alg".into(), json!(prepared.settings.algorithm.as_str()));
    Some(jwk)
}

/// The JWK Set both JWKS documents publish: the current key first, then the retired keys
/// still published (API.md §6). None for HMAC keys.
pub async fn jwk_set(state: &AppState, row: &Credential) -> ApiResult<Option<Value>> {
    let prepared = prepared_key(state, row).await?;
    let Some(current) = published_jwk(&prepared) else {
        return Ok(None);
    };
    let retired = state
        .store
        .published_retired_keys(row.id, now_millis())
        .await?;
    let mut keys = vec![Value::Object(current)];
    keys.extend(retired.iter().map(|r| r.jwk.to_value()));
    Ok(Some(json!({ "keys": keys })))
}

/// `prepared`, the key a credential signs with now, as retired when a change replaces it:
/// published until every token it signed has expired (its lifetime, plus the time a token may
/// be reused). None for keys with nothing public.
pub fn retiring(state: &AppState, prepared: &PreparedKey) -> Option<RetiredKey> {
    let jwk = published_jwk(prepared)?;
    let now = now_millis();
    let seconds = prepared.settings.lifetime_seconds.max(0)
        + i64::try_from(state.token_cache.reuse_seconds()).unwrap_or(i64::MAX / 2000);
    Some(RetiredKey {
        jwk: JsonText::of(&jwk),
        retired_at: now,
        published_until: now.saturating_add(seconds.saturating_mul(1000)),
    })
}
