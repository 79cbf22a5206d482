-- API.md §9: the data-key term of each credential's sealed secret, so that re-encryption after
-- a data-key rotation finds (and counts) the secrets of older terms by index. Every secret
-- written so far is of the first term: earlier versions had one data key.
ALTER TABLE credentials ADD COLUMN secret_term BIGINT NOT NULL DEFAULT 1;
CREATE INDEX credentials_secret_term ON credentials (secret_term, id);
