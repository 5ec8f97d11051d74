-- 0006_ledger_insert_cost.sql: less PostgreSQL CPU per ledger transfer row, the same rules.
--
-- Every engine command that moves money writes ~1.1 ledger_transfers rows in its batch's
-- transaction (engine/pg/journal.cpp, settlement/pg_store.cpp), on the same 2 cores as the
-- engine: PostgreSQL's time per row bounds the durable throughput (docs/BENCHMARKS.md
-- "Fourth round"). Measured per row on the reference machine (362k rows of an engine bench
-- re-inserted in journal order): heap ~1.7 us, primary key ~0.8 us, resolved_once ~0.4 us,
-- BRIN journal_seq ~0.2 us, and each of (ref, code), debit_account_id, credit_account_id
-- ~1.5 us: the three secondary btrees were ~60 % of the row's index cost.
--
--   * Those three secondary btrees go, and the BRIN on journal_seq (in the engine's commit
--     path it was ~6 % of the committing backend's samples: brininsert reads the metapage and
--     the revmap for every row). No query of ipx reads through any of them (gateway/,
--     settlement/, tools/, engine/: the ledger is read whole, ORDER BY id, by read_ledger and
--     the ledger_balances view, whose plans scan the table) and they enforce nothing. The
--     transfers a journal record made are still found by the primary key: their ids are
--     (seq << 6) | k (settlement/codes.hpp); an operator's ad-hoc statement of an account works
--     by a scan, or by an index made CONCURRENTLY where such reports are run.
--     Kept: the primary key (a transfer id is stored once; the pending lookup below) and
--     resolved_once (a pending is resolved at most once).
--   * The statement check's account rule (0005) aggregated the batch's (account, ledger) pairs
--     through a UNION of two scans of the transition table (~1 us a transfer, 12 ms for a
--     batch of 12,000); the distinct (debit, credit, ledger) triples of one scan, each account
--     probed by its primary key, are the same rule (every transfer's two accounts exist and sit
--     on its ledger) at ~0.35 us a transfer (4 ms). The failure path (naming the transfer) and
--     the pending check are 0005's, unchanged.
--
-- What the database enforces is unchanged: amount > 0, accounts differ, one kind, both
-- accounts exist on the transfer's ledger, a post/void names an earlier pending of the same
-- accounts and ledger, no more than held / exactly what was held, resolved at most once,
-- append-only (0002's triggers and grants). Idempotent (IF EXISTS / OR REPLACE), like 0005.

DROP INDEX IF EXISTS ledger_transfers_ref;
DROP INDEX IF EXISTS ledger_transfers_debit;
DROP INDEX IF EXISTS ledger_transfers_credit;
DROP INDEX IF EXISTS ledger_transfers_journal_seq_brin;

CREATE OR REPLACE FUNCTION ledger_transfers_check_batch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  PERFORM 1
     FROM (SELECT DISTINCT debit_account_id, credit_account_id, ledger
             FROM ledger_new_transfers) p
     LEFT JOIN ledger_accounts d ON d.id = p.debit_account_id
     LEFT JOIN ledger_accounts c ON c.id = p.credit_account_id
    WHERE d.ledger IS DISTINCT FROM p.ledger OR c.ledger IS DISTINCT FROM p.ledger
    LIMIT 1;
  IF FOUND THEN
    SELECT n.id, n.debit_account_id, n.credit_account_id, n.ledger INTO bad
      FROM ledger_new_transfers n
      LEFT JOIN ledger_accounts d ON d.id = n.debit_account_id
      LEFT JOIN ledger_accounts c ON c.id = n.credit_account_id
     WHERE d.ledger IS DISTINCT FROM n.ledger OR c.ledger IS DISTINCT FROM n.ledger
     LIMIT 1;
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
