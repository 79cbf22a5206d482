//! The one place where writes of a credential take turns. A write reads the row, computes
//! the new one and stores it only if the stored version is still the one it read; on this
//! instance, writes of one credential queue on a lock (striped by id) so they never lose that
//! check to each other, and a write that loses it to another instance sharing the database is
//! recomputed from the new row.

use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use crate::error::{ApiError, ApiResult};

/// How often a write is recomputed when a write on another instance wins the race.
const ATTEMPTS: u64 = 8;

fn turn(id: i64) -> &'static tokio::sync::Mutex<()> {
    const STRIPES: u8 = 64;
    static LOCKS: LazyLock<Vec<tokio::sync::Mutex<()>>> =
        LazyLock::new(|| (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect());
    let stripe = usize::try_from(id.rem_euclid(i64::from(STRIPES))).unwrap_or(0);
    &LOCKS[stripe]
}

/// Runs `attempt` for credential `id` in its turn until it writes: `Some(result)` when its
/// write landed, `None` when the row changed under it (it is then run again, after a short
/// back-off). 409 when other writers keep winning.
pub async fn in_turn<T, F, Fut>(id: i64, mut attempt: F) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ApiResult<Option<T>>>,
{
    let _turn = turn(id).lock().await;
    for n in 0..ATTEMPTS {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(5 * n)).await;
        }
        if let Some(done) = attempt().await? {
            return Ok(done);
        }
    }
    Err(ApiError::conflict(
        "id",
        format!("credential {id} is being changed by other requests; retry"),
    ))
}

/// Runs one `write` for credential `id` in its turn: for writes the store applies whatever
/// the stored version (attaching a test credential), so there is nothing to recompute.
pub async fn in_turn_once<T, E>(id: i64, write: impl Future<Output = Result<T, E>>) -> ApiResult<T>
where
    ApiError: From<E>,
{
    let _turn = turn(id).lock().await;
    Ok(write.await?)
}
