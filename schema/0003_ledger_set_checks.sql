-- 0003_ledger_set_checks.sql: the same rules as 0002_ledger.sql, checked per statement instead
-- of per row, so that a batch of thousands of transfers (one COPY) costs one set-based check
-- rather than four deferred per-row checks (three foreign keys and a PL/pgSQL trigger, ~40 us
-- a row on the reference machine; see docs/BENCHMARKS.md "Ledger (PostgreSQL)").
--
-- What the database enforces is unchanged (amount > 0, accounts differ, one kind, both
-- accounts exist on the transfer's ledger, a post/void names an earlier pending of the same
-- accounts and ledger, no more than held / exactly what was held, resolved at most once,
-- append-only). What changes is *when*: at the end of the inserting statement (the COPY of a
-- batch, or one INSERT) instead of at COMMIT. So the writer must insert accounts before the
-- transfers that use them, and a pending no later than (in the same statement as, or before)
-- its post or void; the ledger's writer (settlement/pg_store.cpp) does: one COPY of the
-- batch's accounts, then one of its transfers, in log order.
--
-- The foreign keys go: the statement trigger checks the same existence, and the referenced
-- rows can never be deleted or updated (0002's triggers). journal_seq is monotonic in
-- insertion order: a BRIN index serves range lookups at almost no insert cost.
-- Idempotent (IF EXISTS / OR REPLACE), like 0002.

ALTER TABLE ledger_transfers DROP CONSTRAINT IF EXISTS ledger_transfers_debit_account_id_fkey;
ALTER TABLE ledger_transfers DROP CONSTRAINT IF EXISTS ledger_transfers_credit_account_id_fkey;
ALTER TABLE ledger_transfers DROP CONSTRAINT IF EXISTS ledger_transfers_pending_id_fkey;
DROP TRIGGER IF EXISTS ledger_transfers_balance ON ledger_transfers;

DROP INDEX IF EXISTS ledger_transfers_journal_seq;
CREATE INDEX IF NOT EXISTS ledger_transfers_journal_seq_brin
  ON ledger_transfers USING brin (journal_seq);

-- Every row the statement inserted, checked against the table as the statement left it.
CREATE OR REPLACE FUNCTION ledger_transfers_check_batch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT n.id, n.debit_account_id, n.credit_account_id, n.ledger INTO bad
    FROM ledger_new_transfers n
    LEFT JOIN ledger_accounts d ON d.id = n.debit_account_id
    LEFT JOIN ledger_accounts c ON c.id = n.credit_account_id
   WHERE d.ledger IS DISTINCT FROM n.ledger OR c.ledger IS DISTINCT FROM n.ledger
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger transfer %: accounts % and % are not both on ledger %',
      bad.id, bad.debit_account_id, bad.credit_account_id, bad.ledger
      USING ERRCODE = 'check_violation';
  END IF;

  SELECT n.id, n.pending_id, n.amount, p.id AS p_id, p.flags AS p_flags, p.amount AS p_amount,
         (p.debit_account_id <> n.debit_account_id OR p.credit_account_id <> n.credit_account_id
          OR p.ledger <> n.ledger) AS other_accounts
    INTO bad
    FROM ledger_new_transfers n
    LEFT JOIN ledger_transfers p ON p.id = n.pending_id
   WHERE n.pending_id IS NOT NULL
     AND (p.id IS NULL OR (p.flags & 2) = 0
          OR p.debit_account_id <> n.debit_account_id
          OR p.credit_account_id <> n.credit_account_id OR p.ledger <> n.ledger
          OR ((n.flags & 4) <> 0 AND n.amount > p.amount)
          OR ((n.flags & 8) <> 0 AND n.amount <> p.amount))
   LIMIT 1;
  IF FOUND THEN
    IF bad.p_id IS NULL OR (bad.p_flags & 2) = 0 THEN
      RAISE EXCEPTION 'ledger transfer %: % is not a pending transfer', bad.id, bad.pending_id
        USING ERRCODE = 'check_violation';
    ELSIF bad.other_accounts THEN
      RAISE EXCEPTION 'ledger transfer %: accounts differ from pending %', bad.id, bad.pending_id
        USING ERRCODE = 'check_violation';
    ELSE
      RAISE EXCEPTION 'ledger transfer %: amount % does not fit pending % of %',
        bad.id, bad.amount, bad.pending_id, bad.p_amount USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS ledger_transfers_check_batch ON ledger_transfers;
CREATE TRIGGER ledger_transfers_check_batch
  AFTER INSERT ON ledger_transfers
  REFERENCING NEW TABLE AS ledger_new_transfers
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfers_check_batch();
