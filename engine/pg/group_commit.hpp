#pragma once
// Group commit: one committer thread between the engine thread and PostgreSQL.
//
// The engine thread calls submit(records, done) for the records of each command (or of a few
// commands); the committer coalesces whatever is queued into one transaction (bounded: about
// batch_records_max records or batch_bytes_max payload bytes, at least one submission), commits
// it, then calls each submission's `done` in seq order on the committer thread with success.
// Replies and market data leave from `done`, so nothing is acknowledged before it is durable.
//
// When PostgreSQL is unreachable or a commit fails, the committer keeps the uncommitted
// submissions (nothing is dropped), reports available() == false (the engine answers new
// commands UNAVAILABLE), retries with a bounded exponential backoff, and resumes when the
// database answers again. After a failure it first re-reads the journal head: submissions the
// journal already holds (a COMMIT whose acknowledgement was lost) are checked hash by hash and
// completed without being sent again, so nothing is applied twice.
//
// Back of the envelope (a dev box, one SSD, fsync on, synchronous_commit on):
//   - a commit costs one WAL fsync: ~0.5-3 ms, so 300-2000 commits/s at most;
//   - target 100,000 records/s durable => at 1 ms per commit, ~100 records per commit; at
//     3 ms, ~300. The batch bound (4096 records, 1 MiB) is ~10x that: it caps latency under
//     a burst (a 4096-record COPY is ~1-2 ms of server time), not throughput;
//   - a record of ~100 payload bytes is ~200 bytes on disk (24 B tuple header, seq 8, ts 8,
//     kind 4, hash 33, payload 104, line pointer and index entry ~30): 100,000 records/s is
//     ~20 MB/s of heap plus about as much WAL;
//   - the queue bound (65,536 records, 64 MiB) is ~0.6 s of peak load: the engine turns
//     UNAVAILABLE at 3/4 of it (or at once when a commit fails), so an outage costs at most
//     that much memory, and every command already applied by the engine still gets a slot.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "engine/pg/journal.hpp"

namespace ipx::pg {

struct CommitterOptions {
  std::size_t queue_records_max = 65536;
  std::size_t queue_bytes_max = 64u << 20;
  std::size_t batch_records_max = 4096;
  std::size_t batch_bytes_max = 1u << 20;
  std::chrono::milliseconds backoff_min{10};
  std::chrono::milliseconds backoff_max{1000};
  std::chrono::milliseconds health_interval{1000};  // ping when idle this long
  std::function<bool()> fault_drop_ack;              // tests: see Journal::set_fault_drop_ack
  RowsWriter rows_writer;  // writes the submissions' `rows` (see Rows), one call per transaction
};

// Called on the committer thread, in seq order: {} once committed; errc::stopped or
// errc::fatal when it never will be. Must be quick (post the reply elsewhere).
using Completion = std::function<void(std::error_code)>;

struct CommitterStats {
  std::uint64_t commits = 0;
  std::uint64_t records = 0;
  std::uint64_t failures = 0;   // failed commit or connect attempts
  std::uint64_t lost_acks = 0;  // submissions found committed after a failure
  std::int64_t committed_seq = 0;
  std::size_t queued_records = 0;
  std::size_t queued_bytes = 0;
};

class GroupCommitter {
 public:
  explicit GroupCommitter(std::string conninfo, CommitterOptions options = {});
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Connects, reads the journal head and starts the committer thread. Fails (connect_failed,
  // query_failed) without starting when the database cannot be reached: start-up is strict.
  std::error_code start();
  // Commits what is queued while the database answers, then completes the rest with
  // errc::stopped and joins the thread. Idempotent.
  void stop();

  // Engine thread. Records must continue the sequence (first seq == last submitted + 1, no
  // gaps). Never blocks on I/O. Errors: sequence_mismatch, bad_record (payload too large,
  // empty submission), queue_full (the engine should have checked available()), stopped, fatal.
  // On an error `records` is left untouched (moved from only when accepted). `rows` go to
  // CommitterOptions::rows_writer together with those of the other submissions of the same
  // transaction.
  std::error_code submit(std::vector<JournalRecord>&& records, Completion done,
                         ExtraWriter extra = {}, std::shared_ptr<const Rows> rows = {});

  // False while the database fails, while the queue is above 3/4 of its bound, after a fatal
  // error, and when stopped.
  bool available() const noexcept;
  // Engine thread, before it applies a batch: available(), and, while nothing is in flight, a
  // look at the idle connection (a zero-timeout poll of its socket, no I/O). An idle
  // connection has nothing to read, so data there means the server spoke unasked: as a rule
  // the FATAL of a backend being terminated (pg_terminate_backend, a fast or immediate
  // shutdown) or the end of the stream. The connection is then suspect: this answers false
  // (the batch's commands get UNAVAILABLE, nothing applied) and the committer checks it at
  // once (the recovery path), so an outage that began while the committer was idle is seen
  // before a command is applied, not after (when the command could only wait for the
  // database to return). A false alarm (an unasked notice) costs that batch a retry.
  bool probe();
  // The journal head when start() returned: the engine continues at head_seq() + 1.
  std::int64_t start_seq() const noexcept { return start_seq_; }
  std::int64_t committed_seq() const noexcept { return committed_seq_.load(); }
  CommitterStats stats() const;
  std::string last_error() const;
  // Waits until every submitted record is committed (true) or the timeout passes (false).
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  struct Submission {
    std::vector<JournalRecord> records;
    Completion done;
    ExtraWriter extra;
    std::shared_ptr<const Rows> rows;
    std::size_t bytes = 0;
  };

  void run();
  std::size_t take_batch();
  bool commit_batch(std::size_t n);
  bool recover();
  void complete_front(std::size_t n, std::error_code ec, bool lost_ack);
  void on_failure(std::error_code ec);
  void set_fatal(std::error_code ec);
  void sleep_backoff();
  void update_available();

  const CommitterOptions options_;
  Journal journal_;  // committer thread only (after start)
  std::int64_t start_seq_ = 0;
  std::int64_t submitted_seq_ = 0;  // engine thread (under mu_)

  mutable std::mutex mu_;
  std::condition_variable wake_;   // committer: work or stop
  std::condition_variable idle_;   // wait_idle: progress
  std::deque<std::unique_ptr<Submission>> queue_;  // front = oldest uncommitted
  std::size_t queued_records_ = 0;
  std::size_t queued_bytes_ = 0;
  bool stopping_ = false;
  bool db_ok_ = true;
  bool fatal_ = false;
  std::error_code fatal_ec_;
  std::string last_error_;
  CommitterStats stats_;

  std::atomic<bool> available_{false};
  std::atomic<std::int64_t> committed_seq_{0};
  bool need_recover_ = false;     // committer thread only
  bool suspect_ = false;          // under mu_: probe() saw the idle connection speak
  std::mutex conn_mu_;            // held by the committer while it uses journal_'s connection
  std::chrono::milliseconds backoff_{0};
  std::vector<std::span<const JournalRecord>> parts_;  // reused per batch
  std::vector<const ExtraWriter*> extras_;
  std::vector<const Rows*> rows_;
  std::thread thread_;
};

}  // namespace ipx::pg
