#pragma once
// The ledger's record in PostgreSQL (schema/0002_ledger.sql): writing the rows an engine batch
// created, in the journal batch's own transaction, and reading them back for reconciliation.
// A separate library (ipx_settlement_pg, libpq) so that ipx_settlement stays free of I/O.
//
// Writing: two binary COPYs (accounts, then transfers) on the caller's connection, inside the
// caller's open transaction (the journal's batch): the rows commit with the journal records or
// not at all, so a batch re-sent after a lost acknowledgement is either already there whole
// (the journal completes it without sending it again) or absent whole. The schema's checks
// (legs balance, foreign keys, a pending resolved once) are deferred: they run at the
// transaction's COMMIT, so a refused row fails the COMMIT, not this call.
//
// Cost (back of the envelope): a transfer is 12 fields, ~140 bytes of COPY stream; the server
// side is one heap tuple, six index entries and four deferred per-row checks (three foreign
// keys and the balance trigger), a few tens of microseconds; measured figures are in
// docs/BENCHMARKS.md "Ledger (PostgreSQL)".
#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "settlement/ledger.hpp"

namespace ipx::ledger::pg {

enum class store_errc {
  ok = 0,
  copy_failed = 1,  // the server refused a COPY or query (the transaction is aborted)
  connection_lost,  // the connection broke (outcome of the transaction unknown)
  bad_row,          // a value that does not fit its column (an id >= 2^63): a ledger bug
};
const std::error_category& store_category() noexcept;
inline std::error_code make_error_code(store_errc e) noexcept {
  return {static_cast<int>(e), store_category()};
}

// Writes `accounts` into ledger_accounts and `transfers` into ledger_transfers with
// journal_seq = `journal_seq` (accounts also get ts_ms = `ts_ms`; transfers keep their own).
// Must run inside an open transaction (the caller's BEGIN ... COMMIT). On failure the server's
// message is in PQerrorMessage(conn) and, when given, in *error.
std::error_code write_ledger_rows(PGconn* conn, std::span<const Account> accounts,
                                  std::span<const Transfer> transfers, std::int64_t journal_seq,
                                  std::int64_t ts_ms = 0, std::string* error = nullptr);

// The rows of several journal batches, each with its own journal_seq and ts_ms, written with
// one COPY per table (as the engine's group committer merges its submissions' rows): all the
// accounts, then all the transfers. The ledger's checks run once per statement, on the rows of
// every batch together; as each batch was valid after the one before, so is their end state.
struct LedgerBatch {
  std::span<const Account> accounts;
  std::span<const Transfer> transfers;
  std::int64_t journal_seq = 0;
  std::int64_t ts_ms = 0;
};
std::error_code write_ledger_rows(PGconn* conn, std::span<const LedgerBatch> batches,
                                  std::string* error = nullptr);

// The same rows as binary COPY streams for kCopyAccountsSql and kCopyTransfersSql (each left
// empty when its table gets no rows), for a caller that sends the statements itself (the
// journal puts them in its transaction's one query). bad_row as above.
inline constexpr const char* kCopyAccountsSql =
    "COPY ledger_accounts (id, ledger, code, flags, owner_ref, journal_seq, ts_ms) "
    "FROM STDIN (FORMAT binary)";
inline constexpr const char* kCopyTransfersSql =
    "COPY ledger_transfers (id, journal_seq, debit_account_id, credit_account_id, amount, ledger, "
    "flags, pending_id, code, ref, expires_at_ms, ts_ms) FROM STDIN (FORMAT binary)";
std::error_code encode_ledger_rows(std::span<const LedgerBatch> batches, std::string& accounts_copy,
                                   std::string& transfers_copy, std::string* error = nullptr);

// The same as an ExtraWriter for ipx::pg::GroupCommitter::submit / Journal::append (the type
// is std::function<std::error_code(PGconn*)>, identical to ipx::pg::ExtraWriter). Owns the
// rows; encodes them on the thread that runs it (the committer's), again on a retry.
std::function<std::error_code(PGconn*)> make_extra_writer(std::vector<Account> accounts,
                                                          std::vector<Transfer> transfers,
                                                          std::int64_t journal_seq,
                                                          std::int64_t ts_ms);

// ---- reading back (reconciliation, tests) ------------------------------------------------

struct StoredAccount {
  Account account;  // attributes from ledger_accounts; balances from the ledger_balances view
  std::int64_t journal_seq = 0;
};
struct StoredTransfer {
  Transfer transfer;  // as the ledger's log holds it (post/void normalized by the ledger)
  std::int64_t journal_seq = 0;
};
struct StoredLedger {
  std::vector<StoredAccount> accounts;    // by id
  std::vector<StoredTransfer> transfers;  // by id
  std::int64_t max_journal_seq = 0;       // 0: no rows
  // The journal's last seq in the same snapshot (0: empty; -1: no journal table). Ledger rows
  // commit with their journal batch, so the rows read are exactly those of seqs <= this.
  std::int64_t journal_head = -1;
};

// Reads every account (with its balances as the view recomputes them from the transfers)
// and every transfer, and the journal's head, in one REPEATABLE READ snapshot (its own
// transaction, or the caller's when `in_transaction`).
std::error_code read_ledger(PGconn* conn, StoredLedger& out, std::string* error = nullptr,
                            bool in_transaction = false);

// ---- catching up ---------------------------------------------------------------------------

// For a database whose journal predates the ledger rows (the wiring came later), or any gap:
// writes every account and transfer `engine` holds that the database lacks (engine order,
// journal_seq = `journal_seq`, normally the journal head the engine was replayed to), inside
// the caller's open transaction. Without this, the first batch that touches an older account
// is refused (accounts must exist) and the committer retries it forever. Refuses
// (copy_failed, *error says why) when the database holds rows the engine does not: that is a
// reconciliation failure, not a gap. `written` (optional): rows written (accounts + transfers).
// When both tables' row counts and highest ids equal the engine's (every start of a server
// whose rows went in with their journal batches) nothing is read or written: a difference in
// content alone is then for reconcile() (`ipx-ledger reconcile`) to find. An engine that has
// compacted its ledger can only write what its live log still holds: when the database lacks
// a retired transfer, nothing is written and copy_failed says so.
std::error_code sync_ledger_rows(PGconn* conn, const Ledger& engine, std::int64_t journal_seq,
                                 std::int64_t ts_ms, std::size_t* written = nullptr,
                                 std::string* error = nullptr);

// ---- reconciliation ------------------------------------------------------------------------

struct Difference {
  std::uint64_t id = 0;      // account or transfer id (0: a count)
  std::string what;          // "account", "transfer", "count"
  std::string field;         // e.g. "debits_posted", "missing in db", "transfers"
  std::string db_value;
  std::string engine_value;  // or, for a check inside the db, the recomputed value
};

struct ReconcileResult {
  std::size_t accounts = 0;   // compared (engine side)
  std::size_t transfers = 0;  // compared (engine side)
  std::vector<Difference> differences;  // in order found; at most `max_differences`
  bool ok() const { return differences.empty(); }
};

// Compares the stored ledger with the engine's:
//  1. the engine's own balances against a recomputation from its log (its invariants);
//  2. the stored balances (the view) against a recomputation from the stored transfer rows
//     here, in C++ (the view's own arithmetic);
//  3. every engine account, in creation order: present in the db, same ledger, code, flags,
//     owner, and the same four balances (the view's) — then accounts only the db has;
//  4. every transfer of the engine's live log, in order: present in the db with the same
//     fields — then transfers only the db has (when the engine has retired none: after a
//     compaction the rest are the database's alone); and the counts (every transfer ever).
// Stops after `max_differences`.
ReconcileResult reconcile(const StoredLedger& db, const Ledger& engine,
                          std::size_t max_differences = 1);

// One line: "account 123: debits_posted: db 5, engine 7".
std::string describe(const Difference& d);

}  // namespace ipx::ledger::pg

template <>
struct std::is_error_code_enum<ipx::ledger::pg::store_errc> : std::true_type {};
