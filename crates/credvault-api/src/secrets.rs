//! A credential's secret at rest: sealed with the tenant's keyring under an AAD that binds it
//! to its team, its uid and the field, so a sealed value moved to another row does not open.
//! The one place where credential secrets are sealed and opened.

use credvault_core::crypto::{credential_aad, term_of};
use credvault_core::jwt::JwtSettings;
use credvault_store::Credential;
use zeroize::Zeroizing;

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The one secret field of a credential row (its sealed key, shared secret or text value).
pub const SECRET_FIELD: &str = "secret";

/// Seals `plain` for the credential `uid` of `team_id`, under the current data-key term.
pub fn seal(state: &AppState, team_id: i64, uid: &str, plain: &[u8]) -> ApiResult<Vec<u8>> {
    Ok(state
        .keyring
        .for_sealing()?
        .seal(&credential_aad(team_id, uid, SECRET_FIELD), plain))
}

/// The secret of a stored credential, in the clear. A secret of a term this instance does not
/// know yet (another instance rotated the data key and re-sealed it) makes it reload the
/// keyring first.
pub async fn open(state: &AppState, c: &Credential) -> ApiResult<Zeroizing<Vec<u8>>> {
    let known =
        |state: &AppState| term_of(&c.secret).is_some_and(|t| state.keyring.current().has_term(t));
    if !known(state) {
        state.keyring.reload(state.store.as_ref()).await?;
        // Re-sealed under a term this instance cannot load: it was started with a master key
        // that was rotated since.
        if !known(state) && state.keyring.is_outdated() {
            return Err(ApiError::KeyringStale);
        }
    }
    state
        .keyring
        .current()
        .open(&credential_aad(c.team_id, &c.uid, SECRET_FIELD), &c.secret)
        .map_err(|e| ApiError::internal(format!("opening the secret of credential {}", c.id), e))
}

/// The JWT settings stored beside the secret in a credential's `config`.
pub fn jwt_settings(c: &Credential) -> ApiResult<JwtSettings> {
    c.config.parse().map_err(|e| {
        ApiError::internal(
            format!("reading the JWT settings of credential {}", c.id),
            e,
        )
    })
}
