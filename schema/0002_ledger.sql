-- 0002_ledger.sql: the double-entry ledger's record (settlement/ledger.hpp mirrored).
-- One row per account, one row per transfer (debit and credit in the same row, as in the
-- engine). The database enforces on its own, whatever writes to it:
--   * amount > 0; debit and credit accounts differ (CHECK);
--   * a transfer balances: both accounts exist and sit on the transfer's ledger; a post or
--     void names an earlier pending of the same accounts and ledger, a post no more than it
--     held, a void exactly what it held (constraint trigger, deferred to commit so the
--     writer may COPY a batch in any order);
--   * a pending is resolved (posted, voided or expired) at most once (unique partial index);
--   * entries are never updated or deleted (trigger), and ipx_app gets SELECT, INSERT only.
-- Ids: the engine's uint64 ids are all below 2^63 (transfer ids below 2^63 too: caller ids
-- < 2^62, expiry voids = pending id | 2^62), so they are stored as positive bigint. code and
-- ref are uint64 user data stored bit for bit in bigint (two's complement).
-- Flags: the engine's bits: 1 linked, 2 pending, 4 post_pending, 8 void_pending, 16 expiry;
-- account flags: 1 debits_must_not_exceed_credits, 2 credits_must_not_exceed_debits.
-- Idempotent: IF NOT EXISTS / OR REPLACE / DROP ... IF EXISTS throughout.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ipx_app') THEN
    CREATE ROLE ipx_app;
  END IF;
END
$$;

CREATE TABLE IF NOT EXISTS ledger_accounts (
  id          bigint   PRIMARY KEY CHECK (id > 0),
  ledger      integer  NOT NULL CHECK (ledger > 0),
  code        integer  NOT NULL DEFAULT 0 CHECK (code BETWEEN 0 AND 65535),  -- the account's kind
  flags       integer  NOT NULL DEFAULT 0 CHECK (flags IN (0, 1, 2)),
  owner_ref   bigint   NOT NULL DEFAULT 0,  -- participant, auction, case... (0: none)
  journal_seq bigint   NOT NULL,            -- the journal entry that created it
  ts_ms       bigint   NOT NULL
);

CREATE TABLE IF NOT EXISTS ledger_transfers (
  id                bigint   PRIMARY KEY CHECK (id > 0),
  journal_seq       bigint   NOT NULL,
  debit_account_id  bigint   NOT NULL REFERENCES ledger_accounts (id) DEFERRABLE INITIALLY DEFERRED,
  credit_account_id bigint   NOT NULL REFERENCES ledger_accounts (id) DEFERRABLE INITIALLY DEFERRED,
  amount            bigint   NOT NULL CHECK (amount > 0),
  ledger            integer  NOT NULL CHECK (ledger > 0),
  flags             integer  NOT NULL CHECK (flags BETWEEN 0 AND 31),
  pending_id        bigint   REFERENCES ledger_transfers (id) DEFERRABLE INITIALLY DEFERRED,
  code              bigint   NOT NULL DEFAULT 0,
  ref               bigint   NOT NULL DEFAULT 0,
  expires_at_ms     bigint   NOT NULL DEFAULT 0,
  ts_ms             bigint   NOT NULL,
  CONSTRAINT ledger_transfers_accounts_differ CHECK (debit_account_id <> credit_account_id),
  -- at most one of pending / post_pending / void_pending; expiry only on a void
  CONSTRAINT ledger_transfers_one_kind CHECK ((flags & 14) IN (0, 2, 4, 8)),
  CONSTRAINT ledger_transfers_expiry_is_void CHECK ((flags & 16) = 0 OR (flags & 8) = 8),
  -- post/void rows and only they name a pending
  CONSTRAINT ledger_transfers_pending_id CHECK ((pending_id IS NOT NULL) = ((flags & 12) <> 0)),
  CONSTRAINT ledger_transfers_expires CHECK (expires_at_ms >= 0 AND
                                             (expires_at_ms = 0 OR (flags & 2) = 2))
);

-- A pending is resolved at most once.
CREATE UNIQUE INDEX IF NOT EXISTS ledger_transfers_resolved_once
  ON ledger_transfers (pending_id) WHERE pending_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ledger_transfers_journal_seq ON ledger_transfers (journal_seq);
CREATE INDEX IF NOT EXISTS ledger_transfers_ref ON ledger_transfers (ref, code);
CREATE INDEX IF NOT EXISTS ledger_transfers_debit ON ledger_transfers (debit_account_id);
CREATE INDEX IF NOT EXISTS ledger_transfers_credit ON ledger_transfers (credit_account_id);

-- The "legs balance" check for one-row transfers.
CREATE OR REPLACE FUNCTION ledger_transfer_balances() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  d_ledger integer;
  c_ledger integer;
  p        ledger_transfers%ROWTYPE;
BEGIN
  SELECT ledger INTO d_ledger FROM ledger_accounts WHERE id = NEW.debit_account_id;
  SELECT ledger INTO c_ledger FROM ledger_accounts WHERE id = NEW.credit_account_id;
  IF d_ledger IS DISTINCT FROM NEW.ledger OR c_ledger IS DISTINCT FROM NEW.ledger THEN
    RAISE EXCEPTION 'ledger transfer %: accounts % and % are not both on ledger %',
      NEW.id, NEW.debit_account_id, NEW.credit_account_id, NEW.ledger
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.pending_id IS NOT NULL THEN
    SELECT * INTO p FROM ledger_transfers WHERE id = NEW.pending_id;
    IF NOT FOUND OR (p.flags & 2) = 0 THEN
      RAISE EXCEPTION 'ledger transfer %: % is not a pending transfer', NEW.id, NEW.pending_id
        USING ERRCODE = 'check_violation';
    END IF;
    IF p.debit_account_id <> NEW.debit_account_id OR p.credit_account_id <> NEW.credit_account_id
       OR p.ledger <> NEW.ledger THEN
      RAISE EXCEPTION 'ledger transfer %: accounts differ from pending %', NEW.id, NEW.pending_id
        USING ERRCODE = 'check_violation';
    END IF;
    IF ((NEW.flags & 4) <> 0 AND NEW.amount > p.amount) OR
       ((NEW.flags & 8) <> 0 AND NEW.amount <> p.amount) THEN
      RAISE EXCEPTION 'ledger transfer %: amount % does not fit pending % of %',
        NEW.id, NEW.amount, NEW.pending_id, p.amount USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS ledger_transfers_balance ON ledger_transfers;
CREATE CONSTRAINT TRIGGER ledger_transfers_balance
  AFTER INSERT ON ledger_transfers
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION ledger_transfer_balances();

-- Entries are never updated or deleted (TRUNCATE neither).
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger: % on % is not allowed; the ledger is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER IF EXISTS ledger_accounts_append_only ON ledger_accounts;
CREATE TRIGGER ledger_accounts_append_only BEFORE UPDATE OR DELETE ON ledger_accounts
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
DROP TRIGGER IF EXISTS ledger_accounts_no_truncate ON ledger_accounts;
CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
DROP TRIGGER IF EXISTS ledger_transfers_append_only ON ledger_transfers;
CREATE TRIGGER ledger_transfers_append_only BEFORE UPDATE OR DELETE ON ledger_transfers
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
DROP TRIGGER IF EXISTS ledger_transfers_no_truncate ON ledger_transfers;
CREATE TRIGGER ledger_transfers_no_truncate BEFORE TRUNCATE ON ledger_transfers
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

REVOKE ALL ON ledger_accounts, ledger_transfers FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON ledger_accounts, ledger_transfers FROM ipx_app;
GRANT SELECT, INSERT ON ledger_accounts, ledger_transfers TO ipx_app;

-- Balances derived from the record, for reconciliation against Ledger::accounts()
-- (posted: plain transfers and posts; pending: open holds only).
CREATE OR REPLACE VIEW ledger_balances AS
WITH resolved AS (
  SELECT pending_id FROM ledger_transfers WHERE pending_id IS NOT NULL
), legs AS (
  SELECT t.debit_account_id AS account_id,
         CASE WHEN t.flags & 2 = 0 THEN t.amount ELSE 0 END AS debits_posted,
         CASE WHEN t.flags & 2 <> 0 AND r.pending_id IS NULL THEN t.amount ELSE 0 END AS debits_pending,
         0::bigint AS credits_posted, 0::bigint AS credits_pending
    FROM ledger_transfers t LEFT JOIN resolved r ON r.pending_id = t.id
   WHERE t.flags & 8 = 0
  UNION ALL
  SELECT t.credit_account_id, 0, 0,
         CASE WHEN t.flags & 2 = 0 THEN t.amount ELSE 0 END,
         CASE WHEN t.flags & 2 <> 0 AND r.pending_id IS NULL THEN t.amount ELSE 0 END
    FROM ledger_transfers t LEFT JOIN resolved r ON r.pending_id = t.id
   WHERE t.flags & 8 = 0
)
SELECT a.id AS account_id, a.ledger,
       COALESCE(sum(l.debits_pending), 0)::bigint  AS debits_pending,
       COALESCE(sum(l.debits_posted), 0)::bigint   AS debits_posted,
       COALESCE(sum(l.credits_pending), 0)::bigint AS credits_pending,
       COALESCE(sum(l.credits_posted), 0)::bigint  AS credits_posted
  FROM ledger_accounts a LEFT JOIN legs l ON l.account_id = a.id
 GROUP BY a.id, a.ledger;
GRANT SELECT ON ledger_balances TO ipx_app;
