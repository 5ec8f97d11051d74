// Integration: settlement/pg_store (write_ledger_rows, read_ledger, reconcile) against a real
// PostgreSQL with the schema applied. Needs IPX_PG (`tools/ipx services up; eval "$(tools/ipx
// services env)"`). Each test makes a database of its own (ipx_pgstore_<pid>_<n>), applies
// schema/*.sql in order, and drops it afterwards.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "settlement/ledger.hpp"
#include "settlement/pg_store.hpp"

namespace ipx::ledger::pg {
namespace {

namespace tf = transfer_flags;

struct Conn {
  PGconn* c = nullptr;
  explicit Conn(const std::string& conninfo) : c(PQconnectdb(conninfo.c_str())) {}
  ~Conn() { PQfinish(c); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  bool ok() const { return PQstatus(c) == CONNECTION_OK; }
  std::string exec(const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    const auto st = PQresultStatus(r);
    std::string err =
        (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? "" : PQresultErrorMessage(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && err.empty()) err = "failed";
    PQclear(r);
    return err;
  }
  std::string value(const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    std::string v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                        ? PQgetvalue(r, 0, 0)
                        : std::string("<error: ") + PQresultErrorMessage(r) + ">";
    PQclear(r);
    return v;
  }
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class PgStore : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* env = std::getenv("IPX_PG");
    ASSERT_NE(env, nullptr) << "IPX_PG is not set: run `tools/ipx services up; eval \"$(tools/ipx "
                               "services env)\"`";
    base_ = env;
    static int counter = 0;
    name_ = "ipx_pgstore_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    Conn admin(base_);
    ASSERT_TRUE(admin.ok()) << PQerrorMessage(admin.c);
    ASSERT_EQ(admin.exec("DROP DATABASE IF EXISTS " + name_), "");
    ASSERT_EQ(admin.exec("CREATE DATABASE " + name_), "");
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(IPX_SCHEMA_DIR)) {
      if (e.path().extension() == ".sql") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    db_ = std::make_unique<Conn>(base_ + " dbname=" + name_);
    ASSERT_TRUE(db_->ok()) << PQerrorMessage(db_->c);
    db_->exec("SET client_min_messages = warning");
    // As the runner (engine/pg/migrate) does: its bookkeeping table, then each file in order.
    ASSERT_EQ(db_->exec("CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
                        "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"),
              "");
    for (const auto& f : files) ASSERT_EQ(db_->exec("BEGIN;\n" + slurp(f) + "\n;COMMIT;"), "") << f;
  }
  void TearDown() override {
    db_.reset();
    if (name_.empty()) return;
    Conn admin(base_);
    if (admin.ok()) admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }

  // One journal-batch-like transaction: BEGIN, the rows, COMMIT (or ROLLBACK).
  std::string write_batch(std::span<const Account> accounts, std::span<const Transfer> transfers,
                          std::int64_t seq, bool commit = true) {
    if (auto e = db_->exec("BEGIN"); !e.empty()) return e;
    std::string err;
    if (auto ec = write_ledger_rows(db_->c, accounts, transfers, seq, 1'000 * seq, &err)) {
      db_->exec("ROLLBACK");
      return ec.message() + ": " + err;
    }
    if (!commit) return db_->exec("ROLLBACK");
    // A COMMIT of a failed transaction answers ROLLBACK: that is a refusal too.
    PGresult* r = PQexec(db_->c, "COMMIT");
    std::string out = PQresultStatus(r) == PGRES_COMMAND_OK
                          ? (std::string(PQcmdStatus(r)) == "COMMIT" ? "" : PQcmdStatus(r))
                          : PQresultErrorMessage(r);
    PQclear(r);
    return out;
  }

  StoredLedger read() {
    StoredLedger s;
    std::string err;
    EXPECT_FALSE(read_ledger(db_->c, s, &err)) << err;
    return s;
  }

  std::string base_, name_;
  std::unique_ptr<Conn> db_;
};

// A small economy over several engine batches: accounts appear over time; holds, partial
// posts, voids and expiries cross batch boundaries; batch k is what the ledger made since k-1.
struct Scenario {
  Ledger l{Limits{64, 1024}};
  std::size_t accounts_done = 0, transfers_done = 0;
  std::uint64_t next_id = 1;

  std::pair<std::span<const Account>, std::span<const Transfer>> take() {
    auto a = l.accounts().subspan(accounts_done);
    auto t = l.transfers_since(transfers_done);
    accounts_done = l.accounts().size();
    transfers_done = l.transfer_count();
    return {a, t};
  }
  Transfer plain(std::uint64_t d, std::uint64_t c, std::int64_t amount, std::uint32_t ledger = 1) {
    return {.id = next_id++, .debit_account_id = d, .credit_account_id = c, .amount = amount,
            .code = 7, .ref = 0xFFFF'FFFF'FFFF'FFF0ull,  // > 2^63: stored bit for bit
            .ledger = ledger};
  }
  Transfer hold(std::uint64_t d, std::uint64_t c, std::int64_t amount, std::int64_t expires = 0) {
    Transfer t = plain(d, c, amount);
    t.flags = tf::pending;
    t.expires_at_ms = expires;
    return t;
  }
  Transfer post(std::uint64_t pending, std::int64_t amount) {
    return {.id = next_id++, .amount = amount, .pending_id = pending, .flags = tf::post_pending};
  }
  Transfer void_(std::uint64_t pending) {
    return {.id = next_id++, .pending_id = pending, .flags = tf::void_pending};
  }
};

constexpr std::uint64_t kExt = 10, kAlice = 11, kBob = 12, kEscrow = 13, kTitlesA = 20,
                        kTitlesB = 21;

void batch1(Scenario& s) {
  ASSERT_EQ(s.l.create_account({.id = kExt, .ledger = kLedgerCny}), errc::ok);
  ASSERT_EQ(s.l.create_account({.id = kAlice, .owner = 1, .ledger = kLedgerCny, .code = 1,
                                .flags = account_flags::debits_must_not_exceed_credits}),
            errc::ok);
  ASSERT_EQ(s.l.create_account({.id = kBob, .owner = 2, .ledger = kLedgerCny, .code = 1,
                                .flags = account_flags::debits_must_not_exceed_credits}),
            errc::ok);
  ASSERT_EQ(s.l.create_account({.id = kEscrow, .owner = 99, .ledger = kLedgerCny, .code = 3}),
            errc::ok);
  const std::vector<Transfer> b = {s.plain(kExt, kAlice, 10'000), s.plain(kExt, kBob, 5'000),
                                   s.hold(kAlice, kEscrow, 3'000),            // id 3
                                   s.hold(kBob, kEscrow, 1'000, 5'000)};      // id 4, expires
  ASSERT_TRUE(s.l.submit(b, Ms{1'000}).ok());
}

void batch2(Scenario& s) {
  ASSERT_EQ(s.l.create_account({.id = kTitlesA, .owner = 1, .ledger = kLedgerTitles}), errc::ok);
  ASSERT_EQ(s.l.create_account({.id = kTitlesB, .owner = 2, .ledger = kLedgerTitles}), errc::ok);
  const std::vector<Transfer> b = {s.post(3, 2'000),  // partial post of batch 1's hold
                                   s.hold(kAlice, kEscrow, 500), s.void_(6),  // same batch
                                   s.plain(kTitlesA, kTitlesB, 1, kLedgerTitles)};
  ASSERT_TRUE(s.l.submit(b, Ms{2'000}).ok());
}

void batch3(Scenario& s) {
  ASSERT_EQ(s.l.expire(Ms{6'000}), 1u);  // batch 1's hold of Bob's
  const std::vector<Transfer> b = {s.hold(kBob, kEscrow, 700)};
  ASSERT_TRUE(s.l.submit(b, Ms{6'000}).ok());
}

TEST_F(PgStore, BatchesReadBackEqualInMemoryBalances) {
  Scenario s;
  batch1(s);
  auto [a1, t1] = s.take();
  ASSERT_EQ(write_batch(a1, t1, 1), "");
  batch2(s);
  auto [a2, t2] = s.take();
  ASSERT_EQ(write_batch(a2, t2, 2), "");
  batch3(s);
  auto [a3, t3] = s.take();
  ASSERT_TRUE(a3.empty());
  ASSERT_EQ(write_batch(a3, t3, 3), "");

  const StoredLedger st = read();
  ASSERT_EQ(st.accounts.size(), s.l.accounts().size());
  ASSERT_EQ(st.transfers.size(), s.l.transfer_count());
  EXPECT_EQ(st.max_journal_seq, 3);
  EXPECT_EQ(st.journal_head, 0);  // the journal table exists (0001), empty here
  for (const StoredAccount& sa : st.accounts) {
    const Account* a = s.l.find_account(sa.account.id);
    ASSERT_NE(a, nullptr) << sa.account.id;
    EXPECT_EQ(sa.account, *a) << sa.account.id;  // attributes and the view's four balances
  }
  for (const StoredTransfer& t : st.transfers) {
    const Transfer* e = s.l.find_transfer(t.transfer.id);
    ASSERT_NE(e, nullptr) << t.transfer.id;
    EXPECT_EQ(t.transfer, *e) << t.transfer.id;
  }
  // The expiry's void (id | 2^62) and the unsigned ref made it through bit for bit.
  EXPECT_EQ(db_->value("SELECT count(*) FROM ledger_transfers WHERE id = " +
                       std::to_string(4 | kExpiryIdBit) + " AND flags = 24"),
            "1");
  EXPECT_EQ(db_->value("SELECT journal_seq FROM ledger_accounts WHERE id = 20"), "2");
  const auto res = reconcile(st, s.l, 10);
  EXPECT_TRUE(res.ok()) << describe(res.differences.front());
  EXPECT_EQ(res.accounts, 6u);
  EXPECT_EQ(res.transfers, s.l.transfer_count());
}

TEST_F(PgStore, RolledBackBatchLeavesNothingAndCanBeResent) {
  Scenario s;
  batch1(s);
  auto [a1, t1] = s.take();
  ASSERT_EQ(write_batch(a1, t1, 1, /*commit=*/false), "");  // the ack never came: rolled back
  EXPECT_EQ(db_->value("SELECT count(*) FROM ledger_accounts"), "0");
  EXPECT_EQ(db_->value("SELECT count(*) FROM ledger_transfers"), "0");
  ASSERT_EQ(write_batch(a1, t1, 1), "");  // re-sent whole
  ASSERT_EQ(write_batch(a1, t1, 1).empty(), false);  // a second copy is refused (primary keys)
  EXPECT_EQ(db_->value("SELECT count(*) FROM ledger_transfers"), std::to_string(t1.size()));
  EXPECT_TRUE(reconcile(read(), s.l).ok());
}

TEST_F(PgStore, DatabaseRefusesWhatTheLedgerWouldNot) {
  Scenario s;
  batch1(s);
  auto [a1, t1] = s.take();
  ASSERT_EQ(write_batch(a1, t1, 1), "");
  // Written with the store but wrong: each batch fails whole, nothing of it stays.
  std::vector<Transfer> bad = {{.id = 900, .debit_account_id = kAlice, .credit_account_id = kBob,
                                .amount = 1, .ts_ms = 1, .ledger = kLedgerTitles}};  // wrong ledger
  // The message names the transfer (0005 checks pairs of account and ledger, then names it).
  EXPECT_NE(write_batch({}, bad, 2).find("ledger transfer 900: accounts"), std::string::npos);
  bad = {{.id = 900, .debit_account_id = kAlice, .credit_account_id = 777, .amount = 1, .ts_ms = 1,
          .ledger = 1}};  // unknown account
  EXPECT_NE(write_batch({}, bad, 2).find("ledger transfer 900: accounts"), std::string::npos);
  // One wrong transfer among right ones of the same debit account and ledger (0006 checks
  // each distinct (debit, credit, ledger) of a batch once): the whole batch is refused.
  bad = {{.id = 900, .debit_account_id = kAlice, .credit_account_id = kBob, .amount = 1,
          .ts_ms = 1, .ledger = 1},
         {.id = 901, .debit_account_id = kAlice, .credit_account_id = kBob, .amount = 1,
          .ts_ms = 1, .ledger = 1},
         {.id = 902, .debit_account_id = kAlice, .credit_account_id = 777, .amount = 1,
          .ts_ms = 1, .ledger = 1},
         {.id = 903, .debit_account_id = kBob, .credit_account_id = kAlice, .amount = 1,
          .ts_ms = 1, .ledger = 1}};
  EXPECT_NE(write_batch({}, bad, 2).find("ledger transfer 902: accounts"), std::string::npos);
  bad = {{.id = 900, .debit_account_id = kAlice, .credit_account_id = kEscrow, .amount = 3'001,
          .pending_id = 3, .ts_ms = 1, .ledger = 1, .flags = tf::post_pending}};  // above held
  EXPECT_NE(write_batch({}, bad, 2), "");
  bad = {{.id = 900, .debit_account_id = kAlice, .credit_account_id = kEscrow, .amount = 5,
          .pending_id = 1, .ts_ms = 1, .ledger = 1, .flags = tf::post_pending}};  // not a pending
  EXPECT_NE(write_batch({}, bad, 2), "");
  bad = {{.id = 900, .debit_account_id = kAlice, .credit_account_id = kEscrow, .amount = 5,
          .pending_id = 950, .ts_ms = 1, .ledger = 1, .flags = tf::post_pending},
         {.id = 950, .debit_account_id = kAlice, .credit_account_id = kEscrow, .amount = 5,
          .ts_ms = 1, .ledger = 1, .flags = tf::pending}};  // post before its pending, one COPY:
  EXPECT_EQ(write_batch({}, bad, 2), "");  // fine: checked once the statement is done
  bad = {{.id = 901, .debit_account_id = kAlice, .credit_account_id = kEscrow, .amount = 5,
          .pending_id = 950, .ts_ms = 1, .ledger = 1, .flags = tf::void_pending}};
  EXPECT_NE(write_batch({}, bad, 3), "");  // resolved twice
  EXPECT_EQ(db_->value("SELECT count(*) FROM ledger_transfers"), std::to_string(t1.size() + 2));
  // An id beyond bigint never reaches the server.
  bad = {{.id = std::uint64_t{1} << 63, .debit_account_id = kAlice, .credit_account_id = kBob,
          .amount = 1, .ledger = 1}};
  ASSERT_EQ(db_->exec("BEGIN"), "");
  EXPECT_EQ(write_ledger_rows(db_->c, {}, bad, 4), make_error_code(store_errc::bad_row));
  ASSERT_EQ(db_->exec("ROLLBACK"), "");
}

TEST_F(PgStore, ExtraWriterWritesInTheCallersTransaction) {
  Scenario s;
  batch1(s);
  auto [a1, t1] = s.take();
  auto writer = make_extra_writer({a1.begin(), a1.end()}, {t1.begin(), t1.end()}, 5, 123);
  ASSERT_EQ(db_->exec("BEGIN"), "");
  ASSERT_FALSE(writer(db_->c));
  ASSERT_EQ(db_->exec("ROLLBACK"), "");
  EXPECT_EQ(db_->value("SELECT count(*) FROM ledger_transfers"), "0");
  ASSERT_EQ(db_->exec("BEGIN"), "");
  ASSERT_FALSE(writer(db_->c));  // a retry runs the same writer again
  ASSERT_EQ(db_->exec("COMMIT"), "");
  EXPECT_EQ(db_->value("SELECT min(journal_seq) || '/' || max(ts_ms) FROM ledger_accounts"),
            "5/123");
  EXPECT_TRUE(reconcile(read(), s.l).ok());
}

// The group committer's merged form: the rows of two engine batches in one call, one COPY per
// table, each row with its own batch's journal_seq (and the accounts' ts_ms).
TEST_F(PgStore, SeveralBatchesInOneCallKeepTheirJournalSeqs) {
  Scenario s;
  batch1(s);
  auto [a1, t1] = s.take();
  batch2(s);
  auto [a2, t2] = s.take();
  ASSERT_FALSE(a1.empty());
  ASSERT_FALSE(t1.empty());
  ASSERT_FALSE(t2.empty());
  const LedgerBatch batches[2] = {{a1, t1, 7, 70}, {a2, t2, 9, 90}};
  ASSERT_EQ(db_->exec("BEGIN"), "");
  std::string err;
  ASSERT_FALSE(write_ledger_rows(db_->c, batches, &err)) << err;
  ASSERT_EQ(db_->exec("COMMIT"), "");
  EXPECT_EQ(db_->value("SELECT count(*) FROM ledger_transfers WHERE journal_seq = 7"),
            std::to_string(t1.size()));
  EXPECT_EQ(db_->value("SELECT count(*) FROM ledger_transfers WHERE journal_seq = 9"),
            std::to_string(t2.size()));
  EXPECT_EQ(db_->value("SELECT count(*) FROM ledger_accounts WHERE journal_seq = 7 AND ts_ms = 70"),
            std::to_string(a1.size()));
  EXPECT_EQ(db_->value("SELECT count(*) FROM ledger_accounts WHERE journal_seq = 9 AND ts_ms = 90"),
            std::to_string(a2.size()));
  EXPECT_TRUE(reconcile(read(), s.l).ok());
  // A bad row in the second batch refuses the whole call before anything reaches the server.
  const Transfer bad[1] = {{.id = std::uint64_t{1} << 63, .debit_account_id = 1,
                            .credit_account_id = 2, .amount = 1, .ledger = 1}};
  const LedgerBatch with_bad[2] = {{{}, t1, 11, 0}, {{}, bad, 12, 0}};
  ASSERT_EQ(db_->exec("BEGIN"), "");
  EXPECT_EQ(write_ledger_rows(db_->c, with_bad, &err), make_error_code(store_errc::bad_row));
  ASSERT_EQ(db_->exec("ROLLBACK"), "");
  EXPECT_EQ(db_->value("SELECT count(*) FROM ledger_transfers"),
            std::to_string(t1.size() + t2.size()));
}

// A start-up's catching up: the rows the database lacks (the domain's own accounts, made
// before any batch; a journal older than its ledger rows) go in once; a database that holds
// them all is left alone (the quick check of counts and highest ids); one holding a row the
// engine does not know is refused.
TEST_F(PgStore, SyncWritesWhatIsMissingOnceAndRefusesRowsTheEngineLacks) {
  Scenario s;
  batch1(s);
  auto [a1, t1] = s.take();
  batch2(s);
  s.take();
  ASSERT_GT(a1.size(), 1u);
  // Only part of batch 1 was stored.
  ASSERT_EQ(write_batch(a1, t1.first(1), 1), "");
  std::size_t written = 0;
  std::string err;
  ASSERT_EQ(db_->exec("BEGIN"), "");
  ASSERT_FALSE(sync_ledger_rows(db_->c, s.l, 9, 900, &written, &err)) << err;
  ASSERT_EQ(db_->exec("COMMIT"), "");
  EXPECT_EQ(written, (s.l.accounts().size() - a1.size()) + (s.l.transfer_count() - 1));
  EXPECT_TRUE(reconcile(read(), s.l).ok());
  ASSERT_EQ(db_->exec("BEGIN"), "");
  ASSERT_FALSE(sync_ledger_rows(db_->c, s.l, 10, 1000, &written, &err)) << err;
  ASSERT_EQ(db_->exec("COMMIT"), "");
  EXPECT_EQ(written, 0u);
  EXPECT_EQ(db_->value("SELECT count(*) FROM ledger_accounts WHERE journal_seq = 10"), "0");
  // A transfer the engine never made: refused, nothing written.
  Scenario other;
  batch1(other);
  batch2(other);
  const Transfer extra = other.plain(kAlice, kBob, 1);
  ASSERT_EQ(write_batch({}, std::span<const Transfer>(&extra, 1), 11), "");
  ASSERT_EQ(db_->exec("BEGIN"), "");
  EXPECT_EQ(sync_ledger_rows(db_->c, s.l, 12, 1200, &written, &err),
            make_error_code(store_errc::copy_failed));
  EXPECT_NE(err.find("unknown to the engine"), std::string::npos) << err;
  ASSERT_EQ(db_->exec("ROLLBACK"), "");
}

TEST_F(PgStore, ReconcileReportsTheFirstDifference) {
  Scenario s;
  batch1(s);
  auto [a1, t1] = s.take();
  ASSERT_EQ(write_batch(a1, t1, 1), "");
  batch2(s);
  s.take();  // batch 2 never stored
  auto res = reconcile(read(), s.l, 100);
  ASSERT_FALSE(res.ok());
  // Balances first (engine account order): Alice's hold 3 was posted in batch 2.
  EXPECT_EQ(res.differences.front().what, "account");
  EXPECT_EQ(res.differences.front().id, kAlice);
  EXPECT_EQ(res.differences.front().field, "debits_pending");
  EXPECT_EQ(res.differences.front().db_value, "3000");
  EXPECT_EQ(res.differences.front().engine_value, "0");
  EXPECT_EQ(describe(res.differences.front()),
            "account 11: debits_pending: db 3000, engine 0");
  const auto missing = std::find_if(res.differences.begin(), res.differences.end(),
                                    [](const Difference& d) { return d.field == "missing in db"; });
  ASSERT_NE(missing, res.differences.end());
  EXPECT_EQ(missing->id, kTitlesA);
  EXPECT_EQ(res.differences.back().what, "count");
  EXPECT_EQ(reconcile(read(), s.l).differences.size(), 1u);  // default: the first only
}

}  // namespace
}  // namespace ipx::ledger::pg
