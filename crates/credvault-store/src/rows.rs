//! What both SQL backends share: the columns each row type maps to, the view query and the
//! JSON encoding of list-valued columns. The row readers are generated per backend by
//! [`row_mappers!`] because sqlx's decoding traits are per database.

use crate::{Conflict, Membership, Millis, StoreError};

pub(crate) fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
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
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(conflict(db.as_ref()))
        }
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Unavailable(e.to_string()),
    }
}

/// The caller's teams, from the `caller_teams` JSON array of `[team_id, slug, role]`.
pub(crate) fn memberships(teams: Vec<(i64, String, String)>) -> Vec<Membership> {
    teams
        .into_iter()
        .map(|(team_id, team_slug, role)| Membership {
            team_id,
            team_slug,
            role,
        })
        .collect()
}

/// Every column of a credential plus its owner's name and its test credential's times.
pub(crate) const VIEW_SELECT: &str = "SELECT c.*, u.first_name AS owner_first_name, \
     u.last_name AS owner_last_name, u.email AS owner_email, \
     t.created_at AS test_created_at, t.updated_at AS test_updated_at \
     FROM credentials c LEFT JOIN users u ON u.id = c.owner_id \
     LEFT JOIN credentials t ON t.live_id = c.id";

/// The columns a new credential row is inserted with.
pub(crate) const INSERT_COLUMNS: &str =
    "uid, team_id, live_id, name, slug, mode, folder_id, read_access, \
     shared_team_slugs, description, metadata, allowed_hosts, owner_id, expires_at, \
     expiry_notifications_enabled, notification_recipient_ids, config, secret, created_at, \
     updated_at";

/// One new credential row; returns its id (the caller has the rest, see
/// [`crate::NewCredential::into_stored`]). Numbered placeholders, which sqlx binds by number on
/// both backends.
pub(crate) static INSERT_ONE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let placeholders: Vec<String> = (1..=INSERT_COLUMNS.split(',').count())
        .map(|n| format!("${n}"))
        .collect();
    format!(
        "INSERT INTO credentials ({INSERT_COLUMNS}) VALUES ({}) RETURNING id",
        placeholders.join(", ")
    )
});

/// Binds a new credential's values in [`INSERT_COLUMNS`] order onto `$query`, borrowing the
/// credential so that the caller still has it to answer with once the insert is done.
macro_rules! bind_credential_values {
    ($query:expr, $c:expr, $at:expr) => {{
        let c = $c;
        $query
            .bind(c.uid.as_str())
            .bind(c.team_id)
            .bind(c.live_id)
            .bind(c.name.as_str())
            .bind(c.slug.as_str())
            .bind(c.mode.as_str())
            .bind(c.folder_id)
            .bind(c.read_access.as_str())
            .bind(json_text(&c.shared_team_slugs))
            .bind(c.description.as_str())
            .bind(json_text(&c.metadata))
            .bind(json_text(&c.allowed_hosts))
            .bind(c.owner_id)
            .bind(c.expires_at)
            .bind(c.expiry_notifications_enabled)
            .bind(json_text(&c.notification_recipient_ids))
            .bind(json_text(&c.config))
            .bind(c.secret.as_slice())
            .bind($at)
            .bind($at)
    }};
}

/// The credential columns read into a `Credential`, written once for every row type
/// (`$col`/`$json` are that row type's column readers).
macro_rules! credential_fields {
    ($row:expr, $col:ident, $json:ident) => {
        Credential {
            id: $col($row, "id")?,
            uid: $col($row, "uid")?,
            team_id: $col($row, "team_id")?,
            live_id: $col($row, "live_id")?,
            name: $col($row, "name")?,
            slug: $col($row, "slug")?,
            mode: $col($row, "mode")?,
            folder_id: $col($row, "folder_id")?,
            read_access: $col($row, "read_access")?,
            shared_team_slugs: $json($row, "shared_team_slugs")?,
            description: $col($row, "description")?,
            metadata: $json::<$crate::JsonText>($row, "metadata")?,
            allowed_hosts: $json($row, "allowed_hosts")?,
            owner_id: $col($row, "owner_id")?,
            expires_at: $col($row, "expires_at")?,
            expiry_notifications_enabled: $col($row, "expiry_notifications_enabled")?,
            notification_recipient_ids: $json($row, "notification_recipient_ids")?,
            config: $json::<$crate::JsonText>($row, "config")?,
            secret: $col($row, "secret")?,
            test_credential_enabled: $col($row, "test_credential_enabled")?,
            version: $col($row, "version")?,
            last_used_at: $col($row, "last_used_at")?,
            created_at: $col($row, "created_at")?,
            updated_at: $col($row, "updated_at")?,
        }
    };
}

/// The caller, their teams and the credential, from one row of the mint query, for every row
/// type (as [`credential_fields!`]).
macro_rules! mint_context_fields {
    ($row:expr, $col:ident, $json:ident) => {
        MintContext {
            key_hash: $col($row, "key_hash")?,
            caller_id: $col($row, "caller_id")?,
            caller_admin: $col($row, "caller_admin")?,
            memberships: memberships($json::<Vec<(i64, String, String)>>($row, "caller_teams")?),
            credential: credential_fields!($row, $col, $json),
        }
    };
}

/// `col`, `json_col` and the `*_from_row` readers for one sqlx row type. The invoking module
/// provides `db_error`.
macro_rules! row_mappers {
    ($row:ty, $db:ty) => {
        /// One column of a row, with decoding failures as store errors.
        fn col<'r, T>(row: &'r $row, name: &str) -> Result<T>
        where
            T: sqlx::Decode<'r, $db> + sqlx::Type<$db>,
        {
            row.try_get(name).map_err(db_error)
        }

        fn json_col<T: serde::de::DeserializeOwned>(row: &$row, name: &str) -> Result<T> {
            let text: String = col(row, name)?;
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))
        }

        fn user_from_row(row: &$row) -> Result<User> {
            Ok(User {
                id: col(row, "id")?,
                email: col(row, "email")?,
                first_name: col(row, "first_name")?,
                last_name: col(row, "last_name")?,
                admin: col(row, "admin")?,
                is_active: col(row, "is_active")?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
                last_seen: col(row, "last_seen")?,
            })
        }

        fn team_from_row(row: &$row) -> Result<Team> {
            Ok(Team {
                id: col(row, "id")?,
                name: col(row, "name")?,
                slug: col(row, "slug")?,
                created_at: col(row, "created_at")?,
            })
        }

        fn folder_from_row(row: &$row) -> Result<Folder> {
            Ok(Folder {
                id: col(row, "id")?,
                team_id: col(row, "team_id")?,
                name: col(row, "name")?,
                content_type: col(row, "content_type")?,
                parent_folder_id: col(row, "parent_folder_id")?,
                created_at: col(row, "created_at")?,
                size: col(row, "size")?,
            })
        }

        fn credential_from_row(row: &$row) -> Result<Credential> {
            Ok(credential_fields!(row, col, json_col))
        }

        fn view_from_row(row: &$row) -> Result<CredentialView> {
            let credential = credential_from_row(row)?;
            let owner = match col::<Option<String>>(row, "owner_email")? {
                Some(email) => Some(Owner {
                    id: credential.owner_id,
                    first_name: col(row, "owner_first_name")?,
                    last_name: col(row, "owner_last_name")?,
                    email,
                }),
                None => None,
            };
            let test_times = match col::<Option<Millis>>(row, "test_created_at")? {
                Some(created) => Some((created, col(row, "test_updated_at")?)),
                None => None,
            };
            Ok(CredentialView {
                credential,
                owner,
                test_times,
            })
        }

        /// The caller, their teams and the credential, from one row of the mint query.
        fn mint_context_from_row(row: &$row) -> Result<MintContext> {
            Ok(mint_context_fields!(row, col, json_col))
        }
    };
}
