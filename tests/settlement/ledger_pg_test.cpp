// Integration: schema/0002_ledger.sql makes PostgreSQL enforce the ledger's rules on its own.
// Needs a server: `tools/ipx services up; eval "$(tools/ipx services env)"` sets IPX_PG (a
// libpq conninfo). Creates a fresh database, applies schema/*.sql in order (0002 twice: it
// is idempotent), and tries what must be refused.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "settlement/ledger.hpp"

namespace ipx::ledger {
namespace {

struct Conn {
  PGconn* c = nullptr;
  explicit Conn(const std::string& conninfo) : c(PQconnectdb(conninfo.c_str())) {}
  ~Conn() { PQfinish(c); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  bool ok() const { return PQstatus(c) == CONNECTION_OK; }
  // Runs sql; returns "" on success, else the server's message.
  std::string exec(const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    const auto st = PQresultStatus(r);
    std::string err =
        (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? "" : PQresultErrorMessage(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && err.empty()) err = "failed";
    PQclear(r);
    return err;
  }
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
    std::vector<std::vector<std::string>> out;
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
      out.push_back(row);
    }
    PQclear(r);
    return out;
  }
};

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class LedgerPg : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* env = std::getenv("IPX_PG");
    ASSERT_NE(env, nullptr) << "IPX_PG is not set: run `tools/ipx services up; eval \"$(tools/ipx "
                               "services env)\"` (a libpq conninfo for a PostgreSQL 15 server)";
    base_ = env;
    Conn admin(base_);
    ASSERT_TRUE(admin.ok()) << PQerrorMessage(admin.c);
    db_ = "ipx_ledger_test_" + std::to_string(getpid());
    ASSERT_EQ(admin.exec("DROP DATABASE IF EXISTS " + db_), "");
    ASSERT_EQ(admin.exec("CREATE DATABASE " + db_), "");
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(IPX_SCHEMA_DIR)) {
      if (e.path().extension() == ".sql") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    ASSERT_FALSE(files.empty());
    Conn db(conninfo());
    ASSERT_TRUE(db.ok()) << PQerrorMessage(db.c);
    // As the runner (engine/pg/migrate) does: its bookkeeping table, then each file once,
    // in order, in its own transaction.
    ASSERT_EQ(db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
                      "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"),
              "");
    for (const auto& f : files) {
      ASSERT_EQ(db.exec("BEGIN;\n" + read_file(f) + "\n;COMMIT;"), "") << f;
    }
    // The ledger's own files are idempotent: applying them again (in order: 0003 replaces
    // 0002's per-row checks with per-statement ones, 0005 and 0006 the statement check and
    // 0006 drops the indexes 0002 made) changes nothing and fails not; the tests below then
    // run against the newest check, as a database migrated in order has it.
    for (const char* name : {"0002_ledger.sql", "0003_ledger_set_checks.sql",
                             "0005_ledger_check_by_account.sql", "0006_ledger_insert_cost.sql"}) {
      const auto ours = std::filesystem::path(IPX_SCHEMA_DIR) / name;
      ASSERT_EQ(db.exec("BEGIN;\n" + read_file(ours) + "\n;COMMIT;"), "") << ours;
    }
  }
  static void TearDownTestSuite() {
    if (db_.empty()) return;
    Conn admin(base_);
    if (admin.ok()) admin.exec("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
  }
  static std::string conninfo() { return base_ + " dbname=" + db_; }

  void SetUp() override {
    ASSERT_FALSE(base_.empty() || db_.empty()) << "IPX_PG is not set, or the test database "
                                                  "could not be made (see the first failure)";
    ASSERT_TRUE(db.ok()) << PQerrorMessage(db.c);
    db.exec("SET client_min_messages = warning");
  }

  // Account ids and transfer ids are unique per test by a prefix.
  static std::string account(std::uint64_t id, std::uint32_t ledger, int flags = 0) {
    return "INSERT INTO ledger_accounts (id, ledger, flags, journal_seq, ts_ms) VALUES (" +
           std::to_string(id) + ", " + std::to_string(ledger) + ", " + std::to_string(flags) +
           ", 1, 0)";
  }
  static std::string transfer(std::uint64_t id, std::uint64_t debit, std::uint64_t credit,
                              std::int64_t amount, std::uint32_t ledger, int flags = 0,
                              std::uint64_t pending_id = 0) {
    return "INSERT INTO ledger_transfers (id, journal_seq, debit_account_id, credit_account_id, "
           "amount, ledger, flags, pending_id, ts_ms) VALUES (" +
           std::to_string(id) + ", 1, " + std::to_string(debit) + ", " + std::to_string(credit) +
           ", " + std::to_string(amount) + ", " + std::to_string(ledger) + ", " +
           std::to_string(flags) + ", " +
           (pending_id == 0 ? std::string("NULL") : std::to_string(pending_id)) + ", 0)";
  }

  inline static std::string base_;
  inline static std::string db_;
  Conn db{conninfo()};
};

TEST_F(LedgerPg, LedgerPgUpdateAndDeleteRefused) {
  ASSERT_EQ(db.exec(account(101, 1)), "");
  ASSERT_EQ(db.exec(account(102, 1)), "");
  ASSERT_EQ(db.exec(transfer(1001, 101, 102, 50, 1)), "");
  EXPECT_NE(db.exec("UPDATE ledger_transfers SET amount = 60 WHERE id = 1001"), "");
  EXPECT_NE(db.exec("DELETE FROM ledger_transfers WHERE id = 1001"), "");
  EXPECT_NE(db.exec("UPDATE ledger_accounts SET flags = 1 WHERE id = 101"), "");
  EXPECT_NE(db.exec("DELETE FROM ledger_accounts WHERE id = 102"), "");
  EXPECT_NE(db.exec("TRUNCATE ledger_transfers"), "");
  EXPECT_EQ(db.rows("SELECT amount FROM ledger_transfers WHERE id = 1001")[0][0], "50");
  // The application role may only read and append.
  const auto super = db.rows("SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
  ASSERT_EQ(db.rows("SELECT count(*) FROM pg_roles WHERE rolname = 'ipx_app'")[0][0], "1");
  EXPECT_EQ(db.rows("SELECT has_table_privilege('ipx_app', 'ledger_transfers', 'INSERT'), "
                    "has_table_privilege('ipx_app', 'ledger_transfers', 'SELECT'), "
                    "has_table_privilege('ipx_app', 'ledger_transfers', 'UPDATE'), "
                    "has_table_privilege('ipx_app', 'ledger_transfers', 'DELETE'), "
                    "has_table_privilege('ipx_app', 'ledger_accounts', 'UPDATE')")[0],
            (std::vector<std::string>{"t", "t", "f", "f", "f"}));
  if (super[0][0] == "t") {  // a superuser can also act as the role and be refused by it
    ASSERT_EQ(db.exec("SET ROLE ipx_app"), "");
    EXPECT_NE(db.exec("UPDATE ledger_transfers SET amount = 60 WHERE id = 1001"), "");
    EXPECT_EQ(db.exec(transfer(1002, 101, 102, 5, 1)), "");
    ASSERT_EQ(db.exec("RESET ROLE"), "");
  }
}

TEST_F(LedgerPg, LedgerPgInvalidTransferRefused) {
  ASSERT_EQ(db.exec(account(201, 1)), "");
  ASSERT_EQ(db.exec(account(202, 1)), "");
  ASSERT_EQ(db.exec(account(203, 2)), "");
  EXPECT_NE(db.exec(transfer(2001, 201, 203, 10, 1)), "");         // credit on another ledger
  EXPECT_NE(db.exec(transfer(2001, 201, 202, 10, 2)), "");         // transfer on another ledger
  EXPECT_NE(db.exec(transfer(2001, 201, 201, 10, 1)), "");         // same account both sides
  EXPECT_NE(db.exec(transfer(2001, 201, 299, 10, 1)), "");         // unknown account
  EXPECT_NE(db.exec(transfer(2001, 201, 202, 10, 1, 2 | 4)), "");  // pending and post at once
  EXPECT_NE(db.exec(transfer(2001, 201, 202, 10, 1, 4)), "");      // post without pending_id
  // Inside an explicit transaction too: refused at the end of the statement (0003), so the
  // transaction cannot commit it.
  ASSERT_EQ(db.exec("BEGIN"), "");
  EXPECT_NE(db.exec(transfer(2002, 201, 203, 10, 1)), "");
  EXPECT_EQ(db.exec("ROLLBACK"), "");
  EXPECT_EQ(db.rows("SELECT count(*) FROM ledger_transfers WHERE id IN (2001, 2002)")[0][0], "0");
}

TEST_F(LedgerPg, LedgerPgAmountMustBePositive) {
  ASSERT_EQ(db.exec(account(301, 1)), "");
  ASSERT_EQ(db.exec(account(302, 1)), "");
  EXPECT_NE(db.exec(transfer(3001, 301, 302, 0, 1)), "");
  EXPECT_NE(db.exec(transfer(3001, 301, 302, -5, 1)), "");
  EXPECT_EQ(db.exec(transfer(3001, 301, 302, 1, 1)), "");
}

TEST_F(LedgerPg, LedgerPgPendingResolvedAtMostOnce) {
  ASSERT_EQ(db.exec(account(401, 1)), "");
  ASSERT_EQ(db.exec(account(402, 1)), "");
  ASSERT_EQ(db.exec(transfer(4001, 401, 402, 100, 1, 2)), "");        // pending 100
  EXPECT_NE(db.exec(transfer(4002, 401, 402, 101, 1, 4, 4001)), "");  // post above held
  EXPECT_NE(db.exec(transfer(4002, 402, 401, 10, 1, 4, 4001)), "");   // other accounts
  EXPECT_NE(db.exec(transfer(4002, 401, 402, 10, 1, 8, 4001)), "");   // partial void
  ASSERT_EQ(db.exec(transfer(4002, 401, 402, 60, 1, 4, 4001)), "");   // post 60
  EXPECT_NE(db.exec(transfer(4003, 401, 402, 40, 1, 4, 4001)), "");   // second post
  EXPECT_NE(db.exec(transfer(4003, 401, 402, 100, 1, 8, 4001)), "");  // void after post
  EXPECT_NE(db.exec(transfer(4003, 401, 402, 10, 1, 4, 4002)), "");   // 4002 is no pending
  ASSERT_EQ(db.exec(transfer(4004, 401, 402, 30, 1, 2)), "");
  ASSERT_EQ(db.exec(transfer(4005, 401, 402, 30, 1, 8, 4004)), "");
  EXPECT_NE(db.exec(transfer(4006, 401, 402, 30, 1, 8, 4004)), "");  // second void
}

// What the engine's writer will do: copy a ledger's accounts and log; the database's own
// view of the balances then equals the in-memory ledger's.
TEST_F(LedgerPg, LedgerPgReconcilesWithInMemoryLedger) {
  namespace tf = transfer_flags;
  Ledger l(Limits{16, 64});
  const std::uint64_t ext = 501, alice = 502, escrow = 503;
  ASSERT_EQ(l.create_account({.id = ext, .ledger = kLedgerCny}), errc::ok);
  ASSERT_EQ(l.create_account({.id = alice,
                              .ledger = kLedgerCny,
                              .flags = account_flags::debits_must_not_exceed_credits}),
            errc::ok);
  ASSERT_EQ(l.create_account({.id = escrow, .ledger = kLedgerCny}), errc::ok);
  const std::vector<Transfer> batch = {
      {.id = 5001,
       .debit_account_id = ext,
       .credit_account_id = alice,
       .amount = 1'000,
       .ledger = 1},
      {.id = 5002,
       .debit_account_id = alice,
       .credit_account_id = escrow,
       .amount = 400,
       .ledger = 1,
       .flags = tf::pending},
      {.id = 5003, .amount = 250, .pending_id = 5002, .flags = tf::post_pending},
      {.id = 5004,
       .debit_account_id = alice,
       .credit_account_id = escrow,
       .amount = 100,
       .expires_at_ms = 2'000,
       .ledger = 1,
       .flags = tf::pending},
      {.id = 5005,
       .debit_account_id = alice,
       .credit_account_id = escrow,
       .amount = 50,
       .ledger = 1,
       .flags = tf::pending}};
  ASSERT_TRUE(l.submit(batch, Ms{1'000}).ok());
  ASSERT_EQ(l.expire(Ms{2'000}), 1u);
  for (const Account& a : l.accounts()) {
    ASSERT_EQ(db.exec("INSERT INTO ledger_accounts (id, ledger, code, flags, owner_ref, "
                      "journal_seq, ts_ms) VALUES (" +
                      std::to_string(a.id) + "," + std::to_string(a.ledger) + "," +
                      std::to_string(a.code) + "," + std::to_string(a.flags) + "," +
                      std::to_string(a.owner) + ", 1, 0)"),
              "");
  }
  ASSERT_EQ(db.exec("BEGIN"), "");
  for (const Transfer& t : l.transfers_since(0)) {
    ASSERT_EQ(db.exec("INSERT INTO ledger_transfers VALUES (" + std::to_string(t.id) + ", 7, " +
                      std::to_string(t.debit_account_id) + "," +
                      std::to_string(t.credit_account_id) + "," + std::to_string(t.amount) + "," +
                      std::to_string(t.ledger) + "," + std::to_string(t.flags) + "," +
                      (t.pending_id ? std::to_string(t.pending_id) : std::string("NULL")) + "," +
                      std::to_string(static_cast<std::int64_t>(t.code)) + "," +
                      std::to_string(static_cast<std::int64_t>(t.ref)) + "," +
                      std::to_string(t.expires_at_ms) + "," + std::to_string(t.ts_ms) + ")"),
              "");
  }
  ASSERT_EQ(db.exec("COMMIT"), "");
  const auto rows = db.rows(
      "SELECT account_id, debits_pending, debits_posted, credits_pending, credits_posted "
      "FROM ledger_balances WHERE account_id BETWEEN 501 AND 503 ORDER BY account_id");
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& row : rows) {
    const Account* a = l.find_account(std::stoull(row[0]));
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(row[1], std::to_string(a->debits_pending)) << row[0];
    EXPECT_EQ(row[2], std::to_string(a->debits_posted)) << row[0];
    EXPECT_EQ(row[3], std::to_string(a->credits_pending)) << row[0];
    EXPECT_EQ(row[4], std::to_string(a->credits_posted)) << row[0];
  }
  EXPECT_EQ(held(*l.find_account(alice)), 50);
}

}  // namespace
}  // namespace ipx::ledger
