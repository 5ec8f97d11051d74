#pragma once
// SnapshotWriter: writes snapshot states to PostgreSQL on a thread and a connection of its
// own, off the journal's commit path.
//
// The engine thread takes a snapshot right after the batch that ends at its seq (its pause)
// and hands it over with offer(). The writer waits until the journal has committed that seq
// (committed(), called as batches commit: the row carries the journal's record hash at seq
// and may never be ahead of the journal), makes the state's bytes, and writes the row with
// save_snapshot in a transaction of its own, then drops the states beyond the newest
// `states_kept` (drop_old_states, at its pace). Neither the engine nor the group committer ever waits for it.
//
// One snapshot at a time: while one is waiting or being written, busy() is true and the
// engine takes no other (PgDurability counts it as skipped) rather than hold a second state
// of hundreds of MB. Back of the envelope: at 1M commands a state is ~280 MB, of which a
// snapshot sends ~27 MB (the chunks sealed since the last one and the rest of the state, see
// below) in ~0.3-0.5 s on this 2-core machine; at 100,000 commands/s a snapshot falls due every
// second (the default 100,000 records), so few are skipped even at full load.
//
// Chunks: the state's sealed chunks (most of its bytes, unchanged from one snapshot to the
// next) are written once, as rows of snapshot_chunks, and the row's state is a manifest naming
// them (engine/pg/snapshots.hpp); a snapshot sends only the chunks sealed since the last one
// and the rest of the state (a few MB).
//
// Failure policy: a failed write (PostgreSQL down, the connection lost, a refused statement)
// is counted, kept in last_error() and dropped; the journal does not notice, the writer
// reconnects for the next snapshot, and recovery starts from the newest state written. A row
// at that seq with another state hash means the engine is not deterministic: on_fatal (by
// default: log and abort the process, as the committer does on an integrity error).
// stop() finishes the snapshot whose seq the journal committed (while the database answers)
// and abandons one whose seq never will be.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "engine/pg/conn.hpp"
#include "engine/snapshot_io.hpp"

namespace ipx::pg {

struct SnapshotJob {
  std::int64_t seq = 0;
  std::int64_t ts_ms = 0;  // engine time at seq
  std::string state_hash;  // hex of Domain::state_hash() at seq
  // Makes the state's bytes, in pieces (Domain::Image::blob()); runs on the writer thread
  // (what the engine thread took must not depend on the live domain any more).
  std::function<engine::snap::Blob()> state;
  std::chrono::microseconds pause{0};  // what taking it cost the engine thread
};

struct SnapshotWriterOptions {
  // Snapshot states kept in the database (the newest; the one before is the fallback when
  // the newest does not load). Each is the whole state (hundreds of MB for 1M commands), most
  // of it chunks the kept states share.
  std::size_t states_kept = 2;
  // A conflicting row (non-determinism). Empty: log to stderr and abort.
  std::function<void(const std::string&)> on_fatal;
  // Tests: called on the writer thread just before a row is written.
  std::function<void()> before_write;
  // The chunks a write sends go at most this fast (0: unpaced). Every journal commit flushes
  // the WAL written before it, the snapshot's too: sent at once, tens of MB land in the
  // commits of one instant (docs/BENCHMARKS.md "Sixth round"); paced, each commit carries a
  // few hundred kB of it. A write that stop() finds paced goes on unpaced.
  std::size_t pace_bytes_per_second = std::size_t{64} << 20;
  // The writer thread's nice value (0: the process's own).
  int nice = 10;
};

struct SnapshotWriterStats {
  std::int64_t written = 0;    // rows written
  std::int64_t failed = 0;     // writes that failed (dropped)
  std::int64_t abandoned = 0;  // at stop(), their seq never committed
  std::int64_t last_bytes = 0;  // the state's
  std::int64_t last_sent = 0;   // what its write sent: the manifest and the chunks not stored yet
  std::chrono::microseconds last_build{0}, max_build{0};  // making the bytes (writer thread)
  std::chrono::microseconds last_write{0}, max_write{0};  // the row's transaction
};

class SnapshotWriter {
 public:
  // The writer's connection names itself (application_name ipx_snapshot_writer).
  SnapshotWriter(const std::string& conninfo, SnapshotWriterOptions options = {});
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // `committed_seq`: what the journal holds already (no snapshot waits for it). Connects on
  // the first write, not here.
  void start(std::int64_t committed_seq);
  // Finishes or abandons the snapshot in hand (see above), joins the thread. Idempotent.
  void stop();

  // Engine thread: whether a snapshot is in hand (then take none).
  bool busy() const;
  // Engine thread, when !busy().
  void offer(SnapshotJob job);
  // The journal holds every record up to `seq`.
  void committed(std::int64_t seq);
  // Waits until no snapshot is in hand, or the timeout passes (false).
  bool wait_idle(std::chrono::milliseconds timeout);

  SnapshotWriterStats stats() const;
  std::string last_error() const;

 private:
  void run();
  void write(SnapshotJob& job);
  void pace(std::chrono::steady_clock::time_point started, std::size_t sent);

  const SnapshotWriterOptions options_;
  Connection conn_;  // writer thread only
  // Writer thread only: the digest of each chunk seen (a chunk never changes; an entry whose
  // chunk is gone is dropped), and the digests of the chunks this writer stored (or found
  // stored) in the database and not deleted since.
  struct Digest {
    std::weak_ptr<const std::string> chunk;
    std::string digest;
  };
  std::unordered_map<const std::string*, Digest> digests_;
  std::unordered_set<std::string> stored_;
  bool primed_ = false;  // stored_ holds what the kept states name
  const std::string& digest_of(const std::shared_ptr<const std::string>& chunk);

  mutable std::mutex mu_;
  std::condition_variable wake_;  // the writer: a job, a commit, stop
  std::condition_variable idle_;  // wait_idle
  std::optional<SnapshotJob> job_;
  bool writing_ = false;
  bool stopping_ = false;
  std::int64_t committed_seq_ = 0;
  SnapshotWriterStats stats_;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace ipx::pg
