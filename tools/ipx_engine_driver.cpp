// ipx-engine-driver: runs the engine in-process against PostgreSQL (PgDurability + recover())
// and drives it with a seeded random command stream (tools/engine_workload.hpp).
//
//   ipx-engine-driver run     [--pg C] [--seed S] [--tag T] [--rate R] [--count N]
//                             [--seconds S] [--snapshot-every N] [--quiet]
//       recover, start, create the workload's participants and markets, then send the random
//       load at R commands/s (0: as fast as the engine takes them) until N commands or S
//       seconds; prints "ready <seq> <hash>" after recovery and one line per acknowledged
//       command, "ack <request_id> <method> <code>", flushed every few ms: a line printed is
//       a command whose batch committed (a test may SIGKILL the process at any point).
//       Ends with "done <acked> <last_seq> <hash>".
//   ipx-engine-driver verify  [--pg C]     (also --verify) replay the whole journal from seq 1
//       into a fresh engine (the chain and every snapshot's hash checked on the way), print
//       "state <seq> <hash>", exit 0; exit 1 (message on stderr) when recovery refuses.
//   ipx-engine-driver replay-check [--pg C] (also --replay-check) recover twice: from seq 1,
//       and as a restart does (the latest snapshot state plus the records after it); compare:
//       "replay <seq> <hash> ok" or exit 1.
//   ipx-engine-driver bench   [--pg C] [--commands N] [--rate R] [--latency-seconds S]
//                             [--warmup-seconds W] [--latency-out FILE]
//                             [--commit-batch B] [--snapshot-every N] [--snapshot-pace MBPS]
//                             [--snapshot-nice N] [--restarts K] [--keep] [--publisher]
//       in a database of its own (ipx_bench_engine_<pid>, dropped unless --keep): durable
//       throughput (N commands journaled as fast as acknowledged, UNAVAILABLE answers made up
//       by new commands; a snapshot every --snapshot-every records, 100,000 by default, and
//       what each cost the engine and the snapshot writer), ack latency at R/s offered measured
//       from each command's intended send time (after W seconds at that rate, 1 by default,
//       not measured: the steady state, not the throughput phase's aftermath; --latency-out
//       writes each measured command's "<intended send ms> <latency us>"), then K restarts (default 1) to ready of
//       everything journaled (from the latest snapshot plus the tail), each recovered hash
//       checked against the live one, and one replay from seq 1 (the audit path) for its
//       speed.
//       --snapshot-pace: the MB/s the snapshot writer sends chunks at (0: unpaced), and
//       --snapshot-nice its thread's nice value (0: the process's); defaults
//       SnapshotWriterOptions'. --publisher: attach a publisher that drops what it gets, so pushes and channel
//       snapshots are built as in ipxd (without it the engine builds none).
// Every command writes the ledger's rows in its batch's transaction, as ipxd does;
// --no-ledger leaves them out (the journal alone, for comparison).
// --pg defaults to $IPX_PG. Exit 2 on usage or connection errors.
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "engine/pg/durability.hpp"
#include "engine/pg/recovery.hpp"
#include "tools/engine_workload.hpp"

namespace {

using namespace ipx;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string cmd;
  std::string pg;
  std::uint64_t seed = 1;
  std::string tag;
  double rate = 0;
  std::int64_t count = 0;  // 0: until --seconds
  double seconds = 0;      // 0: until --count
  std::int64_t snapshot_every = 100'000;
  double snapshot_pace_mb = -1;  // MB/s the snapshot writer sends chunks at; <0: its default
  int snapshot_nice = -1;        // the snapshot writer thread's nice value; <0: its default
  bool quiet = false;
  std::int64_t commands = 1'000'000;
  double latency_seconds = 10;
  double warmup_seconds = 1;
  std::string latency_out;
  std::size_t commit_batch = 16'384;
  int restarts = 1;
  bool keep = false;
  bool publisher = false;
  bool ledger = true;
};

int usage() {
  std::fprintf(stderr,
               "usage: ipx-engine-driver run [--pg C] [--seed S] [--tag T] [--rate R] "
               "[--count N] [--seconds S] [--snapshot-every N] [--quiet]\n"
               "       ipx-engine-driver verify|--verify [--pg C]\n"
               "       ipx-engine-driver replay-check|--replay-check [--pg C]\n"
               "       ipx-engine-driver bench [--pg C] [--commands N] [--rate R] "
               "[--latency-seconds S] [--warmup-seconds W] [--latency-out FILE] "
               "[--commit-batch B] [--snapshot-every N] [--snapshot-pace MBPS] [--snapshot-nice N] "
               "[--restarts K] "
               "[--keep] [--publisher]\n"
               "any command: [--no-ledger]\n"
               "--pg defaults to $IPX_PG\n");
  return 2;
}

bool parse(int argc, char** argv, Args& a) {
  if (argc < 2) return false;
  a.cmd = argv[1];
  if (a.cmd.rfind("--", 0) == 0) a.cmd = a.cmd.substr(2);
  if (const char* env = std::getenv("IPX_PG")) a.pg = env;
  bool rate_given = false;
  for (int i = 2; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--quiet") {
      a.quiet = true;
      continue;
    }
    if (k == "--publisher") {
      a.publisher = true;
      continue;
    }
    if (k == "--keep") {
      a.keep = true;
      continue;
    }
    if (k == "--no-ledger") {
      a.ledger = false;
      continue;
    }
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (v == nullptr) return false;
    ++i;
    if (k == "--pg") a.pg = v;
    else if (k == "--seed") a.seed = std::strtoull(v, nullptr, 10);
    else if (k == "--tag") a.tag = v;
    else if (k == "--rate") a.rate = std::atof(v), rate_given = true;
    else if (k == "--count") a.count = std::atoll(v);
    else if (k == "--seconds") a.seconds = std::atof(v);
    else if (k == "--snapshot-every") a.snapshot_every = std::atoll(v);
    else if (k == "--snapshot-pace") a.snapshot_pace_mb = std::atof(v);
    else if (k == "--snapshot-nice") a.snapshot_nice = std::atoi(v);
    else if (k == "--commands") a.commands = std::atoll(v);
    else if (k == "--latency-seconds") a.latency_seconds = std::atof(v);
    else if (k == "--warmup-seconds") a.warmup_seconds = std::atof(v);
    else if (k == "--latency-out") a.latency_out = v;
    else if (k == "--commit-batch") a.commit_batch = static_cast<std::size_t>(std::atoll(v));
    else if (k == "--restarts") a.restarts = std::atoi(v);
    else return false;
  }
  if (a.cmd == "bench" && !rate_given) a.rate = 20'000;
  if (a.tag.empty()) a.tag = "d" + std::to_string(getpid());
  if (a.pg.empty()) {
    std::fprintf(stderr, "ipx-engine-driver: no database: give --pg CONNINFO or set IPX_PG\n");
    return false;
  }
  return a.snapshot_every >= 0 && a.commit_batch > 0 && a.rate >= 0 && a.warmup_seconds >= 0 &&
         a.restarts >= 1;
}

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Acknowledgement lines, written by completion threads and flushed every 2 ms (and at exit):
// a line on stdout is always a committed command; lines not yet flushed are lost on SIGKILL.
class AckPrinter {
 public:
  AckPrinter() : thread_([this] { loop(); }) {}
  ~AckPrinter() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    thread_.join();
    flush();
  }
  void line(const std::string& s) {
    std::lock_guard lock(mu_);
    buf_ += s;
    buf_ += '\n';
  }
  void flush() {
    std::string out;
    {
      std::lock_guard lock(mu_);
      out.swap(buf_);
    }
    std::size_t off = 0;
    while (off < out.size()) {
      const ssize_t n = ::write(1, out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
  }

 private:
  void loop() {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (stop_) return;
      }
      flush();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  std::mutex mu_;
  std::string buf_;
  bool stop_ = false;
  std::thread thread_;
};

// The engine with its PostgreSQL durability, recovered and started.
// --publisher: a publisher that takes every push and drops it, so the engine builds pushes
// and channel snapshots as it does in ipxd (without one it builds none).
struct NullPublisher final : engine::Publisher {
  void publish(engine::Push& p) override { pushes += p.snapshot.is_null() ? 1 : 2; }
  std::size_t pushes = 0;
};

struct Node {
  Node(const std::string& pg, const Args& a)
      : durability(pg, options(a)),
        engine(engine::EngineOptions{}, &durability, a.publisher ? &publisher : nullptr) {}
  NullPublisher publisher;  // declared before `engine`: outlives it
  static pg::DurabilityOptions options(const Args& a) {
    pg::DurabilityOptions o;
    o.snapshot_every = a.snapshot_every;
    if (a.snapshot_nice >= 0) o.snapshots.nice = a.snapshot_nice;
    if (a.snapshot_pace_mb >= 0) {
      o.snapshots.pace_bytes_per_second = static_cast<std::size_t>(a.snapshot_pace_mb * 1e6);
    }
    o.ledger_rows = a.ledger;
    o.committer.batch_records_max = a.commit_batch;
    o.committer.batch_bytes_max = std::max<std::size_t>(1u << 20, a.commit_batch * 256);
    o.committer.queue_records_max = std::max<std::size_t>(65'536, a.commit_batch * 4);
    o.committer.queue_bytes_max = std::max<std::size_t>(64u << 20, a.commit_batch * 4 * 256);
    return o;
  }
  // Recovers and starts; false (message on stderr) when the journal refuses.
  bool open(const std::string& pg, pg::RecoverResult& rec) {
    rec = pg::recover(engine, pg);
    if (!rec.ok()) {
      std::fprintf(stderr, "ipx-engine-driver: recovery refused: %s\n", rec.message.c_str());
      return false;
    }
    if (auto ec = durability.start(engine)) {
      std::fprintf(stderr, "ipx-engine-driver: journal: %s: %s\n", ec.message().c_str(),
                   durability.last_error().c_str());
      return false;
    }
    engine.start();
    return true;
  }
  // Stops the engine, waits for every batch to commit, stops the committer.
  void close() {
    engine.stop();
    durability.wait_idle(std::chrono::seconds(60));
    durability.stop();
  }
  pg::PgDurability durability;
  engine::Engine engine;
};

// Submits, retrying while the engine's queue is full.
void submit(engine::Engine& e, engine::Command&& c) {
  while (!e.submit(std::move(c))) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

// Submits a wave and waits for every outcome (in order). False when one is not ok.
bool run_wave(engine::Engine& e, std::vector<engine::Command> wave,
              std::vector<engine::Outcome>& outs, AckPrinter* printer) {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t left = wave.size();
  outs.assign(wave.size(), {});
  for (std::size_t i = 0; i < wave.size(); ++i) {
    auto& c = wave[i];
    const std::string name(engine::method_info(c.method).name);
    c.done = [&, i, name, rid = c.request_id](const engine::Outcome& o) {
      if (printer != nullptr) {
        printer->line("ack " + rid + " " + name + " " + std::string(engine::code_name(o.code)));
      }
      std::lock_guard lock(mu);
      outs[i] = o;
      if (--left == 0) cv.notify_all();
    };
    submit(e, std::move(c));
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return left == 0; });
  for (std::size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].ok()) {
      std::fprintf(stderr, "ipx-engine-driver: setup command %zu: %s: %s\n", i,
                   std::string(engine::code_name(outs[i].code)).c_str(), outs[i].message.c_str());
      return false;
    }
  }
  return true;
}

bool setup(engine::Engine& e, tools::Workload& w, AckPrinter* printer) {
  std::vector<engine::Outcome> outs;
  if (!run_wave(e, w.participants(), outs, printer)) return false;
  std::vector<std::string> ids;
  for (const auto& o : outs) ids.emplace_back(o.result.at("participant_id").as_string());
  w.set_participants(ids);
  return run_wave(e, w.markets(wall_ms()), outs, printer);
}

struct LoadStats {
  std::int64_t sent = 0;
  std::atomic<std::int64_t> acked{0};
  std::atomic<std::int64_t> unavailable{0};
  Clock::time_point first_send, last_ack;
  std::vector<std::int64_t> latency_ns;  // per command (from its intended send time)
};

// Sends the random load: `count` commands (or for `seconds`) at `rate` per second (0: as
// fast as taken, at most `window` unacknowledged).
void load(engine::Engine& e, tools::Workload& w, double rate, std::int64_t count, double seconds,
          std::size_t window, AckPrinter* printer, LoadStats& st, bool measure) {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<std::int64_t> inflight{0};
  if (measure) st.latency_ns.assign(static_cast<std::size_t>(count), -1);
  const auto t0 = Clock::now();
  st.first_send = t0;
  const auto deadline = seconds > 0 ? t0 + std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(seconds))
                                    : Clock::time_point::max();
  for (std::int64_t i = 0; count == 0 || i < count; ++i) {
    Clock::time_point intended = Clock::now();
    if (rate > 0) {
      intended = t0 + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(static_cast<double>(i) / rate));
      std::this_thread::sleep_until(intended);
    }
    if (intended >= deadline) break;
    if (inflight.load() >= static_cast<std::int64_t>(window)) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return inflight.load() < static_cast<std::int64_t>(window); });
    }
    engine::Command c = w.next(wall_ms());
    const engine::Method m = c.method;
    c.done = [&, i, m, intended, rid = c.request_id](const engine::Outcome& o) {
      const auto now = Clock::now();
      w.on_result(m, o);
      if (o.code == engine::Code::unavailable) ++st.unavailable;
      if (measure) st.latency_ns[static_cast<std::size_t>(i)] = (now - intended).count();
      if (printer != nullptr) {
        printer->line("ack " + rid + " " + std::string(engine::method_info(m).name) + " " +
                      std::string(engine::code_name(o.code)));
      }
      // Under the lock: the sender returns (and this frame's mu/cv go away) once it sees 0.
      std::lock_guard lock(mu);
      st.last_ack = now;
      ++st.acked;
      const auto before = inflight.fetch_sub(1);
      if (before == static_cast<std::int64_t>(window) || before == 1) cv.notify_one();
    };
    ++inflight;
    submit(e, std::move(c));
    ++st.sent;
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return inflight.load() == 0; });
}

int cmd_run(const Args& a) {
  Node node(a.pg, a);
  pg::RecoverResult rec;
  if (!node.open(a.pg, rec)) return 1;
  std::printf("ready %lld %s replayed=%lld in %.3fs\n", static_cast<long long>(rec.last_seq),
              rec.state_hash.c_str(), static_cast<long long>(rec.records),
              secs(rec.elapsed));
  std::fflush(stdout);
  std::optional<AckPrinter> printer;
  if (!a.quiet) printer.emplace();
  tools::Workload w({.seed = a.seed, .tag = a.tag});
  if (!setup(node.engine, w, printer ? &*printer : nullptr)) return 1;
  LoadStats st;
  load(node.engine, w, a.rate, a.count, a.seconds, 8192, printer ? &*printer : nullptr, st,
       false);
  printer.reset();
  node.close();
  std::printf("done %lld %lld %s\n", static_cast<long long>(st.acked.load()),
              static_cast<long long>(node.engine.last_seq()),
              pg::state_hash_hex(node.engine.domain().state_hash()).c_str());
  return 0;
}

// The audit path: every record from seq 1, every snapshot's hash checked on the way.
pg::RecoverOptions full_replay() {
  pg::RecoverOptions o;
  o.from_snapshot = false;
  return o;
}

int cmd_verify(const Args& a) {
  engine::Engine e(engine::EngineOptions{}, nullptr, nullptr);
  const auto rec = pg::recover(e, a.pg, full_replay());
  if (!rec.ok()) {
    std::fprintf(stderr, "ipx-engine-driver: recovery refused: %s\n", rec.message.c_str());
    return 1;
  }
  std::printf("state %lld %s\n", static_cast<long long>(rec.last_seq), rec.state_hash.c_str());
  std::fprintf(stderr, "replayed %lld records in %.3fs; %lld snapshots checked\n",
               static_cast<long long>(rec.records), secs(rec.replay_elapsed),
               static_cast<long long>(rec.snapshots_checked));
  return 0;
}

int cmd_replay_check(const Args& a) {
  engine::Engine e1(engine::EngineOptions{}, nullptr, nullptr);
  engine::Engine e2(engine::EngineOptions{}, nullptr, nullptr);
  const auto r1 = pg::recover(e1, a.pg, full_replay());
  const auto r2 = r1.ok() ? pg::recover(e2, a.pg) : r1;  // as a restart: snapshot + tail
  if (!r1.ok() || !r2.ok()) {
    std::fprintf(stderr, "ipx-engine-driver: recovery refused: %s\n",
                 (r1.ok() ? r2 : r1).message.c_str());
    return 1;
  }
  if (r1.last_seq != r2.last_seq || r1.state_hash != r2.state_hash) {
    std::printf("replay MISMATCH: %lld %s vs %lld %s\n", static_cast<long long>(r1.last_seq),
                r1.state_hash.c_str(), static_cast<long long>(r2.last_seq),
                r2.state_hash.c_str());
    return 1;
  }
  std::printf("replay %lld %s ok\n", static_cast<long long>(r1.last_seq), r1.state_hash.c_str());
  std::fprintf(stderr, "from seq 1: %lld records; from the snapshot at seq %lld: %lld records\n",
               static_cast<long long>(r1.records), static_cast<long long>(r2.snapshot_seq),
               static_cast<long long>(r2.records));
  return 0;
}

std::string run_sql(const std::string& conninfo, const std::string& sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  std::string err;
  if (PQstatus(c) != CONNECTION_OK) {
    err = PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) err = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  return err;
}

std::int64_t percentile(std::vector<std::int64_t>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// What snapshots cost the live engine: its pause to take each (engine thread), and the
// writer's time to make the bytes and write them (its own thread and connection).
void print_snapshots(const pg::SnapshotStats& st) {
  if (st.taken == 0 && st.skipped == 0) return;
  auto ms = [](std::chrono::microseconds d) { return static_cast<double>(d.count()) / 1e3; };
  std::printf("snapshots: %lld taken, %lld written, %lld skipped (the writer busy), %lld failed; "
              "the last %.1f MB (%.1f MB sent); engine pause: last %.0f ms, max %.0f ms, mean %.0f ms; writer: "
              "bytes made in last %.0f ms, max %.0f ms; row written in last %.0f ms, max %.0f ms\n",
              static_cast<long long>(st.taken), static_cast<long long>(st.written),
              static_cast<long long>(st.skipped), static_cast<long long>(st.failed),
              static_cast<double>(st.last_bytes) / 1e6, static_cast<double>(st.last_sent) / 1e6,
              ms(st.last_pause), ms(st.max_pause),
              ms(st.total_pause) / static_cast<double>(std::max<std::int64_t>(st.taken, 1)),
              ms(st.last_build), ms(st.max_build), ms(st.last_write), ms(st.max_write));
  if (!st.last_error.empty()) std::printf("snapshots: last failure: %s\n", st.last_error.c_str());
  std::fflush(stdout);
}

// --latency-out: one line per measured command, "<intended send ms> <latency us>" (-1: none).
void write_latencies(const std::string& path, double rate, const std::vector<std::int64_t>& ns) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    std::fprintf(stderr, "ipx-engine-driver: cannot write %s\n", path.c_str());
    return;
  }
  for (std::size_t i = 0; i < ns.size(); ++i) {
    std::fprintf(f, "%.3f %lld\n", static_cast<double>(i) * 1e3 / rate,
                 static_cast<long long>(ns[i] < 0 ? -1 : ns[i] / 1000));
  }
  std::fclose(f);
}

int bench_in(const Args& a, const std::string& db) {
  std::string live_hash;
  std::int64_t live_seq = 0;
  {
    Node node(db, a);
    pg::RecoverResult rec;
    if (!node.open(db, rec)) return 1;
    tools::Workload w({.seed = a.seed, .tag = "b"});
    if (!setup(node.engine, w, nullptr)) return 1;

    // 1. Durable throughput: as fast as acknowledged (at most 64k unacknowledged), until N
    // commands are journaled: those answered UNAVAILABLE before being applied (the
    // committer's queue was above 3/4 of its bound) are made up by as many new ones.
    LoadStats st;
    const auto c0 = node.durability.stats();
    load(node.engine, w, 0, a.commands, 0, 65'536, nullptr, st, false);
    for (;;) {  // every reply is in: what is acknowledged is committed
      const auto journaled = static_cast<std::int64_t>(node.durability.stats().records - c0.records);
      if (journaled >= a.commands) break;
      LoadStats more;
      load(node.engine, w, 0, a.commands - journaled, 0, 65'536, nullptr, more, false);
      st.acked += more.acked.load();
      st.unavailable += more.unavailable.load();
      st.last_ack = more.last_ack;
    }
    const double t = secs(st.last_ack - st.first_send);
    const auto c1 = node.durability.stats();
    const auto commits = c1.commits - c0.commits;
    const auto applied = static_cast<std::int64_t>(c1.records - c0.records);
    std::printf("throughput: %lld commands journaled in %.2fs = %.0f/s durable "
                "(%llu commits, %.0f records/commit; %lld answered UNAVAILABLE)\n",
                static_cast<long long>(applied), t, static_cast<double>(applied) / t,
                static_cast<unsigned long long>(commits),
                static_cast<double>(c1.records - c0.records) /
                    static_cast<double>(std::max<std::uint64_t>(commits, 1)),
                static_cast<long long>(st.unavailable.load()));
    std::fflush(stdout);

    // 2. Latency at a fixed offered rate, from each command's intended send time.
    if (a.rate > 0 && a.latency_seconds > 0) {
      if (a.warmup_seconds > 0) {
        LoadStats warm;
        load(node.engine, w, a.rate, static_cast<std::int64_t>(a.rate * a.warmup_seconds), 0,
             1'000'000, nullptr, warm, false);
      }
      LoadStats ls;
      const auto n = static_cast<std::int64_t>(a.rate * a.latency_seconds);
      const auto window0 = node.durability.stats().commits;
      load(node.engine, w, a.rate, n, 0, 1'000'000, nullptr, ls, true);
      const auto window_commits = node.durability.stats().commits - window0;
      if (!a.latency_out.empty()) write_latencies(a.latency_out, a.rate, ls.latency_ns);
      std::vector<std::int64_t> lat;
      lat.reserve(ls.latency_ns.size());
      for (auto x : ls.latency_ns) {
        if (x >= 0) lat.push_back(x);
      }
      const double achieved = static_cast<double>(ls.acked.load()) /
                              secs(ls.last_ack - ls.first_send);
      auto ms = [](std::int64_t ns) { return static_cast<double>(ns) / 1e6; };
      const double p50 = ms(percentile(lat, 0.50)), p90 = ms(percentile(lat, 0.90)),
                   p99 = ms(percentile(lat, 0.99)), p999 = ms(percentile(lat, 0.999)),
                   mx = ms(percentile(lat, 1.0));
      std::printf("latency at %.0f/s offered (%.0f/s acknowledged, %zu commands, %.0fs after "
                  "%.0fs of warm-up): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, "
                  "max %.2f ms; %.0f commits/s\n",
                  a.rate, achieved, lat.size(), a.latency_seconds, a.warmup_seconds, p50, p90,
                  p99, p999, mx, static_cast<double>(window_commits) / a.latency_seconds);
      std::fflush(stdout);
    }
    node.close();
    live_seq = node.engine.last_seq();
    live_hash = pg::state_hash_hex(node.engine.domain().state_hash());
    print_snapshots(node.durability.snapshot_stats());
  }

  // 3. Restarts: a new engine recovers everything journaled as ipxd does (the latest snapshot
  // state, then the records after it), K times; each must come back to the live state.
  std::vector<double> readies;
  for (int i = 0; i < a.restarts; ++i) {
    const auto t0 = Clock::now();
    Node node(db, a);
    pg::RecoverResult rec;
    if (!node.open(db, rec)) return 1;
    const double ready = secs(Clock::now() - t0);
    readies.push_back(ready);
    std::printf("restart to ready: %.3fs with %lld records journaled (snapshot at seq %lld "
                "loaded in %.3fs, then %lld records replayed in %.3fs)\n",
                ready, static_cast<long long>(rec.last_seq),
                static_cast<long long>(rec.snapshot_seq), secs(rec.restore_elapsed),
                static_cast<long long>(rec.records), secs(rec.replay_elapsed));
    std::fflush(stdout);
    node.close();
    if (rec.last_seq != live_seq || rec.state_hash != live_hash) {
      std::printf("FAIL: recovery gives %lld %s, the live engine had %lld %s\n",
                  static_cast<long long>(rec.last_seq), rec.state_hash.c_str(),
                  static_cast<long long>(live_seq), live_hash.c_str());
      return 1;
    }
  }
  std::sort(readies.begin(), readies.end());
  std::printf("restart to ready, median of %zu: %.3fs (%.3f-%.3f)\n", readies.size(),
              readies[readies.size() / 2], readies.front(), readies.back());

  // 4. The audit path: everything replayed from seq 1 (its speed; every snapshot checked).
  engine::Engine e(engine::EngineOptions{}, nullptr, nullptr);
  const auto full = pg::recover(e, db, full_replay());
  std::printf("replay from seq 1: %lld records in %.3fs = %.0f records/s (%lld snapshots checked)\n",
              static_cast<long long>(full.records), secs(full.replay_elapsed),
              static_cast<double>(full.records) / secs(full.replay_elapsed),
              static_cast<long long>(full.snapshots_checked));
  if (!full.ok() || full.state_hash != live_hash) {
    std::printf("FAIL: replay from seq 1 gives %s (%s), the live engine had %s\n",
                full.state_hash.c_str(), full.message.c_str(), live_hash.c_str());
    return 1;
  }
  std::printf("state: every recovery equals live (seq %lld, hash %s)\n",
              static_cast<long long>(live_seq), live_hash.c_str());
  return 0;
}

int cmd_bench(const Args& a) {
  const std::string name = "ipx_bench_engine_" + std::to_string(getpid());
  if (auto err = run_sql(a.pg, "CREATE DATABASE " + name); !err.empty()) {
    std::fprintf(stderr, "ipx-engine-driver: CREATE DATABASE %s: %s", name.c_str(), err.c_str());
    return 2;
  }
  const int rc = bench_in(a, a.pg + " dbname=" + name);
  if (!a.keep) run_sql(a.pg, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, a)) return usage();
  if (a.cmd == "run") return cmd_run(a);
  if (a.cmd == "verify") return cmd_verify(a);
  if (a.cmd == "replay-check") return cmd_replay_check(a);
  if (a.cmd == "bench") return cmd_bench(a);
  return usage();
}
