-- API.md §6: the public keys a credential signed with before its key changed. Each stays
-- published in the JWKS documents until every token it signed has expired.
CREATE TABLE retired_keys (
    credential_id   INTEGER NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    jwk             TEXT NOT NULL,
    retired_at      INTEGER NOT NULL,
    published_until INTEGER NOT NULL
);
CREATE INDEX retired_keys_credential ON retired_keys (credential_id, published_until);
