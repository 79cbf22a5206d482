//! The audit log's storage (API.md §8): appending entries on the caller's transaction, in
//! chain order, and passing them to the stream (`--audit-log-file`) before that transaction
//! commits, so that a change is never committed unrecorded.

use std::sync::{Arc, OnceLock};

use credvault_core::audit::{AuditEntry, AuditRecord};
use sqlx::{Database, Encode, Type};

use crate::columns::Columns;
use crate::rows::{json_text, now};
use crate::{Millis, Result, StoreError};

/// Where entries go besides the database, e.g. a file a SIEM reads. A write that fails makes
/// the change it records fail ([`StoreError::AuditUnavailable`]): fail closed.
pub trait AuditSink: Send + Sync {
    fn write(&self, entries: &[AuditEntry]) -> std::io::Result<()>;
}

/// Which entries a list returns; `None` and empty lists switch a filter off.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only entries created before this time.
    pub before: Option<Millis>,
    /// Only entries created after this time.
    pub after: Option<Millis>,
    /// Only entries by these users.
    pub user_ids: Vec<i64>,
    /// Only entries of these operations.
    pub operation_names: Vec<String>,
}

/// The last entry of the chain as the database records it: its id (the number of entries)
/// and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub last_id: i64,
    pub hash: String,
}

/// The sink a store streams to, set once when the server starts.
#[derive(Clone, Default)]
pub(crate) struct AuditStream(Arc<OnceLock<Arc<dyn AuditSink>>>);

impl AuditStream {
    pub(crate) fn set(&self, sink: Arc<dyn AuditSink>) {
        let _ = self.0.set(sink);
    }

    /// Appends the change's audit entries to `tx`, hands them to the sink and commits: a sink
    /// that cannot take them rolls the change back. The chain's head stays locked from the
    /// append to the commit (PostgreSQL), which is why this comes last in every write.
    pub(crate) async fn commit<DB>(
        &self,
        mut tx: sqlx::Transaction<'static, DB>,
        records: Vec<AuditRecord>,
        db_error: fn(sqlx::Error) -> StoreError,
    ) -> Result<()>
    where
        DB: Database,
        DB::Row: Columns,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
        DB::Arguments: sqlx::IntoArguments<DB>,
        for<'t> &'t str: Encode<'t, DB> + Type<DB>,
        for<'t> String: Encode<'t, DB> + Type<DB>,
        for<'t> i64: Encode<'t, DB> + Type<DB>,
        for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
        for<'t> Option<&'t str>: Encode<'t, DB> + Type<DB>,
    {
        let entries = append::<DB>(&mut tx, records, db_error).await?;
        self.write(&entries)?;
        tx.commit().await.map_err(db_error)
    }

    /// Hands the entries to the sink, if there is one.
    fn write(&self, entries: &[AuditEntry]) -> Result<()> {
        match self.0.get() {
            Some(sink) => sink
                .write(entries)
                .map_err(|e| StoreError::AuditUnavailable(e.to_string())),
            None => Ok(()),
        }
    }
}

pub(crate) const ADVANCE_HEAD: &str = "UPDATE audit_head SET last_id = last_id + $1 \
     WHERE one = 1 RETURNING last_id, hash, last_at";
const SET_HEAD: &str = "UPDATE audit_head SET hash = $1, last_at = $2 WHERE one = 1";
pub(crate) const GET_HEAD: &str = "SELECT last_id, hash FROM audit_head WHERE one = 1";
const INSERT_ENTRY: &str = "INSERT INTO audit_logs (id, created_at, operation_name, inputs, \
     outputs, request_ip, request_user_agent, user_id, user_email, user_name, previous_hash, \
     hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
pub(crate) const CHAIN: &str = "SELECT * FROM audit_logs WHERE id > $1 ORDER BY id LIMIT $2";

/// Appends `records` to the chain on the caller's transaction, in order, and returns the
/// entries. Advancing the head first takes its row lock (PostgreSQL) for the rest of the
/// transaction, so concurrent appends take turns and the chain follows commit order; callers
/// append last, just before they commit, to hold it briefly. The entries' time is read once
/// the head is held, and is never before the previous entry's (instances' clocks may differ
/// a little), so that times follow chain order too.
async fn append<DB>(
    conn: &mut DB::Connection,
    records: Vec<AuditRecord>,
    db_error: fn(sqlx::Error) -> StoreError,
) -> Result<Vec<AuditEntry>>
where
    DB: Database,
    DB::Row: Columns,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<&'t str>: Encode<'t, DB> + Type<DB>,
{
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let count = i64::try_from(records.len()).unwrap_or(i64::MAX);
    let head = sqlx::query::<DB>(ADVANCE_HEAD)
        .bind(count)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    let (last_id, mut previous) = (head.int("last_id")?, head.text("hash")?);
    let at = now().max(head.int("last_at")?);
    let mut entries = Vec::with_capacity(records.len());
    for (id, record) in (last_id - count + 1..).zip(records) {
        let entry = record.into_entry(id, at, &previous);
        sqlx::query::<DB>(INSERT_ENTRY)
            .bind(entry.id)
            .bind(entry.created_at)
            .bind(entry.operation_name.as_str())
            .bind(json_text(&entry.inputs))
            .bind(json_text(&entry.outputs))
            .bind(entry.request_ip.as_deref())
            .bind(entry.request_user_agent.as_deref())
            .bind(entry.user_id)
            .bind(entry.user_email.as_deref())
            .bind(entry.user_name.as_deref())
            .bind(entry.previous_hash.as_str())
            .bind(entry.hash.as_str())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        previous.clone_from(&entry.hash);
        entries.push(entry);
    }
    sqlx::query::<DB>(SET_HEAD)
        .bind(previous)
        .bind(at)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(entries)
}

pub(crate) fn entry(row: &impl Columns) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.int("id")?,
        created_at: row.int("created_at")?,
        operation_name: row.text("operation_name")?,
        inputs: row.json("inputs")?,
        outputs: row.json("outputs")?,
        request_ip: row.opt_text("request_ip")?,
        request_user_agent: row.opt_text("request_user_agent")?,
        user_id: row.opt_int("user_id")?,
        user_email: row.opt_text("user_email")?,
        user_name: row.opt_text("user_name")?,
        previous_hash: row.text("previous_hash")?,
        hash: row.text("hash")?,
    })
}

pub(crate) fn head(row: &impl Columns) -> Result<AuditHead> {
    Ok(AuditHead {
        last_id: row.int("last_id")?,
        hash: row.text("hash")?,
    })
}
