-- 0008_append_only_vacuum: the autovacuum of the tables the engine appends to goes gently.
--
-- The journal, the ledger's transfers and the snapshot chunks are only appended to (0001 and
-- 0002 refuse UPDATE and DELETE of journal and ledger rows; chunks are written once and
-- deleted whole). Their autovacuums are triggered by inserts and only set visibility bits,
-- freeze and gather statistics: work that can wait. At the default cost delay (2 ms) one ran
-- at full speed for ~1.2 s after a burst of 300,000 commands, on the same two cores as the
-- engine, and the acknowledgement latency at 20,000 commands/s rose to 30-45 ms while it ran
-- (docs/BENCHMARKS.md "Sixth round"). At 20 ms it takes a small share of a core for longer.
-- Only these tables change; other tables keep the server's settings. Idempotent (SET of
-- storage parameters).

ALTER TABLE journal SET (autovacuum_vacuum_cost_delay = 20,
                         toast.autovacuum_vacuum_cost_delay = 20);
ALTER TABLE ledger_transfers SET (autovacuum_vacuum_cost_delay = 20);
ALTER TABLE snapshot_chunks SET (autovacuum_vacuum_cost_delay = 20,
                                 toast.autovacuum_vacuum_cost_delay = 20);
ALTER TABLE snapshots SET (autovacuum_vacuum_cost_delay = 20,
                           toast.autovacuum_vacuum_cost_delay = 20);
