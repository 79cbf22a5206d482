//! The SQL both backends run, written once. Placeholders are `$1`, `$2`, … (sqlx binds them by
//! number on SQLite too), and the text sticks to what both dialects read alike. Statements that
//! differ per backend (the mint read, marking credentials used, locking rows) live in that
//! backend's module. The store conformance suite runs every statement on both.

use std::sync::LazyLock;

pub const PING: &str = "SELECT 1";

pub const GET_META: &str = "SELECT value FROM meta WHERE key = $1";
pub const INSERT_META: &str =
    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING";

pub const REPLACE_META: &str = "UPDATE meta SET value = $1 WHERE key = $2 AND value = $3";

pub const COUNT_USERS: &str = "SELECT COUNT(*) FROM users";
pub const INSERT_USER: &str = "INSERT INTO users \
     (email, first_name, last_name, admin, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *";
pub const GET_USER: &str = "SELECT * FROM users WHERE id = $1";
pub const LIST_USERS: &str = "SELECT * FROM users ORDER BY id LIMIT $1 OFFSET $2";
pub const TOUCH_USER: &str = "UPDATE users SET last_seen = $1 WHERE id = $2";
/// The active admins' ids; the PostgreSQL variant locks their rows.
pub const ACTIVE_ADMINS: &str = "SELECT id FROM users WHERE admin AND is_active ORDER BY id";
pub const DEACTIVATE_USER: &str =
    "UPDATE users SET is_active = FALSE, updated_at = $1 WHERE id = $2";

pub const INSERT_API_KEY: &str = "INSERT INTO api_keys (user_id, name, key_hash, created_at) \
     VALUES ($1, $2, $3, $4) RETURNING id";
pub const FIND_API_KEY: &str = "SELECT k.key_hash, u.* FROM api_keys k \
     JOIN users u ON u.id = k.user_id \
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.is_active";
pub const REVOKE_API_KEY: &str = "UPDATE api_keys SET revoked_at = $1 \
     WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";

pub const INSERT_TEAM: &str =
    "INSERT INTO teams (name, slug, created_at) VALUES ($1, $2, $3) RETURNING *";
pub const GET_TEAM: &str = "SELECT * FROM teams WHERE id = $1";
pub const GET_TEAM_BY_SLUG: &str = "SELECT * FROM teams WHERE slug = $1";
pub const GET_TEAM_WITH_ROLE: &str = "SELECT t.*, m.role FROM teams t \
     LEFT JOIN memberships m ON m.team_id = t.id AND m.user_id = $1 WHERE t.id = $2";
pub const LIST_TEAMS: &str = "SELECT * FROM teams ORDER BY id LIMIT $1 OFFSET $2";
pub const COUNT_TEAMS: &str = "SELECT COUNT(*) FROM teams";
pub const LIST_MEMBER_TEAMS: &str = "SELECT t.* FROM teams t \
     JOIN memberships m ON m.team_id = t.id \
     WHERE m.user_id = $1 ORDER BY t.id LIMIT $2 OFFSET $3";
pub const COUNT_MEMBER_TEAMS: &str = "SELECT COUNT(*) FROM memberships WHERE user_id = $1";

pub const SET_MEMBERSHIP: &str = "INSERT INTO memberships (team_id, user_id, role) \
     VALUES ($1, $2, $3) \
     ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role";
pub const GET_MEMBERSHIP: &str = "SELECT role FROM memberships WHERE team_id = $1 AND user_id = $2";
pub const REMOVE_MEMBERSHIP: &str = "DELETE FROM memberships WHERE team_id = $1 AND user_id = $2";

pub const INSERT_FOLDER: &str = "INSERT INTO folders \
     (team_id, name, content_type, parent_folder_id, created_at) \
     VALUES ($1, $2, $3, $4, $5) RETURNING *, CAST(0 AS BIGINT) AS size";
/// A folder's columns plus `size`, its number of live credentials.
const FOLDER_SELECT: &str = "SELECT f.*, (SELECT COUNT(*) FROM credentials c \
     WHERE c.folder_id = f.id AND c.live_id IS NULL) AS size FROM folders f";
/// `$1` team, `$2` member; NULL switches a filter off, keeping one static statement.
const FOLDER_FILTER: &str = "WHERE ($1 IS NULL OR f.team_id = $1) \
     AND ($2 IS NULL OR f.team_id IN (SELECT team_id FROM memberships WHERE user_id = $2))";
pub static GET_FOLDER: LazyLock<String> =
    LazyLock::new(|| format!("{FOLDER_SELECT} WHERE f.id = $1"));
pub static LIST_FOLDERS: LazyLock<String> =
    LazyLock::new(|| format!("{FOLDER_SELECT} {FOLDER_FILTER} ORDER BY f.id LIMIT $3 OFFSET $4"));
pub static COUNT_FOLDERS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT COUNT(*) FROM folders f {FOLDER_FILTER}"));

/// Every column of a credential plus its owner's name and its test credential's times.
pub const VIEW_SELECT: &str = "SELECT c.*, u.first_name AS owner_first_name, \
     u.last_name AS owner_last_name, u.email AS owner_email, \
     t.created_at AS test_created_at, t.updated_at AS test_updated_at, \
     t.expires_at AS test_expires_at, \
     t.expiry_notifications_enabled AS test_notifications_enabled, \
     t.notification_recipient_ids AS test_recipient_ids \
     FROM credentials c LEFT JOIN users u ON u.id = c.owner_id \
     LEFT JOIN credentials t ON t.live_id = c.id";
/// `$1` member, `$2` team, `$3` folder, `$4` restricted, `$5` unused only; NULL (or false for
/// `$5`) switches a filter off, keeping one static statement per query.
const CREDENTIAL_FILTER: &str = "WHERE c.live_id IS NULL \
     AND ($1 IS NULL OR c.team_id IN (SELECT team_id FROM memberships WHERE user_id = $1)) \
     AND ($2 IS NULL OR c.team_id = $2) \
     AND ($3 IS NULL OR c.folder_id = $3) \
     AND ($4 IS NULL OR (c.allowed_hosts <> '[]') = $4) \
     AND (NOT $5 OR c.last_used_at IS NULL)";
pub static GET_CREDENTIAL_VIEW: LazyLock<String> =
    LazyLock::new(|| format!("{VIEW_SELECT} WHERE c.id = $1 AND c.live_id IS NULL"));
pub static LIST_CREDENTIALS: LazyLock<String> =
    LazyLock::new(|| format!("{VIEW_SELECT} {CREDENTIAL_FILTER} ORDER BY c.id LIMIT $6 OFFSET $7"));
pub static COUNT_CREDENTIALS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT COUNT(*) FROM credentials c {CREDENTIAL_FILTER}"));

/// The columns a new credential row is inserted with, in the order
/// [`crate::rows::bind_new_credential`] binds them.
pub const INSERT_COLUMNS: &str = "uid, team_id, live_id, name, slug, mode, folder_id, \
     read_access, shared_team_slugs, description, metadata, allowed_hosts, owner_id, \
     expires_at, expiry_notifications_enabled, notification_recipient_ids, config, secret, \
     secret_term, issuer_id, key_id, rotate_at, notify_at, created_at, updated_at";
/// One new credential row; returns its id (the caller has the rest, see
/// [`crate::NewCredential::into_stored`]).
pub static INSERT_CREDENTIAL: LazyLock<String> = LazyLock::new(|| {
    let placeholders: Vec<String> = (1..=INSERT_COLUMNS.split(',').count())
        .map(|n| format!("${n}"))
        .collect();
    format!(
        "INSERT INTO credentials ({INSERT_COLUMNS}) VALUES ({}) RETURNING id",
        placeholders.join(", ")
    )
});
/// Writes every mutable column if the stored version is still the one read.
pub const UPDATE_CREDENTIAL: &str = "UPDATE credentials SET name = $1, slug = $2, \
     folder_id = $3, read_access = $4, shared_team_slugs = $5, description = $6, metadata = $7, \
     allowed_hosts = $8, expires_at = $9, expiry_notifications_enabled = $10, \
     notification_recipient_ids = $11, config = $12, secret = $13, secret_term = $22, \
     test_credential_enabled = $14, key_id = $15, key_rotated_at = $16, rotate_at = $17, \
     notify_at = $18, version = version + 1, updated_at = $19 \
     WHERE id = $20 AND version = $21 RETURNING *";
/// Secrets of terms before `$1` after id `$2`, in id order (PostgreSQL adds its row locks).
pub const OLD_TERM_SECRETS: &str = "SELECT id, team_id, uid, secret FROM credentials \
     WHERE secret_term < $1 AND id > $2 ORDER BY id LIMIT $3";
pub const RESEAL_SECRET: &str =
    "UPDATE credentials SET secret = $1, secret_term = $2 WHERE id = $3";
pub const COUNT_SECRETS_BY_TERM: &str = "SELECT secret_term, COUNT(*) AS n FROM credentials \
     GROUP BY secret_term ORDER BY secret_term";
pub const DUE_ROTATIONS: &str = "SELECT id FROM credentials \
     WHERE rotate_at <= $1 AND live_id IS NULL ORDER BY rotate_at LIMIT $2";
pub const GET_CREDENTIAL_BY_ISSUER: &str =
    "SELECT * FROM credentials WHERE issuer_id = $1 AND live_id IS NULL";
/// The test credential goes with it (ON DELETE CASCADE).
pub const DELETE_CREDENTIAL: &str = "DELETE FROM credentials WHERE id = $1 AND live_id IS NULL";
pub const COUNT_CREDENTIALS_BY_MODE: &str = "SELECT mode, COUNT(*) AS n FROM credentials \
     WHERE live_id IS NULL GROUP BY mode ORDER BY mode";
pub const GET_TEST_CREDENTIAL: &str = "SELECT * FROM credentials WHERE live_id = $1";
pub const ENABLE_TEST_CREDENTIAL: &str = "UPDATE credentials \
     SET test_credential_enabled = TRUE, version = version + 1, updated_at = $1 WHERE id = $2";

pub const INSERT_RETIRED_KEY: &str = "INSERT INTO retired_keys \
     (credential_id, jwk, retired_at, published_until) VALUES ($1, $2, $3, $4)";
/// Before a key is retired: forgets the credential's retired keys whose time has passed, and
/// all but the newest `$3`, so that at most `$3 + 1` stay published.
pub const FORGET_RETIRED_KEYS: &str = "DELETE FROM retired_keys WHERE credential_id = $1 \
     AND (published_until <= $2 OR retired_at <= (SELECT retired_at FROM retired_keys \
     WHERE credential_id = $1 ORDER BY retired_at DESC LIMIT 1 OFFSET $3))";
pub const PUBLISHED_RETIRED_KEYS: &str = "SELECT jwk, retired_at, published_until \
     FROM retired_keys WHERE credential_id = $1 AND published_until > $2 \
     ORDER BY retired_at DESC";
/// JWT credentials whose `key_id` has not been recorded (rows written before the column),
/// after `$1` by id.
pub const JWT_WITHOUT_KEY_ID: &str = "SELECT * FROM credentials \
     WHERE key_id IS NULL AND mode = 'JWT' AND id > $1 ORDER BY id LIMIT $2";
pub const SET_KEY_ID: &str = "UPDATE credentials SET key_id = $1 WHERE id = $2 AND key_id IS NULL";

pub const GET_CREDENTIAL_ROW: &str = "SELECT * FROM credentials WHERE id = $1";

pub const DUE_NOTIFICATIONS: &str = "SELECT * FROM credentials \
     WHERE notify_at <= $1 ORDER BY notify_at LIMIT $2";
/// Of up to five users (`$2`..`$6`; unused slots are 0, which no user has), those active and
/// EDITOR or TEAM_ADMIN of team `$1`, or tenant admins (who may manage every team's
/// credentials, so that an admin who owns a credential in a team they are not in hears of it).
pub const NOTIFICATION_RECIPIENTS: &str = "SELECT u.id, u.email FROM users u \
     WHERE u.is_active AND u.id IN ($2, $3, $4, $5, $6) AND (u.admin OR EXISTS \
     (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.team_id = $1 \
     AND m.role IN ('EDITOR', 'TEAM_ADMIN')))";
pub const RECIPIENT_SLOTS: usize = 5;
/// Moves `notify_at` on, if no other planner or write has moved it since it was read.
pub const ADVANCE_NOTIFY_AT: &str =
    "UPDATE credentials SET notify_at = $1 WHERE id = $2 AND notify_at = $3 RETURNING id";
/// A nearer reminder replaces the earlier ones of the same date that are still pending.
pub const SUPERSEDE_NOTIFICATIONS: &str = "UPDATE notifications \
     SET status = 'CANCELLED', last_error = 'superseded by a nearer reminder' \
     WHERE credential_id = $1 AND expires_at = $2 AND threshold_days > $3 AND status = 'PENDING'";
/// Adds a message once (the unique key); one cancelled before is pending again, its retry
/// window starting over.
pub const INSERT_NOTIFICATION: &str = "INSERT INTO notifications \
     (credential_id, expires_at, threshold_days, channel, user_id, recipient, status, \
     last_error, due_at, next_attempt_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $8, $9, $10) \
     ON CONFLICT (credential_id, expires_at, threshold_days, channel, user_id) \
     DO UPDATE SET status = 'PENDING', last_error = excluded.last_error, \
     next_attempt_at = excluded.next_attempt_at, created_at = excluded.created_at \
     WHERE notifications.status = 'CANCELLED'";
/// `$2` NULL cancels every pending message of the credential.
pub const CANCEL_NOTIFICATIONS: &str = "UPDATE notifications \
     SET status = 'CANCELLED', last_error = $3 \
     WHERE credential_id = $1 AND status = 'PENDING' AND ($2 IS NULL OR expires_at <> $2)";
/// `$2`, `$3`: the channels (the same one twice for one channel).
pub const PENDING_NOTIFICATIONS: &str = "SELECT * FROM notifications \
     WHERE status = 'PENDING' AND next_attempt_at <= $1 AND claimed_until <= $1 \
     AND channel IN ($2, $3) ORDER BY next_attempt_at, id LIMIT $4";
pub const CLAIM_NOTIFICATION: &str = "UPDATE notifications \
     SET claimed_until = $1, attempts = attempts + 1 \
     WHERE id = $2 AND status = 'PENDING' AND claimed_until <= $3 RETURNING *";
/// Only the claim that holds the message records its end; a send that happened records it
/// even over a cancellation made while it was under way.
pub const FINISH_NOTIFICATION: &str = "UPDATE notifications \
     SET status = $1, last_error = $2, next_attempt_at = $3, sent_at = $4, claimed_until = 0 \
     WHERE id = $5 AND claimed_until = $6 AND (status = 'PENDING' OR $1 = 'SENT')";
const CREDENTIAL_NOTIFICATIONS: &str = "FROM notifications WHERE credential_id IN \
     (SELECT id FROM credentials WHERE id = $1 OR live_id = $1)";
pub static LIST_NOTIFICATIONS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT * {CREDENTIAL_NOTIFICATIONS} ORDER BY id LIMIT $2 OFFSET $3"));
pub static COUNT_NOTIFICATIONS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT COUNT(*) {CREDENTIAL_NOTIFICATIONS}"));
