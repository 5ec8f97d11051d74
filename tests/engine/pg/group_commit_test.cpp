// engine/pg/group_commit: coalescing, ordering, submit checks, lost acknowledgements, and a real
// PostgreSQL outage (a throwaway cluster of the test's own is stopped and started mid-load).
#include "engine/pg/group_commit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "engine/pg/bytes.hpp"
#include "engine/pg/errc.hpp"
#include "engine/pg/migrate.hpp"
#include "test_db.hpp"

namespace ipx::pg {
namespace {

using namespace std::chrono_literals;
using test::PrivateCluster;
using test::TestDb;

std::vector<JournalRecord> records(std::int64_t first, std::size_t n) {
  std::vector<JournalRecord> out;
  for (std::size_t i = 0; i < n; ++i) {
    const auto seq = first + static_cast<std::int64_t>(i);
    out.push_back({seq, seq * 3, 7, "payload-" + std::to_string(seq) + std::string(80, 'x')});
  }
  return out;
}

bool migrate(const std::string& conninfo, std::string& error) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  auto m = apply_migrations(c);
  PQfinish(c);
  error = m.message;
  return m.ok();
}

// Completions recorded in arrival order; checks order and exactly-once.
struct Log {
  std::mutex mu;
  std::vector<std::int64_t> done_last_seq;
  std::vector<std::error_code> errors;
  Completion on(std::int64_t last_seq) {
    return [this, last_seq](std::error_code ec) {
      std::lock_guard lock(mu);
      done_last_seq.push_back(last_seq);
      errors.push_back(ec);
    };
  }
};

void expect_journal_is(const std::string& conninfo, std::int64_t n) {
  Journal j(conninfo);
  ASSERT_FALSE(j.open()) << j.last_error();
  std::int64_t expect = 1;
  ASSERT_FALSE(j.replay(0, [&](const JournalRecord& r) {
    ASSERT_EQ(r.seq, expect);
    ASSERT_EQ(r.payload, records(expect, 1)[0].payload);
    ++expect;
  })) << j.last_error();
  EXPECT_EQ(expect - 1, n);
  auto v = j.verify();
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(v.records, n);
}

void expect_log_in_order(Log& log, std::int64_t last_seq) {
  std::lock_guard lock(log.mu);
  std::int64_t prev = 0;
  for (std::size_t i = 0; i < log.done_last_seq.size(); ++i) {
    EXPECT_GT(log.done_last_seq[i], prev);
    EXPECT_FALSE(log.errors[i]) << log.errors[i].message();
    prev = log.done_last_seq[i];
  }
  EXPECT_EQ(prev, last_seq);
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    std::string error;
    ASSERT_TRUE(migrate(db_.conninfo(), error)) << error;
  }
  TestDb db_;
};

TEST_F(GroupCommitTest, CoalescesAndCompletesInOrder) {
  GroupCommitter gc(db_.conninfo());
  ASSERT_FALSE(gc.start()) << gc.last_error();
  EXPECT_TRUE(gc.available());
  EXPECT_EQ(gc.start_seq(), 0);
  Log log;
  std::mt19937 rng(42);
  std::int64_t seq = 0;
  std::size_t submissions = 0;
  while (seq < 20000) {
    const std::size_t n = 1 + rng() % 20;
    ASSERT_FALSE(gc.submit(records(seq + 1, n), log.on(seq + static_cast<std::int64_t>(n))));
    seq += static_cast<std::int64_t>(n);
    ++submissions;
  }
  ASSERT_TRUE(gc.wait_idle(60s));
  EXPECT_EQ(gc.committed_seq(), seq);
  const auto stats = gc.stats();
  EXPECT_EQ(stats.records, static_cast<std::uint64_t>(seq));
  EXPECT_LT(stats.commits, submissions);  // group commit did group
  EXPECT_EQ(stats.failures, 0u);
  gc.stop();
  expect_log_in_order(log, seq);
  expect_journal_is(db_.conninfo(), seq);
}

// Rows (the ledger's) of every submission in a transaction reach the RowsWriter in one call,
// in seq order, and its COPY stream goes in that transaction: when the server refuses the
// stream, the journal rows roll back too, and the retry hands the same rows again.
struct SeqRows final : Rows {
  explicit SeqRows(std::int64_t s) : seq(s) {}
  std::int64_t seq;
};

TEST_F(GroupCommitTest, MergesTheRowsOfATransactionIntoOneCopyInThatTransaction) {
  ASSERT_EQ(test::run_sql(db_.conninfo(),
                          "CREATE TABLE test_rows (seq bigint PRIMARY KEY CHECK (seq > 0))"),
            "");
  std::mutex mu;
  std::vector<std::vector<std::int64_t>> calls;
  std::atomic<int> poison_next{1};  // the first transaction's stream carries a refused row
  CommitterOptions o;
  o.backoff_min = 1ms;
  o.rows_writer = [&](std::span<const Rows* const> rows, std::vector<CopyIn>& out) {
    std::vector<std::int64_t> seqs;
    for (const Rows* r : rows) seqs.push_back(static_cast<const SeqRows&>(*r).seq);
    CopyIn copy{"COPY test_rows (seq) FROM STDIN (FORMAT binary)", {}};
    copy.data.append("PGCOPY\n\377\r\n\0", 11);
    bytes::put_u32(copy.data, 0);
    bytes::put_u32(copy.data, 0);
    auto row = [&](std::int64_t v) {
      bytes::put_u16(copy.data, 1);
      bytes::put_u32(copy.data, 8);
      bytes::put_u64(copy.data, static_cast<std::uint64_t>(v));
    };
    for (auto v : seqs) row(v);
    if (poison_next.load() > 0) {
      --poison_next;
      row(-1);  // CHECK (seq > 0): the server refuses the whole statement
    } else {
      std::lock_guard lock(mu);
      calls.push_back(seqs);
    }
    bytes::put_u16(copy.data, 0xFFFF);
    out.push_back(std::move(copy));
    return std::error_code{};
  };
  GroupCommitter gc(db_.conninfo(), o);
  ASSERT_FALSE(gc.start()) << gc.last_error();
  Log log;
  std::int64_t seq = 0;
  std::vector<std::int64_t> with_rows;
  for (int i = 0; i < 3000; ++i) {
    const std::size_t n = 1 + static_cast<std::size_t>(i % 3);
    const std::int64_t last = seq + static_cast<std::int64_t>(n);
    std::shared_ptr<const Rows> rows;
    if (i % 4 != 1) {  // some submissions carry no rows
      rows = std::make_shared<SeqRows>(last);
      with_rows.push_back(last);
    }
    ASSERT_FALSE(gc.submit(records(seq + 1, n), log.on(last), {}, std::move(rows)));
    seq = last;
  }
  ASSERT_TRUE(gc.wait_idle(60s));
  gc.stop();
  expect_log_in_order(log, seq);
  expect_journal_is(db_.conninfo(), seq);
  const auto stats = gc.stats();
  EXPECT_EQ(stats.failures, 1u);
  std::vector<std::int64_t> all;
  for (const auto& c : calls) {
    ASSERT_FALSE(c.empty());
    all.insert(all.end(), c.begin(), c.end());
  }
  EXPECT_EQ(all, with_rows);                  // each once, in order, after the retry
  EXPECT_LE(calls.size(), stats.commits);     // one stream per transaction at most
  EXPECT_LT(calls.size(), with_rows.size());  // merged: fewer streams than submissions
  // The table holds each committed row once: the refused transaction left nothing.
  PGconn* c = PQconnectdb(db_.conninfo().c_str());
  PGresult* r = PQexec(c, "SELECT count(*), count(DISTINCT seq), min(seq) FROM test_rows");
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
  EXPECT_EQ(std::string(PQgetvalue(r, 0, 0)), std::to_string(with_rows.size()));
  EXPECT_EQ(std::string(PQgetvalue(r, 0, 1)), std::to_string(with_rows.size()));
  EXPECT_EQ(std::string(PQgetvalue(r, 0, 2)), std::to_string(with_rows.front()));
  PQclear(r);
  PQfinish(c);
}

TEST_F(GroupCommitTest, SubmitChecksSequenceAndBounds) {
  CommitterOptions o;
  o.queue_records_max = 4096;
  GroupCommitter gc(db_.conninfo(), o);
  EXPECT_EQ(gc.submit(records(1, 1), {}), make_error_code(errc::stopped));  // not started
  ASSERT_FALSE(gc.start());
  EXPECT_EQ(gc.submit(records(2, 1), {}), make_error_code(errc::sequence_mismatch));
  EXPECT_EQ(gc.submit({}, {}), make_error_code(errc::bad_record));
  EXPECT_EQ(gc.submit(records(1, 4097), {}), make_error_code(errc::bad_record));
  ASSERT_FALSE(gc.submit(records(1, 3), {}));
  EXPECT_EQ(gc.submit(records(3, 1), {}), make_error_code(errc::sequence_mismatch));
  ASSERT_FALSE(gc.submit(records(4, 1), {}));
  ASSERT_TRUE(gc.wait_idle(10s));
  gc.stop();
  EXPECT_EQ(gc.submit(records(5, 1), {}), make_error_code(errc::stopped));
  // A new committer continues from the journal's head.
  GroupCommitter next(db_.conninfo());
  ASSERT_FALSE(next.start());
  EXPECT_EQ(next.start_seq(), 4);
}

TEST_F(GroupCommitTest, LostAcknowledgementIsNotAppliedTwice) {
  std::atomic<int> commits{0};
  CommitterOptions o;
  o.backoff_min = 1ms;
  // Every 5th commit succeeds in PostgreSQL but its acknowledgement is "lost".
  o.fault_drop_ack = [&] { return ++commits % 5 == 0; };
  GroupCommitter gc(db_.conninfo(), o);
  ASSERT_FALSE(gc.start());
  Log log;
  std::int64_t seq = 0;
  for (int i = 0; i < 400; ++i) {
    ASSERT_FALSE(gc.submit(records(seq + 1, 10), log.on(seq + 10)));
    seq += 10;
    if (i % 7 == 0) std::this_thread::sleep_for(1ms);  // let batches of several sizes form
  }
  ASSERT_TRUE(gc.wait_idle(60s)) << gc.last_error();
  const auto stats = gc.stats();
  EXPECT_GT(stats.lost_acks, 0u);
  EXPECT_GT(stats.failures, 0u);
  gc.stop();
  expect_log_in_order(log, seq);
  expect_journal_is(db_.conninfo(), seq);
}

// The outage tests share one throwaway cluster (initdb costs a second or two).
class OutageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new PrivateCluster(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    test::base_conninfo();  // IPX_PG must be set like for every integration test
    ASSERT_TRUE(cluster_->ok()) << cluster_->error();
    ASSERT_TRUE(cluster_->start());
    const std::string name = "outage_" + std::to_string(++counter_);
    ASSERT_EQ(test::run_sql(cluster_->conninfo(), "CREATE DATABASE " + name), "");
    conninfo_ = cluster_->conninfo() + " dbname=" + name;
    std::string error;
    ASSERT_TRUE(migrate(conninfo_, error)) << error;
  }
  static PrivateCluster* cluster_;
  static int counter_;
  std::string conninfo_;
};
PrivateCluster* OutageTest::cluster_ = nullptr;
int OutageTest::counter_ = 0;

bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST_F(OutageTest, StopMidLoadKeepsBatchesAndResumesExactlyOnce) {
  CommitterOptions o;
  o.backoff_min = 5ms;
  o.backoff_max = 200ms;
  GroupCommitter gc(conninfo_, o);
  ASSERT_FALSE(gc.start());
  Log log;
  std::atomic<std::int64_t> seq{0};
  std::atomic<bool> run{true};
  std::atomic<std::int64_t> refused{0};  // commands the engine would answer UNAVAILABLE
  std::thread engine([&] {
    while (run) {
      if (!gc.available()) {
        ++refused;
        std::this_thread::sleep_for(1ms);
        continue;
      }
      const auto s = seq.load();
      if (gc.submit(records(s + 1, 5), log.on(s + 5))) break;
      seq = s + 5;
      std::this_thread::sleep_for(200us);
    }
  });
  ASSERT_TRUE(wait_for([&] { return gc.committed_seq() > 500; }, 20s));
  ASSERT_TRUE(cluster_->stop());
  ASSERT_TRUE(wait_for([&] { return !gc.available(); }, 10s));
  const std::int64_t at_outage = gc.committed_seq();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(gc.committed_seq(), at_outage);  // nothing commits while the database is down
  EXPECT_GT(refused.load(), 0);
  EXPECT_GT(gc.stats().queued_records, 0u) << "batches in flight at the stop are kept";
  ASSERT_TRUE(cluster_->start());
  ASSERT_TRUE(wait_for([&] { return gc.available(); }, 20s)) << gc.last_error();
  ASSERT_TRUE(wait_for([&] { return gc.committed_seq() > at_outage + 500; }, 20s));
  run = false;
  engine.join();
  ASSERT_TRUE(gc.wait_idle(30s)) << gc.last_error();
  EXPECT_EQ(gc.committed_seq(), seq.load());
  EXPECT_GT(gc.stats().failures, 0u);
  gc.stop();
  expect_log_in_order(log, seq.load());
  expect_journal_is(conninfo_, seq.load());
}

TEST_F(OutageTest, QueueBoundAndStopWhileDown) {
  CommitterOptions o;
  o.queue_records_max = 4096;
  o.batch_records_max = 1024;
  o.backoff_min = 5ms;
  o.backoff_max = 100ms;
  GroupCommitter gc(conninfo_, o);
  ASSERT_FALSE(gc.start());
  ASSERT_TRUE(cluster_->stop());
  Log log;
  std::int64_t seq = 0;
  bool went_unavailable_before_full = false;
  for (;;) {
    const bool avail = gc.available();
    const auto ec = gc.submit(records(seq + 1, 64), log.on(seq + 64));
    if (ec) {
      EXPECT_EQ(ec, make_error_code(errc::queue_full));
      break;
    }
    seq += 64;
    if (!avail) went_unavailable_before_full = true;
  }
  EXPECT_TRUE(went_unavailable_before_full);
  EXPECT_EQ(seq, 4096);
  EXPECT_FALSE(gc.available());
  gc.stop();  // the database is down: everything queued completes with `stopped`
  {
    std::lock_guard lock(log.mu);
    ASSERT_EQ(log.errors.size(), 4096u / 64);
    for (const auto& ec : log.errors) EXPECT_EQ(ec, make_error_code(errc::stopped));
  }
  ASSERT_TRUE(cluster_->start());
  // Nothing of it was committed; a new committer starts from the head and goes on.
  GroupCommitter next(conninfo_, o);
  ASSERT_FALSE(next.start());
  EXPECT_EQ(next.start_seq(), 0);
  ASSERT_FALSE(next.submit(records(1, 10), {}));
  ASSERT_TRUE(next.wait_idle(10s));
  next.stop();
  expect_journal_is(conninfo_, 10);
}

// An outage that begins while the committer is idle is seen by the probe the engine makes
// before it applies a batch, not by the next commit (which would leave that batch's commands
// waiting for the database instead of refused) nor by the next health ping (here a minute away).
TEST_F(OutageTest, ProbeSeesAnIdleConnectionClosedByTheServer) {
  CommitterOptions o;
  o.backoff_min = 5ms;
  o.backoff_max = 100ms;
  o.health_interval = 60s;
  GroupCommitter gc(conninfo_, o);
  ASSERT_FALSE(gc.start());
  ASSERT_FALSE(gc.submit(records(1, 10), {}));
  ASSERT_TRUE(gc.wait_idle(10s)) << gc.last_error();
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(gc.probe()) << "a healthy idle connection is no alarm";
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(cluster_->stop());  // the server terminates our backend on its way down
  ASSERT_TRUE(wait_for([&] { return !gc.probe(); }, 5s)) << "the closed connection went unseen";
  EXPECT_FALSE(gc.available());
  EXPECT_EQ(gc.stats().queued_records, 0u);  // nothing was submitted into the outage
  ASSERT_TRUE(cluster_->start());
  ASSERT_TRUE(wait_for([&] { return gc.available() && gc.probe(); }, 20s)) << gc.last_error();
  ASSERT_FALSE(gc.submit(records(11, 5), {}));
  ASSERT_TRUE(gc.wait_idle(10s)) << gc.last_error();
  gc.stop();
  expect_journal_is(conninfo_, 15);
}

TEST_F(OutageTest, StartFailsClearlyWhenDatabaseIsDown) {
  ASSERT_TRUE(cluster_->stop());
  GroupCommitter gc(conninfo_);
  EXPECT_EQ(gc.start(), make_error_code(errc::connect_failed));
  EXPECT_FALSE(gc.last_error().empty());
  EXPECT_FALSE(gc.available());
  ASSERT_TRUE(cluster_->start());
}

}  // namespace
}  // namespace ipx::pg
