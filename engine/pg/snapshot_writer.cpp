#include "engine/pg/snapshot_writer.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "engine/pg/errc.hpp"
#include "engine/pg/snapshots.hpp"
#include "matching/assert.hpp"

namespace ipx::pg {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::microseconds since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "ipx: FATAL: %s; aborting\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace

SnapshotWriter::SnapshotWriter(const std::string& conninfo, SnapshotWriterOptions options)
    : options_(std::move(options)),
      // Later keywords win: the name is the writer's even if conninfo carries another.
      conn_(conninfo + " application_name=ipx_snapshot_writer") {}

SnapshotWriter::~SnapshotWriter() {
  stop();
}

void SnapshotWriter::start(std::int64_t committed_seq) {
  IPX_ASSERT(!thread_.joinable());
  {
    std::lock_guard lock(mu_);
    committed_seq_ = committed_seq;
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ipx-snapshots");
    // Below the engine and the committer: the bytes it makes (checksums, digests: ~150 ms of
    // CPU for a 128 MB state) wait for a core the engine does not need, rather than delay
    // acknowledgements (docs/BENCHMARKS.md "Sixth round"). Raising one's own nice value needs
    // no privilege; on failure the thread just runs at the process's.
    if (options_.nice > 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), options_.nice);
    run();
  });
}

void SnapshotWriter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  conn_.close();
}

bool SnapshotWriter::busy() const {
  std::lock_guard lock(mu_);
  return job_.has_value() || writing_;
}

void SnapshotWriter::offer(SnapshotJob job) {
  {
    std::lock_guard lock(mu_);
    IPX_ASSERT(!job_ && !writing_ && thread_.joinable());
    job_ = std::move(job);
  }
  wake_.notify_all();
}

void SnapshotWriter::committed(std::int64_t seq) {
  {
    std::lock_guard lock(mu_);
    if (seq <= committed_seq_) return;
    committed_seq_ = seq;
    if (!job_ || job_->seq > seq) return;
  }
  wake_.notify_all();
}

bool SnapshotWriter::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, timeout, [this] { return !job_ && !writing_; });
}

SnapshotWriterStats SnapshotWriter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::string SnapshotWriter::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void SnapshotWriter::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || (job_ && job_->seq <= committed_seq_); });
    if (job_ && job_->seq <= committed_seq_) {
      SnapshotJob job = std::move(*job_);
      job_.reset();
      writing_ = true;
      lock.unlock();
      write(job);
      job = {};  // the state's bytes go here, not under the lock
      lock.lock();
      writing_ = false;
      idle_.notify_all();
      continue;
    }
    // Stopping, and the journal never committed the snapshot's seq: nothing may describe it.
    if (job_) {
      ++stats_.abandoned;
      job_.reset();
    }
    idle_.notify_all();
    return;
  }
}

const std::string& SnapshotWriter::digest_of(const std::shared_ptr<const std::string>& chunk) {
  auto it = digests_.find(chunk.get());
  if (it != digests_.end() && it->second.chunk.lock() == chunk) return it->second.digest;
  if (digests_.size() > 4096) {  // forget the chunks no snapshot holds any more
    std::erase_if(digests_, [](const auto& kv) { return kv.second.chunk.expired(); });
  }
  Digest& d = digests_[chunk.get()];
  d = Digest{chunk, chunk_digest(*chunk)};
  return d.digest;
}

// Writer thread, without the lock: waits until `sent` bytes since `started` are within the
// pace, or stop() is called.
void SnapshotWriter::pace(Clock::time_point started, std::size_t sent) {
  if (options_.pace_bytes_per_second == 0) return;
  const auto due = started + std::chrono::microseconds(static_cast<std::int64_t>(
                                 static_cast<double>(sent) * 1e6 /
                                 static_cast<double>(options_.pace_bytes_per_second)));
  std::unique_lock lock(mu_);
  wake_.wait_until(lock, due, [this] { return stopping_; });
}

// Writer thread, without the lock.
void SnapshotWriter::write(SnapshotJob& job) {
  const auto t0 = Clock::now();
  const engine::snap::Blob blob = job.state();
  std::vector<std::string> digests(blob.pieces.size());
  for (std::size_t i = 0; i < blob.pieces.size(); ++i) {
    if (stored_as_chunk(blob.pieces[i])) digests[i] = digest_of(blob.pieces[i].chunk);
  }
  std::string chunks;
  const std::string state = make_manifest(blob, digests, chunks);
  const std::size_t state_bytes = blob.size();
  const auto built = since(t0);
  const std::string payload =
      "{\"seq\":" + std::to_string(job.seq) + ",\"ts_ms\":" + std::to_string(job.ts_ms) +
      ",\"state_hash\":\"" + job.state_hash + "\",\"state_bytes\":" + std::to_string(state_bytes) +
      ",\"pause_us\":" + std::to_string(job.pause.count()) +
      ",\"build_us\":" + std::to_string(built.count()) + "}";
  if (options_.before_write) options_.before_write();
  const auto t1 = Clock::now();
  std::string error;
  std::vector<std::string> stored_now, dropped;
  std::size_t sent = state.size();
  std::error_code ec = conn_.ensure();
  if (!ec && !primed_) {
    // The chunks the kept states name are stored (by an earlier process, maybe).
    PgResult r(PQexecParams(conn_.get(), "SELECT chunks FROM snapshots WHERE chunks IS NOT NULL",
                            0, nullptr, nullptr, nullptr, nullptr, 1));
    if (r && PQresultStatus(r.get()) == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        const std::string_view list(PQgetvalue(r.get(), i, 0),
                                    static_cast<std::size_t>(PQgetlength(r.get(), i, 0)));
        for (std::size_t at = 0; at + 32 <= list.size(); at += 32) stored_.emplace(list.substr(at, 32));
      }
      primed_ = true;
    }
  }
  if (ec) {
    error = conn_.last_error();
  } else if (!(ec = conn_.exec("BEGIN"))) {
    // The chunks this writer has not stored yet (each once, however many pieces name it).
    for (std::size_t i = 0; i < blob.pieces.size() && !ec; ++i) {
      if (digests[i].empty() || stored_.count(digests[i]) ||
          std::find(stored_now.begin(), stored_now.end(), digests[i]) != stored_now.end()) {
        continue;
      }
      ec = save_chunk(conn_.get(), digests[i], *blob.pieces[i].chunk, &error);
      stored_now.push_back(digests[i]);
      sent += blob.pieces[i].chunk->size();
      pace(t1, sent);
    }
    if (!ec) {
      ec = save_snapshot(conn_.get(),
                         SnapshotWrite{job.seq, job.state_hash, payload, state, chunks}, &error);
    }
    if (!ec && (ec = conn_.exec("COMMIT"))) error = conn_.last_error();
    if (ec && conn_.ok()) conn_.exec("ROLLBACK");
    // Written: the states beyond the newest states_kept go, and the chunks only they named, a
    // few at a time at the pace of the writes (drop_old_states). A failure here leaves them
    // for the next snapshot's turn; the one just written stands.
    if (!ec && options_.states_kept > 0) {
      const auto t2 = Clock::now();
      std::size_t deleted = 0;
      std::string gc_error;
      if (drop_old_states(conn_.get(), options_.states_kept, &dropped, &gc_error,
                          [&](std::size_t bytes) { pace(t2, deleted += bytes); })) {
        std::lock_guard lock(mu_);
        last_error_ = "snapshot at seq " + std::to_string(job.seq) +
                      ": old states not dropped: " + gc_error;
      }
    }
  } else {
    error = conn_.last_error();
  }
  for (const auto& d : dropped) stored_.erase(d);
  if (!ec) {
    stored_.insert(stored_now.begin(), stored_now.end());
  } else if (!conn_.ok()) {
    stored_.clear();  // ask the database again on the next connection
    primed_ = false;
  }
  const auto wrote = since(t1);
  if (ec == make_error_code(errc::snapshot_conflict)) {
    if (options_.on_fatal) {
      options_.on_fatal(error);
    } else {
      die(error + " (the engine is not deterministic)");
    }
  }
  std::lock_guard lock(mu_);
  SnapshotWriterStats& st = stats_;
  st.last_bytes = static_cast<std::int64_t>(state_bytes);
  st.last_build = built;
  st.max_build = std::max(st.max_build, built);
  if (ec) {
    ++st.failed;
    last_error_ = "snapshot at seq " + std::to_string(job.seq) + " not written (" + ec.message() +
                  "): " + error;
    return;
  }
  ++st.written;
  st.last_sent = static_cast<std::int64_t>(sent);
  st.last_write = wrote;
  st.max_write = std::max(st.max_write, wrote);
}

}  // namespace ipx::pg
