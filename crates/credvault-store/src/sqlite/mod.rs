//! The embedded default: one SQLite file in WAL mode.
//!
//! Writes go through a pool of exactly one connection, so concurrent writers queue inside the
//! process instead of spinning in SQLite's busy handler; reads use a separate pool and never
//! wait for writers (WAL). `synchronous=FULL` makes every acknowledged write durable on disk.
//! Multi-statement writes start with `BEGIN IMMEDIATE`, so another process sharing the file
//! makes them wait (busy timeout) rather than fail halfway.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::Row;

use crate::rows::{
    json_text, memberships, now, store_error, INSERT_COLUMNS, INSERT_ONE, VIEW_SELECT,
};
use crate::*;

mod group_commit;

pub struct SqliteStore {
    reader: SqlitePool,
    inline: inline_read::InlineReader,
    writer: SqlitePool,
    creates: tokio::sync::mpsc::Sender<group_commit::Job>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

fn db_error(e: sqlx::Error) -> StoreError {
    // SQLite names the columns of the rule it hit, as in
    // "UNIQUE constraint failed: credentials.team_id, credentials.slug".
    store_error(e, |db| {
        let msg = db.message();
        if msg.contains("users.email") {
            Conflict::UserEmail
        } else if msg.contains("teams.slug") {
            Conflict::TeamSlug
        } else if msg.contains("credentials.live_id") {
            Conflict::TestCredential
        } else if msg.contains("credentials.slug") {
            Conflict::CredentialSlug
        } else {
            Conflict::Other
        }
    })
}

row_mappers!(SqliteRow, sqlx::Sqlite);

mod inline_read;

/// One row's placeholders for [`INSERT_COLUMNS`], for the batched insert of several rows.
static INSERT_PLACEHOLDERS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let columns = INSERT_COLUMNS.split(',').count();
    format!("({})", vec!["?"; columns].join(", "))
});

fn bind_new_credential<'q>(
    query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    c: &'q NewCredential,
    at: Millis,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    bind_credential_values!(query, c, at)
}

/// The settings every connection gets: created if missing, WAL, every commit synced to disk,
/// writers waiting up to 10 s for the file's lock, foreign keys enforced.
fn durable(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
}

async fn pool(options: &SqliteConnectOptions, connections: u32) -> Result<SqlitePool> {
    // No pings before handing out a connection: an embedded file cannot go stale like a
    // network connection, and each ping is a round trip to the connection's worker thread.
    SqlitePoolOptions::new()
        .max_connections(connections)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options.clone())
        .await
        .map_err(db_error)
}

/// An exclusive advisory lock on `<database>-migrate.lock`, held until dropped. `None` for an
/// in-memory database.
async fn migration_lock(database: &Path) -> Result<Option<std::fs::File>> {
    if database.as_os_str() == ":memory:" {
        return Ok(None);
    }
    let mut path = database.as_os_str().to_owned();
    path.push("-migrate.lock");
    let lock = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::create(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| StoreError::Unavailable(format!("migration lock: {e}")))?
    .map_err(|e| StoreError::Unavailable(format!("migration lock: {e}")))?;
    Ok(Some(lock))
}

impl SqliteStore {
    /// Takes the write lock at once, so another process sharing the file makes a write
    /// transaction wait (busy timeout) rather than fail halfway.
    pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
    /// SQLite has no row locks; `BEGIN_WRITE` already keeps other writers out.
    const LOCK_ROWS: &str = "";

    /// Opens (creating if needed) the database file and runs the embedded migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        Self::with_options(durable(SqliteConnectOptions::new().filename(path))).await
    }

    /// Opens a `sqlite:` URL, e.g. `sqlite:///var/lib/credvault/credvault.db`.
    pub async fn open_url(url: &str) -> Result<SqliteStore> {
        Self::with_options(durable(
            SqliteConnectOptions::from_str(url).map_err(db_error)?,
        ))
        .await
    }

    async fn with_options(options: SqliteConnectOptions) -> Result<SqliteStore> {
        let writer = pool(&options, 1).await?;
        // sqlx takes no lock around SQLite migrations, so processes starting together on a new
        // file would each try to create the schema; an advisory lock on a file beside the
        // database makes them take turns (not the database file itself: closing another
        // descriptor of it would drop SQLite's own POSIX locks).
        let lock = migration_lock(options.get_filename()).await?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
        drop(lock);
        let reader = pool(&options, 4).await?;
        let creates = group_commit::start(writer.clone());
        Ok(SqliteStore {
            inline: inline_read::InlineReader::new(options.get_filename()),
            reader,
            writer,
            creates,
        })
    }
}

impl_store!(SqliteStore, SqliteRow, {
    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    async fn create_credential(&self, credential: NewCredential) -> Result<Credential> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let stopped = || StoreError::Unavailable("the database writer has stopped".into());
        self.creates
            .send(group_commit::Job { credential, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    async fn mint_context(&self, key_hash: &[u8], id: i64) -> Result<Option<MintContext>> {
        match self.inline.mint_context(key_hash, id) {
            Err(StoreError::Unavailable(e)) => {
                tracing::debug!(error = %e, "inline read failed; using the pool");
            }
            done => return done,
        }
        let row = sqlx::query(inline_read::MINT_CONTEXT_SQL)
            .bind(key_hash)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(mint_context_from_row).transpose()
    }

    async fn mark_used(&self, ids: &[i64], at: Millis) -> Result<()> {
        sqlx::query(
            "UPDATE credentials SET last_used_at = ?1 \
             WHERE id IN (SELECT value FROM json_each(?2))",
        )
        .bind(at)
        .bind(json_text(ids))
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }
});
