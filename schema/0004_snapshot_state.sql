-- 0004_snapshot_state: snapshots become a starting point for recovery, not only a checkpoint
-- of the state hash. A snapshot row now may carry the whole engine state at its seq
-- (Domain::save(), engine/snapshot_io.hpp: magic, format version, checksum) and the journal
-- record hash at that seq, so recovery loads the latest state that loads and checks, then
-- replays only the records after it, continuing the hash chain from `record_hash`
-- (engine/pg/recovery.cpp).
--
-- state: NULL on rows written before this migration and on rows whose state was dropped to
-- bound the disk (engine/pg/snapshots.cpp keeps the newest few; the hash stays and is still
-- checked by a full replay). lz4: the state is mostly JSON text (remembered replies) and
-- compresses several times, on the database's own core, at hundreds of MB/s (pglz, the
-- default, is several times slower).
-- Idempotent (IF NOT EXISTS), like 0002 and 0003.

ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS state bytea;
ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS record_hash bytea
  CHECK (record_hash IS NULL OR octet_length(record_hash) = 32);
DO $$
BEGIN
  ALTER TABLE snapshots ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  NULL;  -- a server built without lz4 keeps its default compression
END
$$;

-- The application role may drop old states (set them NULL), nothing else of a snapshot.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'ipx_app') THEN
    GRANT UPDATE (state) ON snapshots TO ipx_app;
  END IF;
END
$$;
