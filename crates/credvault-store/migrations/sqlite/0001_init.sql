-- credvault schema, SQLite flavour. Times are integer milliseconds since the Unix epoch;
-- list-valued and object-valued fields are JSON text. Secrets are AES-256-GCM blobs.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE users (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    email      TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name  TEXT NOT NULL DEFAULT '',
    admin      INTEGER NOT NULL DEFAULT 0,
    is_active  INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_seen  INTEGER
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    name       TEXT NOT NULL,
    key_hash   BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (key_hash);

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX teams_slug_key ON teams (slug);

CREATE TABLE memberships (
    team_id INTEGER NOT NULL REFERENCES teams (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    role    TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE folders (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id          INTEGER NOT NULL REFERENCES teams (id),
    name             TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    parent_folder_id INTEGER REFERENCES folders (id),
    created_at       INTEGER NOT NULL
);
CREATE INDEX folders_team ON folders (team_id);

-- A test credential is a row whose live_id names its live credential; it shares the live
-- one's team and is never listed on its own.
CREATE TABLE credentials (
    id                           INTEGER PRIMARY KEY AUTOINCREMENT,
    uid                          TEXT NOT NULL,
    team_id                      INTEGER NOT NULL REFERENCES teams (id),
    live_id                      INTEGER REFERENCES credentials (id) ON DELETE CASCADE,
    name                         TEXT NOT NULL,
    slug                         TEXT NOT NULL,
    mode                         TEXT NOT NULL,
    folder_id                    INTEGER REFERENCES folders (id),
    read_access                  TEXT NOT NULL,
    shared_team_slugs            TEXT NOT NULL,
    description                  TEXT NOT NULL,
    metadata                     TEXT NOT NULL,
    allowed_hosts                TEXT NOT NULL,
    owner_id                     INTEGER NOT NULL REFERENCES users (id),
    expires_at                   INTEGER,
    expiry_notifications_enabled INTEGER NOT NULL,
    notification_recipient_ids   TEXT NOT NULL,
    config                       TEXT NOT NULL,
    secret                       BLOB NOT NULL,
    test_credential_enabled      INTEGER NOT NULL DEFAULT 0,
    version                      INTEGER NOT NULL DEFAULT 1,
    last_used_at                 INTEGER,
    created_at                   INTEGER NOT NULL,
    updated_at                   INTEGER NOT NULL
);
CREATE UNIQUE INDEX credentials_uid_key ON credentials (uid);
CREATE UNIQUE INDEX credentials_team_slug_key ON credentials (team_id, slug) WHERE live_id IS NULL;
CREATE UNIQUE INDEX credentials_live_id_key ON credentials (live_id) WHERE live_id IS NOT NULL;
CREATE INDEX credentials_folder ON credentials (folder_id);
