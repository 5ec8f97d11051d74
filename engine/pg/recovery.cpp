#include "engine/pg/recovery.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/pg/bytes.hpp"
#include "engine/pg/conn.hpp"
#include "engine/pg/durability.hpp"
#include "engine/pg/errc.hpp"
#include "engine/pg/journal.hpp"
#include "engine/pg/migrate.hpp"
#include "engine/pg/snapshots.hpp"

namespace ipx::pg {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::microseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t);
}

// seq -> state hash (hex text as stored) of every snapshot after `after_seq`.
std::error_code load_snapshots(Connection& conn, std::int64_t after_seq,
                               std::map<std::int64_t, std::string>& out,
                               std::int64_t& latest) {
  // Only rows of this build's state hash scheme: another scheme's hash is not comparable.
  const std::string sql = "SELECT seq, state_hash, (SELECT max(seq) FROM snapshots)"
                          " FROM snapshots WHERE seq > " +
                          std::to_string(after_seq) +
                          " AND hash_scheme = " + std::to_string(engine::snap::kStateHashScheme) +
                          " ORDER BY seq";
  PgResult r(PQexecParams(conn.get(), sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) return conn.fail(r.get(), "snapshots");
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    const auto seq = static_cast<std::int64_t>(bytes::get_u64(PQgetvalue(r.get(), i, 0)));
    out[seq] = std::string(PQgetvalue(r.get(), i, 1),
                           static_cast<std::size_t>(PQgetlength(r.get(), i, 1)));
  }
  latest = out.empty() ? 0 : out.rbegin()->first;
  return {};
}

// The 16 hex digits state_hash_hex() writes, back to the number; nullopt for anything else.
std::optional<std::uint64_t> parse_state_hash(std::string_view hex) {
  if (hex.size() != 16) return std::nullopt;
  std::uint64_t v = 0;
  for (char ch : hex) {
    const int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<std::uint64_t>(d);
  }
  return v;
}

// Replay's two stages: the reader thread scans the journal (binary COPY out, the hash chain)
// and decodes each record's JSON into typed commands; the recovering thread applies them in
// seq order. Decoding is about a third of a record's replay, so on two cores this is ~1.5x.
// Chunks of decoded records travel through a small bounded queue and come back to be reused
// (their strings keep their capacity). stop(): after a failure the reader decodes no more and
// drains the stream; the consumer keeps taking chunks until the one marked `end`.
struct ReplayChunk {
  static constexpr std::size_t kRecords = 512;
  std::vector<engine::Replayed> items = std::vector<engine::Replayed>(kRecords);
  std::size_t n = 0;
  std::int64_t error_seq = 0;  // a record that did not decode (its message in `error`)
  std::string error;
  bool end = false;  // the last chunk: the scan is over
  engine::Replayed& next() { return items[n]; }
  bool full() const { return n == kRecords; }
};

class ReplayPipe {
 public:
  using Ptr = std::unique_ptr<ReplayChunk>;
  static constexpr std::size_t kInFlight = 8;  // chunks decoded ahead (~4k records)

  Ptr take_free() {
    std::unique_lock lock(mu_);
    free_cv_.wait(lock, [this] { return !free_.empty() || made_ < kInFlight + 2; });
    if (free_.empty()) {
      ++made_;
      return std::make_unique<ReplayChunk>();
    }
    Ptr c = std::move(free_.back());
    free_.pop_back();
    return c;
  }
  void put(Ptr c) {
    {
      std::lock_guard lock(mu_);
      full_.push_back(std::move(c));
    }
    full_cv_.notify_one();
  }
  Ptr get() {
    std::unique_lock lock(mu_);
    full_cv_.wait(lock, [this] { return !full_.empty(); });
    Ptr c = std::move(full_.front());
    full_.pop_front();
    return c;
  }
  void give_back(Ptr c) {
    c->n = 0;
    c->error_seq = 0;
    c->error.clear();
    c->end = false;
    {
      std::lock_guard lock(mu_);
      free_.push_back(std::move(c));
    }
    free_cv_.notify_one();
  }
  void stop() { stopped_.store(true, std::memory_order_relaxed); }
  bool stopped() const { return stopped_.load(std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  std::condition_variable full_cv_, free_cv_;
  std::deque<Ptr> full_;
  std::vector<Ptr> free_;
  std::size_t made_ = 0;
  std::atomic<bool> stopped_{false};
};

struct Start {
  std::int64_t seq = 0;
  std::optional<Hash> record_hash;  // the chain continues from it
  std::size_t bytes = 0;            // the state's size, the time to read it and to load it
  std::chrono::microseconds read{0}, load{0};
};

// Tries one snapshot state: the journal must still hold its record (same hash), the engine must
// load it, and the loaded state hash must be the row's. Empty on success, else why not.
std::string try_snapshot(Connection& conn, Journal& journal, engine::Engine& engine,
                         std::int64_t seq, Start& start, std::error_code& ec) {
  Hash stored{};
  if (auto e = journal.hash_at(seq, stored)) {
    if (e == make_error_code(errc::sequence_mismatch)) return "the journal has no record at its seq";
    ec = e;
    return "reading the journal: " + journal.last_error();
  }
  std::string why;
  bool found = false;
  std::string error;
  const auto t0 = Clock::now();
  ec = read_snapshot_state(conn.get(), seq, [&](const Snapshot& s, std::string_view state) {
    start.read = since(t0);
    start.bytes = state.size();
    const auto t1 = Clock::now();
    const auto hash = parse_state_hash(s.state_hash);
    if (s.record_hash.size() != stored.size() ||
        !std::equal(stored.begin(), stored.end(), s.record_hash.begin(),
                    [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); })) {
      why = "its journal record hash is not the journal's (the journal changed after it)";
    } else if (!hash) {
      why = "its state hash is not 16 hex digits";
    } else if (!engine.restore(seq, state, *hash, why)) {
      return;  // `why` says
    } else {
      start.seq = seq;
      start.record_hash = stored;
      start.load = since(t1);
    }
  }, found, &error);
  if (ec) return "reading it: " + error;
  if (!found) return error.empty() ? "its state is gone" : error;
  return why;
}

// Step 2: the newest snapshot state that loads, else none (replay from seq 1).
std::error_code restore_latest(Connection& conn, Journal& journal, engine::Engine& engine,
                               const RecoverOptions& options, RecoverResult& res, Start& start) {
  const auto t0 = Clock::now();
  std::vector<std::int64_t> seqs;
  std::string error;
  if (auto ec = list_snapshot_states(conn.get(), seqs, &error)) {
    conn.set_error(error);
    return ec;
  }
  auto say = [&options](const std::string& line) {
    if (options.log) {
      options.log(line);
    } else {
      std::fprintf(stderr, "ipx: recovery: %s\n", line.c_str());
    }
  };
  for (const std::int64_t seq : seqs) {
    std::error_code ec;
    const std::string why = try_snapshot(conn, journal, engine, seq, start, ec);
    if (ec) return ec;
    if (why.empty()) {
      res.snapshot_seq = seq;
      res.restore_elapsed = since(t0);
      say("started from the snapshot at seq " + std::to_string(seq) + " (" +
          std::to_string(start.bytes / 1'000'000) + " MB read in " +
          std::to_string(start.read.count() / 1000) + " ms, loaded in " +
          std::to_string(start.load.count() / 1000) + " ms)");
      return {};
    }
    ++res.snapshots_refused;
    say("snapshot at seq " + std::to_string(seq) + " passed over: " + why +
        (seq == seqs.back() ? "; replaying the journal from seq 1" : "; trying an older one"));
  }
  res.restore_elapsed = since(t0);
  return {};
}

}  // namespace

RecoverResult recover(engine::Engine& engine, const std::string& conninfo,
                      const RecoverOptions& options) {
  const auto t0 = Clock::now();
  RecoverResult res;
  auto finish = [&](RecoverResult& r) -> RecoverResult {
    r.last_seq = engine.last_seq();
    r.elapsed = since(t0);
    return r;
  };

  Connection conn(conninfo);
  if (auto ec = conn.ensure()) {
    res.ec = ec;
    res.message = "cannot connect to the journal database: " + conn.last_error();
    return finish(res);
  }
  if (options.migrate) {
    auto m = apply_migrations(conn.get(), options.schema_dir.empty() ? default_schema_dir()
                                                                    : options.schema_dir);
    res.migrations_applied = m.applied;
    if (!m.ok()) {
      res.ec = m.ec;
      res.message = "migrations: " + m.message;
      return finish(res);
    }
  }
  Journal journal(conninfo);
  if (auto ec = journal.open()) {
    res.ec = ec;
    res.message = "cannot open the journal: " + journal.last_error();
    return finish(res);
  }
  Start start;
  if (options.from_snapshot && engine.last_seq() == 0) {
    if (auto ec = restore_latest(conn, journal, engine, options, res, start)) {
      res.ec = ec;
      res.message = "reading snapshots: " + conn.last_error();
      return finish(res);
    }
  }
  std::map<std::int64_t, std::string> snapshots;
  if (options.check_snapshots) {
    if (auto ec = load_snapshots(conn, engine.last_seq(), snapshots, res.last_snapshot_seq)) {
      res.ec = ec;
      res.message = "reading snapshots: " + conn.last_error();
      return finish(res);
    }
  }
  conn.close();

  const auto t_replay = Clock::now();
  auto next_snapshot = snapshots.begin();
  std::string failure;
  std::error_code failure_ec;
  ReplayPipe pipe;
  ReplayStats stats;
  std::error_code ec;
  {
    // The reader scans and decodes while this thread applies (see ReplayPipe).
    std::jthread reader([&] {
      auto chunk = pipe.take_free();
      engine::Record rec;
      auto fn = [&](const JournalRecord& r) {
        if (pipe.stopped()) return;  // drain the stream after the first failure
        rec.seq = r.seq;
        rec.ts_ms = r.ts_ms;
        rec.kind = r.kind;
        rec.payload.assign(r.payload);
        if (!decode_for_replay(rec, chunk->next(), chunk->error)) {
          chunk->error_seq = r.seq;
          pipe.stop();
        } else {
          ++chunk->n;
        }
        if (chunk->full() || chunk->error_seq != 0) {
          pipe.put(std::move(chunk));
          chunk = pipe.take_free();
        }
      };
      ec = journal.replay(engine.last_seq(), fn, &stats, start.record_hash);
      chunk->end = true;
      pipe.put(std::move(chunk));
    });
    for (;;) {
      auto chunk = pipe.get();
      for (std::size_t i = 0; i < chunk->n && !failure_ec; ++i) {
        engine::Replayed& item = chunk->items[i];
        std::string error;
        if (!engine.apply_replayed(item, error)) {
          failure_ec = errc::replay_failed;
          res.broken_seq = item.seq;
          failure = "the engine refused journal record " + std::to_string(item.seq) + ": " + error;
          break;
        }
        ++res.records;
        if (next_snapshot != snapshots.end() && next_snapshot->first == item.seq) {
          const std::string got = state_hash_hex(engine.domain().state_hash());
          if (got != next_snapshot->second) {
            failure_ec = errc::state_mismatch;
            res.broken_seq = item.seq;
            failure = "state hash mismatch at snapshot seq " + std::to_string(item.seq) +
                      ": replay gives " + got + ", the snapshot holds " + next_snapshot->second;
            break;
          }
          ++res.snapshots_checked;
          ++next_snapshot;
        }
        if (options.progress && options.progress_every > 0 &&
            res.records % options.progress_every == 0) {
          options.progress(res.records);
        }
      }
      if (!failure_ec && chunk->error_seq != 0) {
        failure_ec = errc::replay_failed;
        res.broken_seq = chunk->error_seq;
        failure = "the engine refused journal record " + std::to_string(chunk->error_seq) +
                  ": " + chunk->error;
      }
      if (failure_ec) pipe.stop();
      const bool end = chunk->end;
      pipe.give_back(std::move(chunk));
      if (end) break;
    }
  }  // joins the reader
  res.replay_elapsed = since(t_replay);
  res.state_hash = state_hash_hex(engine.domain().state_hash());
  if (failure_ec) {
    res.ec = failure_ec;
    res.message = failure;
    return finish(res);
  }
  if (ec) {
    res.ec = ec;
    if (ec == make_error_code(errc::chain_broken)) res.broken_seq = stats.last_seq + 1;
    res.message = "journal replay: " + journal.last_error();
    return finish(res);
  }
  if (next_snapshot != snapshots.end()) {
    // Snapshots are written only for committed seqs: one beyond the head means the journal
    // lost records (or was replaced).
    res.ec = errc::state_mismatch;
    res.broken_seq = next_snapshot->first;
    res.message = "snapshot at seq " + std::to_string(next_snapshot->first) +
                  " is beyond the journal's head " + std::to_string(engine.last_seq());
    return finish(res);
  }
  return finish(res);
}

}  // namespace ipx::pg
