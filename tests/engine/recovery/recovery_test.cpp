// Recovery of the engine from its PostgreSQL journal (engine/pg/durability, engine/pg/recovery)
// against the private PostgreSQL (IPX_PG; label integration):
//   - determinism: a seeded random command stream applied live, then replayed from the
//     journal, gives the same state hash (and every snapshot on the way checks), several seeds;
//   - crash: ipx-engine-driver is SIGKILLed at random points several times and restarted;
//     every acknowledged command is in the journal exactly once and the recovered state equals
//     a replay from scratch;
//   - journal outage: a throwaway cluster is stopped mid-load: commands get UNAVAILABLE, the
//     engine resumes when it is back, nothing acknowledged is missing, nothing duplicated;
//   - tamper: one changed journal row is named by verify and recover() refuses to start; a
//     changed snapshot hash is a start-up error naming the seq.
// Every test works in a database of its own (tests/engine/pg/test_db.hpp).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "engine/pg/durability.hpp"
#include "engine/pg/errc.hpp"
#include "engine/pg/journal.hpp"
#include "engine/pg/migrate.hpp"
#include "engine/pg/recovery.hpp"
#include "engine/pg/snapshots.hpp"
#include "settlement/pg_store.hpp"
#include "tests/engine/pg/test_db.hpp"
#include "tools/engine_workload.hpp"

namespace ipx::pg {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace json = boost::json;

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// request id -> how many journal records carry it (every record must parse and chain).
std::map<std::string, int> journal_request_ids(const std::string& conninfo, std::int64_t* last) {
  std::map<std::string, int> ids;
  Journal j(conninfo);
  EXPECT_FALSE(j.open()) << j.last_error();
  ReplayStats st;
  const auto ec = j.replay(0, [&](const JournalRecord& r) {
    json::value v = json::parse(r.payload);
    if (const auto* rid = v.as_object().if_contains("r"); rid != nullptr) {
      ++ids[std::string(rid->as_string())];
    }
  }, &st);
  EXPECT_FALSE(ec) << j.last_error();
  if (last != nullptr) *last = st.last_seq;
  return ids;
}

// The audit path: every record from seq 1 (every snapshot's hash checked on the way).
RecoverResult replay_from_scratch(const std::string& conninfo) {
  engine::Engine e(engine::EngineOptions{}, nullptr, nullptr);
  RecoverOptions o;
  o.from_snapshot = false;
  return recover(e, conninfo, o);
}

// As a restart recovers: the latest snapshot state that loads, then the records after it.
// `log` gets what recovery says about the snapshots it took or passed over.
RecoverResult restart(const std::string& conninfo, std::vector<std::string>* log = nullptr) {
  engine::Engine e(engine::EngineOptions{}, nullptr, nullptr);
  RecoverOptions o;
  o.log = [log](const std::string& line) {
    if (log != nullptr) log->push_back(line);
  };
  return recover(e, conninfo, o);
}

// The engine with PgDurability, recovered and started, driven with a Workload.
class LiveEngine {
 public:
  LiveEngine(const std::string& conninfo, std::int64_t snapshot_every,
             CommitterOptions committer = {}, engine::EngineOptions engine_options = {},
             bool ledger_rows = false)
      : durability_(conninfo, options(committer, snapshot_every, ledger_rows)),
        engine_(engine_options, &durability_, nullptr) {
    recovered_ = recover(engine_, conninfo);
    EXPECT_TRUE(recovered_.ok()) << recovered_.message;
    const auto ec = durability_.start(engine_);
    EXPECT_FALSE(ec) << durability_.last_error();
    if (recovered_.ok() && !ec) engine_.start();
  }
  ~LiveEngine() { close(); }
  static DurabilityOptions options(CommitterOptions committer, std::int64_t snapshot_every,
                                   bool ledger_rows) {
    DurabilityOptions o;
    o.ledger_rows = ledger_rows;
    o.committer = committer;
    o.snapshot_every = snapshot_every;
    return o;
  }

  // Submits and waits for the outcome.
  engine::Outcome call(engine::Command c) {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<engine::Outcome> out;
    c.done = [&](const engine::Outcome& o) {
      std::lock_guard lock(mu);
      out = o;
      cv.notify_all();
    };
    while (!engine_.submit(std::move(c))) std::this_thread::sleep_for(1ms);
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return out.has_value(); });
    return *out;
  }
  void setup(tools::Workload& w) {
    std::vector<std::string> ids;
    for (auto& c : w.participants()) {
      auto o = call(std::move(c));
      ASSERT_TRUE(o.ok()) << o.message;
      ids.emplace_back(o.result.at("participant_id").as_string());
    }
    w.set_participants(ids);
    for (auto& c : w.markets(wall_ms())) {
      auto o = call(std::move(c));
      ASSERT_TRUE(o.ok()) << o.message;
    }
  }
  // Sends n commands (window of 2,048 unacknowledged), records every acknowledgement; waits
  // for them all unless `wait` is false.
  void drive(tools::Workload& w, std::int64_t n, std::chrono::microseconds gap = 0us,
             bool wait = true) {
    for (std::int64_t i = 0; i < n; ++i) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return inflight_ < 2048 || !bounded_; });
        ++inflight_;
      }
      engine::Command c = w.next(wall_ms());
      const auto m = c.method;
      c.done = [this, &w, m, rid = c.request_id](const engine::Outcome& o) {
        w.on_result(m, o);
        std::lock_guard lock(mu_);
        acks_.push_back({rid, o.code});
        --inflight_;
        cv_.notify_all();
      };
      while (!engine_.submit(std::move(c))) std::this_thread::sleep_for(200us);
      if (gap.count() > 0) std::this_thread::sleep_for(gap);
    }
    if (!wait) return;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return inflight_ == 0; });
  }
  void close() {
    if (closed_) return;
    closed_ = true;
    engine_.stop();
    EXPECT_TRUE(durability_.wait_idle(60s));
    durability_.stop();
  }
  std::string hash() { return state_hash_hex(engine_.domain().state_hash()); }
  std::int64_t last_seq() const { return engine_.last_seq(); }
  std::vector<std::pair<std::string, engine::Code>> acks() {
    std::lock_guard lock(mu_);
    return acks_;
  }
  bool submit(engine::Command c) { return engine_.submit(std::move(c)); }
  PgDurability& durability() { return durability_; }
  const ledger::Ledger& ledger() { return engine_.domain().ledger(); }
  const RecoverResult& recovered() const { return recovered_; }

 private:
  PgDurability durability_;
  engine::Engine engine_;
  RecoverResult recovered_;
  bool closed_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::int64_t inflight_ = 0;
 public:
  bool bounded_ = true;  // false: no window (the outage test keeps sending while acks wait)
  std::vector<std::pair<std::string, engine::Code>> acks_;
};

// --- determinism ---------------------------------------------------------------------------

TEST(Recovery, SeededStreamReplaysToTheSameStateHash) {
  for (std::uint64_t seed : {1u, 7u, 42u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::TestDb db;
    ASSERT_TRUE(db.ok());
    std::string live_hash;
    std::int64_t live_seq = 0, snapshots = 0;
    {
      LiveEngine live(db.conninfo(), /*snapshot_every=*/300);
      ASSERT_TRUE(live.recovered().ok());
      tools::Workload w({.seed = seed, .tag = "s" + std::to_string(seed)});
      live.setup(w);
      // In waves: a wave crosses a multiple of 300, and the writer finishes its snapshot
      // before the next (one wave in a single batch would take one snapshot, the others
      // skipped; so would a writer still busy on a loaded machine).
      for (int wave = 0; wave < 10; ++wave) {
        live.drive(w, 300);
        ASSERT_TRUE(live.durability().wait_idle(std::chrono::seconds(30)));
      }
      live.close();
      live_hash = live.hash();
      live_seq = live.last_seq();
      snapshots = live.durability().snapshots_written();
      EXPECT_GE(snapshots, 2);
    }
    const auto r = replay_from_scratch(db.conninfo());
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(r.last_seq, live_seq);
    EXPECT_EQ(r.records, live_seq);
    EXPECT_EQ(r.state_hash, live_hash);
    EXPECT_EQ(r.snapshots_checked, snapshots) << "every snapshot on the way is checked";
    // Twice from the journal: the same again (no hidden input such as the wall clock).
    EXPECT_EQ(replay_from_scratch(db.conninfo()).state_hash, live_hash);
  }
}

// The same streams, recovered as a restart does: from each seed's latest snapshot state plus
// the records after it, the state hash is the live one (and a replay from seq 1's); so it is
// from an older snapshot when the newer states do not load (corrupt bytes, another format
// version: each passed over and logged), and from seq 1 when none does.
std::string query_value(const std::string& conninfo, const std::string& sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  std::string out;
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
    out = PQgetvalue(r, 0, 0);
  } else {
    ADD_FAILURE() << sql << ": " << PQerrorMessage(c);
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

TEST(Recovery, SeededStreamFromASnapshotPlusTheTailGivesTheSameStateHash) {
  for (std::uint64_t seed : {1u, 7u, 42u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::TestDb db;
    ASSERT_TRUE(db.ok());
    std::string live_hash;
    std::int64_t live_seq = 0;
    {
      LiveEngine live(db.conninfo(), 300);
      tools::Workload w({.seed = seed, .tag = "f" + std::to_string(seed), .auction_ms = 500});
      live.setup(w);
      live.drive(w, 3000, 100us);  // spread over time: auctions close, ticks are journaled
      live.close();
      live_hash = live.hash();
      live_seq = live.last_seq();
    }
    ASSERT_EQ(replay_from_scratch(db.conninfo()).state_hash, live_hash);
    std::vector<std::string> log;
    const auto r = restart(db.conninfo(), &log);
    ASSERT_TRUE(r.ok()) << r.message;
    // The newest state (one falls due every ~300 records; one due while the writer is busy is
    // skipped, so on a loaded machine the newest may lie further back).
    EXPECT_GT(r.snapshot_seq, 0);
    EXPECT_EQ(std::to_string(r.snapshot_seq),
              query_value(db.super_conninfo(),
                          "SELECT max(seq) FROM snapshots WHERE state IS NOT NULL"));
    EXPECT_EQ(r.snapshot_seq + r.records, live_seq) << "only the tail is replayed";
    EXPECT_EQ(r.snapshots_refused, 0);
    EXPECT_EQ(r.state_hash, live_hash);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_NE(log[0].find("started from the snapshot at seq " + std::to_string(r.snapshot_seq)),
              std::string::npos) << log[0];

    // The newest state cut short: passed over for the one before (states_kept = 2).
    ASSERT_EQ(test::run_sql(db.super_conninfo(),
                            "UPDATE snapshots SET state = substring(state FROM 1 FOR 1000)"
                            " WHERE seq = " + std::to_string(r.snapshot_seq)),
              "");
    log.clear();
    const auto older = restart(db.conninfo(), &log);
    ASSERT_TRUE(older.ok()) << older.message;
    EXPECT_LT(older.snapshot_seq, r.snapshot_seq);
    EXPECT_GT(older.snapshot_seq, 0);
    EXPECT_EQ(older.snapshots_refused, 1);
    EXPECT_EQ(older.snapshot_seq + older.records, live_seq);
    EXPECT_EQ(older.state_hash, live_hash);
    ASSERT_EQ(log.size(), 2u);
    EXPECT_NE(log[0].find("passed over: its manifest is cut"), std::string::npos) << log[0];
    EXPECT_NE(log[0].find("trying an older one"), std::string::npos) << log[0];

    // That one of another format version too: nothing loads, the whole journal is replayed.
    // (The state is a manifest, engine/pg/snapshots.cpp: magic 8, piece count 8, then the first
    // piece, the blob's own head: kind 1, length 8, then the blob's magic 8 and version.)
    ASSERT_EQ(test::run_sql(db.super_conninfo(),
                            "UPDATE snapshots SET state = overlay(state PLACING '\\x0a'::bytea FROM 34)"
                            " WHERE seq = " + std::to_string(older.snapshot_seq)),
              "");
    log.clear();
    const auto none = restart(db.conninfo(), &log);
    ASSERT_TRUE(none.ok()) << none.message;
    EXPECT_EQ(none.snapshot_seq, 0);
    EXPECT_EQ(none.records, live_seq);
    EXPECT_EQ(none.state_hash, live_hash);
    ASSERT_EQ(log.size(), 2u);
    EXPECT_NE(log[1].find("format version 10"), std::string::npos) << log[1];
    EXPECT_NE(log[1].find("replaying the journal from seq 1"), std::string::npos) << log[1];
  }
}

// The ledger's compaction under the engine (a live log of 4,096 transfers, retired several times
// over): the live state, a restart from a snapshot plus the tail, and a replay from seq 1 in
// an engine whose ledger never compacts all have the same state hash; and PostgreSQL keeps
// every transfer ever made (ledger_transfers), reconciled with the restarted engine.
TEST(Recovery, LedgerCompactionChangesNoStateAndTheDatabaseKeepsEveryTransfer) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  engine::EngineOptions small;
  small.ledger_transfers_max = 4096;
  std::string live_hash;
  std::int64_t live_seq = 0;
  std::size_t transfers = 0;
  {
    LiveEngine live(db.conninfo(), 400, {}, small, /*ledger_rows=*/true);
    tools::Workload w({.seed = 5, .tag = "k5", .auction_ms = 500});
    live.setup(w);
    live.drive(w, 4000, 50us);
    live.close();
    live_hash = live.hash();
    live_seq = live.last_seq();
    transfers = live.ledger().transfer_count();
    EXPECT_GT(live.ledger().retired_count(), 2'000u);
    EXPECT_LT(live.ledger().live_log().size(), 4096u / 4 * 3);  // never near the guard
  }
  ASSERT_EQ(replay_from_scratch(db.conninfo()).state_hash, live_hash);  // never compacts
  engine::Engine e(small, nullptr, nullptr);
  const RecoverResult r = recover(e, db.conninfo(), RecoverOptions{});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_GT(r.snapshot_seq, 0);
  EXPECT_EQ(r.snapshot_seq + r.records, live_seq);
  EXPECT_EQ(r.state_hash, live_hash);
  EXPECT_GT(e.domain().ledger().history().retired, 0u);

  PGconn* conn = PQconnectdb(db.conninfo().c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK);
  ledger::pg::StoredLedger stored;
  std::string error;
  ASSERT_FALSE(ledger::pg::read_ledger(conn, stored, &error)) << error;
  PQfinish(conn);
  EXPECT_EQ(stored.transfers.size(), transfers);
  const auto rec = ledger::pg::reconcile(stored, e.domain().ledger(), 5);
  EXPECT_TRUE(rec.ok()) << (rec.ok() ? "" : ledger::pg::describe(rec.differences[0]));

  // A database without the rows (one whose journal predates them) cannot be caught up from a
  // compacted engine: refused, naming what is missing, and nothing written.
  test::TestDb empty;
  ASSERT_TRUE(empty.ok());
  PGconn* other = PQconnectdb(empty.conninfo().c_str());
  ASSERT_EQ(PQstatus(other), CONNECTION_OK);
  ASSERT_TRUE(apply_migrations(other).ok());
  PQclear(PQexec(other, "BEGIN"));
  std::size_t written = 0;
  const auto ec = ledger::pg::sync_ledger_rows(other, e.domain().ledger(), live_seq, 0, &written, &error);
  PQclear(PQexec(other, "ROLLBACK"));
  PQfinish(other);
  EXPECT_EQ(ec, ledger::pg::store_errc::copy_failed);
  EXPECT_EQ(written, 0u);
  EXPECT_NE(error.find("retired from memory"), std::string::npos) << error;
}

// A ledger full of open holds (a live log of 1,024 transfers, ~1,000 resting orders): the
// engine refuses state-changing commands UNAVAILABLE before they reach the journal, so the
// journal replays to the live state under the default capacity too, and under one too small
// to hold that state (its ledger grows past it).
TEST(Recovery, ALedgerFullOfHoldsRefusesBeforeTheJournalAndReplaysUnderAnyCapacity) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  engine::EngineOptions small;
  small.ledger_transfers_max = 1024;
  std::string live_hash;
  std::vector<std::pair<std::string, engine::Code>> acks;
  {
    LiveEngine live(db.conninfo(), 500, {}, small, /*ledger_rows=*/true);
    tools::Workload w({.seed = 9, .tag = "u9", .auction_ms = 500});
    live.setup(w);
    live.drive(w, 4000, 20us);
    live.close();
    live_hash = live.hash();
    acks = live.acks();
  }
  std::set<std::string> refused;
  for (const auto& [rid, code] : acks) {
    if (code == engine::Code::unavailable) refused.insert(rid);
  }
  ASSERT_GT(refused.size(), 100u) << "the workload's resting orders fill 1,024 transfers";
  const auto journaled = journal_request_ids(db.conninfo(), nullptr);
  for (const auto& rid : refused) EXPECT_FALSE(journaled.contains(rid)) << rid;
  EXPECT_EQ(replay_from_scratch(db.conninfo()).state_hash, live_hash);  // 4,194,304
  engine::Engine same(small, nullptr, nullptr);
  const RecoverResult r = recover(same, db.conninfo(), RecoverOptions{});
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.state_hash, live_hash);
  // Under a capacity below what the state holds, the ledger grows: the same state.
  engine::EngineOptions tiny;
  tiny.ledger_transfers_max = 256;
  engine::Engine smaller(tiny, nullptr, nullptr);
  RecoverOptions from_seq_1;
  from_seq_1.from_snapshot = false;
  const RecoverResult t = recover(smaller, db.conninfo(), from_seq_1);
  ASSERT_TRUE(t.ok()) << t.message;
  EXPECT_EQ(t.state_hash, live_hash);
  EXPECT_GT(smaller.domain().ledger().live_log().size(), 256u);
}

// A snapshot whose journal record no longer is what the journal holds (the journal was changed
// after it) is passed over: the chain then breaks where the change is, not at the snapshot.
TEST(Recovery, ASnapshotOfAChangedJournalIsPassedOverAndTheChangeIsNamed) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  {
    LiveEngine live(db.conninfo(), 100);
    tools::Workload w({.seed = 19, .tag = "c"});
    live.setup(w);
    live.drive(w, 400);
  }
  std::int64_t snap_seq = 0;
  {
    const auto r = restart(db.conninfo());
    ASSERT_TRUE(r.ok()) << r.message;
    snap_seq = r.snapshot_seq;
    // Whichever snapshot is the newest (the writer skips those due while it is busy, so on a
    // loaded machine that may be the first, at seq 100).
    ASSERT_GT(snap_seq, 0);
  }
  // A superuser rewrites the record at the snapshot's seq, hash included (as a forger would).
  ASSERT_EQ(test::run_sql(db.super_conninfo(),
                          "ALTER TABLE journal DISABLE TRIGGER journal_append_only_row;"
                          "UPDATE journal SET hash = sha256(hash) WHERE seq = " +
                              std::to_string(snap_seq) + ";"
                          "ALTER TABLE journal ENABLE TRIGGER journal_append_only_row;"),
            "");
  std::vector<std::string> log;
  const auto r = restart(db.conninfo(), &log);
  EXPECT_EQ(r.ec, make_error_code(errc::chain_broken)) << r.message;
  EXPECT_EQ(r.broken_seq, snap_seq);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log[0].find("journal record hash is not the journal's"), std::string::npos) << log[0];
}

// Timers: auctions that close while the engine is idle make it journal `tick` commands, and
// replay must reproduce them.
TEST(Recovery, IdleTimerTicksReplayToTheSameStateHash) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  std::string live_hash;
  {
    LiveEngine live(db.conninfo(), 300);
    tools::Workload w({.seed = 21, .tag = "i", .auction_ms = 300});
    live.setup(w);
    live.drive(w, 1500);
    std::this_thread::sleep_for(600ms);  // auctions close while idle: ticks
    live.drive(w, 500);
    live.close();
    live_hash = live.hash();
  }
  const auto r = replay_from_scratch(db.conninfo());
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.state_hash, live_hash);
}

// PROTOCOL "Idempotency": a retry with the same params gets the first reply. participant.create
// without credentials has them drawn by the engine; the retry (which carries none either) is
// the same request, live and after a restart (the journal marks the drawn fields).
TEST(Recovery, RetriedParticipantCreateGetsTheFirstReplyLiveAndAfterRestart) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  auto create = [](const std::string& name) {
    engine::Command c;
    c.method = engine::Method::participant_create;
    c.actor = "admin";
    c.request_id = "create-1";
    c.params = engine::ParticipantCreate{name, "enterprise", "chengdu", false, {}, {}};
    return c;
  };
  auto fund = [](const std::string& participant, std::int64_t amount) {
    engine::Command c;
    c.method = engine::Method::account_fund;
    c.actor = "admin";
    c.request_id = "fund-1";
    c.params = engine::AccountFund{participant, amount};
    return c;
  };
  json::object first, funded;
  std::string participant;
  {
    LiveEngine live(db.conninfo(), 100);
    const auto a = live.call(create("Acme"));
    ASSERT_TRUE(a.ok()) << a.message;
    first = a.result;
    participant = std::string(first.at("participant_id").as_string());
    const auto f = live.call(fund(participant, 500));
    ASSERT_TRUE(f.ok()) << f.message;
    funded = f.result;
    // Params the codec refused (the gateway sends them so): the BAD_REQUEST is kept.
    engine::Command bad = fund(participant, 1);
    bad.request_id = "fund-bad";
    bad.invalid = "amount: must be > 0";
    bad.invalid_params = R"({"participant_id":")" + participant + R"(","amount":-1})";
    EXPECT_EQ(live.call(bad).code, engine::Code::bad_request);
    EXPECT_FALSE(first.at("api_secret").as_string().empty());
    const auto again = live.call(create("Acme"));
    ASSERT_TRUE(again.ok()) << again.message;
    EXPECT_EQ(again.result, first);
    EXPECT_EQ(live.call(create("Other")).code, engine::Code::duplicate);
    live.close();
  }
  LiveEngine restarted(db.conninfo(), 100);
  ASSERT_TRUE(restarted.recovered().ok()) << restarted.recovered().message;
  const auto after = restarted.call(create("Acme"));
  ASSERT_TRUE(after.ok()) << after.message;
  EXPECT_EQ(after.result, first);
  EXPECT_EQ(restarted.call(create("Other")).code, engine::Code::duplicate);
  // A request without drawn fields: compared with the journal's own params text.
  const auto refund = restarted.call(fund(participant, 500));
  ASSERT_TRUE(refund.ok()) << refund.message;
  EXPECT_EQ(refund.result, funded) << "applied once";
  EXPECT_EQ(restarted.call(fund(participant, 501)).code, engine::Code::duplicate);
  engine::Command good = fund(participant, 7);
  good.request_id = "fund-bad";
  EXPECT_EQ(restarted.call(good).code, engine::Code::duplicate) << "the kept BAD_REQUEST replays";
}

TEST(Recovery, RestartContinuesTheJournal) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  std::int64_t first_seq = 0;
  {
    LiveEngine live(db.conninfo(), 200);
    tools::Workload w({.seed = 3, .tag = "a"});
    live.setup(w);
    live.drive(w, 500);
    live.close();
    first_seq = live.last_seq();
  }
  std::string hash;
  {
    LiveEngine live(db.conninfo(), 200);
    ASSERT_TRUE(live.recovered().ok());
    EXPECT_EQ(live.recovered().last_seq, first_seq);
    EXPECT_GT(live.recovered().snapshot_seq, 0) << "a restart starts from the latest snapshot";
    EXPECT_EQ(live.recovered().snapshot_seq + live.recovered().records, first_seq);
    tools::Workload w({.seed = 4, .tag = "b"});
    live.setup(w);
    live.drive(w, 500);
    live.close();
    EXPECT_GT(live.last_seq(), first_seq + 500);
    hash = live.hash();
  }
  EXPECT_EQ(replay_from_scratch(db.conninfo()).state_hash, hash);
}

TEST(Recovery, ReadOnlyBatchesAreDeliveredInOrderBehindWrites) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  LiveEngine live(db.conninfo(), 0);
  tools::Workload w({.seed = 5, .tag = "r"});
  live.setup(w);
  // A write then a read of its effect, submitted back to back: the read's reply may not
  // overtake the write's (the read is a barrier behind the write's batch).
  std::mutex mu;
  std::vector<int> order;
  std::atomic<int> left{0};
  for (int i = 0; i < 200; ++i) {
    engine::Command fund = w.next(wall_ms());
    fund.done = [&, i](const engine::Outcome&) {
      std::lock_guard lock(mu);
      order.push_back(2 * i);
      --left;
    };
    engine::Command read;
    read.method = engine::Method::time_now;
    read.actor = "admin";
    read.params = engine::NoParams{};
    read.done = [&, i](const engine::Outcome&) {
      std::lock_guard lock(mu);
      order.push_back(2 * i + 1);
      --left;
    };
    left += 2;
    ASSERT_TRUE(live.submit(std::move(fund)));
    ASSERT_TRUE(live.submit(std::move(read)));
  }
  const auto deadline = Clock::now() + 30s;
  while (left.load() > 0 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  std::lock_guard lock(mu);
  ASSERT_EQ(order.size(), 400u);
  for (int i = 0; i < 400; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

// --- snapshots off the commit path ---------------------------------------------------------

// One value of a query (the first row's first column), or "" with a test failure.

// Holds the snapshots table locked (as the superuser, in an open transaction) until release():
// a snapshot write waits, as it would for a slow disk.
class SnapshotsLocked {
 public:
  explicit SnapshotsLocked(const std::string& super) : c_(PQconnectdb(super.c_str())) {
    PGresult* r = PQexec(c_, "BEGIN; LOCK TABLE snapshots IN ACCESS EXCLUSIVE MODE");
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(c_);
    PQclear(r);
  }
  ~SnapshotsLocked() { release(); }
  void release() {
    if (c_ == nullptr) return;
    PQclear(PQexec(c_, "ROLLBACK"));
    PQfinish(c_);
    c_ = nullptr;
  }

 private:
  PGconn* c_;
};

// Until the snapshot writer's connection waits on a lock (true), or 20 s.
bool writer_waits_on_a_lock(const std::string& super) {
  const auto deadline = Clock::now() + 20s;
  while (Clock::now() < deadline) {
    // This test's database only: other tests run their own writers beside it.
    if (query_value(super, "SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                           " 'ipx_snapshot_writer' AND wait_event_type = 'Lock'"
                           " AND datname = current_database()") == "1") {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

std::size_t count_code(const std::vector<std::pair<std::string, engine::Code>>& acks,
                       engine::Code code) {
  std::size_t n = 0;
  for (const auto& a : acks) n += a.second == code ? 1 : 0;
  return n;
}

// A snapshot is written on the writer's own connection after its seq commits: while its write
// waits, the journal commits every batch (nothing is answered UNAVAILABLE) and of the snapshots
// that fall due one is owed and the rest skipped, none queued; once it is written, the row
// carries the journal's record hash at its seq, the owed one is taken with the next batch, and a
// restart starts from the latest.
TEST(Recovery, SnapshotsAreWrittenOffTheCommitPathAndSkippedWhileOneIsBeingWritten) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  LiveEngine live(db.conninfo(), 100);
  tools::Workload w({.seed = 23, .tag = "w"});
  live.setup(w);
  SnapshotsLocked locked(db.super_conninfo());
  for (int wave = 0; wave < 10; ++wave) live.drive(w, 100);  // each crosses a multiple of 100
  EXPECT_EQ(count_code(live.acks(), engine::Code::unavailable), 0u);
  EXPECT_EQ(live.durability().stats().committed_seq, live.last_seq()) << "the journal has all";
  ASSERT_TRUE(writer_waits_on_a_lock(db.super_conninfo()));
  auto st = live.durability().snapshot_stats();
  EXPECT_EQ(st.taken, 1);
  EXPECT_EQ(st.written, 0);
  // One due every 100 records: the first taken, the second owed, the rest skipped.
  EXPECT_EQ(st.skipped, live.last_seq() / 100 - 2);
  locked.release();
  ASSERT_TRUE(live.durability().wait_idle(30s));
  EXPECT_EQ(live.durability().snapshots_written(), 1);
  EXPECT_EQ(query_value(db.super_conninfo(),
                        "SELECT count(*) FROM snapshots s JOIN journal j USING (seq)"
                        " WHERE s.record_hash = j.hash AND s.state IS NOT NULL"),
            "1");
  live.drive(w, 200);
  live.close();
  st = live.durability().snapshot_stats();
  EXPECT_GE(st.written, 2) << "the owed one, then the ones due";
  EXPECT_EQ(st.taken, st.written);
  const auto r = restart(db.conninfo());
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_GT(r.snapshot_seq, live.last_seq() - 200);
  EXPECT_EQ(r.state_hash, live.hash());
}

// The snapshot writer's connection is lost in the middle of a write (the server ends it): that
// snapshot is dropped and counted, the journal goes on as if nothing happened, the writer
// reconnects for the next one, and a restart starts from that one with the live state.
TEST(Recovery, ASnapshotWriteThatFailsLeavesTheJournalAlone) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  LiveEngine live(db.conninfo(), 100);
  tools::Workload w({.seed = 29, .tag = "x"});
  live.setup(w);
  {
    SnapshotsLocked locked(db.super_conninfo());
    live.drive(w, 300);
    ASSERT_TRUE(writer_waits_on_a_lock(db.super_conninfo()));
    EXPECT_EQ(query_value(db.super_conninfo(),
                          "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                          " WHERE application_name = 'ipx_snapshot_writer'"
                          " AND datname = current_database()"),
              "t");
  }
  ASSERT_TRUE(live.durability().wait_idle(30s));
  auto st = live.durability().snapshot_stats();
  EXPECT_EQ(st.failed, 1);
  EXPECT_EQ(st.written, 0);
  EXPECT_NE(st.last_error.find("not written"), std::string::npos) << st.last_error;
  EXPECT_TRUE(live.durability().available());
  live.drive(w, 300);
  live.close();
  EXPECT_EQ(count_code(live.acks(), engine::Code::unavailable), 0u);
  EXPECT_GE(live.durability().snapshots_written(), 1);
  const auto r = restart(db.conninfo());
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_GT(r.snapshot_seq, 300);
  EXPECT_EQ(r.state_hash, live.hash());
  EXPECT_EQ(replay_from_scratch(db.conninfo()).state_hash, live.hash());
}

// --- tamper --------------------------------------------------------------------------------

TEST(Recovery, TamperedJournalRowIsNamedAndRecoveryRefuses) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  {
    LiveEngine live(db.conninfo(), 100);
    tools::Workload w({.seed = 9, .tag = "t"});
    live.setup(w);
    live.drive(w, 300);
  }
  ASSERT_TRUE(replay_from_scratch(db.conninfo()).ok());
  // A superuser moves one command's time by a millisecond (the payload still parses).
  ASSERT_EQ(test::run_sql(db.super_conninfo(),
                          "ALTER TABLE journal DISABLE TRIGGER journal_append_only_row;"
                          "UPDATE journal SET ts_ms = ts_ms + 1 WHERE seq = 123;"
                          "ALTER TABLE journal ENABLE TRIGGER journal_append_only_row;"),
            "");
  Journal j(db.conninfo());
  ASSERT_FALSE(j.open());
  const auto v = j.verify();
  EXPECT_EQ(v.ec, make_error_code(errc::chain_broken));
  EXPECT_EQ(v.broken_seq, 123);
  const auto r = replay_from_scratch(db.conninfo());
  EXPECT_EQ(r.ec, make_error_code(errc::chain_broken)) << r.message;
  EXPECT_EQ(r.broken_seq, 123);
  EXPECT_NE(r.message.find("123"), std::string::npos) << r.message;
  // The driver's verify refuses too (exit 1, the seq on stderr).
  const std::string out = std::filesystem::temp_directory_path() / ("verify_" + db.name());
  const std::string cmd = std::string(IPX_ENGINE_DRIVER) + " verify --pg '" + db.conninfo() +
                          "' >" + out + " 2>&1";
  const int rc = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 1) << rc;
  std::ifstream f(out);
  std::stringstream text;
  text << f.rdbuf();
  EXPECT_NE(text.str().find("journal broken at seq 123"), std::string::npos) << text.str();
  std::filesystem::remove(out);
}

// Replay decodes on a reader thread, in chunks, ahead of the engine: a record that does not
// decode, or that the engine refuses, is still reported at its own seq, with every record
// before it applied and none after. The bad records are chained correctly (written through
// the journal), so only the engine can tell.
TEST(Recovery, ARecordTheEngineRefusesIsNamedAfterEveryRecordBeforeItIsApplied) {
  struct Case {
    const char* name;
    std::int32_t kind;
    std::string payload;
    std::int64_t ts_back;  // ms before the head's time
    const char* says;
  };
  const Case cases[] = {
      {"not JSON", 1, "not json", 0, "not a JSON object"},
      {"time backwards", 0, "", 1, "time goes backwards"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    test::TestDb db;
    ASSERT_TRUE(db.ok());
    {
      LiveEngine live(db.conninfo(), 0);
      tools::Workload w({.seed = 21, .tag = "b"});
      live.setup(w);
      live.drive(w, 1300);  // more than two of the reader's chunks (512 records)
    }
    Journal j(db.conninfo());
    ASSERT_FALSE(j.open()) << j.last_error();
    const std::int64_t head = j.head().seq;
    ASSERT_GT(head, 1100);
    JournalRecord last;
    ASSERT_FALSE(j.replay(head - 1, [&](const JournalRecord& r) { last = r; })) << j.last_error();
    JournalRecord bad{head + 1, last.ts_ms - k.ts_back, k.kind != 0 ? k.kind : last.kind,
                      k.payload.empty() ? last.payload : k.payload};
    ASSERT_FALSE(j.append(std::span<const JournalRecord>(&bad, 1))) << j.last_error();
    const auto r = replay_from_scratch(db.conninfo());
    EXPECT_EQ(r.ec, make_error_code(errc::replay_failed)) << r.message;
    EXPECT_EQ(r.broken_seq, head + 1);
    EXPECT_EQ(r.last_seq, head) << "every record before it applied, none after";
    EXPECT_EQ(r.records, head);
    EXPECT_NE(r.message.find("journal record " + std::to_string(head + 1)), std::string::npos)
        << r.message;
    EXPECT_NE(r.message.find(k.says), std::string::npos) << r.message;
  }
}

TEST(Recovery, SnapshotHashMismatchIsAStartUpErrorNamingTheSeq) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  {
    LiveEngine live(db.conninfo(), 100);
    tools::Workload w({.seed = 11, .tag = "h"});
    live.setup(w);
    live.drive(w, 400);
  }
  // Snapshots are written asynchronously and skipped while the writer is busy, so which seqs
  // have one varies: the newest is changed (recovery must have replayed past all others).
  ASSERT_EQ(test::run_sql(db.super_conninfo(),
                          "UPDATE snapshots SET state_hash = '0123456789abcdef'::bytea"
                          " WHERE seq = (SELECT max(seq) FROM snapshots)"),
            "");
  const auto r = replay_from_scratch(db.conninfo());
  EXPECT_EQ(r.ec, make_error_code(errc::state_mismatch)) << r.message;
  EXPECT_GT(r.broken_seq, 0);
  EXPECT_NE(r.message.find("snapshot seq " + std::to_string(r.broken_seq)), std::string::npos)
      << r.message;
}

// Rows written by a build whose state hash was another function (scheme 1, before
// schema/0011): a replay does not compare with them, a restart passes their states over, and
// the engine writes its own snapshot over one at the same seq.
TEST(Recovery, SnapshotsOfAnotherHashSchemeAreNotComparedAndAreReplaced) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  {
    LiveEngine live(db.conninfo(), 100);
    tools::Workload w({.seed = 13, .tag = "s"});
    live.setup(w);
    live.drive(w, 400);
  }
  const std::string newest = query_value(db.super_conninfo(), "SELECT max(seq) FROM snapshots");
  ASSERT_NE(newest, "");
  EXPECT_EQ(query_value(db.super_conninfo(),
                        "SELECT count(*) FROM snapshots WHERE hash_scheme <> 2"),
            "0");
  ASSERT_EQ(test::run_sql(db.super_conninfo(),
                          "UPDATE snapshots SET hash_scheme = 1,"
                          " state_hash = '0123456789abcdef'::bytea"),
            "");
  const auto full = replay_from_scratch(db.conninfo());
  ASSERT_TRUE(full.ok()) << full.message;
  EXPECT_EQ(full.snapshots_checked, 0);
  std::vector<std::string> log;
  const auto r = restart(db.conninfo(), &log);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.snapshot_seq, 0) << "no state of another scheme is taken";
  EXPECT_EQ(r.state_hash, full.state_hash);
  EXPECT_GT(r.snapshots_refused, 0);

  // This build's snapshot at the newest seq replaces the old row; saving it again is a no-op,
  // and another hash at that seq is now a conflict.
  PGconn* c = PQconnectdb(db.conninfo().c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK);
  std::string error;
  EXPECT_FALSE(save_snapshot(c, std::stoll(newest), "00000000000000aa", "", &error)) << error;
  EXPECT_FALSE(save_snapshot(c, std::stoll(newest), "00000000000000aa", "", &error)) << error;
  EXPECT_EQ(save_snapshot(c, std::stoll(newest), "00000000000000bb", "", &error),
            make_error_code(errc::snapshot_conflict));
  PQfinish(c);
  EXPECT_EQ(query_value(db.super_conninfo(),
                        "SELECT hash_scheme || ' ' || convert_from(state_hash, 'UTF8')"
                        " FROM snapshots WHERE seq = " + newest),
            "2 00000000000000aa");
}

// --- crash ---------------------------------------------------------------------------------

struct DriverRun {
  pid_t pid = -1;
  std::string out;
};

DriverRun spawn_driver(const std::string& conninfo, const std::string& tag, std::uint64_t seed) {
  DriverRun r;
  r.out = std::filesystem::temp_directory_path() / ("driver_" + tag + "_" + std::to_string(getpid()));
  r.pid = fork();
  if (r.pid == 0) {
    const int fd = ::open(r.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    const std::string s = std::to_string(seed);
    execl(IPX_ENGINE_DRIVER, IPX_ENGINE_DRIVER, "run", "--pg", conninfo.c_str(), "--tag",
          tag.c_str(), "--seed", s.c_str(), "--rate", "3000", "--seconds", "60",
          "--snapshot-every", "1000", static_cast<char*>(nullptr));
    _exit(127);
  }
  return r;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) lines.push_back(l);
  return lines;
}

TEST(Recovery, SigkillAtRandomPointsLosesNoAcknowledgedCommand) {
  test::TestDb db;
  ASSERT_TRUE(db.ok());
  std::mt19937 rng(20261126);
  std::set<std::string> acked;  // request ids acknowledged (not UNAVAILABLE) by some run
  std::int64_t previous_ready = -1;
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string tag = "k" + std::to_string(round);
    DriverRun run = spawn_driver(db.conninfo(), tag, static_cast<std::uint64_t>(round) + 1);
    ASSERT_GT(run.pid, 0);
    // Wait for recovery ("ready"), then kill at a random point of the load.
    const auto deadline = Clock::now() + 30s;
    std::int64_t ready_seq = -1;
    while (ready_seq < 0 && Clock::now() < deadline) {
      for (const auto& l : read_lines(run.out)) {
        if (l.rfind("ready ", 0) == 0) ready_seq = std::stoll(l.substr(6));
      }
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_GE(ready_seq, 0) << "the driver did not become ready";
    // Recovery reached at least everything the earlier runs acknowledged.
    EXPECT_GE(ready_seq, previous_ready);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 900)(rng)));
    ASSERT_EQ(kill(run.pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(run.pid, &status, 0), run.pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "exited early: " << status;
    int n = 0;
    for (const auto& l : read_lines(run.out)) {
      if (l.rfind("ack ", 0) != 0) continue;
      std::istringstream in(l);
      std::string ack, rid, method, code;
      in >> ack >> rid >> method >> code;
      if (code.empty()) continue;  // a line cut by the kill (not a whole acknowledgement)
      if (code != "UNAVAILABLE") acked.insert(rid), ++n;
    }
    EXPECT_GT(n, 17) << "the run acknowledged its setup and some load before the kill";
    previous_ready = ready_seq;
    std::filesystem::remove(run.out);
  }
  // Every acknowledged command is in the journal, exactly once; the recovered state is what a
  // replay from scratch gives, twice.
  std::int64_t last = 0;
  const auto ids = journal_request_ids(db.conninfo(), &last);
  std::size_t missing = 0;
  for (const auto& rid : acked) missing += ids.count(rid) == 0 ? 1 : 0;
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged commands";
  for (const auto& [rid, count] : ids) EXPECT_EQ(count, 1) << rid << " journaled twice";
  const auto a = replay_from_scratch(db.conninfo());
  const auto b = replay_from_scratch(db.conninfo());
  ASSERT_TRUE(a.ok()) << a.message;
  EXPECT_EQ(a.last_seq, last);
  EXPECT_EQ(a.state_hash, b.state_hash);
  EXPECT_GT(a.snapshots_checked, 0);
  // One more restart, through the driver's verify: the same state.
  const std::string out = std::filesystem::temp_directory_path() / ("verify_" + db.name());
  ASSERT_EQ(std::system((std::string(IPX_ENGINE_DRIVER) + " verify --pg '" + db.conninfo() +
                         "' >" + out + " 2>/dev/null")
                            .c_str()),
            0);
  const auto lines = read_lines(out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "state " + std::to_string(last) + " " + a.state_hash);
  std::filesystem::remove(out);
}

// --- journal outage ------------------------------------------------------------------------

TEST(Recovery, JournalOutageAnswersUnavailableThenResumesExactlyOnce) {
  test::PrivateCluster cluster;
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  CommitterOptions co;
  co.backoff_max = 200ms;
  co.health_interval = 100ms;
  std::string live_hash;
  std::vector<std::pair<std::string, engine::Code>> acks;
  {
    LiveEngine live(cluster.conninfo(), 500, co);
    ASSERT_TRUE(live.recovered().ok());
    tools::Workload w({.seed = 13, .tag = "o"});
    live.setup(w);
    std::atomic<bool> stop{false};
    live.bounded_ = false;
    std::thread load([&] {
      while (!stop.load()) live.drive(w, 50, 200us, false);
    });
    auto count = [&](engine::Code c) {
      std::size_t n = 0;
      for (const auto& a : live.acks()) n += a.second == c ? 1 : 0;
      return n;
    };
    std::this_thread::sleep_for(500ms);
    ASSERT_GT(count(engine::Code::ok) + count(engine::Code::not_qualified), 0u);
    ASSERT_TRUE(cluster.stop());
    // New commands are refused while the journal is down.
    auto deadline = Clock::now() + 20s;
    while (count(engine::Code::unavailable) == 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_GT(count(engine::Code::unavailable), 0u);
    EXPECT_FALSE(live.durability().available());
    std::this_thread::sleep_for(300ms);
    ASSERT_TRUE(cluster.start());
    // The engine resumes: acknowledgements other than UNAVAILABLE arrive again.
    const std::size_t before = live.acks().size();
    deadline = Clock::now() + 30s;
    bool resumed = false;
    while (!resumed && Clock::now() < deadline) {
      const auto a = live.acks();
      for (std::size_t i = before; i < a.size() && !resumed; ++i) {
        resumed = a[i].second != engine::Code::unavailable;
      }
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(resumed);
    std::this_thread::sleep_for(300ms);
    stop = true;
    load.join();
    live.close();
    live_hash = live.hash();
    acks = live.acks();
    EXPECT_GT(live.durability().stats().failures, 0u);
  }
  std::int64_t last = 0;
  const auto ids = journal_request_ids(cluster.conninfo(), &last);
  std::size_t acked = 0, missing = 0, unavailable_journaled = 0;
  for (const auto& [rid, code] : acks) {
    if (code == engine::Code::unavailable) {
      unavailable_journaled += ids.count(rid);  // refused: never applied, never journaled
    } else {
      ++acked;
      missing += ids.count(rid) == 0 ? 1 : 0;
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acked << " acknowledged";
  EXPECT_EQ(unavailable_journaled, 0u);
  for (const auto& [rid, count] : ids) EXPECT_EQ(count, 1) << rid << " journaled twice";
  const auto r = replay_from_scratch(cluster.conninfo());
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.last_seq, last);
  EXPECT_EQ(r.state_hash, live_hash);
}

}  // namespace
}  // namespace ipx::pg
