//! `POST /user_credentials/{id}/rotate` (API.md §6): a new private key of the same algorithm
//! and strength, generated inside credvault, for the live credential or (`is_test`) its test
//! credential. The replaced public key of a live credential stays published until its tokens
//! have expired.

use axum::extract::{Path, State};
use axum::Json;
use credvault_core::jwt::{self, KeyFamily, PreparedKey};
use credvault_core::keys::generate_key;
use credvault_core::model::{Mode, Role};
use credvault_core::timefmt::now_millis;
use credvault_store::{AuditRecord, Credential};
use serde_json::json;
use serde_json::value::RawValue;

use super::{render_by_id, writes};
use crate::audit::op;
use crate::error::{ApiError, ApiResult};
use crate::extract::auth::{require_role, Caller};
use crate::extract::body::OptionalJsonBody;
use crate::mint::keys::{prepared_key, retiring};
use crate::{path_id, secrets, AppState};

pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody,
) -> ApiResult<Json<Box<RawValue>>> {
    let id = path_id(&raw_id, "credential")?;
    let is_test = body.bool("is_test")?.unwrap_or(false);
    writes::in_turn(id, || rotate_once(&state, &caller, id, is_test)).await?;
    tracing::info!(credential_id = id, is_test, "key rotated");
    render_by_id(&state, id).await
}

/// One attempt: None when the row changed meanwhile (it is then recomputed).
async fn rotate_once(
    state: &AppState,
    caller: &Caller,
    id: i64,
    is_test: bool,
) -> ApiResult<Option<()>> {
    let (view, role) = caller.credential(state, id).await?;
    require_role(
        role,
        Role::Editor,
        "rotate keys of credentials of this team",
    )?;
    let row = if is_test {
        let missing =
            || ApiError::invalid("is_test", format!("credential {id} has no test credential"));
        state
            .store
            .get_test_credential(id)
            .await?
            .ok_or_else(missing)?
    } else {
        view.credential
    };
    if row.mode != Mode::Jwt {
        let message = format!(
            "credential {id} is a {} credential; only JWT keys rotate",
            row.mode
        );
        return Err(ApiError::invalid("mode", message));
    }
    let mut inputs = json!({
        "inputs": {"credentialId": id, "isTest": is_test},
        "credential_id": id,
        "reason": "request",
    });
    if is_test {
        inputs["test_credential_id"] = json!(row.id);
    }
    rotate_row(
        state,
        &row,
        caller.audit(op::CREDENTIAL_KEY_ROTATION, inputs),
    )
    .await
}

/// Writes a new key of the same algorithm and strength to `row` (a live credential or a test
/// credential), if `row` is still the stored version: None when it changed meanwhile. The
/// replaced key of a live credential stays published; its next scheduled rotation is a period
/// from now. Shared by the endpoint and the scheduler, which say who rotates in `audit`; the
/// new key's `kid` is added to its outputs.
pub async fn rotate_row(
    state: &AppState,
    row: &Credential,
    mut audit: AuditRecord,
) -> ApiResult<Option<()>> {
    let prepared = prepared_key(state, row).await?;
    let mut next = with_new_key(state, row, &prepared).await?;
    audit.outputs.insert("key_id".into(), json!(next.key_id));
    let is_live = row.live_id.is_none();
    let now = now_millis();
    if is_live {
        next.rotate_at = prepared
            .settings
            .rotation_period_seconds
            .map(|period| now.saturating_add(period.saturating_mul(1000)));
    }
    let retired = if is_live {
        retiring(state, &prepared)
    } else {
        None
    };
    let written = match &retired {
        Some(retired) => {
            state
                .store
                .update_credential_retiring(&next, retired, audit)
                .await?
        }
        None => state.store.update_credential(&next, audit).await?,
    };
    Ok(written.map(drop))
}

/// `row` with a new key of the same algorithm and strength, sealed.
async fn with_new_key(
    state: &AppState,
    row: &Credential,
    prepared: &PreparedKey,
) -> ApiResult<Credential> {
    let alg = prepared.settings.algorithm;
    if alg.family() == KeyFamily::Hmac {
        return Err(ApiError::invalid(
            "jwt_algorithm",
            format!("{alg} uses a shared secret, which has to be agreed with the verifier: send a new one with PUT"),
        ));
    }
    // RSA keeps its modulus size; other families ignore it.
    let bits = prepared.key.rsa_bits().unwrap_or(0);
    let generated = state
        .key_work
        .run(move || {
            generate_key(alg, bits).map_err(|e| {
                ApiError::invalid("jwt_private_key", format!("the key cannot be rotated: {e}"))
            })
        })
        .await?;
    let mut next = row.clone();
    next.secret = secrets::seal(state, next.team_id, &next.uid, &generated.stored)?;
    next.key_id = jwt::key_id(&generated.key, &prepared.settings.headers);
    next.key_rotated_at = Some(now_millis());
    Ok(next)
}
