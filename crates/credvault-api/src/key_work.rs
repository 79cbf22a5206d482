//! Where costly key work runs: parsing and checking RSA keys, decrypting encrypted keys (a KDF
//! of up to about a second) and trial signatures. It runs on blocking threads, never on the
//! async workers that answer other requests, and at most one job per core at a time, so a
//! burst of expensive keys queues here instead of taking the whole machine.

use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

pub struct KeyWork {
    permits: Semaphore,
}

impl KeyWork {
    /// One job at a time per core.
    pub fn for_this_machine() -> KeyWork {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        KeyWork::new(cores)
    }

    pub fn new(concurrency: usize) -> KeyWork {
        KeyWork {
            permits: Semaphore::new(concurrency.max(1)),
        }
    }

    /// Runs `job` on a blocking thread once a slot is free. A request that goes away while
    /// waiting gives up its place; a job that has started runs to its (bounded) end.
    pub async fn run<T, F>(&self, job: F) -> ApiResult<T>
    where
        F: FnOnce() -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ApiError::internal("waiting for the key work queue", e))?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| ApiError::internal("running a key work task", e))?
    }
}
