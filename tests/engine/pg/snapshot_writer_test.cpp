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
          [seq] {
            engine::snap::Blob b;
            b.add("state@" + std::to_string(seq));
            return b;
          },
          0us};
}

using Chunk = std::shared_ptr<const std::string>;
Chunk chunk(char c, std::size_t n) { return std::make_shared<const std::string>(n, c); }

// A state in pieces: its own bytes around shared chunks (the first read from offset 3), as
// Domain::Image::blob() makes them.
SnapshotJob chunked_job(std::int64_t seq, const std::vector<Chunk>& chunks) {
  return {seq, 1764145200000 + seq, "h" + std::to_string(seq),
          [seq, chunks] {
            engine::snap::Blob b;
            b.add("head@" + std::to_string(seq));
            for (std::size_t i = 0; i < chunks.size(); ++i) {
              b.add(chunks[i], i == 0 ? 3 : 0);
              b.add("|");
            }
            return b;
          },
          0us};
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

// Chunks (schema/0007): each stored once, however many snapshots name it; a state reads back
// whole; the chunks no kept state names are deleted with the old states, and one gone makes
// its state unreadable (found false: recovery tries an older one).
TEST_F(SnapshotWriterTest, ChunksAreStoredOnceReadBackWholeAndDeletedWithTheLastStateNamingThem) {
  ASSERT_FALSE(journal_.append(records(1, 9)));
  auto count = [&](const char* sql) {
    PgResult r;
    EXPECT_FALSE(journal_.connection().query(sql, r));
    return std::stoll(PQgetvalue(r.get(), 0, 0));
  };
  auto read = [&](std::int64_t seq, bool& found) {
    std::string got;
    EXPECT_FALSE(read_snapshot_state(journal_.connection().get(), seq,
                                     [&](const Snapshot&, std::string_view state) { got = state; },
                                     found));
    return got;
  };
  // Sizes: a, b, c are stored chunks (>= kStoredChunkMin); s is small and goes inline.
  const std::size_t na = kStoredChunkMin + 1000, nb = kStoredChunkMin + 3000,
                    nc = kStoredChunkMin + 5000, ns = 900;
  const Chunk a = chunk('a', na), b = chunk('b', nb), c = chunk('c', nc), small = chunk('s', ns);
  const auto ll = [](std::size_t n) { return static_cast<long long>(n); };
  SnapshotWriterOptions o;
  o.states_kept = 2;
  SnapshotWriter writer(db_.conninfo(), o);
  writer.start(9);
  writer.offer(chunked_job(5, {a, b, a, small}));
  ASSERT_TRUE(writer.wait_idle(10s));
  EXPECT_EQ(count("SELECT count(*) FROM snapshot_chunks"), 2) << "a and b; s inline";
  const auto first = writer.stats();
  EXPECT_EQ(first.last_bytes, ll(6 + (na - 3) + 1 + nb + 1 + na + 1 + ns + 1));
  EXPECT_GT(first.last_sent, ll(na + nb + ns));  // a and b once each, s in the manifest
  EXPECT_LT(first.last_sent, ll(na + nb + ns + 1000));

  writer.offer(chunked_job(6, {b, c}));  // b is stored: only c is sent
  ASSERT_TRUE(writer.wait_idle(10s));
  EXPECT_EQ(count("SELECT count(*) FROM snapshot_chunks"), 3);
  EXPECT_GT(writer.stats().last_sent, ll(nc));
  EXPECT_LT(writer.stats().last_sent, ll(nc + 1000));
  bool found = false;
  EXPECT_EQ(read(6, found), "head@6" + std::string(nb - 3, 'b') + "|" + std::string(nc, 'c') + "|");
  EXPECT_TRUE(found);
  EXPECT_EQ(read(5, found), "head@5" + std::string(na - 3, 'a') + "|" + std::string(nb, 'b') + "|" +
                                std::string(na, 'a') + "|" + std::string(ns, 's') + "|");
  EXPECT_TRUE(found);

  // Two states kept: the third drops the first's, and a (named by it alone) goes with it.
  writer.offer(chunked_job(7, {c}));
  ASSERT_TRUE(writer.wait_idle(10s));
  EXPECT_EQ(count("SELECT count(*) FROM snapshot_chunks"), 2);
  read(5, found);
  EXPECT_FALSE(found) << "its state was dropped";
  // A chunk named again after it was deleted is stored again.
  writer.offer(chunked_job(8, {a, c}));
  ASSERT_TRUE(writer.wait_idle(10s));
  EXPECT_EQ(read(8, found), "head@8" + std::string(na - 3, 'a') + "|" + std::string(nc, 'c') + "|");
  EXPECT_TRUE(found);
  EXPECT_EQ(writer.stats().written, 4);
  writer.stop();

  // A chunk gone (deleted by hand): the states naming it are unreadable, not an error.
  ASSERT_EQ(test::run_sql(db_.super_conninfo(), "DELETE FROM snapshot_chunks WHERE bytes LIKE 'c%'"), "");
  read(8, found);
  EXPECT_FALSE(found);

  // A new writer (a restart) finds what the kept states name stored: it sends only new chunks.
  SnapshotWriter again(db_.conninfo(), o);
  again.start(9);
  again.offer(chunked_job(9, {a}));
  ASSERT_TRUE(again.wait_idle(10s));
  EXPECT_LT(again.stats().last_sent, 1000);
  EXPECT_EQ(read(9, found), "head@9" + std::string(na - 3, 'a') + "|");
  EXPECT_TRUE(found);
  again.stop();
}

}  // namespace
}  // namespace ipx::pg
