// engine/pg/snapshot_writer: a snapshot is written on the writer's own connection only once the
// journal has committed its seq, with the journal's record hash; one whose seq never commits is
// abandoned at stop(); a conflicting row is fatal. Each test works in a fresh database (IPX_PG).
#include "engine/pg/snapshot_writer.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "engine/pg/journal.hpp"
#include "engine/pg/migrate.hpp"
#include "engine/pg/snapshots.hpp"
#include "test_db.hpp"

namespace ipx::pg {
namespace {

using namespace std::chrono_literals;

std::vector<JournalRecord> records(std::int64_t first, std::int64_t last) {
  std::vector<JournalRecord> out;
  for (std::int64_t seq = first; seq <= last; ++seq) {
    out.push_back({seq, 1764145200000 + seq, 1, "{\"n\":" + std::to_string(seq) + "}"});
  }
  return out;
}

SnapshotJob job(std::int64_t seq, std::string hash) {
  return {seq, 1764145200000 + seq, std::move(hash),
          [seq] { return "state@" + std::to_string(seq); }, 0us};
}

class SnapshotWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    PGconn* c = PQconnectdb(db_.conninfo().c_str());
    const auto m = apply_migrations(c);
    PQfinish(c);
    ASSERT_TRUE(m.ok()) << m.message;
    ASSERT_FALSE(journal_.open()) << journal_.last_error();
  }
  bool has_row(std::int64_t seq) {
    bool found = false;
    EXPECT_FALSE(read_snapshot_state(
        journal_.connection().get(), seq,
        [&](const Snapshot& s, std::string_view state) {
          EXPECT_EQ(state, "state@" + std::to_string(seq));
          EXPECT_EQ(s.record_hash.size(), 32u) << "the journal's record hash at seq";
        },
        found));
    return found;
  }
  test::TestDb db_;
  Journal journal_{db_.conninfo()};
};

TEST_F(SnapshotWriterTest, WritesOnlyOnceTheJournalCommittedTheSeq) {
  ASSERT_FALSE(journal_.append(records(1, 5)));
  SnapshotWriter writer(db_.conninfo());
  writer.start(5);
  writer.offer(job(8, "h8"));
  EXPECT_TRUE(writer.busy());
  EXPECT_FALSE(writer.wait_idle(200ms)) << "seq 8 is not committed yet";
  EXPECT_FALSE(has_row(8));
  ASSERT_FALSE(journal_.append(records(6, 8)));
  writer.committed(8);
  ASSERT_TRUE(writer.wait_idle(10s));
  EXPECT_FALSE(writer.busy());
  EXPECT_TRUE(has_row(8));
  EXPECT_EQ(writer.stats().written, 1);
  EXPECT_EQ(writer.stats().last_bytes, 7);
  // Its own connection: it names itself.
  PgResult r;
  ASSERT_FALSE(journal_.connection().query(
      "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ipx_snapshot_writer'"
      " AND datname = current_database()",
      r));
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "1");
  writer.stop();
}

TEST_F(SnapshotWriterTest, StopAbandonsASnapshotWhoseSeqNeverCommitted) {
  ASSERT_FALSE(journal_.append(records(1, 5)));
  SnapshotWriter writer(db_.conninfo());
  writer.start(5);
  writer.offer(job(9, "h9"));
  writer.stop();
  EXPECT_EQ(writer.stats().abandoned, 1);
  EXPECT_EQ(writer.stats().written, 0);
  EXPECT_FALSE(has_row(9));
}

TEST_F(SnapshotWriterTest, AConflictingRowIsFatalAndAFailedWriteIsDropped) {
  ASSERT_FALSE(journal_.append(records(1, 5)));
  std::string fatal;
  SnapshotWriterOptions o;
  o.on_fatal = [&](const std::string& what) { fatal = what; };
  SnapshotWriter writer(db_.conninfo(), o);
  writer.start(5);
  writer.offer(job(3, "h3"));
  ASSERT_TRUE(writer.wait_idle(10s));
  writer.offer(job(3, "other"));  // the same seq, another state hash: non-determinism
  ASSERT_TRUE(writer.wait_idle(10s));
  EXPECT_NE(fatal.find("exists with another state hash"), std::string::npos) << fatal;
  EXPECT_EQ(writer.stats().written, 1);
  EXPECT_EQ(writer.stats().failed, 1);
  writer.stop();
}

TEST_F(SnapshotWriterTest, ADatabaseThatCannotBeReachedFailsTheWriteAndTheNextOneReconnects) {
  ASSERT_FALSE(journal_.append(records(1, 5)));
  int writes = 0;
  SnapshotWriterOptions o;
  // The second write finds its connection gone (the server ended it), the third reconnects.
  o.before_write = [&] {
    if (++writes == 2) {
      EXPECT_EQ(test::run_sql(db_.super_conninfo(),
                              "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                              " WHERE application_name = 'ipx_snapshot_writer'"
                              " AND datname = current_database()"),
                "");
    }
  };
  SnapshotWriter writer(db_.conninfo(), o);
  writer.start(5);
  writer.offer(job(2, "h2"));
  ASSERT_TRUE(writer.wait_idle(10s));
  writer.offer(job(4, "h4"));  // the server ends the connection just before
  ASSERT_TRUE(writer.wait_idle(10s));
  EXPECT_EQ(writer.stats().written, 1);
  EXPECT_EQ(writer.stats().failed, 1);
  EXPECT_NE(writer.last_error().find("snapshot at seq 4 not written"), std::string::npos)
      << writer.last_error();
  EXPECT_FALSE(has_row(4));
  writer.offer(job(5, "h5"));
  ASSERT_TRUE(writer.wait_idle(10s));
  EXPECT_EQ(writer.stats().written, 2);
  EXPECT_TRUE(has_row(5));
  writer.stop();
}

}  // namespace
}  // namespace ipx::pg
