-- 0007_snapshot_chunks: a snapshot's sealed chunks are stored once, not in every snapshot.
--
-- Most of a snapshot's bytes are chunks of ~1 MiB that never change once sealed: the
-- remembered replies, the ledger's transfers and the finished orders (engine/sealed_log.hpp,
-- engine/remembered_log.hpp). Written whole, a snapshot at 1M commands was ~285 MB and ~2.5 s of
-- a PostgreSQL backend's CPU (lz4, TOAST, WAL) every 100,000 records, on the same two cores as
-- the journal. Now a snapshot row's `state` may be a manifest (engine/pg/snapshots.cpp: magic
-- "IPXPARTS", then the blob's pieces: its own bytes inline, or a chunk by SHA-256 digest), and
-- each chunk is a row of snapshot_chunks, written by the first snapshot that holds it.
-- `chunks` lists the digests a row's manifest names (32 bytes each), so the chunks no kept
-- state names can be deleted when older states are dropped.
-- Idempotent (IF NOT EXISTS), like 0004.

CREATE TABLE IF NOT EXISTS snapshot_chunks (
  digest bytea PRIMARY KEY CHECK (octet_length(digest) = 32),
  bytes  bytea NOT NULL
);
DO $$
BEGIN
  ALTER TABLE snapshot_chunks ALTER COLUMN bytes SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  NULL;  -- a server built without lz4 keeps its default compression
END
$$;

ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS chunks bytea
  CHECK (chunks IS NULL OR octet_length(chunks) % 32 = 0);

-- The application role writes chunks and deletes the ones no kept state names; it may drop
-- a row's list with its state.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'ipx_app') THEN
    GRANT SELECT, INSERT, DELETE ON snapshot_chunks TO ipx_app;
    GRANT UPDATE (state, chunks) ON snapshots TO ipx_app;
  END IF;
END
$$;
