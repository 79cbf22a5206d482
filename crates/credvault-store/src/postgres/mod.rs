//! PostgreSQL, for several stateless instances sharing one database.
//!
//! The same tables and unique rules as the SQLite schema (see `migrations/postgres`), so the
//! two backends answer identically; uniqueness is enforced by the database's indexes, which is
//! what makes racing creates on different instances give one winner. Every acknowledged write
//! is a committed transaction (PostgreSQL's default `synchronous_commit = on`).
//!
//! Pooled connections idle for a while are checked before use, so after the server restarts
//! broken ones are replaced; a short acquire timeout turns an unreachable server into a prompt
//! error (503) rather than a hung request.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection, Row};

use crate::rows::{json_text, memberships, now, store_error, INSERT_ONE, VIEW_SELECT};
use crate::*;

pub struct PgStore {
    // One pool under two names, for the statements shared with SQLite (see `sql.rs`).
    reader: PgPool,
    writer: PgPool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A pooled connection idle longer than this is pinged before use, so one broken while idle
/// (a database restart) is replaced instead of failing a request.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// How long a request waits for a connection before answering 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

fn db_error(e: sqlx::Error) -> StoreError {
    store_error(e, |db| match db.constraint() {
        Some("users_email_key") => Conflict::UserEmail,
        Some("teams_slug_key") => Conflict::TeamSlug,
        Some("credentials_live_id_key") => Conflict::TestCredential,
        Some("credentials_team_slug_key") => Conflict::CredentialSlug,
        _ => Conflict::Other,
    })
}

row_mappers!(PgRow, sqlx::Postgres);

const MINT_CONTEXT_SQL: &str = "SELECT k.key_hash, u.id AS caller_id, \
       u.admin AS caller_admin, \
       COALESCE((SELECT json_agg(json_build_array(m.team_id, t.slug, m.role))::TEXT \
        FROM memberships m JOIN teams t ON t.id = m.team_id \
        WHERE m.user_id = u.id), '[]') AS caller_teams, \
       c.* \
     FROM api_keys k JOIN users u ON u.id = k.user_id \
     JOIN credentials c ON c.id = $2 AND c.live_id IS NULL \
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.is_active";

fn bind_new_credential<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    c: &'q NewCredential,
    at: Millis,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    bind_credential_values!(query, c, at)
}

impl PgStore {
    const BEGIN_WRITE: &str = "BEGIN";
    /// Appended to a SELECT in a write transaction to lock the rows it reads.
    const LOCK_ROWS: &str = " FOR UPDATE";

    /// Connects to a `postgres://` URL with at most `pool_size` connections and runs the
    /// embedded migrations (concurrent starts are safe: the migrator takes an advisory lock).
    pub async fn open(url: &str, pool_size: u32) -> Result<PgStore> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?;
        // One direct connection first: its error says why (refused, authentication, no such
        // database), where a pool would only report a timeout.
        let where_ = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or("")
        );
        let conn = options.connect().await.map_err(|e| {
            StoreError::Unavailable(format!("cannot connect to PostgreSQL at {where_}: {e}"))
        })?;
        conn.close().await.ok();
        let pool = PgPoolOptions::new()
            .max_connections(pool_size.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A ping before every use costs a round trip per query (a fifth of the mint rate);
            // a connection busy a moment ago is alive, so only one idle for a while is checked.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(db_error)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
        Ok(PgStore {
            reader: pool.clone(),
            writer: pool,
        })
    }
}

impl_store!(PgStore, PgRow, {
    async fn close(&self) {
        self.writer.close().await;
    }

    async fn create_credential(&self, credential: NewCredential) -> Result<Credential> {
        let at = now();
        let insert = sqlx::query(sqlx::AssertSqlSafe(INSERT_ONE.as_str()));
        let row = bind_new_credential(insert, &credential, at)
            .fetch_one(&self.writer)
            .await
            .map_err(db_error)?;
        let id = col(&row, "id")?;
        Ok(credential.into_stored(id, at))
    }

    async fn mint_context(&self, key_hash: &[u8], id: i64) -> Result<Option<MintContext>> {
        let row = sqlx::query(MINT_CONTEXT_SQL)
            .bind(key_hash)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(mint_context_from_row).transpose()
    }

    async fn mark_used(&self, ids: &[i64], at: Millis) -> Result<()> {
        sqlx::query(
            "UPDATE credentials SET last_used_at = $1 \
             WHERE id = ANY($2)",
        )
        .bind(at)
        .bind(ids)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }
});
