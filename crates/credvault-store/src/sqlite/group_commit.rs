//! Group commit for credential creates.
//!
//! Every durable commit costs an fsync, and SQLite has one writer at a time. Rather than one
//! transaction (and one fsync) per create, a single task collects the creates that are waiting
//! and writes them with one multi-row INSERT in one transaction. Each caller is answered only
//! after that transaction has committed, so an acknowledged create is as durable as before.

use sqlx::sqlite::SqlitePool;
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use super::{
    bind_new_credential, credential_from_row, db_error, now, INSERT_COLUMNS, INSERT_PLACEHOLDERS,
};
use crate::{Conflict, Credential, NewCredential, Result, StoreError};

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
        let results = match write_batch(&writer, credentials).await {
            Ok(results) => results,
            Err(e) => {
                let message = e.to_string();
                (0..replies.len())
                    .map(|_| Err(StoreError::Unavailable(message.clone())))
                    .collect()
            }
        };
        for (reply, result) in replies.into_iter().zip(results) {
            // The caller may have gone away (client disconnected); the row stays written.
            let _ = reply.send(result);
        }
    }
}

/// Writes all rows in one transaction. A row whose slug is taken is skipped by
/// `ON CONFLICT DO NOTHING` and answered with a conflict; the others are written.
async fn write_batch(
    writer: &SqlitePool,
    credentials: Vec<NewCredential>,
) -> Result<Vec<Result<Credential>>> {
    let at = now();
    let uids: Vec<String> = credentials.iter().map(|c| c.uid.clone()).collect();
    let sql = format!(
        "INSERT INTO credentials ({INSERT_COLUMNS}) VALUES {} ON CONFLICT DO NOTHING RETURNING *",
        vec![INSERT_PLACEHOLDERS; credentials.len()].join(", ")
    );
    let mut tx = writer
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(db_error)?;
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for credential in credentials {
        query = bind_new_credential(query, credential, at);
    }
    let rows = query.fetch_all(&mut *tx).await.map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;

    let mut written: Vec<Option<Credential>> = vec![None; uids.len()];
    for row in &rows {
        let uid: String = row.try_get("uid").map_err(db_error)?;
        if let Some(i) = uids.iter().position(|u| *u == uid) {
            written[i] = Some(credential_from_row(row)?);
        }
    }
    Ok(written
        .into_iter()
        .map(|row| row.ok_or(StoreError::Conflict(Conflict::CredentialSlug)))
        .collect())
}
