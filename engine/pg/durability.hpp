#pragma once
// PgDurability: the engine's Durability over the PostgreSQL group committer.
//
// The engine thread submits each applied batch's records; they go to the GroupCommitter (one
// transaction per coalesced batch); on_committed runs on the committer thread, in submission
// order, once the batch is durable. An empty submission (a batch of reads) is a barrier: its
// on_committed runs after every earlier batch's, at once when nothing is in flight.
//
// Snapshots: every `snapshot_every` records, right after the batch that reaches (or crosses)
// the next multiple, the engine thread takes a snapshot of the domain at that batch's last seq
// (Domain::capture(): the engine's pause, snapshot_stats()) and hands it to the SnapshotWriter
// (engine/pg/snapshot_writer.hpp), which makes its bytes and writes the row {seq, state_hash =
// hex of Domain::state_hash(), state, payload = a small JSON summary, the journal's record hash
// at seq} on a thread and a connection of its own once the journal has committed seq, and
// drops the states of all but the newest `snapshots.states_kept` rows. Nothing of it is in the
// committer's transactions: the batches behind a snapshot commit as if there were none. The
// writer holds one state at most: a snapshot that falls due while the previous one is still
// being written waits (without a state) for the first batch after the writer is free, and any
// more that fall due meanwhile are skipped (counted).
// A failed snapshot write is dropped (the journal is unaffected); a conflicting row (another
// state hash at that seq) aborts the process. recover() starts from the latest state.
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
#include "engine/pg/snapshot_writer.hpp"

namespace ipx::pg {

struct DurabilityOptions {
  CommitterOptions committer;
  std::int64_t snapshot_every = 100'000;  // records between snapshots; 0: none
  SnapshotWriterOptions snapshots;        // states kept, fault hooks
  // Write the ledger's rows (Durability::ledger_rows: ledger_accounts, ledger_transfers) in the
  // journal's transaction: the rows of all the submissions a transaction holds go in with one
  // COPY per table (RowsWriter), each row with the journal seq of its own batch.
  bool ledger_rows = false;
};

// What snapshots cost: the engine thread's pause to take each, and the writer's time to make
// its bytes and write it (on its own thread and connection: the journal does not wait).
struct SnapshotStats {
  std::int64_t taken = 0;    // handed to the writer
  std::int64_t skipped = 0;  // due while one was still being written and another owed
  std::int64_t written = 0;
  std::int64_t failed = 0;   // write failed, dropped
  std::int64_t last_bytes = 0;
  std::int64_t last_sent = 0;  // of which the last write sent (chunks stored before are not)
  std::chrono::microseconds last_pause{0}, max_pause{0}, total_pause{0};  // engine thread
  std::chrono::microseconds last_build{0}, max_build{0};  // writer thread: the bytes
  std::chrono::microseconds last_write{0}, max_write{0};  // writer thread: the row
  std::string last_error;  // the last failed write's
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
  // After engine.stop(): commits what is queued while the database answers, drops the rest;
  // then finishes the snapshot in hand if its seq committed, else abandons it.
  void stop();

  bool available() const override;
  bool probe() override;
  void submit(std::vector<engine::Record> records, std::function<void()> on_committed) override;
  // Engine thread, just before submit(): kept for that batch (see DurabilityOptions).
  void ledger_rows(std::vector<ledger::Account> accounts,
                   std::vector<ledger::Transfer> transfers) override;

  // Waits until every submitted batch is committed and delivered, and the snapshot in hand (if
  // any) is written or dropped.
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
  void maybe_snapshot(std::int64_t first, std::int64_t last, std::int64_t ts_ms);
  void take_snapshot(std::int64_t seq, std::int64_t ts_ms);
  std::error_code sync_ledger(engine::Engine& engine);

  const DurabilityOptions options_;
  const std::string conninfo_;
  GroupCommitter committer_;
  SnapshotWriter writer_;
  engine::Engine* engine_ = nullptr;
  std::string start_error_;
  bool snapshot_owed_ = false;                       // engine thread
  std::vector<ledger::Account> pending_accounts_;    // engine thread
  std::vector<ledger::Transfer> pending_transfers_;  // engine thread

  // Lock order: deliver_mu_ before mu_. Callbacks run under deliver_mu_ only, so a barrier
  // delivered at once on the engine thread cannot overtake a batch being delivered.
  std::mutex deliver_mu_;
  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::deque<Entry> entries_;  // in submission order; front = oldest undelivered
  bool delivering_ = false;
  SnapshotStats snapshot_stats_;  // under mu_: what the engine thread counts
};

}  // namespace ipx::pg
