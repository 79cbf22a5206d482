-- API.md §6: when a credential's key is next due for scheduled rotation (null: never). Every
-- instance looks for due rows; the first to write the rotation (a versioned update) wins.
ALTER TABLE credentials ADD COLUMN rotate_at BIGINT;
CREATE INDEX credentials_rotate_at ON credentials (rotate_at) WHERE rotate_at IS NOT NULL;
