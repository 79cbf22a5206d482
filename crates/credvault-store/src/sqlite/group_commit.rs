//! Group commit for credential creates.
//!
//! Every durable commit costs an fsync, and SQLite has one writer at a time. Rather than one
//! transaction (and one fsync) per create, a single task collects the creates that are waiting
//! and writes them with one multi-row INSERT in one transaction. Each caller is answered only
//! after that transaction has committed, so an acknowledged create is as durable as before.
//! The creates' audit entries are appended in the same transaction.

use credvault_core::audit::AuditRecord;
use sqlx::sqlite::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use super::{db_error, SqliteStore, INSERT_PLACEHOLDERS};
use crate::audit::AuditStream;
use crate::columns::Columns;
use crate::queries::{INSERT_COLUMNS, INSERT_CREDENTIAL};
use crate::rows::{now, BindCredential};
use crate::{Credential, Millis, NewCredential, Result};

/// Most rows written by one statement: 20 columns each stays far below SQLite's bound
/// parameter limit, and a batch this size already spreads one fsync thin.
const MAX_BATCH: usize = 64;

pub struct Job {
    pub credential: NewCredential,
    pub audit: AuditRecord,
    pub reply: oneshot::Sender<Result<Credential>>,
}

pub fn start(writer: SqlitePool, audit: AuditStream) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
    tokio::spawn(run(writer, audit, rx));
    tx
}

async fn run(writer: SqlitePool, audit: AuditStream, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // If the batch as a whole fails (one row breaking a rule that ON CONFLICT does not
        // cover, such as a foreign key, or the audit stream refusing), nothing was written:
        // every row is retried alone, so only the bad one fails. Once the batch has
        // committed, nothing is retried.
        let ids = match write_batch(&writer, &audit, &batch).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::debug!(error = %e, "batched create failed; writing the rows one by one");
                vec![None; batch.len()]
            }
        };
        let at = now();
        for (job, id) in batch.drain(..).zip(ids) {
            let Job {
                credential,
                audit: record,
                reply,
            } = job;
            let result = match id {
                Some((id, written_at)) => Ok(credential.into_stored(id, written_at)),
                // Skipped by ON CONFLICT, or the batch failed: a plain INSERT says which rule
                // the row breaks (slug, uid, test credential), or writes it.
                None => insert_one(&writer, &audit, credential, record, at).await,
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
    audit: &AuditStream,
    jobs: &[Job],
) -> Result<Vec<Option<(i64, Millis)>>> {
    let at = now();
    let sql = format!(
        "INSERT INTO credentials ({INSERT_COLUMNS}) VALUES {} ON CONFLICT DO NOTHING RETURNING id, uid",
        vec![INSERT_PLACEHOLDERS.as_str(); jobs.len()].join(", ")
    );
    let mut tx = writer
        .begin_with(SqliteStore::BEGIN_WRITE)
        .await
        .map_err(db_error)?;
    // The statement's text depends only on the batch size, so sqlx's statement cache holds
    // at most MAX_BATCH of them.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for job in jobs {
        query = query.bind_new(&job.credential, at);
    }
    let rows = query.fetch_all(&mut *tx).await.map_err(db_error)?;
    let mut ids: Vec<Option<(i64, Millis)>> = vec![None; jobs.len()];
    for row in &rows {
        let (id, uid) = (row.int("id")?, row.text("uid")?);
        if let Some(i) = jobs.iter().position(|job| job.credential.uid == uid) {
            ids[i] = Some((id, at));
        }
    }
    // The entries in the order the creates arrived, for the rows written.
    let records = jobs
        .iter()
        .zip(&ids)
        .filter_map(|(job, id)| {
            id.map(|(id, _)| job.audit.clone().with_subject("credential_id", id))
        })
        .collect();
    audit.commit(tx, records, db_error).await?;
    Ok(ids)
}

/// One row, one statement: its error names the rule it breaks.
async fn insert_one(
    writer: &SqlitePool,
    audit: &AuditStream,
    credential: NewCredential,
    record: AuditRecord,
    at: Millis,
) -> Result<Credential> {
    let mut tx = writer
        .begin_with(SqliteStore::BEGIN_WRITE)
        .await
        .map_err(db_error)?;
    let insert = sqlx::query(INSERT_CREDENTIAL.as_str());
    let id = insert
        .bind_new(&credential, at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?
        .int("id")?;
    let record = record.with_subject("credential_id", id);
    audit.commit(tx, vec![record], db_error).await?;
    Ok(credential.into_stored(id, at))
}
