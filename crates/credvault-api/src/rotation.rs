//! Scheduled key rotation (API.md §6: `jwt_rotation_period_seconds`). Every instance looks for
//! live credentials whose `rotate_at` has passed, at start (so a rotation that fell due while
//! every instance was down happens now) and then at each interval. Instances sharing the
//! database may find the same credential due; each rotation is a write conditional on the row
//! version it read, so exactly one of them lands and the others see the row changed and stop.

use std::time::Duration;

use credvault_core::timefmt::now_millis;

use crate::error::ApiResult;
use crate::handlers::credentials::rotate_row;
use crate::AppState;

/// Due credentials looked at per round; the rest wait for the next round.
const PER_ROUND: i64 = 100;

/// Runs the rotation rounds until the process ends.
pub fn start(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
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
        match rotate_row(state, &row).await {
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
