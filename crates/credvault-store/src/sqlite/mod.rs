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

use crate::rows::{json_text, memberships, now, INSERT_COLUMNS, VIEW_SELECT};
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
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let msg = db.message();
            let which = if msg.contains("users.email") {
                Conflict::UserEmail
            } else if msg.contains("teams.slug") {
                Conflict::TeamSlug
            } else if msg.contains("credentials.live_id") {
                Conflict::TestCredential
            } else if msg.contains("credentials.slug") {
                Conflict::CredentialSlug
            } else {
                Conflict::Other
            };
            StoreError::Conflict(which)
        }
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Unavailable(e.to_string()),
    }
}

row_mappers!(SqliteRow, sqlx::Sqlite);

mod inline_read;

/// One row's placeholders for [`INSERT_COLUMNS`].
const INSERT_PLACEHOLDERS: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

fn bind_new_credential<'q>(
    query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    c: NewCredential,
    at: Millis,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    bind_credential_values!(query, c, at)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and runs the embedded migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        Self::with_options(options).await
    }

    /// Opens a `sqlite:` URL, e.g. `sqlite:///var/lib/credvault/credvault.db`.
    pub async fn open_url(url: &str) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(db_error)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        Self::with_options(options).await
    }

    async fn with_options(options: SqliteConnectOptions) -> Result<SqliteStore> {
        // No pings before handing out a connection: an embedded file cannot go stale like a
        // network connection, and each ping is a round trip to the connection's worker thread.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(db_error)?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(db_error)?;
        let creates = group_commit::start(writer.clone());
        Ok(SqliteStore {
            inline: inline_read::InlineReader::new(options.get_filename()),
            reader,
            writer,
            creates,
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)
    }

    async fn insert_meta(&self, key: &str, value: &[u8]) -> Result<bool> {
        let done =
            sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING")
                .bind(key)
                .bind(value)
                .execute(&self.writer)
                .await
                .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn count_users(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.reader)
            .await
            .map_err(db_error)
    }

    async fn create_user(&self, user: NewUser) -> Result<User> {
        let at = now();
        let row = sqlx::query(
            "INSERT INTO users (email, first_name, last_name, admin, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(user.email)
        .bind(user.first_name)
        .bind(user.last_name)
        .bind(user.admin)
        .bind(at)
        .bind(at)
        .fetch_one(&self.writer)
        .await
        .map_err(db_error)?;
        user_from_row(&row)
    }

    async fn get_user(&self, id: i64) -> Result<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self, page: PageRequest) -> Result<Page<User>> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY id LIMIT ? OFFSET ?")
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        let total = self.count_users().await?;
        Ok(Page {
            items: rows.iter().map(user_from_row).collect::<Result<_>>()?,
            total,
        })
    }

    async fn touch_user(&self, id: i64, at: Millis) -> Result<()> {
        sqlx::query("UPDATE users SET last_seen = ? WHERE id = ?")
            .bind(at)
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn create_api_key(&self, user_id: i64, name: &str, key_hash: &[u8]) -> Result<ApiKey> {
        let at = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_keys (user_id, name, key_hash, created_at) VALUES (?, ?, ?, ?) \
             RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(key_hash)
        .bind(at)
        .fetch_one(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(ApiKey {
            id,
            user_id,
            name: name.to_string(),
            created_at: at,
        })
    }

    async fn find_api_key(&self, key_hash: &[u8]) -> Result<Option<(Vec<u8>, User)>> {
        let row = sqlx::query(
            "SELECT k.key_hash, u.* FROM api_keys k JOIN users u ON u.id = k.user_id \
             WHERE k.key_hash = ? AND k.revoked_at IS NULL AND u.is_active = 1",
        )
        .bind(key_hash)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        match row {
            Some(row) => Ok(Some((col(&row, "key_hash")?, user_from_row(&row)?))),
            None => Ok(None),
        }
    }

    async fn revoke_api_key(&self, user_id: i64, key_id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(key_id)
        .bind(user_id)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_team(&self, name: &str, slug: &str) -> Result<Team> {
        let row =
            sqlx::query("INSERT INTO teams (name, slug, created_at) VALUES (?, ?, ?) RETURNING *")
                .bind(name)
                .bind(slug)
                .bind(now())
                .fetch_one(&self.writer)
                .await
                .map_err(db_error)?;
        team_from_row(&row)
    }

    async fn get_team(&self, id: i64) -> Result<Option<Team>> {
        let row = sqlx::query("SELECT * FROM teams WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(team_from_row).transpose()
    }

    async fn get_team_with_role(
        &self,
        team_id: i64,
        user_id: i64,
    ) -> Result<Option<(Team, Option<String>)>> {
        let row = sqlx::query(
            "SELECT t.*, m.role FROM teams t \
             LEFT JOIN memberships m ON m.team_id = t.id AND m.user_id = ? WHERE t.id = ?",
        )
        .bind(user_id)
        .bind(team_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        match row {
            Some(row) => Ok(Some((team_from_row(&row)?, col(&row, "role")?))),
            None => Ok(None),
        }
    }

    async fn get_team_by_slug(&self, slug: &str) -> Result<Option<Team>> {
        let row = sqlx::query("SELECT * FROM teams WHERE slug = ?")
            .bind(slug)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(team_from_row).transpose()
    }

    async fn list_teams(&self, member: Option<i64>, page: PageRequest) -> Result<Page<Team>> {
        let (rows, total): (Vec<SqliteRow>, i64) = match member {
            None => (
                sqlx::query("SELECT * FROM teams ORDER BY id LIMIT ? OFFSET ?")
                    .bind(page.limit)
                    .bind(page.offset)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_error)?,
                sqlx::query_scalar("SELECT COUNT(*) FROM teams")
                    .fetch_one(&self.reader)
                    .await
                    .map_err(db_error)?,
            ),
            Some(user_id) => (
                sqlx::query(
                    "SELECT t.* FROM teams t JOIN memberships m ON m.team_id = t.id \
                     WHERE m.user_id = ? ORDER BY t.id LIMIT ? OFFSET ?",
                )
                .bind(user_id)
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(&self.reader)
                .await
                .map_err(db_error)?,
                sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE user_id = ?")
                    .bind(user_id)
                    .fetch_one(&self.reader)
                    .await
                    .map_err(db_error)?,
            ),
        };
        Ok(Page {
            items: rows.iter().map(team_from_row).collect::<Result<_>>()?,
            total,
        })
    }

    async fn set_membership(&self, team_id: i64, user_id: i64, role: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO memberships (team_id, user_id, role) VALUES (?, ?, ?) \
             ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(team_id)
        .bind(user_id)
        .bind(role)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_membership(&self, team_id: i64, user_id: i64) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT role FROM memberships WHERE team_id = ? AND user_id = ?")
            .bind(team_id)
            .bind(user_id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)
    }

    async fn create_folder(&self, folder: NewFolder) -> Result<Folder> {
        let row = sqlx::query(
            "INSERT INTO folders (team_id, name, content_type, parent_folder_id, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING *, 0 AS size",
        )
        .bind(folder.team_id)
        .bind(folder.name)
        .bind(folder.content_type)
        .bind(folder.parent_folder_id)
        .bind(now())
        .fetch_one(&self.writer)
        .await
        .map_err(db_error)?;
        folder_from_row(&row)
    }

    async fn get_folder(&self, id: i64) -> Result<Option<Folder>> {
        let row = sqlx::query(
            "SELECT f.*, (SELECT COUNT(*) FROM credentials c \
                          WHERE c.folder_id = f.id AND c.live_id IS NULL) AS size \
             FROM folders f WHERE f.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        row.as_ref().map(folder_from_row).transpose()
    }

    async fn list_folders(
        &self,
        team_id: Option<i64>,
        member: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<Folder>> {
        // NULL parameters switch a filter off, keeping this one static statement.
        const FILTER: &str = "(?1 IS NULL OR f.team_id = ?1) AND (?2 IS NULL OR f.team_id IN \
             (SELECT team_id FROM memberships WHERE user_id = ?2))";
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT f.*, (SELECT COUNT(*) FROM credentials c \
                          WHERE c.folder_id = f.id AND c.live_id IS NULL) AS size \
             FROM folders f WHERE {FILTER} ORDER BY f.id LIMIT ?3 OFFSET ?4"
        )))
        .bind(team_id)
        .bind(member)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM folders f WHERE {FILTER}"
        )))
        .bind(team_id)
        .bind(member)
        .fetch_one(&self.reader)
        .await
        .map_err(db_error)?;
        Ok(Page {
            items: rows.iter().map(folder_from_row).collect::<Result<_>>()?,
            total,
        })
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

    async fn get_credential_view(&self, id: i64) -> Result<Option<CredentialView>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{VIEW_SELECT} WHERE c.id = ? AND c.live_id IS NULL"
        )))
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        row.as_ref().map(view_from_row).transpose()
    }

    async fn list_credentials(
        &self,
        filter: CredentialFilter,
        page: PageRequest,
    ) -> Result<Page<CredentialView>> {
        // NULL parameters switch a filter off, keeping one static statement per query.
        const WHERE: &str = "WHERE c.live_id IS NULL \
             AND (?1 IS NULL OR c.team_id IN (SELECT team_id FROM memberships WHERE user_id = ?1)) \
             AND (?2 IS NULL OR c.team_id = ?2) \
             AND (?3 IS NULL OR c.folder_id = ?3) \
             AND (?4 IS NULL OR (c.allowed_hosts <> '[]') = ?4) \
             AND (?5 = 0 OR c.last_used_at IS NULL)";
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{VIEW_SELECT} {WHERE} ORDER BY c.id LIMIT ?6 OFFSET ?7"
        )))
        .bind(filter.member)
        .bind(filter.team_id)
        .bind(filter.folder_id)
        .bind(filter.restricted)
        .bind(filter.unused)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM credentials c {WHERE}"
        )))
        .bind(filter.member)
        .bind(filter.team_id)
        .bind(filter.folder_id)
        .bind(filter.restricted)
        .bind(filter.unused)
        .fetch_one(&self.reader)
        .await
        .map_err(db_error)?;
        Ok(Page {
            items: rows.iter().map(view_from_row).collect::<Result<_>>()?,
            total,
        })
    }

    async fn update_credential(&self, c: &Credential) -> Result<Option<Credential>> {
        let row = sqlx::query(
            "UPDATE credentials SET name = ?, slug = ?, folder_id = ?, read_access = ?, \
             shared_team_slugs = ?, description = ?, metadata = ?, allowed_hosts = ?, \
             expires_at = ?, expiry_notifications_enabled = ?, notification_recipient_ids = ?, \
             config = ?, secret = ?, test_credential_enabled = ?, \
             version = version + 1, updated_at = ? \
             WHERE id = ? AND version = ? RETURNING *",
        )
        .bind(&c.name)
        .bind(&c.slug)
        .bind(c.folder_id)
        .bind(&c.read_access)
        .bind(json_text(&c.shared_team_slugs))
        .bind(&c.description)
        .bind(json_text(&c.metadata))
        .bind(json_text(&c.allowed_hosts))
        .bind(c.expires_at)
        .bind(c.expiry_notifications_enabled)
        .bind(json_text(&c.notification_recipient_ids))
        .bind(json_text(&c.config))
        .bind(&c.secret)
        .bind(c.test_credential_enabled)
        .bind(now())
        .bind(c.id)
        .bind(c.version)
        .fetch_optional(&self.writer)
        .await
        .map_err(db_error)?;
        row.as_ref().map(credential_from_row).transpose()
    }

    async fn delete_credential(&self, id: i64) -> Result<bool> {
        // The test credential goes with it (ON DELETE CASCADE).
        let done = sqlx::query("DELETE FROM credentials WHERE id = ? AND live_id IS NULL")
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
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
        let Some(row) = row else { return Ok(None) };
        let teams: Vec<(i64, String, String)> = json_col(&row, "caller_teams")?;
        Ok(Some(MintContext {
            key_hash: col(&row, "key_hash")?,
            caller_id: col(&row, "caller_id")?,
            caller_admin: col(&row, "caller_admin")?,
            memberships: memberships(teams),
            credential: credential_from_row(&row)?,
        }))
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

    async fn count_credentials_by_mode(&self) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT mode, COUNT(*) FROM credentials WHERE live_id IS NULL GROUP BY mode ORDER BY mode",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)
    }

    async fn get_test_credential(&self, live_id: i64) -> Result<Option<Credential>> {
        let row = sqlx::query("SELECT * FROM credentials WHERE live_id = ?")
            .bind(live_id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(credential_from_row).transpose()
    }

    async fn attach_test_credential(&self, credential: NewCredential) -> Result<Credential> {
        let live_id = credential.live_id;
        let at = now();
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)?;
        let sql = format!(
            "INSERT INTO credentials ({INSERT_COLUMNS}) VALUES {INSERT_PLACEHOLDERS} RETURNING *"
        );
        let row = bind_new_credential(sqlx::query(sqlx::AssertSqlSafe(sql)), credential, at)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query(
            "UPDATE credentials SET test_credential_enabled = 1, version = version + 1, \
             updated_at = ? WHERE id = ?",
        )
        .bind(at)
        .bind(live_id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        credential_from_row(&row)
    }
}
