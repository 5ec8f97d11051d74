// ipx-journal: the journal's operator tool.
//   ipx-journal verify  [--pg CONNINFO]   walk the hash chain; exit 1 when broken
//   ipx-journal migrate [--pg CONNINFO]   apply schema migrations
//   ipx-journal bench   [--pg CONNINFO] [--records N] [--batch B] [--per-submit K]
//                       [--payload BYTES] [--keep]
// --pg defaults to $IPX_PG. `bench` works in a database of its own (ipx_bench_<pid>, created
// with the role's CREATEDB and dropped at the end unless --keep): it appends N records of
// ~BYTES through the group committer (commit batches of at most B records, K records per
// submission as an engine command would), replays them, checks count and chain, prints rates.
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "engine/pg/errc.hpp"
#include "engine/pg/group_commit.hpp"
#include "engine/pg/journal.hpp"
#include "engine/pg/migrate.hpp"

namespace {

using namespace ipx::pg;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string cmd;
  std::string pg;
  std::int64_t records = 200000;
  std::size_t batch = 4096;
  std::size_t per_submit = 4;
  std::size_t payload = 100;
  bool keep = false;
};

int usage() {
  std::fprintf(stderr,
               "usage: ipx-journal verify|migrate [--pg CONNINFO]\n"
               "       ipx-journal bench [--pg CONNINFO] [--records N] [--batch B] "
               "[--per-submit K] [--payload BYTES] [--keep]\n"
               "--pg defaults to $IPX_PG\n");
  return 2;
}

bool parse(int argc, char** argv, Args& a) {
  if (argc < 2) return false;
  a.cmd = argv[1];
  if (const char* env = std::getenv("IPX_PG")) a.pg = env;
  for (int i = 2; i < argc; ++i) {
    const std::string k = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (k == "--keep") {
      a.keep = true;
      continue;
    }
    if (v == nullptr) return false;
    ++i;
    if (k == "--pg") a.pg = v;
    else if (k == "--records") a.records = std::atoll(v);
    else if (k == "--batch") a.batch = static_cast<std::size_t>(std::atoll(v));
    else if (k == "--per-submit") a.per_submit = static_cast<std::size_t>(std::atoll(v));
    else if (k == "--payload") a.payload = static_cast<std::size_t>(std::atoll(v));
    else return false;
  }
  if (a.pg.empty()) {
    std::fprintf(stderr, "ipx-journal: no database: give --pg CONNINFO or set IPX_PG\n");
    return false;
  }
  return a.records > 0 && a.batch > 0 && a.per_submit > 0 && a.payload < kPayloadBytesMax;
}

int verify(const Args& a) {
  Journal j(a.pg);
  if (auto ec = j.open()) {
    std::fprintf(stderr, "ipx-journal: %s: %s\n", ec.message().c_str(), j.last_error().c_str());
    return 2;
  }
  const auto v = j.verify();
  if (v.ok()) {
    std::printf("journal OK: %lld records, head %s\n", static_cast<long long>(v.records),
                to_hex(v.head).c_str());
    return 0;
  }
  if (v.ec == make_error_code(errc::chain_broken)) {
    std::printf("journal BROKEN at seq %lld: %s (%lld records chain correctly before it)\n",
                static_cast<long long>(v.broken_seq), v.message.c_str(),
                static_cast<long long>(v.records));
    return 1;
  }
  std::fprintf(stderr, "ipx-journal: verify failed: %s: %s\n", v.ec.message().c_str(),
               v.message.c_str());
  return 2;
}

int migrate(const Args& a) {
  PGconn* c = PQconnectdb(a.pg.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::fprintf(stderr, "ipx-journal: %s", PQerrorMessage(c));
    PQfinish(c);
    return 2;
  }
  const auto m = apply_migrations(c);
  PQfinish(c);
  if (!m.ok()) {
    std::fprintf(stderr, "ipx-journal: %s\n", m.message.c_str());
    return 2;
  }
  std::printf("migrations: %zu applied (%s)\n", m.applied.size(),
              default_schema_dir().string().c_str());
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

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Appends through the group committer; returns records/s or < 0 on failure.
double bench_append(const Args& a, const std::string& db, CommitterStats& stats) {
  CommitterOptions o;
  o.batch_records_max = a.batch;
  o.batch_bytes_max = std::max<std::size_t>(1u << 20, a.batch * (a.payload + 64));
  o.queue_records_max = std::max<std::size_t>(65536, a.batch * 4);
  o.queue_bytes_max = std::max<std::size_t>(64u << 20, o.queue_records_max * (a.payload + 64));
  GroupCommitter gc(db, o);
  if (auto ec = gc.start()) {
    std::fprintf(stderr, "ipx-journal: %s: %s\n", ec.message().c_str(), gc.last_error().c_str());
    return -1;
  }
  std::atomic<std::int64_t> completed{0};
  const std::string body(a.payload, 'p');
  const auto t0 = Clock::now();
  std::int64_t seq = 0;
  while (seq < a.records) {
    const auto n = std::min<std::int64_t>(static_cast<std::int64_t>(a.per_submit), a.records - seq);
    std::vector<JournalRecord> recs(static_cast<std::size_t>(n));
    for (auto& r : recs) {
      r.seq = ++seq;
      r.ts_ms = 1764145200000 + seq;
      r.kind = 1;
      r.payload = body;
      std::memcpy(r.payload.data(), &r.seq, std::min(sizeof r.seq, body.size()));
    }
    const auto first = recs.front().seq;
    for (;;) {
      // On an error submit leaves `recs` untouched: retry under back-pressure.
      const auto ec = gc.submit(std::move(recs), [&completed, n](std::error_code e) {
        if (!e) completed += n;
      });
      if (!ec) break;
      if (ec != make_error_code(errc::queue_full)) {
        std::fprintf(stderr, "ipx-journal: submit at seq %lld: %s\n",
                     static_cast<long long>(first), ec.message().c_str());
        return -1;
      }
      std::this_thread::yield();
    }
  }
  if (!gc.wait_idle(std::chrono::minutes(10))) {
    std::fprintf(stderr, "ipx-journal: commits did not finish: %s\n", gc.last_error().c_str());
    return -1;
  }
  const double s = seconds_since(t0);
  stats = gc.stats();
  gc.stop();
  if (completed.load() != a.records || stats.committed_seq != a.records) {
    std::fprintf(stderr, "ipx-journal: %lld of %lld records completed\n",
                 static_cast<long long>(completed.load()), static_cast<long long>(a.records));
    return -1;
  }
  return static_cast<double>(a.records) / s;
}

double bench_replay(const Args& a, const std::string& db) {
  Journal j(db);
  if (auto ec = j.open()) return -1;
  std::int64_t count = 0, expect = 1;
  std::size_t bytes = 0;
  bool ordered = true;
  const auto t0 = Clock::now();
  const auto ec = j.replay(0, [&](const JournalRecord& r) {
    ordered = ordered && r.seq == expect++;
    bytes += r.payload.size();
    ++count;
  });
  const double s = seconds_since(t0);
  if (ec || !ordered || count != a.records || bytes != static_cast<std::size_t>(a.records) * a.payload) {
    std::fprintf(stderr, "ipx-journal: replay check failed: %s %s\n", ec.message().c_str(),
                 j.last_error().c_str());
    return -1;
  }
  return static_cast<double>(count) / s;
}

int bench(const Args& a) {
  const std::string name = "ipx_bench_" + std::to_string(getpid());
  if (auto err = run_sql(a.pg, "CREATE DATABASE " + name); !err.empty()) {
    std::fprintf(stderr, "ipx-journal: CREATE DATABASE %s: %s", name.c_str(), err.c_str());
    return 2;
  }
  const std::string db = a.pg + " dbname=" + name;
  Args m = a;
  m.pg = db;
  int rc = migrate(m) == 0 ? 0 : 2;
  CommitterStats stats;
  const double append = rc == 0 ? bench_append(a, db, stats) : -1;
  const double replay = append > 0 ? bench_replay(a, db) : -1;
  if (append > 0 && replay > 0) {
    const double secs = static_cast<double>(a.records) / append;
    std::printf(
        "journal bench: records=%lld payload=%zu batch<=%zu per_submit=%zu | append %.0f "
        "records/s durable (%llu commits, %.0f commits/s, %.1f records/commit) | replay %.0f "
        "records/s (chain checked)\n",
        static_cast<long long>(a.records), a.payload, a.batch, a.per_submit, append,
        static_cast<unsigned long long>(stats.commits), static_cast<double>(stats.commits) / secs,
        static_cast<double>(a.records) / static_cast<double>(std::max<std::uint64_t>(stats.commits, 1)),
        replay);
  } else {
    rc = 1;
  }
  if (!a.keep) run_sql(a.pg, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, a)) return usage();
  if (a.cmd == "verify") return verify(a);
  if (a.cmd == "migrate") return migrate(a);
  if (a.cmd == "bench") return bench(a);
  return usage();
}
