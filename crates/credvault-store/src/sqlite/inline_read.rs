//! The per-mint read, done on the calling thread.
//!
//! sqlx runs every SQLite connection on its own worker thread, so each query costs two thread
//! hand-offs (request and reply). For the one indexed read a cached mint makes, those hand-offs
//! cost several times more than the SQL itself and capped cached mints far below what the
//! signature cache allows. This module keeps a few read-only rusqlite connections (the same
//! libsqlite3 that sqlx links) and runs that read inline. In WAL mode a reader never waits for
//! the writer, so the call blocks the async worker for microseconds; the short busy timeout
//! bounds the rare exceptions (WAL recovery), and the caller then falls back to the sqlx pool.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::columns::{corrupt, Columns};
use crate::rows;
use crate::{MintContext, Result, StoreError};

/// Connections kept for reuse; more may be opened under a burst and are then dropped.
const KEEP: usize = 4;

pub(super) const MINT_CONTEXT_SQL: &str = "SELECT k.key_hash, u.id AS caller_id, \
       u.admin AS caller_admin, \
       (SELECT json_group_array(json_array(m.team_id, t.slug, m.role)) \
        FROM memberships m JOIN teams t ON t.id = m.team_id \
        WHERE m.user_id = u.id) AS caller_teams, \
       c.* \
     FROM api_keys k JOIN users u ON u.id = k.user_id \
     JOIN credentials c ON c.id = ?2 AND c.live_id IS NULL \
     WHERE k.key_hash = ?1 AND k.revoked_at IS NULL AND u.is_active = 1";

pub(super) struct InlineReader {
    path: PathBuf,
    idle: Mutex<Vec<Slot>>,
}

/// A connection and the column positions of `MINT_CONTEXT_SQL` on it: looking a column up by
/// name scans every column name, which showed up in profiles at ~30 columns per row.
struct Slot {
    conn: Connection,
    columns: HashMap<String, usize>,
}

/// A result row whose columns are read by name through the precomputed positions.
struct Named<'a> {
    row: &'a rusqlite::Row<'a>,
    columns: &'a HashMap<String, usize>,
}

// By value, so that it reads as `.map_err(error)`.
#[allow(clippy::needless_pass_by_value)]
fn error(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::InvalidColumnName(..) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Unavailable(e.to_string()),
    }
}

impl Named<'_> {
    fn get<T: rusqlite::types::FromSql>(&self, name: &str) -> Result<T> {
        let index = *self
            .columns
            .get(name)
            .ok_or_else(|| corrupt(name, "no such column"))?;
        self.row.get(index).map_err(|e| corrupt(name, e))
    }
}

impl Columns for Named<'_> {
    fn int(&self, name: &str) -> Result<i64> {
        self.get(name)
    }
    fn opt_int(&self, name: &str) -> Result<Option<i64>> {
        self.get(name)
    }
    fn text(&self, name: &str) -> Result<String> {
        self.get(name)
    }
    fn opt_text(&self, name: &str) -> Result<Option<String>> {
        self.get(name)
    }
    fn blob(&self, name: &str) -> Result<Vec<u8>> {
        self.get(name)
    }
    fn flag(&self, name: &str) -> Result<bool> {
        self.get(name)
    }
}

impl InlineReader {
    pub(super) fn new(path: &Path) -> InlineReader {
        InlineReader {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn connect(&self) -> Result<Slot> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(error)?;
        conn.busy_timeout(Duration::from_millis(20))
            .map_err(error)?;
        let columns = {
            let stmt = conn.prepare_cached(MINT_CONTEXT_SQL).map_err(error)?;
            let names = stmt.column_names().into_iter().map(str::to_owned);
            names.zip(0..).collect()
        };
        Ok(Slot { conn, columns })
    }

    /// Runs `f` on an idle connection (or a new one), returning the connection afterwards.
    fn with<T>(&self, f: impl FnOnce(&Slot) -> Result<T>) -> Result<T> {
        let taken = self.idle.lock().expect("pool lock").pop();
        let slot = match taken {
            Some(slot) => slot,
            None => self.connect()?,
        };
        let out = f(&slot);
        let mut idle = self.idle.lock().expect("pool lock");
        if idle.len() < KEEP {
            idle.push(slot);
        }
        out
    }

    pub(super) fn mint_context(&self, key_hash: &[u8], id: i64) -> Result<Option<MintContext>> {
        self.with(|slot| {
            let mut stmt = slot.conn.prepare_cached(MINT_CONTEXT_SQL).map_err(error)?;
            let mut rows = stmt.query(rusqlite::params![key_hash, id]).map_err(error)?;
            let Some(row) = rows.next().map_err(error)? else {
                return Ok(None);
            };
            let row = Named {
                row,
                columns: &slot.columns,
            };
            rows::mint_context(&row).map(Some)
        })
    }
}
