//! Scheduled key rotation (API.md §6: `jwt_rotation_period_seconds`). Every instance looks for
//! live credentials whose `rotate_at` has passed, at start (so a rotation that fell due while
//! every instance was down happens now) and then at each interval. Instances sharing the
//! database may find the same credential due; each rotation is a write conditional on the row
//! version it read, so exactly one of them lands and the others see the row changed and stop.
//!
//! At start it also records the `key_id` of credentials written before that column existed,
//! so that their `jwt_key_id` shows.

use std::time::Duration;

use credvault_core::audit::AuditRecord;
use credvault_core::timefmt::now_millis;
use serde_json::json;

use crate::audit::{object, op};
use crate::error::ApiResult;
use crate::handlers::credentials::rotate_row;
use crate::mint::keys::prepared_key;
use crate::AppState;

/// Due credentials looked at per round; the rest wait for the next round.
const PER_ROUND: i64 = 100;

/// Runs the rotation rounds until the process ends.
pub fn start(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        match fill_key_ids(&state).await {
            Ok(0) => {}
            Ok(filled) => tracing::info!(filled, "recorded the key ids of older credentials"),
            Err(e) => tracing::warn!(error = %e.chain(), "recording key ids failed"),
        }
        loop {
            match run_due(&state).await {
                Ok(0) => {}
                Ok(rotated) => tracing::info!(rotated, "scheduled key rotations"),
                Err(e) => tracing::warn!(error = %e.chain(), "scheduled key rotation failed"),
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// One round: rotates every due credential this instance gets to first; returns how many.
pub async fn run_due(state: &AppState) -> ApiResult<usize> {
    let now = now_millis();
    let mut rotated = 0;
    for id in state.store.due_rotations(now, PER_ROUND).await? {
        let Some(view) = state.store.get_credential_view(id).await? else {
            continue;
        };
        let row = view.credential;
        // Another instance may have rotated it since the list was read.
        if row.rotate_at.is_none_or(|at| at > now) {
            continue;
        }
        // The scheduler is the user null (API.md §8).
        let inputs =
            json!({"inputs": {"credentialId": id}, "credential_id": id, "reason": "schedule"});
        let audit = AuditRecord::system(op::CREDENTIAL_KEY_ROTATION, object(inputs));
        match rotate_row(state, &row, audit).await {
            Ok(Some(())) => {
                tracing::info!(credential_id = id, "key rotated on schedule");
                rotated += 1;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(credential_id = id, error = %e.chain(), "scheduled rotation failed");
            }
        }
    }
    Ok(rotated)
}

/// Records the `key_id` of every JWT credential that has none recorded and whose key has one
/// (HS* keys without `jwt_headers.kid` have none, and are looked at again at each start).
pub async fn fill_key_ids(state: &AppState) -> ApiResult<usize> {
    const BATCH: i64 = 100;
    let (mut after, mut filled) = (0, 0);
    loop {
        let rows = state.store.jwt_without_key_id(after, BATCH).await?;
        let Some(last) = rows.last() else {
            return Ok(filled);
        };
        after = last.id;
        for row in &rows {
            let prepared = prepared_key(state, row).await?;
            if let Some(kid) = &prepared.kid {
                if state.store.set_key_id(row.id, kid).await? {
                    filled += 1;
                }
            }
        }
    }
}
