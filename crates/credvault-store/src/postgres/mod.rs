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
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection, Postgres, Transaction};

use credvault_core::audit::{AuditEntry, AuditRecord};
use credvault_core::model::{Channel, Mode, Role};

use crate::audit::{self, AuditFilter, AuditHead, AuditSink, AuditStream};
use crate::columns::Columns;
use crate::queries as q;
use crate::rows::{self, now, store_error, BindCredential};
use crate::{
    ApiKey, Conflict, Credential, CredentialFilter, CredentialView, Deactivation, Folder, Millis,
    MintContext, NewCredential, NewFolder, NewUser, Page, PageRequest, Result, Store, StoreError,
    Team, User,
};
use crate::{
    DeliveryOutcome, Notification, NotificationPlan, Recipient, Reseal, ResealBatch, RetiredKey,
    MAX_RETIRED_KEYS,
};

pub struct PgStore {
    pool: PgPool,
    audit: AuditStream,
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

const MINT_CONTEXT_SQL: &str = "SELECT k.key_hash, u.id AS caller_id, \
       u.admin AS caller_admin, \
       COALESCE((SELECT json_agg(json_build_array(m.team_id, t.slug, m.role))::TEXT \
        FROM memberships m JOIN teams t ON t.id = m.team_id \
        WHERE m.user_id = u.id), '[]') AS caller_teams, \
       c.* \
     FROM api_keys k JOIN users u ON u.id = k.user_id \
     JOIN credentials c ON c.id = $2 AND c.live_id IS NULL \
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.is_active";

/// The active admins, their rows locked until the transaction ends, so that two admins
/// deactivating each other take turns and the second sees the first's change.
const ACTIVE_ADMINS_LOCKED: &str =
    "SELECT id FROM users WHERE admin AND is_active ORDER BY id FOR UPDATE";

const MARK_USED: &str = "UPDATE credentials SET last_used_at = $1 WHERE id = ANY($2)";

/// The batch's rows locked until the commit; rows another instance's batch holds are skipped,
/// so instances re-sealing at once share the work instead of queueing on each other.
static OLD_TERM_SECRETS_LOCKED: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{} FOR UPDATE SKIP LOCKED", q::OLD_TERM_SECRETS));

impl PgStore {
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
            pool,
            audit: AuditStream::default(),
        })
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db_error)
    }

    /// [`AuditStream::commit`] on this store.
    async fn commit_with(
        &self,
        tx: Transaction<'static, Postgres>,
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

/// The audit list's filters; empty arrays switch theirs off.
const AUDIT_WHERE: &str = "WHERE ($1::BIGINT IS NULL OR created_at < $1) \
     AND ($2::BIGINT IS NULL OR created_at > $2) \
     AND (cardinality($3::BIGINT[]) = 0 OR user_id = ANY($3)) \
     AND (cardinality($4::TEXT[]) = 0 OR operation_name = ANY($4))";

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query(q::PING)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar(q::GET_META)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn insert_meta(&self, key: &str, value: &[u8]) -> Result<bool> {
        let done = sqlx::query(q::INSERT_META)
            .bind(key)
            .bind(value)
            .execute(&self.pool)
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
            .fetch_one(&self.pool)
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
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn list_users(&self, page: PageRequest) -> Result<Page<User>> {
        let found = sqlx::query(q::LIST_USERS)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.pool)
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
            .execute(&self.pool)
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
        let mut tx = self.begin().await?;
        let admins: Vec<i64> = sqlx::query_scalar(ACTIVE_ADMINS_LOCKED)
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
            .fetch_optional(&self.pool)
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
            .fetch_optional(&self.pool)
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
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::team_with_role).transpose()
    }

    async fn get_team_by_slug(&self, slug: &str) -> Result<Option<Team>> {
        let row = sqlx::query(q::GET_TEAM_BY_SLUG)
            .bind(slug)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::team).transpose()
    }

    async fn list_teams(&self, member: Option<i64>, page: PageRequest) -> Result<Page<Team>> {
        let (found, total): (Vec<PgRow>, i64) = if let Some(user_id) = member {
            let found = sqlx::query(q::LIST_MEMBER_TEAMS)
                .bind(user_id)
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(&self.pool);
            let total = sqlx::query_scalar(q::COUNT_MEMBER_TEAMS)
                .bind(user_id)
                .fetch_one(&self.pool);
            (
                found.await.map_err(db_error)?,
                total.await.map_err(db_error)?,
            )
        } else {
            let found = sqlx::query(q::LIST_TEAMS)
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(&self.pool);
            let total = sqlx::query_scalar(q::COUNT_TEAMS).fetch_one(&self.pool);
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
            .fetch_optional(&self.pool)
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
            .fetch_optional(&self.pool)
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
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let total: i64 = sqlx::query_scalar(q::COUNT_FOLDERS.as_str())
            .bind(team_id)
            .bind(member)
            .fetch_one(&self.pool)
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
        let at = now();
        let mut tx = self.begin().await?;
        let insert = sqlx::query(q::INSERT_CREDENTIAL.as_str());
        let id = insert
            .bind_new(&credential, at)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?
            .int("id")?;
        self.commit_with(tx, vec![audit.with_subject("credential_id", id)])
            .await?;
        Ok(credential.into_stored(id, at))
    }

    async fn get_credential_by_issuer(&self, issuer_id: &str) -> Result<Option<Credential>> {
        let row = sqlx::query(q::GET_CREDENTIAL_BY_ISSUER)
            .bind(issuer_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::credential).transpose()
    }

    async fn get_credential_view(&self, id: i64) -> Result<Option<CredentialView>> {
        let row = sqlx::query(q::GET_CREDENTIAL_VIEW.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
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
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let total: i64 = sqlx::query_scalar(q::COUNT_CREDENTIALS.as_str())
            .bind(filter.member)
            .bind(filter.team_id)
            .bind(filter.folder_id)
            .bind(filter.restricted)
            .bind(filter.unused)
            .fetch_one(&self.pool)
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
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        found.iter().map(rows::credential).collect()
    }

    async fn set_key_id(&self, id: i64, key_id: &str) -> Result<bool> {
        let done = sqlx::query(q::SET_KEY_ID)
            .bind(key_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn due_rotations(&self, now: Millis, limit: i64) -> Result<Vec<i64>> {
        sqlx::query_scalar(q::DUE_ROTATIONS)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
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
            .fetch_all(&self.pool)
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
        let row = sqlx::query(MINT_CONTEXT_SQL)
            .bind(key_hash)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::mint_context).transpose()
    }

    async fn mark_used(&self, ids: &[i64], at: Millis) -> Result<()> {
        sqlx::query(MARK_USED)
            .bind(at)
            .bind(ids)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn count_credentials_by_mode(&self) -> Result<Vec<(Mode, i64)>> {
        let found = sqlx::query(q::COUNT_CREDENTIALS_BY_MODE)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        found.iter().map(rows::mode_count).collect()
    }

    async fn get_test_credential(&self, live_id: i64) -> Result<Option<Credential>> {
        let row = sqlx::query(q::GET_TEST_CREDENTIAL)
            .bind(live_id)
            .fetch_optional(&self.pool)
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
            .fetch_all(&self.pool)
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
        let mut tx = self.begin().await?;
        let batch = rows::reseal_batch::<Postgres>(
            &mut tx,
            OLD_TERM_SECRETS_LOCKED.as_str(),
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
        let found = sqlx::query(AUDIT_LIST.as_str())
            .bind(filter.before)
            .bind(filter.after)
            .bind(&filter.user_ids)
            .bind(&filter.operation_names)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let total: i64 = sqlx::query_scalar(AUDIT_COUNT.as_str())
            .bind(filter.before)
            .bind(filter.after)
            .bind(&filter.user_ids)
            .bind(&filter.operation_names)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        let items = found.iter().map(audit::entry).collect::<Result<_>>()?;
        Ok(Page { items, total })
    }

    async fn audit_chain(&self, after_id: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let found = sqlx::query(audit::CHAIN)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        found.iter().map(audit::entry).collect()
    }

    async fn audit_head(&self) -> Result<AuditHead> {
        let row = sqlx::query(audit::GET_HEAD)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        audit::head(&row)
    }

    async fn get_credential_row(&self, id: i64) -> Result<Option<Credential>> {
        let row = sqlx::query(q::GET_CREDENTIAL_ROW)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::credential).transpose()
    }

    async fn due_notifications(&self, now: Millis, limit: i64) -> Result<Vec<Credential>> {
        let found = sqlx::query(q::DUE_NOTIFICATIONS)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
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
            for row in query.fetch_all(&self.pool).await.map_err(db_error)? {
                found.push(rows::recipient(&row)?);
            }
        }
        Ok(rows::in_given_order(user_ids, found))
    }

    async fn plan_notifications(&self, plans: &[NotificationPlan]) -> Result<Vec<i64>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let mut written = Vec::new();
        for plan in rows::in_lock_order(plans) {
            if rows::write_plan::<sqlx::Postgres>(&mut tx, plan)
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
            .execute(&self.pool)
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
            .fetch_all(&self.pool)
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
            .fetch_optional(&self.pool)
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
            .execute(&self.pool)
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
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let total: i64 = sqlx::query_scalar(q::COUNT_NOTIFICATIONS.as_str())
            .bind(live_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        let items = found
            .iter()
            .map(rows::notification)
            .collect::<Result<_>>()?;
        Ok(Page { items, total })
    }
}
