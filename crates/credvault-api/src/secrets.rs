//! A credential's secret at rest: sealed with the tenant's keyring under an AAD that binds it
//! to its team, its uid and the field, so a sealed value moved to another row does not open.
//! The one place where credential secrets are sealed and opened.

use credvault_core::crypto::credential_aad;
use credvault_core::jwt::JwtSettings;
use credvault_store::Credential;
use zeroize::Zeroizing;

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The one secret field of a credential row (its sealed key, shared secret or text value).
const SECRET_FIELD: &str = "secret";

/// Seals `plain` for the credential `uid` of `team_id`.
pub fn seal(state: &AppState, team_id: i64, uid: &str, plain: &[u8]) -> Vec<u8> {
    state
        .keyring
        .seal(&credential_aad(team_id, uid, SECRET_FIELD), plain)
}

/// The secret of a stored credential, in the clear.
pub fn open(state: &AppState, c: &Credential) -> ApiResult<Zeroizing<Vec<u8>>> {
    state
        .keyring
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
