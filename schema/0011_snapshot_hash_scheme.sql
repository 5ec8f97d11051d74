-- 0011_snapshot_hash_scheme: which state hash function a snapshot row's state_hash is.
--
-- Scheme 1 hashed each reply byte by byte; scheme 2 (engine/domain.cpp, mix_bytes) eight
-- bytes at a time. A replay compares its state hash only with the rows of its own scheme
-- (engine/pg/recovery.cpp); a row of another scheme is not checked, and the engine writes a
-- new snapshot over one at the same seq (engine/pg/snapshots.cpp). Rows from before this
-- migration are scheme 1; rows inserted without the column are the current scheme.
-- Idempotent.

ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS hash_scheme smallint NOT NULL DEFAULT 1;
ALTER TABLE snapshots ALTER COLUMN hash_scheme SET DEFAULT 2;
