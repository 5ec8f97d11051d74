#pragma once
// PgDurability: the engine's Durability over the PostgreSQL group committer.
//
// The engine thread submits each applied batch's records; they go to the GroupCommitter (one
// transaction per coalesced batch); on_committed runs on the committer thread, in submission
// order, once the batch is durable. An empty submission (a batch of reads) is a barrier: its
// on_committed runs after every earlier batch's, at once when nothing is in flight.
//
// Snapshots: every `snapshot_every` records, the batch that reaches (or crosses) the next
// multiple carries a snapshot {seq = the batch's last seq, state_hash = hex of
// Domain::state_hash(), state = Domain::save(), payload = a small JSON summary}, written in the
// same transaction (an ExtraWriter) with the journal's record hash at seq; the states of all
// but the newest `snapshot_states_kept` snapshots are dropped there too. The state is saved on
// the engine thread right after the batch (the engine's pause: snapshot_stats()); its bytes
// go to the database on the committer thread. recover() starts from the latest state.
//
// Failure policy: while PostgreSQL is down the committer keeps the batches and available() is
// false (the engine answers UNAVAILABLE). A `fatal` completion, or a submission the committer
// refuses (sequence mismatch, bad record, queue full), means the state in memory is ahead of a
// journal that can no longer take it: this logs to stderr and aborts the process (a restart
// replays the journal; nothing unacknowledged was promised). A `stopped` completion (shutdown)
// is dropped: its replies never leave.
//
// Use (ipxd):
//   pg::PgDurability durability(conninfo, {});
//   engine::Engine engine(engine_options, &durability, &publisher);
//   auto rec = pg::recover(engine, conninfo, {.snapshot_every = ...});  // migrate + replay
//   if (!rec.ok()) { log rec.message; exit 1; }
//   if (auto ec = durability.start(engine)) { log durability.last_error(); exit 1; }
//   engine.start();
//   ... at shutdown: engine.stop(); durability.stop();
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "engine/engine.hpp"
#include "engine/pg/group_commit.hpp"

namespace ipx::pg {

struct DurabilityOptions {
  CommitterOptions committer;
  std::int64_t snapshot_every = 100'000;  // records between snapshots; 0: none
  // Snapshot states kept in the database (the newest; the one before is the fallback when
  // the newest does not load). Each is the whole state (hundreds of MB for 1M commands).
  std::size_t snapshot_states_kept = 2;
  // Write the ledger's rows (Durability::ledger_rows: ledger_accounts, ledger_transfers) in the
  // journal's transaction: the rows of all the submissions a transaction holds go in with one
  // COPY per table (RowsWriter), each row with the journal seq of its own batch.
  bool ledger_rows = false;
};

// What snapshots cost: the engine thread's pause to save the state, and the committer's time
// to write it (inside the batch's transaction, so the batches behind it wait that long).
struct SnapshotStats {
  std::int64_t snapshots = 0;
  std::int64_t last_bytes = 0;
  std::chrono::microseconds last_save{0}, max_save{0}, total_save{0};
  std::chrono::microseconds last_write{0}, max_write{0};
};

// 16 lowercase hex digits of a Domain::state_hash() (what snapshots store).
std::string state_hash_hex(std::uint64_t h);

class PgDurability final : public engine::Durability {
 public:
  explicit PgDurability(std::string conninfo, DurabilityOptions options = {});
  ~PgDurability() override;
  PgDurability(const PgDurability&) = delete;
  PgDurability& operator=(const PgDurability&) = delete;

  // After recover(), before engine.start(): starts the committer (connects, reads the journal
  // head) and checks that the head is the engine's last seq (sequence_mismatch otherwise:
  // another writer, or the journal moved after recovery). `engine` is used on the engine
  // thread only (its Domain's state hash, for snapshots). With ledger_rows, also writes the
  // ledger rows the database lacks (sync_ledger_rows: the domain's own accounts, or a journal
  // older than its ledger rows); fails (last_error says why) when it holds rows the engine
  // does not.
  std::error_code start(engine::Engine& engine);
  // After engine.stop(): commits what is queued while the database answers, drops the rest.
  void stop();

  bool available() const override;
  void submit(std::vector<engine::Record> records, std::function<void()> on_committed) override;
  // Engine thread, just before submit(): kept for that batch (see DurabilityOptions).
  void ledger_rows(std::vector<ledger::Account> accounts,
                   std::vector<ledger::Transfer> transfers) override;

  // Waits until every submitted batch is committed and delivered.
  bool wait_idle(std::chrono::milliseconds timeout);
  CommitterStats stats() const { return committer_.stats(); }
  std::string last_error() const;
  std::int64_t snapshots_written() const;
  SnapshotStats snapshot_stats() const;

 private:
  struct Entry {
    bool write = false;      // false: a barrier (reads)
    std::function<void()> on_committed;
  };
  void on_completion(std::error_code ec);
  ExtraWriter snapshot_writer(std::int64_t seq, std::int64_t ts_ms);
  std::error_code sync_ledger(engine::Engine& engine);

  const DurabilityOptions options_;
  const std::string conninfo_;
  GroupCommitter committer_;
  engine::Engine* engine_ = nullptr;
  std::string start_error_;
  std::vector<ledger::Account> pending_accounts_;    // engine thread
  std::vector<ledger::Transfer> pending_transfers_;  // engine thread

  // Lock order: deliver_mu_ before mu_. Callbacks run under deliver_mu_ only, so a barrier
  // delivered at once on the engine thread cannot overtake a batch being delivered.
  std::mutex deliver_mu_;
  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::deque<Entry> entries_;  // in submission order; front = oldest undelivered
  bool delivering_ = false;
  SnapshotStats snapshot_stats_;  // under mu_
};

}  // namespace ipx::pg
