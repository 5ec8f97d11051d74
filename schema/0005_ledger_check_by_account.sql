-- 0005_ledger_check_by_account.sql: 0003's statement-level check, the same rules, with the
-- account check done once per (account, ledger) pair instead of once per transfer.
--
-- A batch of thousands of transfers (the group committer merges its transactions' ledger rows
-- into one COPY) touches a few hundred accounts: 0003 probed ledger_accounts twice per
-- transfer (~3.4 us a transfer on the reference machine, a third of the ledger rows' cost at
-- 30k commands/s); one hash aggregate over the batch's pairs and one probe per pair is what the
-- rule needs. Only when a pair fails is the per-transfer query run, to name the transfer as
-- 0003 does. The pending check is unchanged (it probes only the posts and voids).
-- Idempotent (OR REPLACE), like 0003.

CREATE OR REPLACE FUNCTION ledger_transfers_check_batch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  PERFORM 1
     FROM (SELECT debit_account_id AS account_id, ledger FROM ledger_new_transfers
           UNION
           SELECT credit_account_id, ledger FROM ledger_new_transfers) p
     LEFT JOIN ledger_accounts a ON a.id = p.account_id
    WHERE a.ledger IS DISTINCT FROM p.ledger
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
