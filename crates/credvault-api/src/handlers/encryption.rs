//! `GET /api/v1/admin/encryption` and `POST /api/v1/admin/encryption/rotate` (API.md §9):
//! the data-key terms and the re-sealing after a rotation, for tenant admins.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::audit::op;
use crate::encryption::status;
use crate::error::ApiResult;
use crate::extract::auth::Caller;
use crate::AppState;

pub async fn get(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_admin("see the encryption keys")?;
    Ok(Json(status(&state.keyring, state.store.as_ref()).await?))
}

/// A new data-key term for new writes; every stored secret is sealed again under it in the
/// background (202: the answer shows the work remaining).
pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_admin("rotate the encryption key")?;
    let audit = caller.audit(
        op::ENCRYPTION_KEY_ROTATION,
        json!({"inputs": {}, "reason": "request"}),
    );
    let keyring = state.keyring.rotate(state.store.as_ref(), audit).await?;
    tracing::info!(
        term = keyring.current_term(),
        "data key rotated; re-sealing secrets"
    );
    state.reencryption.wake();
    let body = status(&state.keyring, state.store.as_ref()).await?;
    Ok((StatusCode::ACCEPTED, Json(body)))
}
