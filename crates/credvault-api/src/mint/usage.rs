//! Records that credentials were used to mint (`last_used_at`, read by the list filter
//! `UNUSED_IN_ACTIONS`) without making any mint wait on a write: mints hand ids to a
//! background task, which writes them in batches, each id at most once a minute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use credvault_core::timefmt::now_millis;
use credvault_store::Store;
use tokio::sync::mpsc;

const INTERVAL: Duration = Duration::from_mins(1);
const BATCH: usize = 1024;

pub struct UsageRecorder {
    recorded: Mutex<HashMap<i64, Instant>>,
    queue: mpsc::UnboundedSender<i64>,
}

impl UsageRecorder {
    /// Starts the writer task; needs a Tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> UsageRecorder {
        let (queue, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut ids = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut ids, BATCH).await > 0 {
                ids.sort_unstable();
                ids.dedup();
                if let Err(e) = store.mark_used(&ids, now_millis()).await {
                    tracing::warn!(error = %e, count = ids.len(), "could not record credential use");
                }
                ids.clear();
            }
        });
        UsageRecorder {
            recorded: Mutex::new(HashMap::new()),
            queue,
        }
    }

    pub fn record(&self, id: i64) {
        let now = Instant::now();
        let mut recorded = self
            .recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if recorded
            .get(&id)
            .is_some_and(|at| now.duration_since(*at) < INTERVAL)
        {
            return;
        }
        recorded.insert(id, now);
        let _ = self.queue.send(id);
    }
}
