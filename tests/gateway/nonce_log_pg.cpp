// PgNonceLog against the private PostgreSQL (IPX_PG): a fresh login nonce is answered only once
// it is committed (PROTOCOL.md "Envelope": a reply only after its effects are durable), so a
// login replayed after the process is killed right after the reply is refused; a nonce seen
// again is refused at once; a database that does not take the write answers `full`
// (UNAVAILABLE: retry with a new nonce).
#include "gateway/pg_nonces.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "engine/pg/migrate.hpp"
#include "tests/engine/pg/test_db.hpp"

namespace ipx::gateway {
namespace {

using Outcome = NonceStore::Outcome;
using ipx::pg::test::TestDb;

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool migrate(const std::string& conninfo, std::string& error) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  auto m = ipx::pg::apply_migrations(c);
  PQfinish(c);
  error = m.message;
  return m.ok();
}

// Rows of login_nonces with this nonce.
int rows_of(const std::string& conninfo, const std::string& nonce) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  const char* values[] = {nonce.c_str()};
  PGresult* r = PQexecParams(c, "SELECT count(*) FROM login_nonces WHERE nonce = $1", 1, nullptr,
                             values, nullptr, nullptr, 0);
  const int n = PQresultStatus(r) == PGRES_TUPLES_OK ? std::atoi(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  PQfinish(c);
  return n;
}

std::shared_ptr<MemoryNonceStore> memory() {
  return std::make_shared<MemoryNonceStore>(300'000, 1'000'000);
}

TEST(PgNonceLog, AFreshNonceIsAnsweredOnlyOnceItIsCommitted) {
  TestDb db;
  ASSERT_TRUE(db.ok());
  std::string error;
  ASSERT_TRUE(migrate(db.conninfo(), error)) << error;
  // A long idle tick: the answer must not wait for it (the writer wakes when a nonce queues).
  PgNonceLog log(db.conninfo(), memory(), {.flush_every = std::chrono::milliseconds(60'000)});
  ASSERT_TRUE(log.start(error)) << error;
  std::promise<std::pair<Outcome, int>> answered;
  const auto t0 = std::chrono::steady_clock::now();
  log.record_async("n-1", wall_ms(), [&](Outcome o) {
    // In the callback, before the login is answered: the row is there already.
    answered.set_value({o, rows_of(db.conninfo(), "n-1")});
  });
  auto f = answered.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto [outcome, rows] = f.get();
  EXPECT_EQ(outcome, Outcome::fresh);
  EXPECT_EQ(rows, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  // Seen again: refused at once (no write).
  EXPECT_EQ(log.record("n-1", wall_ms()), Outcome::replayed);
  log.stop();
  // A new process (the same database) refuses it too: start() loads it.
  PgNonceLog again(db.conninfo(), memory());
  ASSERT_TRUE(again.start(error)) << error;
  EXPECT_EQ(again.loaded(), 1u);
  EXPECT_EQ(again.record("n-1", wall_ms()), Outcome::replayed);
  EXPECT_EQ(again.record("n-2", wall_ms()), Outcome::fresh);
  again.stop();
}

TEST(PgNonceLog, ADatabaseThatDoesNotTakeTheWriteAnswersFull) {
  TestDb db;
  ASSERT_TRUE(db.ok());
  std::string error;
  ASSERT_TRUE(migrate(db.conninfo(), error)) << error;
  PgNonceLog log(db.conninfo(), memory(), {.flush_every = std::chrono::milliseconds(20)});
  ASSERT_TRUE(log.start(error)) << error;
  // The table refuses inserts from now on (as a full disk or a lost connection would).
  ASSERT_EQ(ipx::pg::test::run_sql(db.super_conninfo(),
                                   "ALTER TABLE login_nonces ADD CONSTRAINT refuse CHECK (false) "
                                   "NOT VALID"),
            "");
  EXPECT_EQ(log.record("n-3", wall_ms()), Outcome::full);
  // Seen in memory all the same: the same nonce again is refused, a retry needs a new one.
  EXPECT_EQ(log.record("n-3", wall_ms()), Outcome::replayed);
  log.stop();
}

}  // namespace
}  // namespace ipx::gateway
