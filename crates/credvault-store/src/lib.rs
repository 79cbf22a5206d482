//! credvault's storage: the [`Store`] trait that the API works against, and its SQLite and
//! PostgreSQL implementations. The statements both dialects read alike are written once
//! (`queries.rs`), and so is the reading of rows (`rows.rs`, against the `columns.rs` trait);
//! each backend's module is one plain `impl Store` of short methods, plus what differs.
//!
//! The store is deliberately dumb: it keeps rows and enforces uniqueness, and never sees a
//! secret in plain text (secrets arrive sealed by the caller).

#![forbid(unsafe_code)]

use std::sync::Arc;

use async_trait::async_trait;
pub use credvault_core::audit::{AuditEntry, AuditRecord};
use credvault_core::model::{Channel, Mode, NotificationStatus, ReadAccess, Role};

mod audit;
mod columns;
mod json_text;
mod postgres;
mod queries;
mod rows;
mod sqlite;
pub use audit::{AuditFilter, AuditHead, AuditSink};
pub use json_text::JsonText;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule of the schema was hit.
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// The database cannot be reached or refused the operation for a reason of its own.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A row holds data this version cannot read.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The audit stream (API.md §8) could not take a change's entry, so the change was not
    /// made.
    #[error("the audit log cannot be written: {0}")]
    AuditUnavailable(String),
}

/// Which uniqueness rule a write hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    UserEmail,
    TeamSlug,
    CredentialSlug,
    TestCredential,
    Other,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub admin: bool,
    pub is_active: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub last_seen: Option<Millis>,
}

impl User {
    /// The user as [`Store::deactivate_user`] leaves them.
    fn deactivated(self, at: Millis) -> User {
        User {
            is_active: false,
            updated_at: at,
            ..self
        }
    }
}

/// What [`Store::deactivate_user`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Deactivation {
    /// The user, now inactive.
    Done(User),
    NotFound,
    /// The user is the last active admin.
    LastAdmin,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub admin: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: Millis,
}

impl ApiKey {
    fn new(id: i64, user_id: i64, name: &str, created_at: Millis) -> ApiKey {
        ApiKey {
            id,
            user_id,
            name: name.to_string(),
            created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Folder {
    pub id: i64,
    pub team_id: i64,
    pub name: String,
    pub content_type: String,
    pub parent_folder_id: Option<i64>,
    pub created_at: Millis,
    /// Number of (live) credentials in the folder.
    pub size: i64,
}

#[derive(Debug, Clone)]
pub struct NewFolder {
    pub team_id: i64,
    pub name: String,
    pub content_type: String,
    pub parent_folder_id: Option<i64>,
}

/// Everything a credential row holds. `config` is the mode's non-secret settings (e.g. the
/// JWT algorithm and payload); `secret` is the sealed secret material.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub id: i64,
    pub uid: String,
    pub team_id: i64,
    pub live_id: Option<i64>,
    pub name: String,
    pub slug: String,
    pub mode: Mode,
    pub folder_id: Option<i64>,
    pub read_access: ReadAccess,
    pub shared_team_slugs: Vec<String>,
    pub description: String,
    pub metadata: JsonText,
    pub allowed_hosts: Vec<String>,
    pub owner_id: i64,
    pub expires_at: Option<Millis>,
    pub expiry_notifications_enabled: bool,
    pub notification_recipient_ids: Vec<i64>,
    pub config: JsonText,
    pub secret: Vec<u8>,
    /// The public issuer id (API.md §6), fixed for the credential's life.
    pub issuer_id: String,
    /// The current key's `kid`; None for keys without one (HS* without `jwt_headers.kid`) and
    /// rows whose key has not changed since this column was added.
    pub key_id: Option<String>,
    /// When the key last changed after the create.
    pub key_rotated_at: Option<Millis>,
    /// When the key is next due for scheduled rotation; None: never.
    pub rotate_at: Option<Millis>,
    /// When the notification scheduler next looks at it (API.md §7); None: no reminder coming.
    pub notify_at: Option<Millis>,
    pub test_credential_enabled: bool,
    pub version: i64,
    pub last_used_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A credential to insert: the row minus what the database assigns.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub uid: String,
    pub team_id: i64,
    pub live_id: Option<i64>,
    pub name: String,
    pub slug: String,
    pub mode: Mode,
    pub folder_id: Option<i64>,
    pub read_access: ReadAccess,
    pub shared_team_slugs: Vec<String>,
    pub description: String,
    pub metadata: JsonText,
    pub allowed_hosts: Vec<String>,
    pub owner_id: i64,
    pub expires_at: Option<Millis>,
    pub expiry_notifications_enabled: bool,
    pub notification_recipient_ids: Vec<i64>,
    pub config: JsonText,
    pub secret: Vec<u8>,
    pub issuer_id: String,
    pub key_id: Option<String>,
    pub rotate_at: Option<Millis>,
    pub notify_at: Option<Millis>,
}

impl NewCredential {
    /// The row as the insert wrote it, given the id the database assigned. Built from what
    /// was sent rather than read back, so that nothing can fail once the row is committed.
    pub fn into_stored(self, id: i64, at: Millis) -> Credential {
        Credential {
            id,
            uid: self.uid,
            team_id: self.team_id,
            live_id: self.live_id,
            name: self.name,
            slug: self.slug,
            mode: self.mode,
            folder_id: self.folder_id,
            read_access: self.read_access,
            shared_team_slugs: self.shared_team_slugs,
            description: self.description,
            metadata: self.metadata,
            allowed_hosts: self.allowed_hosts,
            owner_id: self.owner_id,
            expires_at: self.expires_at,
            expiry_notifications_enabled: self.expiry_notifications_enabled,
            notification_recipient_ids: self.notification_recipient_ids,
            config: self.config,
            secret: self.secret,
            issuer_id: self.issuer_id,
            key_id: self.key_id,
            rotate_at: self.rotate_at,
            notify_at: self.notify_at,
            // The schema's defaults for a new row.
            key_rotated_at: None,
            test_credential_enabled: false,
            version: 1,
            last_used_at: None,
            created_at: at,
            updated_at: at,
        }
    }
}

/// The most retired keys a credential publishes (API.md §12): without a bound, key changes in
/// a loop would grow its JWKS without end. When more keys change within the tokens' lifetime,
/// the oldest are forgotten first.
pub const MAX_RETIRED_KEYS: i64 = 100;

/// A public key a credential signed with before its key changed (API.md §6).
#[derive(Debug, Clone, PartialEq)]
pub struct RetiredKey {
    /// The public JWK as the JWKS documents published it.
    pub jwk: JsonText,
    pub retired_at: Millis,
    /// Until when it stays published: every token it signed has expired by then.
    pub published_until: Millis,
}

/// A message of the notification outbox (API.md §7): one email to one recipient, or one
/// webhook call, for one reminder of one `expires_at` of one credential (live or test).
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: i64,
    pub credential_id: i64,
    pub expires_at: Millis,
    pub threshold_days: i64,
    pub channel: Channel,
    /// The recipient's user id; 0 for a webhook call.
    pub user_id: i64,
    /// The recipient's email address; None for a webhook call.
    pub recipient: Option<String>,
    pub status: NotificationStatus,
    /// Deliveries started (claims), including one a killed process never finished.
    pub attempts: i64,
    pub last_error: Option<String>,
    /// When the reminder fell due.
    pub due_at: Millis,
    pub next_attempt_at: Millis,
    /// Until when a sender holds it; 0 when nobody does.
    pub claimed_until: Millis,
    pub sent_at: Option<Millis>,
    /// When it was planned (or planned again after a cancellation): its retry window starts.
    pub created_at: Millis,
}

/// One message of a [`NotificationPlan`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub channel: Channel,
    /// 0 for a webhook call.
    pub user_id: i64,
    pub recipient: Option<String>,
    /// Why it will not be sent for now (no channel configured), shown to users.
    pub last_error: Option<String>,
}

/// A credential's reminder that has fallen due, written by [`Store::plan_notifications`].
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationPlan {
    pub credential_id: i64,
    /// The `notify_at` the planner read; the plan is dropped if it has changed since.
    pub seen_notify_at: Millis,
    /// When to look at the credential next.
    pub next_notify_at: Option<Millis>,
    pub expires_at: Millis,
    pub threshold_days: i64,
    pub due_at: Millis,
    pub messages: Vec<NewNotification>,
    pub at: Millis,
}

/// How a delivery attempt ended, written by [`Store::finish_notification`].
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryOutcome {
    pub status: NotificationStatus,
    pub last_error: Option<String>,
    pub next_attempt_at: Millis,
    pub sent_at: Option<Millis>,
}

/// A user who may receive a credential's notifications: active, and EDITOR or TEAM_ADMIN of
/// its team or a tenant admin.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub user_id: i64,
    pub email: String,
}

/// The credential owner's public details, as the Tines `owner` object shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Owner {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// A credential with what its API object shows besides the row itself.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialView {
    pub credential: Credential,
    pub owner: Option<Owner>,
    /// Its test credential, if one is attached.
    pub test: Option<TestSummary>,
}

/// What a live credential's API object shows of its test credential: its times, and the
/// expiry settings it has of its own (API.md §7).
#[derive(Debug, Clone, PartialEq)]
pub struct TestSummary {
    pub created_at: Millis,
    pub updated_at: Millis,
    pub expires_at: Option<Millis>,
    pub expiry_notifications_enabled: bool,
    pub notification_recipient_ids: Vec<i64>,
}

impl TestSummary {
    pub fn of(test: &Credential) -> TestSummary {
        TestSummary {
            created_at: test.created_at,
            updated_at: test.updated_at,
            expires_at: test.expires_at,
            expiry_notifications_enabled: test.expiry_notifications_enabled,
            notification_recipient_ids: test.notification_recipient_ids.clone(),
        }
    }
}

/// Which credentials a list returns; `None` / `false` switch a filter off. Test credentials
/// are never listed.
#[derive(Debug, Clone, Default)]
pub struct CredentialFilter {
    /// Only credentials of teams this user is a member of.
    pub member: Option<i64>,
    pub team_id: Option<i64>,
    pub folder_id: Option<i64>,
    /// `Some(true)`: only those with `allowed_hosts`; `Some(false)`: only those without.
    pub restricted: Option<bool>,
    /// Only credentials never used to mint a token.
    pub unused: bool,
}

/// A caller's membership, as minting needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub team_id: i64,
    pub team_slug: String,
    pub role: Role,
}

/// Everything a mint needs, read in one query: the API key's user and teams, and the live
/// credential (with its current version).
#[derive(Debug, Clone)]
pub struct MintContext {
    pub key_hash: Vec<u8>,
    pub caller_id: i64,
    pub caller_admin: bool,
    pub memberships: Vec<Membership>,
    pub credential: Credential,
}

/// A credential's sealed secret, as re-encryption after a data-key rotation sees it (API.md
/// §9): with what its associated data binds it to.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedSecret {
    pub id: i64,
    pub team_id: i64,
    pub uid: String,
    pub secret: Vec<u8>,
}

/// Seals a secret again under the current term; None leaves it as it is (it does not open).
/// The plaintext never leaves the function: the store sees only sealed bytes.
pub type Reseal = dyn Fn(&SealedSecret) -> Option<Vec<u8>> + Send + Sync;

/// What one [`Store::reseal_secrets`] batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResealBatch {
    /// The last id looked at; None when no secret of an older term was left after `after_id`.
    pub last_id: Option<i64>,
    pub resealed: u64,
}

/// A page of rows plus the total count of rows matching the query.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// Offset-based paging as the Tines API does it.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub offset: i64,
    pub limit: i64,
}

/// The storage the API works against.
///
/// Every method that changes data takes the [`AuditRecord`] of the change and appends it to
/// the audit log in the same transaction (API.md §8): a change without its entry, or an entry
/// without its change, cannot be committed. A create adds the new row's id to the record's
/// `inputs` (`user_id`, `api_key_id`, `team_id`, `folder_id`, `credential_id`,
/// `test_credential_id`) unless the caller set it. A call that changes nothing (a stale
/// version, a missing row) records nothing.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers when the database does; used by `/readyz`.
    async fn ping(&self) -> Result<()>;

    /// Closes the connections (on shutdown), after in-flight work has finished.
    async fn close(&self);

    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Writes `value` unless the key exists; returns whether it was written.
    async fn insert_meta(&self, key: &str, value: &[u8]) -> Result<bool>;
    /// Replaces the value of `key` with `value` if it is still `expected`, recording `audit`;
    /// returns whether it was replaced.
    async fn replace_meta(
        &self,
        key: &str,
        expected: &[u8],
        value: &[u8],
        audit: AuditRecord,
    ) -> Result<bool>;

    async fn count_users(&self) -> Result<i64>;
    async fn create_user(&self, user: NewUser, audit: AuditRecord) -> Result<User>;
    async fn get_user(&self, id: i64) -> Result<Option<User>>;
    async fn list_users(&self, page: PageRequest) -> Result<Page<User>>;
    /// Records that the user made an authenticated request at `at`.
    async fn touch_user(&self, id: i64, at: Millis) -> Result<()>;
    /// Marks the user inactive, so that their API keys stop working; refuses to leave the
    /// tenant without an active admin. Deactivating an inactive user changes nothing.
    async fn deactivate_user(
        &self,
        id: i64,
        at: Millis,
        audit: AuditRecord,
    ) -> Result<Deactivation>;

    async fn create_api_key(
        &self,
        user_id: i64,
        name: &str,
        key_hash: &[u8],
        audit: AuditRecord,
    ) -> Result<ApiKey>;
    /// The live (unrevoked) key with this hash and the active user it belongs to.
    async fn find_api_key(&self, key_hash: &[u8]) -> Result<Option<(Vec<u8>, User)>>;
    /// Revokes a key of this user; false if there is no such unrevoked key.
    async fn revoke_api_key(&self, user_id: i64, key_id: i64, audit: AuditRecord) -> Result<bool>;

    async fn create_team(&self, name: &str, slug: &str, audit: AuditRecord) -> Result<Team>;
    async fn get_team(&self, id: i64) -> Result<Option<Team>>;
    /// The team and `user_id`'s role in it (None if not a member), in one query.
    async fn get_team_with_role(
        &self,
        team_id: i64,
        user_id: i64,
    ) -> Result<Option<(Team, Option<Role>)>>;
    async fn get_team_by_slug(&self, slug: &str) -> Result<Option<Team>>;
    /// All teams (`member` = None) or those `member` belongs to, by id.
    async fn list_teams(&self, member: Option<i64>, page: PageRequest) -> Result<Page<Team>>;
    /// Adds the user to the team with `role`, or changes the role if already a member.
    async fn set_membership(
        &self,
        team_id: i64,
        user_id: i64,
        role: Role,
        audit: AuditRecord,
    ) -> Result<()>;
    async fn get_membership(&self, team_id: i64, user_id: i64) -> Result<Option<Role>>;
    /// Takes the user out of the team; false if they were not a member.
    async fn remove_membership(
        &self,
        team_id: i64,
        user_id: i64,
        audit: AuditRecord,
    ) -> Result<bool>;

    async fn create_folder(&self, folder: NewFolder, audit: AuditRecord) -> Result<Folder>;
    async fn get_folder(&self, id: i64) -> Result<Option<Folder>>;
    /// Folders of one team, or (`team_id` = None) of the teams `member` belongs to, or all.
    async fn list_folders(
        &self,
        team_id: Option<i64>,
        member: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<Folder>>;

    async fn create_credential(
        &self,
        credential: NewCredential,
        audit: AuditRecord,
    ) -> Result<Credential>;
    /// The live credential with this public issuer id.
    async fn get_credential_by_issuer(&self, issuer_id: &str) -> Result<Option<Credential>>;
    /// A live credential with its owner and test credential times, in one query.
    async fn get_credential_view(&self, id: i64) -> Result<Option<CredentialView>>;
    async fn list_credentials(
        &self,
        filter: CredentialFilter,
        page: PageRequest,
    ) -> Result<Page<CredentialView>>;
    /// Writes every mutable column of `credential` if its stored `version` still equals
    /// `credential.version`; the stored version then moves on by one and `updated_at` to now.
    /// None when the row changed meanwhile (or is gone): the caller reloads and retries.
    async fn update_credential(
        &self,
        credential: &Credential,
        audit: AuditRecord,
    ) -> Result<Option<Credential>>;
    /// As [`Store::update_credential`], and in the same transaction records the key the update
    /// replaces; forgets retired keys of the credential whose time has passed, and the oldest
    /// beyond [`MAX_RETIRED_KEYS`].
    async fn update_credential_retiring(
        &self,
        credential: &Credential,
        retired: &RetiredKey,
        audit: AuditRecord,
    ) -> Result<Option<Credential>>;
    /// JWT credentials (live and test) without a recorded `key_id`, after `after_id` by id.
    async fn jwt_without_key_id(&self, after_id: i64, limit: i64) -> Result<Vec<Credential>>;
    /// Records a credential's `key_id` unless one is recorded already; the row version stays.
    async fn set_key_id(&self, id: i64, key_id: &str) -> Result<bool>;
    /// Live credentials whose scheduled rotation is due at `now`, most overdue first.
    async fn due_rotations(&self, now: Millis, limit: i64) -> Result<Vec<i64>>;
    /// The retired keys of a credential still published at `now`, newest first.
    async fn published_retired_keys(
        &self,
        credential_id: i64,
        now: Millis,
    ) -> Result<Vec<RetiredKey>>;
    /// Deletes a live credential and its test credential; false if there was none.
    async fn delete_credential(&self, id: i64, audit: AuditRecord) -> Result<bool>;
    /// For a mint: the caller behind an unrevoked API key, and the live credential `id`. None
    /// when either is missing (the caller tells which apart with [`Store::find_api_key`]).
    async fn mint_context(&self, key_hash: &[u8], id: i64) -> Result<Option<MintContext>>;
    /// Records that these credentials were used to mint at `at`.
    async fn mark_used(&self, ids: &[i64], at: Millis) -> Result<()>;
    /// Live credentials per mode, for metrics.
    async fn count_credentials_by_mode(&self) -> Result<Vec<(Mode, i64)>>;
    /// The test credential attached to a live credential, if any.
    async fn get_test_credential(&self, live_id: i64) -> Result<Option<Credential>>;
    /// Any credential row, live or test.
    async fn get_credential_row(&self, id: i64) -> Result<Option<Credential>>;

    /// Credentials (live and test) whose `notify_at` has come, earliest first.
    async fn due_notifications(&self, now: Millis, limit: i64) -> Result<Vec<Credential>>;
    /// Of `user_ids`, those who may receive notifications of `team_id`'s credentials, in the
    /// order given.
    async fn notification_recipients(
        &self,
        team_id: i64,
        user_ids: &[i64],
    ) -> Result<Vec<Recipient>>;
    /// Writes the plans in one transaction (in credential id order, so that instances planning
    /// the same credentials at once lock them in the same order). For each: moves the
    /// credential's `notify_at` on, unless it is no longer `seen_notify_at` (then that plan
    /// writes nothing: another planner or a write of the credential came first); cancels the
    /// pending messages of earlier reminders of the same `expires_at`; adds the plan's
    /// messages. A message that exists already is left as it is, unless it was cancelled: then
    /// it is pending again. Returns the credentials whose plan was written.
    async fn plan_notifications(&self, plans: &[NotificationPlan]) -> Result<Vec<i64>>;
    /// Cancels the credential's pending messages, except those for `keep_expires_at`;
    /// `reason` becomes their `last_error`. Returns how many.
    async fn cancel_notifications(
        &self,
        credential_id: i64,
        keep_expires_at: Option<Millis>,
        reason: &str,
    ) -> Result<u64>;
    /// Pending messages of these channels that may be attempted at `now` and nobody holds.
    async fn pending_notifications(
        &self,
        channels: &[Channel],
        now: Millis,
        limit: i64,
    ) -> Result<Vec<Notification>>;
    /// Holds a pending message until `until` and counts the attempt, if nobody holds it at
    /// `now`; None if it is held, no longer pending or gone.
    async fn claim_notification(
        &self,
        id: i64,
        now: Millis,
        until: Millis,
    ) -> Result<Option<Notification>>;
    /// Records how the attempt of the claim that holds it `until` ended, and lets it go.
    /// False when the claim was lost (it expired and another sender took it), or the message
    /// was cancelled meanwhile and this attempt did not send it.
    async fn finish_notification(
        &self,
        id: i64,
        until: Millis,
        outcome: &DeliveryOutcome,
    ) -> Result<bool>;
    /// The messages of a live credential and its test credential, by id.
    async fn list_notifications(
        &self,
        live_id: i64,
        page: PageRequest,
    ) -> Result<Page<Notification>>;

    /// Attaches a test credential and turns `test_credential_enabled` on for its live
    /// credential, in one transaction. Conflict::TestCredential if one is already attached.
    async fn attach_test_credential(
        &self,
        credential: NewCredential,
        audit: AuditRecord,
    ) -> Result<Credential>;

    /// How many credential secrets (live and test) each data-key term seals, by term.
    async fn count_secrets_by_term(&self) -> Result<Vec<(u32, i64)>>;
    /// Seals again, in one transaction, up to `limit` secrets of terms below `term` whose
    /// credential ids come after `after_id`, in id order, each with `reseal`. The rows are
    /// locked until the commit (on PostgreSQL another instance's batch skips them), so each
    /// secret is re-sealed once, and a write of the credential meanwhile waits. The version and
    /// `updated_at` stay: the secret itself is unchanged.
    async fn reseal_secrets(
        &self,
        term: u32,
        after_id: i64,
        limit: i64,
        reseal: &Reseal,
    ) -> Result<ResealBatch>;

    /// Sends every entry appended from now on to `sink` too, before its change commits.
    fn stream_audit_to(&self, sink: Arc<dyn AuditSink>);
    /// Appends entries that record no change of their own (aggregated mints), in one
    /// transaction.
    async fn append_audit(&self, records: Vec<AuditRecord>) -> Result<()>;
    /// Entries matching `filter`, newest first.
    async fn list_audit_logs(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>>;
    /// Up to `limit` entries after `after_id`, in chain order.
    async fn audit_chain(&self, after_id: i64, limit: i64) -> Result<Vec<AuditEntry>>;
    /// The chain's last entry as the database records it.
    async fn audit_head(&self) -> Result<AuditHead>;
}
