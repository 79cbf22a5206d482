-- API.md §7: expiry notifications. `notify_at` is when the scheduler next looks at a
-- credential (live or test): the due time of its next reminder, null when none is coming.
ALTER TABLE credentials ADD COLUMN notify_at INTEGER;
CREATE INDEX credentials_notify_at ON credentials (notify_at) WHERE notify_at IS NOT NULL;
-- Credentials that asked for reminders before the scheduler existed start their sequence.
UPDATE credentials SET notify_at = expires_at - 2592000000
    WHERE expiry_notifications_enabled = 1 AND expires_at IS NOT NULL;

-- The outbox: one row per message to send. The unique key makes each email (credential,
-- expires_at, threshold, recipient) and each webhook call (user_id 0) exist once, however many
-- instances plan it; a sender claims a row by moving claimed_until into the future, so a
-- claim left by a killed process expires and the row is sent by whoever claims it next.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    credential_id   INTEGER NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    expires_at      INTEGER NOT NULL,
    threshold_days  INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    user_id         INTEGER NOT NULL,
    recipient       TEXT,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    due_at          INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    sent_at         INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX notifications_once
    ON notifications (credential_id, expires_at, threshold_days, channel, user_id);
CREATE INDEX notifications_pending ON notifications (next_attempt_at) WHERE status = 'PENDING';
