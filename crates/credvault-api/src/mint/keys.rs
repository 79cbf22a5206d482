//! The signer of a mint: the credential's key, parsed and ready, from the key cache or loaded
//! into it. Keyed by (id, version), so an updated credential is never signed with its old key.

use std::sync::Arc;

use credvault_core::jwt::{KeyFamily, PreparedKey};
use credvault_core::keys::load_stored_key;
use credvault_store::Credential;

use crate::error::{ApiError, ApiResult};
use crate::{secrets, AppState};

/// Loading an RSA key checks it (milliseconds), so that goes to the key-work pool; other keys
/// load in microseconds, less than the hand-off would cost.
pub async fn prepared_key(state: &AppState, row: &Credential) -> ApiResult<Arc<PreparedKey>> {
    let cache_key = (row.id, row.version);
    if let Some(prepared) = state.key_cache.get(cache_key) {
        state.metrics.key_cache(true);
        return Ok(prepared);
    }
    state.metrics.key_cache(false);
    let settings = secrets::jwt_settings(row)?;
    let plain = secrets::open(state, row)?;
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
