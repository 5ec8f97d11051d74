-- 0001_journal: the engine's journal (hash-chained, append-only) and its state snapshots.
-- Applied by engine/pg/migrate.cpp (the one runner) inside a transaction; schema_migrations is
-- created by the runner itself before the first file runs. Numbering: 0002 is the ledger's.
--
-- hash = SHA-256(previous hash || seq i64 BE || ts_ms i64 BE || kind i32 BE ||
--                payload length u32 BE || payload); the first record's previous hash is 32 zero
-- bytes. Seqs start at 1 and have no gaps.

CREATE TABLE journal (
  seq     bigint   PRIMARY KEY CHECK (seq > 0),
  ts_ms   bigint   NOT NULL,
  kind    integer  NOT NULL,
  payload bytea    NOT NULL,
  hash    bytea    NOT NULL CHECK (octet_length(hash) = 32)
);

-- Append-only: an UPDATE, DELETE or TRUNCATE is refused, whoever asks (the owner included).
CREATE FUNCTION journal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'journal is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER journal_append_only_row BEFORE UPDATE OR DELETE ON journal
  FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();
CREATE TRIGGER journal_append_only_truncate BEFORE TRUNCATE ON journal
  FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change();

-- A snapshot of the engine state after applying journal records 1..seq. Written only for a
-- seq the journal holds (checked by engine/pg/snapshots.cpp in the same statement).
CREATE TABLE snapshots (
  seq        bigint      PRIMARY KEY CHECK (seq > 0),
  state_hash bytea       NOT NULL CHECK (octet_length(state_hash) BETWEEN 1 AND 64),
  payload    bytea       NOT NULL,
  created    timestamptz NOT NULL DEFAULT now()
);

-- The application role (created by tools/lib/services.sh; may not exist elsewhere) appends and
-- reads, never changes.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'ipx_app') THEN
    GRANT SELECT, INSERT ON journal, snapshots TO ipx_app;
    GRANT SELECT ON schema_migrations TO ipx_app;
  END IF;
END
$$;
