// engine/pg: migrations, journal append/replay/verify, tamper detection, append-only trigger,
// snapshots. Each test works in a fresh database on the private cluster (IPX_PG).
#include "engine/pg/journal.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "engine/pg/errc.hpp"
#include "engine/pg/migrate.hpp"
#include "test_db.hpp"

namespace ipx::pg {
namespace {

using test::TestDb;

struct Conn {
  explicit Conn(const std::string& info) : c(PQconnectdb(info.c_str())) {}
  ~Conn() { PQfinish(c); }
  PGconn* c;
};

std::vector<JournalRecord> make_records(std::int64_t first, std::size_t n) {
  std::vector<JournalRecord> out;
  for (std::size_t i = 0; i < n; ++i) {
    const auto seq = first + static_cast<std::int64_t>(i);
    std::string payload(static_cast<std::size_t>(seq % 7) * 17, '\0');
    for (std::size_t j = 0; j < payload.size(); ++j) payload[j] = static_cast<char>((seq + j) & 0xff);
    out.push_back({seq, 1764145200000 + seq, static_cast<std::int32_t>(seq % 5), payload});
  }
  return out;
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    Conn c(db_.conninfo());
    ASSERT_EQ(PQstatus(c.c), CONNECTION_OK) << PQerrorMessage(c.c);
    const auto m = apply_migrations(c.c);
    ASSERT_TRUE(m.ok()) << m.message;
  }
  TestDb db_;
};

// The chain step against values computed apart from this code (Python's hashlib over
// prev || seq || ts_ms || kind || payload length || payload, big-endian), twice in a row (the
// thread's digest context reused), and the same from another thread.
TEST(ChainHash, MatchesSha256ComputedElsewhere) {
  const JournalRecord first{1, 1764145200001, 3, "abc"};
  const JournalRecord second{2, 1764145200002, 0, ""};
  auto chain = [&] { return to_hex(chain_hash(chain_hash(Hash{}, first), second)); };
  EXPECT_EQ(to_hex(chain_hash(Hash{}, first)),
            "258e0eaf28dd28da72c3bde0fcac324332899f424ec828ddd1aeabbc8a514c10");
  EXPECT_EQ(chain(), "70a20f70a15d824e45f003082b6210646f984b0124a981551fd8e64610bd084d");
  std::string other;
  std::thread([&] { other = chain(); }).join();
  EXPECT_EQ(other, chain());
}

TEST(Migrations, AppliedOnceAndIdempotent) {
  TestDb db;
  ASSERT_TRUE(db.ok());
  Conn c(db.conninfo());
  auto first = apply_migrations(c.c);
  ASSERT_TRUE(first.ok()) << first.message;
  ASSERT_FALSE(first.applied.empty());
  EXPECT_EQ(first.applied.front(), "0001_journal");
  auto again = apply_migrations(c.c);
  ASSERT_TRUE(again.ok()) << again.message;
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(test::run_sql(db.conninfo(), "SELECT 1 FROM journal, snapshots LIMIT 1"), "");
}

TEST(Migrations, ConcurrentRunnersApplyEachFileOnce) {
  TestDb db;
  ASSERT_TRUE(db.ok());
  std::vector<MigrateResult> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) {
    threads.emplace_back([&db, &r] {
      Conn c(db.conninfo());
      r = apply_migrations(c.c);
    });
  }
  for (auto& t : threads) t.join();
  std::size_t applied = 0;
  for (const auto& r : results) {
    EXPECT_TRUE(r.ok()) << r.message;
    applied += r.applied.size();
  }
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(default_schema_dir())) {
    files += e.path().extension() == ".sql" ? 1 : 0;
  }
  EXPECT_EQ(applied, files);
}

TEST(Migrations, EditedOrFailingMigrationIsRefused) {
  TestDb db;
  ASSERT_TRUE(db.ok());
  const auto dir = std::filesystem::temp_directory_path() / ("ipx_schema_" + db.name());
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "0001_a.sql") << "CREATE TABLE a (x int);";
  Conn c(db.conninfo());
  ASSERT_TRUE(apply_migrations(c.c, dir).ok());
  std::ofstream(dir / "0001_a.sql") << "CREATE TABLE a (x bigint);";
  auto edited = apply_migrations(c.c, dir);
  EXPECT_EQ(edited.ec, make_error_code(errc::migration_failed));
  EXPECT_NE(edited.message.find("edited"), std::string::npos) << edited.message;
  std::ofstream(dir / "0001_a.sql") << "CREATE TABLE a (x int);";
  std::ofstream(dir / "0002_b.sql") << "CREATE TABLE b (y int); SELECT no_such_function();";
  auto failing = apply_migrations(c.c, dir);
  EXPECT_EQ(failing.ec, make_error_code(errc::migration_failed));
  // The failed file left nothing behind (its own transaction rolled back).
  EXPECT_NE(test::run_sql(db.conninfo(), "SELECT * FROM b"), "");
  std::filesystem::remove_all(dir);
}

TEST_F(JournalTest, AppendReplayRoundTrip) {
  Journal j(db_.conninfo());
  ASSERT_FALSE(j.open()) << j.last_error();
  EXPECT_EQ(j.head().seq, 0);
  auto all = make_records(1, 1000);
  for (std::size_t at = 0; at < all.size(); at += 250) {
    ASSERT_FALSE(j.append(std::span(all).subspan(at, 250))) << j.last_error();
  }
  EXPECT_EQ(j.head().seq, 1000);
  Hash h{};
  for (const auto& r : all) h = chain_hash(h, r);
  EXPECT_EQ(j.head().hash, h);

  std::vector<JournalRecord> back;
  ReplayStats stats;
  ASSERT_FALSE(j.replay(0, [&](const JournalRecord& r) { back.push_back(r); }, &stats))
      << j.last_error();
  ASSERT_EQ(back.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(back[i].seq, all[i].seq);
    EXPECT_EQ(back[i].ts_ms, all[i].ts_ms);
    EXPECT_EQ(back[i].kind, all[i].kind);
    EXPECT_EQ(back[i].payload, all[i].payload);
  }
  EXPECT_EQ(stats.last_hash, h);

  back.clear();
  ASSERT_FALSE(j.replay(900, [&](const JournalRecord& r) { back.push_back(r); }));
  ASSERT_EQ(back.size(), 100u);
  EXPECT_EQ(back.front().seq, 901);

  // A new Journal object finds the same head in the database.
  Journal again(db_.conninfo());
  ASSERT_FALSE(again.open());
  EXPECT_EQ(again.head().seq, 1000);
  EXPECT_EQ(again.head().hash, h);
}

TEST_F(JournalTest, BadBatchCommitsNothingAndMayBeRetried) {
  Journal j(db_.conninfo());
  ASSERT_FALSE(j.open());
  ASSERT_FALSE(j.append(make_records(1, 10)));
  const Head before = j.head();
  // A gap is refused.
  EXPECT_EQ(j.append(make_records(12, 5)), make_error_code(errc::sequence_mismatch));
  // A failing extra writer rolls the whole batch back, chain state included.
  const auto batch = make_records(11, 5);
  ExtraWriter failing = [](PGconn* c) -> std::error_code {
    PGresult* r = PQexec(c, "SELECT no_such_function()");
    PQclear(r);
    return errc::query_failed;
  };
  EXPECT_EQ(j.append(batch, failing), make_error_code(errc::query_failed));
  ASSERT_FALSE(j.refresh_head());
  EXPECT_EQ(j.head().seq, before.seq);
  EXPECT_EQ(j.head().hash, before.hash);
  // The same records go through afterwards, with an extra writer writing in the same commit.
  ASSERT_EQ(test::run_sql(db_.conninfo(), "CREATE TABLE side (seq bigint)"), "");
  ExtraWriter side = [](PGconn* c) -> std::error_code {
    PGresult* r = PQexec(c, "INSERT INTO side SELECT max(seq) FROM journal");
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? std::error_code{} : make_error_code(errc::query_failed);
  };
  ASSERT_FALSE(j.append(batch, side)) << j.last_error();
  EXPECT_EQ(j.head().seq, 15);
  EXPECT_TRUE(j.verify().ok());
  Conn c(db_.conninfo());
  PGresult* r = PQexec(c.c, "SELECT seq FROM side");
  ASSERT_EQ(PQntuples(r), 1);
  EXPECT_STREQ(PQgetvalue(r, 0, 0), "15");
  PQclear(r);
}

TEST_F(JournalTest, VerifyOk) {
  Journal j(db_.conninfo());
  ASSERT_FALSE(j.open());
  auto v0 = j.verify();
  EXPECT_TRUE(v0.ok());
  EXPECT_EQ(v0.records, 0);
  ASSERT_FALSE(j.append(make_records(1, 300)));
  auto v = j.verify();
  ASSERT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(v.records, 300);
  EXPECT_EQ(v.head, j.head().hash);
}

TEST_F(JournalTest, TamperedPayloadIsNamedByVerify) {
  Journal j(db_.conninfo());
  ASSERT_FALSE(j.open());
  ASSERT_FALSE(j.append(make_records(1, 100)));
  // An attacker with superuser access: disable the guard, change one payload, re-enable.
  ASSERT_EQ(test::run_sql(db_.super_conninfo(),
                          "ALTER TABLE journal DISABLE TRIGGER journal_append_only_row;"
                          "UPDATE journal SET payload = '\\x4142'::bytea WHERE seq = 37;"
                          "ALTER TABLE journal ENABLE TRIGGER journal_append_only_row;"),
            "");
  auto v = j.verify();
  EXPECT_EQ(v.ec, make_error_code(errc::chain_broken));
  EXPECT_EQ(v.broken_seq, 37);
  EXPECT_EQ(v.records, 36);
  // Replay refuses to hand the tampered record to the engine.
  std::int64_t last = 0;
  EXPECT_EQ(j.replay(0, [&](const JournalRecord& r) { last = r.seq; }),
            make_error_code(errc::chain_broken));
  EXPECT_EQ(last, 36);
}

TEST_F(JournalTest, DeletedRowIsNamedByVerify) {
  Journal j(db_.conninfo());
  ASSERT_FALSE(j.open());
  ASSERT_FALSE(j.append(make_records(1, 50)));
  ASSERT_EQ(test::run_sql(db_.super_conninfo(),
                          "ALTER TABLE journal DISABLE TRIGGER USER;"
                          "DELETE FROM journal WHERE seq = 20;"
                          "ALTER TABLE journal ENABLE TRIGGER USER;"),
            "");
  auto v = j.verify();
  EXPECT_EQ(v.ec, make_error_code(errc::chain_broken));
  EXPECT_EQ(v.broken_seq, 20);
}

TEST_F(JournalTest, UpdateDeleteTruncateRefusedByTrigger) {
  Journal j(db_.conninfo());
  ASSERT_FALSE(j.open());
  ASSERT_FALSE(j.append(make_records(1, 5)));
  for (const char* sql : {"UPDATE journal SET kind = 9 WHERE seq = 2",
                          "DELETE FROM journal WHERE seq = 5", "TRUNCATE journal"}) {
    const auto err = test::run_sql(db_.conninfo(), sql);
    EXPECT_NE(err.find("append-only"), std::string::npos) << sql << ": " << err;
    const auto super_err = test::run_sql(db_.super_conninfo(), sql);
    EXPECT_NE(super_err.find("append-only"), std::string::npos) << sql << ": " << super_err;
  }
  EXPECT_TRUE(j.verify().ok());
  EXPECT_EQ(j.verify().records, 5);
}

TEST_F(JournalTest, Snapshots) {
  Journal j(db_.conninfo());
  ASSERT_FALSE(j.open());
  std::optional<Snapshot> s;
  ASSERT_FALSE(j.load_latest_snapshot(s));
  EXPECT_FALSE(s.has_value());
  const std::string h1(32, '\x01'), h2(32, '\x02');
  EXPECT_EQ(j.save_snapshot(10, h1, "state@10"), make_error_code(errc::snapshot_ahead));
  ASSERT_FALSE(j.append(make_records(1, 20)));
  ASSERT_FALSE(j.save_snapshot(10, h1, std::string("state\0@10", 9))) << j.last_error();
  ASSERT_FALSE(j.save_snapshot(10, h1, std::string("state\0@10", 9)));  // same again: no-op
  EXPECT_EQ(j.save_snapshot(10, h2, "other"), make_error_code(errc::snapshot_conflict));
  ASSERT_FALSE(j.save_snapshot(20, h2, ""));
  ASSERT_FALSE(j.load_latest_snapshot(s));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->seq, 20);
  EXPECT_EQ(s->state_hash, h2);
  EXPECT_EQ(s->payload, "");
  // In the same transaction as the records it describes (as an extra writer).
  const std::string h3(32, '\x03');
  ExtraWriter snap = [&](PGconn* c) { return save_snapshot(c, 25, h3, "state@25"); };
  ASSERT_FALSE(j.append(make_records(21, 5), snap)) << j.last_error();
  SnapshotStore store(db_.conninfo());
  ASSERT_FALSE(store.load_latest(s));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->seq, 25);
  EXPECT_EQ(s->payload, "state@25");
}

// A snapshot with the engine state: the journal's record hash at its seq is stored beside it,
// the states of all but the newest `states_kept` rows are dropped (their hashes stay), and a
// state reads back byte for byte.
TEST_F(JournalTest, SnapshotStatesKeepTheNewestWithTheRecordHash) {
  Journal j(db_.conninfo());
  ASSERT_FALSE(j.open());
  const auto records = make_records(1, 40);
  ASSERT_FALSE(j.append(records));
  Hash chain{};
  std::map<std::int64_t, std::string> record_hash;
  for (const auto& r : records) {
    chain = chain_hash(chain, r);
    record_hash[r.seq] = std::string(chain.begin(), chain.end());
  }
  PGconn* c = j.connection().get();
  for (std::int64_t seq : {10, 20, 30, 40}) {
    const std::string state = std::string("state\0@", 7) + std::to_string(seq) + std::string(100, 'x');
    const std::string hash(16, static_cast<char>('a' + seq / 10));
    std::string error;
    ASSERT_FALSE(save_snapshot(c, SnapshotWrite{seq, hash, "{}", state, {}}, &error)) << error;
    ASSERT_FALSE(drop_old_states(c, 2, nullptr, &error, {})) << error;
  }
  std::vector<std::int64_t> seqs;
  ASSERT_FALSE(list_snapshot_states(c, seqs));
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{40, 30}));
  std::optional<Snapshot> latest;
  ASSERT_FALSE(j.load_latest_snapshot(latest));
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->seq, 40);
  EXPECT_TRUE(latest->has_state);
  EXPECT_EQ(latest->record_hash, record_hash[40]);
  bool found = false;
  std::string got;
  ASSERT_FALSE(read_snapshot_state(c, 30, [&](const Snapshot& s, std::string_view state) {
    EXPECT_EQ(s.record_hash, record_hash[30]);
    got.assign(state);
  }, found));
  EXPECT_TRUE(found);
  EXPECT_EQ(got, std::string("state\0@30", 9) + std::string(100, 'x'));
  ASSERT_FALSE(read_snapshot_state(c, 10, [&](const Snapshot&, std::string_view) {}, found));
  EXPECT_FALSE(found) << "a dropped state is not read";
  // The dropped row keeps its hash (a full replay still checks it).
  EXPECT_EQ(test::run_sql(db_.conninfo(), "DO $$ BEGIN IF (SELECT count(*) FROM snapshots WHERE "
                                          "state IS NULL AND record_hash IS NOT NULL) <> 2 THEN "
                                          "RAISE 'dropped rows'; END IF; END $$"),
            "");
}

TEST_F(JournalTest, ConfirmCommittedAfterLostAck) {
  Journal j(db_.conninfo());
  ASSERT_FALSE(j.open());
  ASSERT_FALSE(j.append(make_records(1, 10)));
  bool drop = true;
  j.set_fault_drop_ack([&] { return std::exchange(drop, false); });
  const auto batch = make_records(11, 10);
  EXPECT_EQ(j.append(batch), make_error_code(errc::connection_lost));
  bool committed = false;
  ASSERT_FALSE(j.confirm_committed(batch, committed)) << j.last_error();
  EXPECT_TRUE(committed);
  EXPECT_EQ(j.head().seq, 20);
  // Re-sending it would be a sequence error, not a duplicate.
  EXPECT_EQ(j.append(batch), make_error_code(errc::sequence_mismatch));
  // Other content at those seqs is a mismatch.
  auto forged = batch;
  forged[3].payload = "forged";
  EXPECT_EQ(j.confirm_committed(forged, committed), make_error_code(errc::chain_mismatch));
  const auto later = make_records(21, 3);
  ASSERT_FALSE(j.confirm_committed(later, committed));
  EXPECT_FALSE(committed);
}

}  // namespace
}  // namespace ipx::pg
