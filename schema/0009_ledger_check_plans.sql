-- 0009_ledger_check_plans: the ledger's batch check probes by primary key whatever the
-- statistics say.
--
-- ledger_transfers_check_batch (0006) runs once per COPY of a batch's transfers. PL/pgSQL plans
-- its queries once per session and keeps the plan until the tables' statistics change. A
-- committer that connects while ledger_transfers is small or never analyzed (a fresh
-- database, the pilot, the benchmark) got a hash join over a sequential scan of the whole
-- table for the pending check (auto_explain: "Seq Scan on ledger_transfers p ... rows=700").
-- It kept that plan as the table grew, until autovacuum's ANALYZE. At 300,000 rows each batch's
-- check read them all, 30-300 ms, and the acknowledgement latency at 20,000 commands/s sat at
-- 50-200 ms (docs/BENCHMARKS.md "Sixth round").
-- Every lookup in the check is by primary key: a transfer's pending transfer, and a transfer's
-- two accounts. With these settings the plan is a nested loop over the batch's transfers,
-- probing each key, whatever the statistics. The transition table is scanned as before
-- (a tuplestore scan is not a sequential scan).
-- A later CREATE OR REPLACE of the function must carry these settings again. Idempotent.

ALTER FUNCTION ledger_transfers_check_batch() SET enable_seqscan = off;
ALTER FUNCTION ledger_transfers_check_batch() SET enable_hashjoin = off;
ALTER FUNCTION ledger_transfers_check_batch() SET enable_mergejoin = off;
