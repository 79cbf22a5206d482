//! `credvault audit verify` (API.md §8): walks the audit log's hash chain from the first
//! entry and checks every link, then that the chain ends where the database's head says.

use anyhow::{anyhow, Result};
use credvault_core::audit::ChainCheck;

use crate::startup::open_store;
use crate::DbArgs;

/// Entries read per query.
const BATCH: i64 = 1_000;

pub async fn verify(args: DbArgs) -> Result<()> {
    let store = open_store(&args).await?;
    // The head first: entries appended while the walk runs come after it and are not checked.
    let head = store.audit_head().await?;
    let mut walk = ChainCheck::default();
    let mut after = 0;
    let outcome = loop {
        let entries = store.audit_chain(after, BATCH).await?;
        let Some(last) = entries.last() else {
            break walk.finish(head.last_id, &head.hash);
        };
        after = last.id;
        if let Some(broken) = entries
            .iter()
            .filter(|e| e.id <= head.last_id)
            .find_map(|e| walk.next(e).err())
        {
            break Err(broken);
        }
        if after >= head.last_id {
            break walk.finish(head.last_id, &head.hash);
        }
    };
    store.close().await;
    match outcome {
        Ok(count) => {
            println!("ok: the audit log's {count} entries form an unbroken chain");
            Ok(())
        }
        Err(broken) => Err(anyhow!("the audit log is broken: {broken}")),
    }
}
