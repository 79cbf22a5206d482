-- API.md §8: the audit log. Entries are appended in the transaction of the change they
-- record and never changed. `id` is the entry's place in the hash chain (1, 2, 3, … with no
-- gaps), given out by `audit_head`, whose one row also keeps the last entry's hash and time: every
-- append updates it, which makes appends take turns (PostgreSQL holds the row lock until the
-- commit; SQLite has one writer), so the chain follows commit order.
CREATE TABLE audit_logs (
    id                 INTEGER PRIMARY KEY,
    created_at         INTEGER NOT NULL,
    operation_name     TEXT NOT NULL,
    inputs             TEXT NOT NULL,
    outputs            TEXT NOT NULL,
    request_ip         TEXT,
    request_user_agent TEXT,
    user_id            INTEGER,
    user_email         TEXT,
    user_name          TEXT,
    previous_hash      TEXT NOT NULL,
    hash               TEXT NOT NULL
);
CREATE INDEX audit_logs_created_at ON audit_logs (created_at);

CREATE TABLE audit_head (
    one     INTEGER PRIMARY KEY CHECK (one = 1),
    last_id INTEGER NOT NULL,
    hash    TEXT NOT NULL,
    -- The last entry's created_at: the next one is never earlier.
    last_at INTEGER NOT NULL
);
INSERT INTO audit_head (one, last_id, hash, last_at)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);
