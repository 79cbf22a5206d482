//! The embedded default: one SQLite file in WAL mode.
//!
//! Writes go through a pool of exactly one connection, so concurrent writers queue inside the
//! process instead of spinning in SQLite's busy handler; reads use a separate pool and never
//! wait for writers (WAL). `synchronous=FULL` makes every acknowledged write durable on disk.
//! Multi-statement writes start with `BEGIN IMMEDIATE`, so another process sharing the file
//! makes them wait (busy timeout) rather than fail halfway.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use credvault_core::audit::{AuditEntry, AuditRecord};
use credvault_core::model::{Channel, Mode, Role};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::audit::{self, AuditFilter, AuditHead, AuditSink, AuditStream};
use crate::columns::Columns;
use crate::queries::{self as q, INSERT_COLUMNS};
use crate::rows::{self, json_text, now, store_error, BindCredential};
use crate::{
    ApiKey, Conflict, Credential, CredentialFilter, CredentialView, Deactivation, Folder, Millis,
    MintContext, NewCredential, NewFolder, NewUser, Page, PageRequest, Result, Store, StoreError,
    Team, User,
};
use crate::{
    DeliveryOutcome, Notification, NotificationPlan, Recipient, Reseal, ResealBatch, RetiredKey,
    MAX_RETIRED_KEYS,
};

mod group_commit;

pub struct SqliteStore {
    reader: SqlitePool,
    inline: inline_read::InlineReader,
    writer: SqlitePool,
    creates: tokio::sync::mpsc::Sender<group_commit::Job>,
    audit: AuditStream,
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

mod inline_read;

/// One row's placeholders for [`INSERT_COLUMNS`], for the batched insert of several rows.
static INSERT_PLACEHOLDERS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let columns = INSERT_COLUMNS.split(',').count();
    format!("({})", vec!["?"; columns].join(", "))
});

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

    /// Writes a consistent snapshot of the database to `path` (which must not exist) while
    /// other connections and processes keep reading and writing: `VACUUM INTO` reads one
    /// transaction's view, so every write committed before it started is in the snapshot.
    pub async fn backup_to(&self, path: &Path) -> Result<()> {
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Unavailable("the backup path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.reader)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Checks that the SQLite file at `path` is a whole, uncorrupted database
    /// (`PRAGMA integrity_check`), reading it without changing it.
    pub async fn check_file(path: &Path) -> Result<()> {
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(db_error)?;
        let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .map_err(db_error)?;
        pool.close().await;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(format!("integrity check: {verdict}")))
        }
    }

    async fn with_options(options: SqliteConnectOptions) -> Result<SqliteStore> {
        // sqlx takes no lock around SQLite migrations, so processes starting together on a new
        // file would each try to create the schema; an advisory lock on a file beside the
        // database makes them take turns (not the database file itself: closing another
        // descriptor of it would drop SQLite's own POSIX locks). It is taken before the first
        // connection too: switching a new file to WAL while another process writes it can
        // fail at once with "database is locked", without waiting.
        let lock = migration_lock(options.get_filename()).await?;
        let writer = pool(&options, 1).await?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
        drop(lock);
        let reader = pool(&options, 4).await?;
        let audit = AuditStream::default();
        let creates = group_commit::start(writer.clone(), audit.clone());
        Ok(SqliteStore {
            inline: inline_read::InlineReader::new(options.get_filename()),
            reader,
            writer,
            creates,
            audit,
        })
    }

    async fn begin(&self) -> Result<Transaction<'static, Sqlite>> {
        self.writer
            .begin_with(Self::BEGIN_WRITE)
            .await
            .map_err(db_error)
    }

    /// [`AuditStream::commit`] on this store.
    async fn commit_with(
        &self,
        tx: Transaction<'static, Sqlite>,
        records: Vec<AuditRecord>,
    ) -> Result<()> {
        self.audit.commit(tx, records, db_error).await
    }
}

static AUDIT_LIST: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("SELECT * FROM audit_logs {AUDIT_WHERE} ORDER BY id DESC LIMIT $5 OFFSET $6")
});
static AUDIT_COUNT: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT COUNT(*) FROM audit_logs {AUDIT_WHERE}"));

/// The audit list's filters: JSON arrays of user ids and operation names, empty for all.
const AUDIT_WHERE: &str = "WHERE ($1 IS NULL OR created_at < $1) \
     AND ($2 IS NULL OR created_at > $2) \
     AND ($3 = '[]' OR user_id IN (SELECT value FROM json_each($3))) \
     AND ($4 = '[]' OR operation_name IN (SELECT value FROM json_each($4)))";

/// Marks credentials used; the ids arrive as one JSON array.
const MARK_USED: &str =
    "UPDATE credentials SET last_used_at = $1 WHERE id IN (SELECT value FROM json_each($2))";

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query(q::PING)
            .execute(&self.reader)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar(q::GET_META)
            .bind(key)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)
    }

    async fn insert_meta(&self, key: &str, value: &[u8]) -> Result<bool> {
        let done = sqlx::query(q::INSERT_META)
            .bind(key)
            .bind(value)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn replace_meta(
        &self,
        key: &str,
        expected: &[u8],
        value: &[u8],
        audit: AuditRecord,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(q::REPLACE_META)
            .bind(value)
            .bind(key)
            .bind(expected)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.commit_with(tx, vec![audit]).await?;
        Ok(true)
    }

    async fn count_users(&self) -> Result<i64> {
        sqlx::query_scalar(q::COUNT_USERS)
            .fetch_one(&self.reader)
            .await
            .map_err(db_error)
    }

    async fn create_user(&self, user: NewUser, audit: AuditRecord) -> Result<User> {
        let at = now();
        let mut tx = self.begin().await?;
        let row = sqlx::query(q::INSERT_USER)
            .bind(user.email)
            .bind(user.first_name)
            .bind(user.last_name)
            .bind(user.admin)
            .bind(at)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let user = rows::user(&row)?;
        self.commit_with(tx, vec![audit.with_subject("user_id", user.id)])
            .await?;
        Ok(user)
    }

    async fn get_user(&self, id: i64) -> Result<Option<User>> {
        let row = sqlx::query(q::GET_USER)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn list_users(&self, page: PageRequest) -> Result<Page<User>> {
        let found = sqlx::query(q::LIST_USERS)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        let total = self.count_users().await?;
        let items = found.iter().map(rows::user).collect::<Result<_>>()?;
        Ok(Page { items, total })
    }

    async fn touch_user(&self, id: i64, at: Millis) -> Result<()> {
        sqlx::query(q::TOUCH_USER)
            .bind(at)
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn deactivate_user(
        &self,
        id: i64,
        at: Millis,
        audit: AuditRecord,
    ) -> Result<Deactivation> {
        // BEGIN IMMEDIATE keeps other writers out until the commit, so two admins
        // deactivating each other take turns and the second sees the first's change.
        let mut tx = self.begin().await?;
        let admins: Vec<i64> = sqlx::query_scalar(q::ACTIVE_ADMINS)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        let row = sqlx::query(q::GET_USER)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        let Some(user) = row.as_ref().map(rows::user).transpose()? else {
            return Ok(Deactivation::NotFound);
        };
        if !user.is_active {
            return Ok(Deactivation::Done(user));
        }
        if admins == [id] {
            return Ok(Deactivation::LastAdmin);
        }
        sqlx::query(q::DEACTIVATE_USER)
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        self.commit_with(tx, vec![audit]).await?;
        Ok(Deactivation::Done(user.deactivated(at)))
    }

    async fn create_api_key(
        &self,
        user_id: i64,
        name: &str,
        key_hash: &[u8],
        audit: AuditRecord,
    ) -> Result<ApiKey> {
        let at = now();
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(q::INSERT_API_KEY)
            .bind(user_id)
            .bind(name)
            .bind(key_hash)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        self.commit_with(tx, vec![audit.with_subject("api_key_id", id)])
            .await?;
        Ok(ApiKey::new(id, user_id, name, at))
    }

    async fn find_api_key(&self, key_hash: &[u8]) -> Result<Option<(Vec<u8>, User)>> {
        let row = sqlx::query(q::FIND_API_KEY)
            .bind(key_hash)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::key_and_user).transpose()
    }

    async fn revoke_api_key(&self, user_id: i64, key_id: i64, audit: AuditRecord) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(q::REVOKE_API_KEY)
            .bind(now())
            .bind(key_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.commit_with(tx, vec![audit]).await?;
        Ok(true)
    }

    async fn create_team(&self, name: &str, slug: &str, audit: AuditRecord) -> Result<Team> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(q::INSERT_TEAM)
            .bind(name)
            .bind(slug)
            .bind(now())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let team = rows::team(&row)?;
        self.commit_with(tx, vec![audit.with_subject("team_id", team.id)])
            .await?;
        Ok(team)
    }

    async fn get_team(&self, id: i64) -> Result<Option<Team>> {
        let row = sqlx::query(q::GET_TEAM)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::team).transpose()
    }

    async fn get_team_with_role(
        &self,
        team_id: i64,
        user_id: i64,
    ) -> Result<Option<(Team, Option<Role>)>> {
        let row = sqlx::query(q::GET_TEAM_WITH_ROLE)
            .bind(user_id)
            .bind(team_id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::team_with_role).transpose()
    }

    async fn get_team_by_slug(&self, slug: &str) -> Result<Option<Team>> {
        let row = sqlx::query(q::GET_TEAM_BY_SLUG)
            .bind(slug)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::team).transpose()
    }

    async fn list_teams(&self, member: Option<i64>, page: PageRequest) -> Result<Page<Team>> {
        let (found, total): (Vec<SqliteRow>, i64) = if let Some(user_id) = member {
            let found = sqlx::query(q::LIST_MEMBER_TEAMS)
                .bind(user_id)
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(&self.reader);
            let total = sqlx::query_scalar(q::COUNT_MEMBER_TEAMS)
                .bind(user_id)
                .fetch_one(&self.reader);
            (
                found.await.map_err(db_error)?,
                total.await.map_err(db_error)?,
            )
        } else {
            let found = sqlx::query(q::LIST_TEAMS)
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(&self.reader);
            let total = sqlx::query_scalar(q::COUNT_TEAMS).fetch_one(&self.reader);
            (
                found.await.map_err(db_error)?,
                total.await.map_err(db_error)?,
            )
        };
        let items = found.iter().map(rows::team).collect::<Result<_>>()?;
        Ok(Page { items, total })
    }

    async fn set_membership(
        &self,
        team_id: i64,
        user_id: i64,
        role: Role,
        audit: AuditRecord,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(q::SET_MEMBERSHIP)
            .bind(team_id)
            .bind(user_id)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        self.commit_with(tx, vec![audit]).await
    }

    async fn get_membership(&self, team_id: i64, user_id: i64) -> Result<Option<Role>> {
        let role: Option<String> = sqlx::query_scalar(q::GET_MEMBERSHIP)
            .bind(team_id)
            .bind(user_id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        role.as_deref().map(rows::role_named).transpose()
    }

    async fn remove_membership(
        &self,
        team_id: i64,
        user_id: i64,
        audit: AuditRecord,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(q::REMOVE_MEMBERSHIP)
            .bind(team_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.commit_with(tx, vec![audit]).await?;
        Ok(true)
    }

    async fn create_folder(&self, folder: NewFolder, audit: AuditRecord) -> Result<Folder> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(q::INSERT_FOLDER)
            .bind(folder.team_id)
            .bind(folder.name)
            .bind(folder.content_type)
            .bind(folder.parent_folder_id)
            .bind(now())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let folder = rows::folder(&row)?;
        self.commit_with(tx, vec![audit.with_subject("folder_id", folder.id)])
            .await?;
        Ok(folder)
    }

    async fn get_folder(&self, id: i64) -> Result<Option<Folder>> {
        let row = sqlx::query(q::GET_FOLDER.as_str())
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::folder).transpose()
    }

    async fn list_folders(
        &self,
        team_id: Option<i64>,
        member: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<Folder>> {
        let found = sqlx::query(q::LIST_FOLDERS.as_str())
            .bind(team_id)
            .bind(member)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        let total: i64 = sqlx::query_scalar(q::COUNT_FOLDERS.as_str())
            .bind(team_id)
            .bind(member)
            .fetch_one(&self.reader)
            .await
            .map_err(db_error)?;
        let items = found.iter().map(rows::folder).collect::<Result<_>>()?;
        Ok(Page { items, total })
    }

    async fn create_credential(
        &self,
        credential: NewCredential,
        audit: AuditRecord,
    ) -> Result<Credential> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let stopped = || StoreError::Unavailable("the database writer has stopped".into());
        self.creates
            .send(group_commit::Job {
                credential,
                audit,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    async fn get_credential_by_issuer(&self, issuer_id: &str) -> Result<Option<Credential>> {
        let row = sqlx::query(q::GET_CREDENTIAL_BY_ISSUER)
            .bind(issuer_id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::credential).transpose()
    }

    async fn get_credential_view(&self, id: i64) -> Result<Option<CredentialView>> {
        let row = sqlx::query(q::GET_CREDENTIAL_VIEW.as_str())
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::credential_view).transpose()
    }

    async fn list_credentials(
        &self,
        filter: CredentialFilter,
        page: PageRequest,
    ) -> Result<Page<CredentialView>> {
        let found = sqlx::query(q::LIST_CREDENTIALS.as_str())
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
        let total: i64 = sqlx::query_scalar(q::COUNT_CREDENTIALS.as_str())
            .bind(filter.member)
            .bind(filter.team_id)
            .bind(filter.folder_id)
            .bind(filter.restricted)
            .bind(filter.unused)
            .fetch_one(&self.reader)
            .await
            .map_err(db_error)?;
        let items = found
            .iter()
            .map(rows::credential_view)
            .collect::<Result<_>>()?;
        Ok(Page { items, total })
    }

    async fn update_credential(
        &self,
        c: &Credential,
        audit: AuditRecord,
    ) -> Result<Option<Credential>> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(q::UPDATE_CREDENTIAL)
            .bind_update(c, now())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        let Some(updated) = row.as_ref().map(rows::credential).transpose()? else {
            return Ok(None);
        };
        self.commit_with(tx, vec![audit]).await?;
        Ok(Some(updated))
    }

    async fn update_credential_retiring(
        &self,
        c: &Credential,
        retired: &RetiredKey,
        audit: AuditRecord,
    ) -> Result<Option<Credential>> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(q::UPDATE_CREDENTIAL)
            .bind_update(c, now())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        // No row: the credential changed meanwhile; dropping the transaction rolls it back.
        let Some(updated) = row.as_ref().map(rows::credential).transpose()? else {
            return Ok(None);
        };
        sqlx::query(q::FORGET_RETIRED_KEYS)
            .bind(c.id)
            .bind(retired.retired_at)
            .bind(MAX_RETIRED_KEYS - 1)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query(q::INSERT_RETIRED_KEY)
            .bind(c.id)
            .bind(retired.jwk.as_str())
            .bind(retired.retired_at)
            .bind(retired.published_until)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        self.commit_with(tx, vec![audit]).await?;
        Ok(Some(updated))
    }

    async fn jwt_without_key_id(&self, after_id: i64, limit: i64) -> Result<Vec<Credential>> {
        let found = sqlx::query(q::JWT_WITHOUT_KEY_ID)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        found.iter().map(rows::credential).collect()
    }

    async fn set_key_id(&self, id: i64, key_id: &str) -> Result<bool> {
        let done = sqlx::query(q::SET_KEY_ID)
            .bind(key_id)
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn due_rotations(&self, now: Millis, limit: i64) -> Result<Vec<i64>> {
        sqlx::query_scalar(q::DUE_ROTATIONS)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)
    }

    async fn published_retired_keys(
        &self,
        credential_id: i64,
        now: Millis,
    ) -> Result<Vec<RetiredKey>> {
        let found = sqlx::query(q::PUBLISHED_RETIRED_KEYS)
            .bind(credential_id)
            .bind(now)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        found.iter().map(rows::retired_key).collect()
    }

    async fn delete_credential(&self, id: i64, audit: AuditRecord) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(q::DELETE_CREDENTIAL)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.commit_with(tx, vec![audit]).await?;
        Ok(true)
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
        row.as_ref().map(rows::mint_context).transpose()
    }

    async fn mark_used(&self, ids: &[i64], at: Millis) -> Result<()> {
        sqlx::query(MARK_USED)
            .bind(at)
            .bind(json_text(ids))
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn count_credentials_by_mode(&self) -> Result<Vec<(Mode, i64)>> {
        let found = sqlx::query(q::COUNT_CREDENTIALS_BY_MODE)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        found.iter().map(rows::mode_count).collect()
    }

    async fn get_test_credential(&self, live_id: i64) -> Result<Option<Credential>> {
        let row = sqlx::query(q::GET_TEST_CREDENTIAL)
            .bind(live_id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::credential).transpose()
    }

    async fn attach_test_credential(
        &self,
        credential: NewCredential,
        audit: AuditRecord,
    ) -> Result<Credential> {
        let at = now();
        let mut tx = self.begin().await?;
        let insert = sqlx::query(q::INSERT_CREDENTIAL.as_str());
        let id: i64 = insert
            .bind_new(&credential, at)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?
            .int("id")?;
        sqlx::query(q::ENABLE_TEST_CREDENTIAL)
            .bind(at)
            .bind(credential.live_id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        self.commit_with(tx, vec![audit.with_subject("test_credential_id", id)])
            .await?;
        Ok(credential.into_stored(id, at))
    }

    async fn count_secrets_by_term(&self) -> Result<Vec<(u32, i64)>> {
        let found = sqlx::query(q::COUNT_SECRETS_BY_TERM)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        found.iter().map(rows::term_count).collect()
    }

    async fn reseal_secrets(
        &self,
        term: u32,
        after_id: i64,
        limit: i64,
        reseal: &Reseal,
    ) -> Result<ResealBatch> {
        // BEGIN IMMEDIATE: the batch holds the write lock, so no write of these rows can
        // come between their read and their re-sealing.
        let mut tx = self.begin().await?;
        let batch = rows::reseal_batch::<Sqlite>(
            &mut tx,
            q::OLD_TERM_SECRETS,
            (term, after_id, limit),
            reseal,
            db_error,
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(batch)
    }

    fn stream_audit_to(&self, sink: Arc<dyn AuditSink>) {
        self.audit.set(sink);
    }

    async fn append_audit(&self, records: Vec<AuditRecord>) -> Result<()> {
        let tx = self.begin().await?;
        self.commit_with(tx, records).await
    }

    async fn list_audit_logs(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let users = json_text(&filter.user_ids);
        let operations = json_text(&filter.operation_names);
        let found = sqlx::query(AUDIT_LIST.as_str())
            .bind(filter.before)
            .bind(filter.after)
            .bind(users.as_str())
            .bind(operations.as_str())
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        let total: i64 = sqlx::query_scalar(AUDIT_COUNT.as_str())
            .bind(filter.before)
            .bind(filter.after)
            .bind(users.as_str())
            .bind(operations.as_str())
            .fetch_one(&self.reader)
            .await
            .map_err(db_error)?;
        let items = found.iter().map(audit::entry).collect::<Result<_>>()?;
        Ok(Page { items, total })
    }

    async fn audit_chain(&self, after_id: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let found = sqlx::query(audit::CHAIN)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        found.iter().map(audit::entry).collect()
    }

    async fn audit_head(&self) -> Result<AuditHead> {
        let row = sqlx::query(audit::GET_HEAD)
            .fetch_one(&self.reader)
            .await
            .map_err(db_error)?;
        audit::head(&row)
    }

    async fn get_credential_row(&self, id: i64) -> Result<Option<Credential>> {
        let row = sqlx::query(q::GET_CREDENTIAL_ROW)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::credential).transpose()
    }

    async fn due_notifications(&self, now: Millis, limit: i64) -> Result<Vec<Credential>> {
        let found = sqlx::query(q::DUE_NOTIFICATIONS)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        found.iter().map(rows::credential).collect()
    }

    async fn notification_recipients(
        &self,
        team_id: i64,
        user_ids: &[i64],
    ) -> Result<Vec<Recipient>> {
        let mut found = Vec::new();
        for slots in rows::recipient_slots(user_ids) {
            let mut query = sqlx::query(q::NOTIFICATION_RECIPIENTS).bind(team_id);
            for id in slots {
                query = query.bind(id);
            }
            for row in query.fetch_all(&self.reader).await.map_err(db_error)? {
                found.push(rows::recipient(&row)?);
            }
        }
        Ok(rows::in_given_order(user_ids, found))
    }

    async fn plan_notifications(&self, plans: &[NotificationPlan]) -> Result<Vec<i64>> {
        let mut tx = self
            .writer
            .begin_with(Self::BEGIN_WRITE)
            .await
            .map_err(db_error)?;
        let mut written = Vec::new();
        for plan in rows::in_lock_order(plans) {
            if rows::write_plan::<sqlx::Sqlite>(&mut tx, plan)
                .await
                .map_err(db_error)?
            {
                written.push(plan.credential_id);
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(written)
    }

    async fn cancel_notifications(
        &self,
        credential_id: i64,
        keep_expires_at: Option<Millis>,
        reason: &str,
    ) -> Result<u64> {
        let done = sqlx::query(q::CANCEL_NOTIFICATIONS)
            .bind(credential_id)
            .bind(keep_expires_at)
            .bind(reason)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    async fn pending_notifications(
        &self,
        channels: &[Channel],
        now: Millis,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let (Some(first), Some(last)) = (channels.first(), channels.last()) else {
            return Ok(Vec::new());
        };
        let found = sqlx::query(q::PENDING_NOTIFICATIONS)
            .bind(now)
            .bind(first.as_str())
            .bind(last.as_str())
            .bind(limit)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        found.iter().map(rows::notification).collect()
    }

    async fn claim_notification(
        &self,
        id: i64,
        now: Millis,
        until: Millis,
    ) -> Result<Option<Notification>> {
        let row = sqlx::query(q::CLAIM_NOTIFICATION)
            .bind(until)
            .bind(id)
            .bind(now)
            .fetch_optional(&self.writer)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::notification).transpose()
    }

    async fn finish_notification(
        &self,
        id: i64,
        until: Millis,
        outcome: &DeliveryOutcome,
    ) -> Result<bool> {
        let done = sqlx::query(q::FINISH_NOTIFICATION)
            .bind(outcome.status.as_str())
            .bind(outcome.last_error.as_deref())
            .bind(outcome.next_attempt_at)
            .bind(outcome.sent_at)
            .bind(id)
            .bind(until)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_notifications(
        &self,
        live_id: i64,
        page: PageRequest,
    ) -> Result<Page<Notification>> {
        let found = sqlx::query(q::LIST_NOTIFICATIONS.as_str())
            .bind(live_id)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        let total: i64 = sqlx::query_scalar(q::COUNT_NOTIFICATIONS.as_str())
            .bind(live_id)
            .fetch_one(&self.reader)
            .await
            .map_err(db_error)?;
        let items = found
            .iter()
            .map(rows::notification)
            .collect::<Result<_>>()?;
        Ok(Page { items, total })
    }
}
