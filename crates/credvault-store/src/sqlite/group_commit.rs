//! Group commit for credential creates.
//!
//! Every durable commit costs an fsync, and SQLite has one writer at a time. Rather than one
//! transaction (and one fsync) per create, a single task collects the creates that are waiting
//! and writes them with one multi-row INSERT in one transaction. Each caller is answered only
//! after that transaction has committed, so an acknowledged create is as durable as before.

use sqlx::sqlite::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use super::{db_error, SqliteStore, INSERT_PLACEHOLDERS};
use crate::columns::Columns;
use crate::queries::{INSERT_COLUMNS, INSERT_CREDENTIAL};
use crate::rows::{now, BindCredential};
use crate::{Credential, Millis, NewCredential, Result};

/// Most rows written by one statement: 20 columns each stays far below SQLite's bound
/// parameter limit, and a batch this size already spreads one fsync thin.
const MAX_BATCH: usize = 64;

pub struct Job {
    pub credential: NewCredential,
    pub reply: oneshot::Sender<Result<Credential>>,
}

pub fn start(writer: SqlitePool) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
    tokio::spawn(run(writer, rx));
    tx
}

async fn run(writer: SqlitePool, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (credentials, replies): (Vec<_>, Vec<_>) = batch
            .drain(..)
            .map(|job: Job| (job.credential, job.reply))
            .unzip();
        // If the batch as a whole fails (one row breaking a rule that ON CONFLICT does not
        // cover, such as a foreign key), nothing was written: every row is retried alone, so
        // only the bad one fails. Once the batch has committed, nothing is retried.
        let ids = match write_batch(&writer, &credentials).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::debug!(error = %e, "batched create failed; writing the rows one by one");
                vec![None; credentials.len()]
            }
        };
        let at = now();
        for ((reply, credential), id) in replies.into_iter().zip(credentials).zip(ids) {
            let result = match id {
                Some((id, written_at)) => Ok(credential.into_stored(id, written_at)),
                // Skipped by ON CONFLICT, or the batch failed: a plain INSERT says which rule
                // the row breaks (slug, uid, test credential), or writes it.
                None => insert_one(&writer, credential, at).await,
            };
            // The caller may have gone away (client disconnected); the row stays written.
            let _ = reply.send(result);
        }
    }
}

/// Writes all rows in one transaction; returns, per row, its id and write time, or `None`
/// for a row that broke a unique rule and was skipped by `ON CONFLICT DO NOTHING`. Rows are
/// matched to their ids by uid, read back as plain values, so that no row of a committed batch
/// can fail to be answered.
async fn write_batch(
    writer: &SqlitePool,
    credentials: &[NewCredential],
) -> Result<Vec<Option<(i64, Millis)>>> {
    let at = now();
    let sql = format!(
        "INSERT INTO credentials ({INSERT_COLUMNS}) VALUES {} ON CONFLICT DO NOTHING RETURNING id, uid",
        vec![INSERT_PLACEHOLDERS.as_str(); credentials.len()].join(", ")
    );
    let mut tx = writer
        .begin_with(SqliteStore::BEGIN_WRITE)
        .await
        .map_err(db_error)?;
    // The statement's text depends only on the batch size, so sqlx's statement cache holds
    // at most MAX_BATCH of them.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for credential in credentials {
        query = query.bind_new(credential, at);
    }
    let rows = query.fetch_all(&mut *tx).await.map_err(db_error)?;
    let mut ids: Vec<Option<(i64, Millis)>> = vec![None; credentials.len()];
    for row in &rows {
        let (id, uid) = (row.int("id")?, row.text("uid")?);
        if let Some(i) = credentials.iter().position(|c| c.uid == uid) {
            ids[i] = Some((id, at));
        }
    }
    tx.commit().await.map_err(db_error)?;
    Ok(ids)
}

/// One row, one statement: its error names the rule it breaks.
async fn insert_one(
    writer: &SqlitePool,
    credential: NewCredential,
    at: Millis,
) -> Result<Credential> {
    let insert = sqlx::query(INSERT_CREDENTIAL.as_str());
    let id = insert
        .bind_new(&credential, at)
        .fetch_one(writer)
        .await
        .map_err(db_error)?
        .int("id")?;
    Ok(credential.into_stored(id, at))
}
