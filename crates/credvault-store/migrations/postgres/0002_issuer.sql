-- API.md §6: every credential has a public issuer id, fixed for its life: 128 random bits
-- (an MD5 of two random UUIDs, 244 random bits, for the rows that exist already).
ALTER TABLE credentials ADD COLUMN issuer_id TEXT;
UPDATE credentials SET issuer_id = md5(gen_random_uuid()::text || gen_random_uuid()::text);
CREATE UNIQUE INDEX credentials_issuer_id_key ON credentials (issuer_id);

-- The current key's kid and when the key last changed, kept beside the sealed key so that
-- responses show them without opening it. Rows written before this keep NULL until their key
-- next changes.
ALTER TABLE credentials ADD COLUMN key_id TEXT;
ALTER TABLE credentials ADD COLUMN key_rotated_at BIGINT;
