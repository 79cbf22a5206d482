//! What both SQL backends share besides the SQL text: the row mappers (written once against
//! [`Columns`]), the binding of a new credential's values, the JSON encoding of list-valued
//! columns and the mapping of database errors.

use credvault_core::model::{Channel, Mode, NotificationStatus, ReadAccess, Role};
use sqlx::query::Query;
use sqlx::{Database, Encode, Type};

use crate::columns::Columns;
use crate::queries as q;
use crate::{
    Conflict, Credential, CredentialView, Folder, Membership, Millis, MintContext, NewCredential,
    Notification, NotificationPlan, Owner, Recipient, Result, RetiredKey, StoreError, Team,
    TestSummary, User,
};

pub(crate) fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| {
            Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
        })
}

pub(crate) fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("JSON values always serialise")
}

/// A sqlx error as a store error; `conflict` tells which unique rule a violation hit (each
/// backend names its rules differently).
pub(crate) fn store_error(
    e: sqlx::Error,
    conflict: impl FnOnce(&dyn sqlx::error::DatabaseError) -> Conflict,
) -> StoreError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(conflict(db.as_ref()))
        }
        decode @ (sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)) => StoreError::Corrupt(decode.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

pub(crate) fn user(row: &impl Columns) -> Result<User> {
    Ok(User {
        id: row.int("id")?,
        email: row.text("email")?,
        first_name: row.text("first_name")?,
        last_name: row.text("last_name")?,
        admin: row.flag("admin")?,
        is_active: row.flag("is_active")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        last_seen: row.opt_int("last_seen")?,
    })
}

pub(crate) fn team(row: &impl Columns) -> Result<Team> {
    Ok(Team {
        id: row.int("id")?,
        name: row.text("name")?,
        slug: row.text("slug")?,
        created_at: row.int("created_at")?,
    })
}

/// A team row with the `role` column of a LEFT JOIN on the caller's membership.
pub(crate) fn team_with_role(row: &impl Columns) -> Result<(Team, Option<Role>)> {
    let role = match row.opt_text("role")? {
        Some(role) => Some(role_named(&role)?),
        None => None,
    };
    Ok((team(row)?, role))
}

pub(crate) fn role_named(text: &str) -> Result<Role> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown role {text:?}")))
}

pub(crate) fn retired_key(row: &impl Columns) -> Result<RetiredKey> {
    Ok(RetiredKey {
        jwk: row.json("jwk")?,
        retired_at: row.int("retired_at")?,
        published_until: row.int("published_until")?,
    })
}

pub(crate) fn folder(row: &impl Columns) -> Result<Folder> {
    Ok(Folder {
        id: row.int("id")?,
        team_id: row.int("team_id")?,
        name: row.text("name")?,
        content_type: row.text("content_type")?,
        parent_folder_id: row.opt_int("parent_folder_id")?,
        created_at: row.int("created_at")?,
        size: row.int("size")?,
    })
}

pub(crate) fn credential(row: &impl Columns) -> Result<Credential> {
    Ok(Credential {
        id: row.int("id")?,
        uid: row.text("uid")?,
        team_id: row.int("team_id")?,
        live_id: row.opt_int("live_id")?,
        name: row.text("name")?,
        slug: row.text("slug")?,
        mode: row.named("mode", Mode::parse)?,
        folder_id: row.opt_int("folder_id")?,
        read_access: row.named("read_access", ReadAccess::parse)?,
        shared_team_slugs: row.json("shared_team_slugs")?,
        description: row.text("description")?,
        metadata: row.json("metadata")?,
        allowed_hosts: row.json("allowed_hosts")?,
        owner_id: row.int("owner_id")?,
        expires_at: row.opt_int("expires_at")?,
        expiry_notifications_enabled: row.flag("expiry_notifications_enabled")?,
        notification_recipient_ids: row.json("notification_recipient_ids")?,
        config: row.json("config")?,
        secret: row.blob("secret")?,
        issuer_id: row.text("issuer_id")?,
        key_id: row.opt_text("key_id")?,
        key_rotated_at: row.opt_int("key_rotated_at")?,
        rotate_at: row.opt_int("rotate_at")?,
        notify_at: row.opt_int("notify_at")?,
        test_credential_enabled: row.flag("test_credential_enabled")?,
        version: row.int("version")?,
        last_used_at: row.opt_int("last_used_at")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

/// A row of [`crate::queries::VIEW_SELECT`]: the credential, its owner's name and its test
/// credential's times.
pub(crate) fn credential_view(row: &impl Columns) -> Result<CredentialView> {
    let credential = credential(row)?;
    let owner = match row.opt_text("owner_email")? {
        Some(email) => Some(Owner {
            id: credential.owner_id,
            first_name: row.text("owner_first_name")?,
            last_name: row.text("owner_last_name")?,
            email,
        }),
        None => None,
    };
    let test = match row.opt_int("test_created_at")? {
        Some(created_at) => Some(TestSummary {
            created_at,
            updated_at: row.int("test_updated_at")?,
            expires_at: row.opt_int("test_expires_at")?,
            expiry_notifications_enabled: row.flag("test_notifications_enabled")?,
            notification_recipient_ids: row.json("test_recipient_ids")?,
        }),
        None => None,
    };
    Ok(CredentialView {
        credential,
        owner,
        test,
    })
}

/// The caller, their teams and the credential, from one row of a backend's mint query;
/// `caller_teams` is a JSON array of `[team_id, slug, role]`.
pub(crate) fn mint_context(row: &impl Columns) -> Result<MintContext> {
    let teams: Vec<(i64, String, String)> = row.json("caller_teams")?;
    let memberships = teams
        .into_iter()
        .map(|(team_id, team_slug, role)| {
            Ok(Membership {
                team_id,
                team_slug,
                role: role_named(&role)?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(MintContext {
        key_hash: row.blob("key_hash")?,
        caller_id: row.int("caller_id")?,
        caller_admin: row.flag("caller_admin")?,
        memberships,
        credential: credential(row)?,
    })
}

pub(crate) fn notification(row: &impl Columns) -> Result<Notification> {
    Ok(Notification {
        id: row.int("id")?,
        credential_id: row.int("credential_id")?,
        expires_at: row.int("expires_at")?,
        threshold_days: row.int("threshold_days")?,
        channel: row.named("channel", Channel::parse)?,
        user_id: row.int("user_id")?,
        recipient: row.opt_text("recipient")?,
        status: row.named("status", NotificationStatus::parse)?,
        attempts: row.int("attempts")?,
        last_error: row.opt_text("last_error")?,
        due_at: row.int("due_at")?,
        next_attempt_at: row.int("next_attempt_at")?,
        claimed_until: row.int("claimed_until")?,
        sent_at: row.opt_int("sent_at")?,
        created_at: row.int("created_at")?,
    })
}

/// A row of [`crate::queries::NOTIFICATION_RECIPIENTS`].
pub(crate) fn recipient(row: &impl Columns) -> Result<Recipient> {
    Ok(Recipient {
        user_id: row.int("id")?,
        email: row.text("email")?,
    })
}

/// `user_ids` in chunks of [`crate::queries::RECIPIENT_SLOTS`], unused slots 0.
pub(crate) fn recipient_slots(user_ids: &[i64]) -> impl Iterator<Item = [i64; 5]> + '_ {
    user_ids
        .chunks(crate::queries::RECIPIENT_SLOTS)
        .map(|chunk| {
            let mut slots = [0; 5];
            slots[..chunk.len()].copy_from_slice(chunk);
            slots
        })
}

/// Each recipient once, in the order the caller gave (the query answers in any order).
pub(crate) fn in_given_order(user_ids: &[i64], mut found: Vec<Recipient>) -> Vec<Recipient> {
    found.sort_by_key(|r| user_ids.iter().position(|id| *id == r.user_id));
    found.dedup_by_key(|r| r.user_id);
    found
}

/// The plans sorted by credential id: the order every planner locks credentials in.
pub(crate) fn in_lock_order(plans: &[NotificationPlan]) -> Vec<&NotificationPlan> {
    let mut ordered: Vec<&NotificationPlan> = plans.iter().collect();
    ordered.sort_by_key(|p| p.credential_id);
    ordered
}

/// One plan of [`crate::Store::plan_notifications`], on the caller's transaction; false when
/// the credential's `notify_at` was no longer the one the planner read.
pub(crate) async fn write_plan<DB>(
    conn: &mut DB::Connection,
    plan: &NotificationPlan,
) -> sqlx::Result<bool>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<&'t str>: Encode<'t, DB> + Type<DB>,
{
    let moved = sqlx::query::<DB>(q::ADVANCE_NOTIFY_AT)
        .bind(plan.next_notify_at)
        .bind(plan.credential_id)
        .bind(plan.seen_notify_at)
        .fetch_optional(&mut *conn)
        .await?;
    if moved.is_none() {
        return Ok(false);
    }
    sqlx::query::<DB>(q::SUPERSEDE_NOTIFICATIONS)
        .bind(plan.credential_id)
        .bind(plan.expires_at)
        .bind(plan.threshold_days)
        .execute(&mut *conn)
        .await?;
    for message in &plan.messages {
        sqlx::query::<DB>(q::INSERT_NOTIFICATION)
            .bind(plan.credential_id)
            .bind(plan.expires_at)
            .bind(plan.threshold_days)
            .bind(message.channel.as_str())
            .bind(message.user_id)
            .bind(message.recipient.as_deref())
            .bind(message.last_error.as_deref())
            .bind(plan.due_at)
            .bind(plan.at)
            .bind(plan.at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

/// One [`crate::Store::reseal_secrets`] batch on the caller's transaction; `select` is the
/// backend's [`crate::queries::OLD_TERM_SECRETS`] (with its row locks).
pub(crate) async fn reseal_batch<DB>(
    conn: &mut DB::Connection,
    select: &'static str,
    (term, after_id, limit): (u32, i64, i64),
    reseal: &crate::Reseal,
    db_error: fn(sqlx::Error) -> StoreError,
) -> Result<crate::ResealBatch>
where
    DB: Database,
    DB::Row: Columns,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'t> &'t [u8]: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let rows = sqlx::query::<DB>(select)
        .bind(i64::from(term))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    let mut batch = crate::ResealBatch {
        last_id: None,
        resealed: 0,
    };
    for row in &rows {
        let sealed = crate::SealedSecret {
            id: row.int("id")?,
            team_id: row.int("team_id")?,
            uid: row.text("uid")?,
            secret: row.blob("secret")?,
        };
        batch.last_id = Some(sealed.id);
        let Some(again) = reseal(&sealed) else {
            continue;
        };
        sqlx::query::<DB>(q::RESEAL_SECRET)
            .bind(again.as_slice())
            .bind(secret_term(&again))
            .bind(sealed.id)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        batch.resealed += 1;
    }
    Ok(batch)
}

/// A row of [`crate::queries::COUNT_SECRETS_BY_TERM`].
pub(crate) fn term_count(row: &impl Columns) -> Result<(u32, i64)> {
    let term = row.int("secret_term")?;
    let term = u32::try_from(term)
        .map_err(|_| StoreError::Corrupt(format!("secret_term {term} out of range")))?;
    Ok((term, row.int("n")?))
}

/// A row of [`crate::queries::FIND_API_KEY`]: the key's hash and its user.
pub(crate) fn key_and_user(row: &impl Columns) -> Result<(Vec<u8>, User)> {
    Ok((row.blob("key_hash")?, user(row)?))
}

/// A row of [`crate::queries::COUNT_CREDENTIALS_BY_MODE`].
pub(crate) fn mode_count(row: &impl Columns) -> Result<(Mode, i64)> {
    Ok((row.named("mode", Mode::parse)?, row.int("n")?))
}

/// The data-key term a sealed secret names (API.md §9), kept in its own column so that
/// re-encryption finds and counts secrets by term; 1 (the first term) for what names none.
pub(crate) fn secret_term(secret: &[u8]) -> i64 {
    i64::from(credvault_core::crypto::term_of(secret).unwrap_or(credvault_core::crypto::FIRST_TERM))
}

/// Binding a credential's values onto a statement, on either backend.
pub(crate) trait BindCredential {
    /// A new credential's values in [`crate::queries::INSERT_COLUMNS`] order, borrowing the
    /// credential so that the caller still has it to answer with once the insert is done.
    #[must_use]
    fn bind_new(self, c: &NewCredential, at: Millis) -> Self;
    /// [`crate::queries::UPDATE_CREDENTIAL`]'s values: every mutable column, then the id and
    /// the version the caller read.
    #[must_use]
    fn bind_update(self, c: &Credential, at: Millis) -> Self;
}

impl<DB> BindCredential for Query<'_, DB, DB::Arguments>
where
    DB: Database,
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
    for<'t> &'t [u8]: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Type<DB>,
    for<'t> Option<&'t str>: Encode<'t, DB> + Type<DB>,
{
    fn bind_new(self, c: &NewCredential, at: Millis) -> Self {
        self.bind(c.uid.as_str())
            .bind(c.team_id)
            .bind(c.live_id)
            .bind(c.name.as_str())
            .bind(c.slug.as_str())
            .bind(c.mode.as_str())
            .bind(c.folder_id)
            .bind(c.read_access.as_str())
            .bind(json_text(&c.shared_team_slugs))
            .bind(c.description.as_str())
            .bind(c.metadata.as_str())
            .bind(json_text(&c.allowed_hosts))
            .bind(c.owner_id)
            .bind(c.expires_at)
            .bind(c.expiry_notifications_enabled)
            .bind(json_text(&c.notification_recipient_ids))
            .bind(c.config.as_str())
            .bind(c.secret.as_slice())
            .bind(secret_term(&c.secret))
            .bind(c.issuer_id.as_str())
            .bind(c.key_id.as_deref())
            .bind(c.rotate_at)
            .bind(c.notify_at)
            .bind(at)
            .bind(at)
    }

    fn bind_update(self, c: &Credential, at: Millis) -> Self {
        self.bind(c.name.as_str())
            .bind(c.slug.as_str())
            .bind(c.folder_id)
            .bind(c.read_access.as_str())
            .bind(json_text(&c.shared_team_slugs))
            .bind(c.description.as_str())
            .bind(c.metadata.as_str())
            .bind(json_text(&c.allowed_hosts))
            .bind(c.expires_at)
            .bind(c.expiry_notifications_enabled)
            .bind(json_text(&c.notification_recipient_ids))
            .bind(c.config.as_str())
            .bind(c.secret.as_slice())
            .bind(c.test_credential_enabled)
            .bind(c.key_id.as_deref())
            .bind(c.key_rotated_at)
            .bind(c.rotate_at)
            .bind(c.notify_at)
            .bind(at)
            .bind(c.id)
            .bind(c.version)
            .bind(secret_term(&c.secret))
    }
}
