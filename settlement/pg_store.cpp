// The ledger's rows in PostgreSQL: binary COPY in, binary results out, reconciliation.
#include "settlement/pg_store.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <unordered_map>

namespace ipx::ledger::pg {
namespace {

struct StoreCategory final : std::error_category {
  const char* name() const noexcept override { return "ipx.ledger.pg"; }
  std::string message(int c) const override {
    switch (static_cast<store_errc>(c)) {
      case store_errc::ok: return "ok";
      case store_errc::copy_failed: return "ledger rows refused by the server";
      case store_errc::connection_lost: return "connection lost while writing ledger rows";
      case store_errc::bad_row: return "ledger row out of range";
    }
    return "unknown ledger store error";
  }
};

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// ---- binary COPY encoding (big-endian) ----
void put_u16(std::string& out, std::uint16_t v) {
  const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 2);
}
void put_u32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}
void put_u64(std::string& out, std::uint64_t v) {
  put_u32(out, static_cast<std::uint32_t>(v >> 32));
  put_u32(out, static_cast<std::uint32_t>(v));
}
void field_i64(std::string& out, std::uint64_t v) {  // bigint, bit for bit
  put_u32(out, 8);
  put_u64(out, v);
}
void field_i32(std::string& out, std::uint32_t v) {
  put_u32(out, 4);
  put_u32(out, v);
}
void field_null(std::string& out) { put_u32(out, 0xFFFF'FFFFu); }

void put_header(std::string& out) {
  static constexpr char kSig[] = "PGCOPY\n\377\r\n";  // 11 bytes with its NUL
  out.append(kSig, 11);
  put_u32(out, 0);  // flags
  put_u32(out, 0);  // header extension length
}

std::uint64_t get_u64(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | u[i];
  return v;
}
std::uint32_t get_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}

constexpr std::uint64_t kBigintMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

std::error_code fail(PGconn* conn, const PGresult* r, std::string_view what, std::string* error) {
  std::string msg(what);
  const char* m = r != nullptr ? PQresultErrorMessage(r) : nullptr;
  if (m == nullptr || *m == '\0') m = PQerrorMessage(conn);
  if (m != nullptr && *m != '\0') msg += std::string(": ") + m;
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  if (error != nullptr) *error = msg;
  if (PQstatus(conn) != CONNECTION_OK) return store_errc::connection_lost;
  return store_errc::copy_failed;
}

std::error_code copy_in(PGconn* conn, const char* sql, const std::string& buf,
                        std::string* error) {
  Result r(PQexec(conn, sql));
  if (!r || PQresultStatus(r.get()) != PGRES_COPY_IN) return fail(conn, r.get(), sql, error);
  // One PQputCopyData per ~1 MiB keeps libpq's buffer from doubling the whole stream.
  constexpr std::size_t kChunk = 1u << 20;
  for (std::size_t off = 0; off < buf.size(); off += kChunk) {
    const std::size_t n = std::min(kChunk, buf.size() - off);
    if (PQputCopyData(conn, buf.data() + off, static_cast<int>(n)) != 1) {
      return fail(conn, nullptr, "COPY data", error);
    }
  }
  if (PQputCopyEnd(conn, nullptr) != 1) return fail(conn, nullptr, "COPY end", error);
  Result done(PQgetResult(conn));
  std::error_code ec;
  if (!done || PQresultStatus(done.get()) != PGRES_COMMAND_OK) ec = fail(conn, done.get(), sql, error);
  while (Result extra{PQgetResult(conn)}) {
  }
  return ec;
}

std::string to_s(std::uint64_t v) { return std::to_string(v); }
std::string to_s(std::int64_t v) { return std::to_string(v); }

}  // namespace

const std::error_category& store_category() noexcept {
  static const StoreCategory c;
  return c;
}

std::error_code write_ledger_rows(PGconn* conn, std::span<const Account> accounts,
                                  std::span<const Transfer> transfers, std::int64_t journal_seq,
                                  std::int64_t ts_ms, std::string* error) {
  const LedgerBatch one[1] = {{accounts, transfers, journal_seq, ts_ms}};
  return write_ledger_rows(conn, one, error);
}

std::error_code encode_ledger_rows(std::span<const LedgerBatch> batches, std::string& accounts_copy,
                                   std::string& transfers_copy, std::string* error) {
  accounts_copy.clear();
  transfers_copy.clear();
  std::size_t n_accounts = 0, n_transfers = 0;
  for (const LedgerBatch& b : batches) {
    n_accounts += b.accounts.size();
    n_transfers += b.transfers.size();
  }
  if (n_accounts > 0) {
    std::string& buf = accounts_copy;
    buf.reserve(19 + n_accounts * 74 + 2);
    put_header(buf);
    for (const LedgerBatch& b : batches) {
      for (const Account& a : b.accounts) {
        if (a.id == 0 || a.id > kBigintMax) {
          if (error != nullptr) *error = "account id " + to_s(a.id) + " does not fit a bigint";
          return store_errc::bad_row;
        }
        put_u16(buf, 7);
        field_i64(buf, a.id);
        field_i32(buf, a.ledger);
        field_i32(buf, a.code);
        field_i32(buf, a.flags);
        field_i64(buf, a.owner);
        field_i64(buf, static_cast<std::uint64_t>(b.journal_seq));
        field_i64(buf, static_cast<std::uint64_t>(b.ts_ms));
      }
    }
    put_u16(buf, 0xFFFF);
  }
  if (n_transfers > 0) {
    std::string& buf = transfers_copy;
    buf.reserve(19 + n_transfers * 136 + 2);
    put_header(buf);
    for (const LedgerBatch& b : batches) {
      for (const Transfer& t : b.transfers) {
        if (t.id == 0 || t.id > kBigintMax || t.debit_account_id > kBigintMax ||
            t.credit_account_id > kBigintMax || t.pending_id > kBigintMax) {
          if (error != nullptr) *error = "transfer " + to_s(t.id) + ": an id does not fit a bigint";
          return store_errc::bad_row;
        }
        put_u16(buf, 12);
        field_i64(buf, t.id);
        field_i64(buf, static_cast<std::uint64_t>(b.journal_seq));
        field_i64(buf, t.debit_account_id);
        field_i64(buf, t.credit_account_id);
        field_i64(buf, static_cast<std::uint64_t>(t.amount));
        field_i32(buf, t.ledger);
        field_i32(buf, t.flags);
        if (t.pending_id == 0) {
          field_null(buf);
        } else {
          field_i64(buf, t.pending_id);
        }
        field_i64(buf, t.code);
        field_i64(buf, t.ref);
        field_i64(buf, static_cast<std::uint64_t>(t.expires_at_ms));
        field_i64(buf, static_cast<std::uint64_t>(t.ts_ms));
      }
    }
    put_u16(buf, 0xFFFF);
  }
  return {};
}

std::error_code write_ledger_rows(PGconn* conn, std::span<const LedgerBatch> batches,
                                  std::string* error) {
  thread_local std::string accounts, transfers;  // reused per thread
  if (auto ec = encode_ledger_rows(batches, accounts, transfers, error)) return ec;
  if (!accounts.empty()) {
    if (auto ec = copy_in(conn, kCopyAccountsSql, accounts, error)) return ec;
  }
  if (!transfers.empty()) {
    if (auto ec = copy_in(conn, kCopyTransfersSql, transfers, error)) return ec;
  }
  return {};
}

std::function<std::error_code(PGconn*)> make_extra_writer(std::vector<Account> accounts,
                                                          std::vector<Transfer> transfers,
                                                          std::int64_t journal_seq,
                                                          std::int64_t ts_ms) {
  struct Rows {
    std::vector<Account> accounts;
    std::vector<Transfer> transfers;
  };
  // shared: ExtraWriter is a std::function (copyable); the rows are never copied.
  auto rows = std::make_shared<const Rows>(Rows{std::move(accounts), std::move(transfers)});
  return [rows, journal_seq, ts_ms](PGconn* conn) {
    return write_ledger_rows(conn, rows->accounts, rows->transfers, journal_seq, ts_ms);
  };
}

// ---- reading ----

std::error_code read_ledger(PGconn* conn, StoredLedger& out, std::string* error,
                            bool in_transaction) {
  out = {};
  auto query = [&](const char* sql, Result& r) -> std::error_code {
    r.reset(PQexecParams(conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 1));
    if (!r || (PQresultStatus(r.get()) != PGRES_TUPLES_OK &&
               PQresultStatus(r.get()) != PGRES_COMMAND_OK)) {
      return fail(conn, r.get(), sql, error);
    }
    return {};
  };
  Result r;
  if (!in_transaction) {
    if (auto ec = query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", r)) return ec;
  }
  auto rollback = [&] {
    if (!in_transaction) Result x(PQexec(conn, "ROLLBACK"));
  };
  if (auto ec = query("SELECT to_regclass('journal') IS NOT NULL", r)) {
    rollback();
    return ec;
  }
  if (PQntuples(r.get()) == 1 && *PQgetvalue(r.get(), 0, 0) != 0) {
    if (auto ec = query("SELECT coalesce(max(seq), 0) FROM journal", r)) {
      rollback();
      return ec;
    }
    out.journal_head = static_cast<std::int64_t>(get_u64(PQgetvalue(r.get(), 0, 0)));
  }
  if (auto ec = query("SELECT a.id, a.ledger, a.code, a.flags, a.owner_ref, a.journal_seq, "
                      "b.debits_pending, b.debits_posted, b.credits_pending, b.credits_posted "
                      "FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id "
                      "ORDER BY a.id",
                      r)) {
    rollback();
    return ec;
  }
  const int na = PQntuples(r.get());
  out.accounts.resize(static_cast<std::size_t>(na));
  for (int i = 0; i < na; ++i) {
    auto v = [&](int c) { return PQgetvalue(r.get(), i, c); };
    StoredAccount& s = out.accounts[static_cast<std::size_t>(i)];
    s.account.id = get_u64(v(0));
    s.account.ledger = get_u32(v(1));
    s.account.code = static_cast<std::uint16_t>(get_u32(v(2)));
    s.account.flags = static_cast<std::uint16_t>(get_u32(v(3)));
    s.account.owner = get_u64(v(4));
    s.journal_seq = static_cast<std::int64_t>(get_u64(v(5)));
    s.account.debits_pending = static_cast<std::int64_t>(get_u64(v(6)));
    s.account.debits_posted = static_cast<std::int64_t>(get_u64(v(7)));
    s.account.credits_pending = static_cast<std::int64_t>(get_u64(v(8)));
    s.account.credits_posted = static_cast<std::int64_t>(get_u64(v(9)));
    out.max_journal_seq = std::max(out.max_journal_seq, s.journal_seq);
  }
  if (auto ec = query("SELECT id, journal_seq, debit_account_id, credit_account_id, amount, "
                      "ledger, flags, pending_id, code, ref, expires_at_ms, ts_ms "
                      "FROM ledger_transfers ORDER BY id",
                      r)) {
    rollback();
    return ec;
  }
  const int nt = PQntuples(r.get());
  out.transfers.resize(static_cast<std::size_t>(nt));
  for (int i = 0; i < nt; ++i) {
    auto v = [&](int c) { return PQgetvalue(r.get(), i, c); };
    StoredTransfer& s = out.transfers[static_cast<std::size_t>(i)];
    Transfer& t = s.transfer;
    t.id = get_u64(v(0));
    s.journal_seq = static_cast<std::int64_t>(get_u64(v(1)));
    t.debit_account_id = get_u64(v(2));
    t.credit_account_id = get_u64(v(3));
    t.amount = static_cast<std::int64_t>(get_u64(v(4)));
    t.ledger = get_u32(v(5));
    t.flags = static_cast<std::uint16_t>(get_u32(v(6)));
    t.pending_id = PQgetisnull(r.get(), i, 7) ? 0 : get_u64(v(7));
    t.code = get_u64(v(8));
    t.ref = get_u64(v(9));
    t.expires_at_ms = static_cast<std::int64_t>(get_u64(v(10)));
    t.ts_ms = static_cast<std::int64_t>(get_u64(v(11)));
    out.max_journal_seq = std::max(out.max_journal_seq, s.journal_seq);
  }
  r.reset();
  rollback();
  return {};
}

std::error_code sync_ledger_rows(PGconn* conn, const Ledger& engine, std::int64_t journal_seq,
                                 std::int64_t ts_ms, std::size_t* written, std::string* error) {
  if (written != nullptr) *written = 0;
  // The usual start: the rows went in with their journal batches, so the tables hold exactly
  // the engine's accounts and transfers. Counts and highest ids that match say so without
  // reading every row and balance (seconds at a million transfers); anything else is compared
  // row by row below.
  {
    Result r(PQexecParams(conn,
                          "SELECT (SELECT count(*) FROM ledger_accounts),"
                          " (SELECT coalesce(max(id), 0) FROM ledger_accounts),"
                          " (SELECT count(*) FROM ledger_transfers),"
                          " (SELECT coalesce(max(id), 0) FROM ledger_transfers)",
                          0, nullptr, nullptr, nullptr, nullptr, 1));
    if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
      return fail(conn, r.get(), "ledger row counts", error);
    }
    std::uint64_t max_account = 0, max_transfer = 0;
    for (const Account& a : engine.accounts()) max_account = std::max(max_account, a.id);
    max_transfer = engine.max_transfer_id();
    if (get_u64(PQgetvalue(r.get(), 0, 0)) == engine.accounts().size() &&
        get_u64(PQgetvalue(r.get(), 0, 1)) == max_account &&
        get_u64(PQgetvalue(r.get(), 0, 2)) == engine.transfer_count() &&
        get_u64(PQgetvalue(r.get(), 0, 3)) == max_transfer) {
      return {};
    }
  }
  StoredLedger stored;
  if (auto ec = read_ledger(conn, stored, error, /*in_transaction=*/true)) return ec;
  std::unordered_map<std::uint64_t, bool> have_a, have_t;
  for (const auto& a : stored.accounts) have_a[a.account.id] = true;
  for (const auto& t : stored.transfers) have_t[t.transfer.id] = true;
  for (const auto& a : stored.accounts) {
    if (engine.find_account(a.account.id) == nullptr) {
      if (error != nullptr) *error = "account " + to_s(a.account.id) + " is stored but unknown to the engine";
      return store_errc::copy_failed;
    }
  }
  // A compacted engine no longer holds what it retired: its stored rows are then checked by
  // their count (and by reconcile()), not one by one.
  for (const auto& t : stored.transfers) {
    if (engine.find_transfer(t.transfer.id) == nullptr &&
        (engine.retired_count() == 0 || t.transfer.id > engine.max_transfer_id())) {
      if (error != nullptr) *error = "transfer " + to_s(t.transfer.id) + " is stored but unknown to the engine";
      return store_errc::copy_failed;
    }
  }
  if (stored.transfers.size() > engine.transfer_count()) {
    if (error != nullptr) *error = "more transfers stored than the engine ever made";
    return store_errc::copy_failed;
  }
  std::vector<Account> accounts;
  for (const Account& a : engine.accounts()) {
    if (!have_a.contains(a.id)) accounts.push_back(a);
  }
  std::vector<Transfer> transfers;
  for (const Transfer& t : engine.live_log()) {
    if (!have_t.contains(t.id)) transfers.push_back(t);
  }
  // What a compaction retired before it reached the database cannot be written from here.
  if (const std::size_t have = stored.transfers.size() + transfers.size();
      have != engine.transfer_count()) {
    if (error != nullptr) {
      *error = have > engine.transfer_count()
                   ? "the database holds transfers the engine never made"
                   : "the database lacks " + to_s(std::uint64_t{engine.transfer_count() - have}) +
                         " transfers the engine has retired from memory: `ipx-ledger backfill` "
                         "replays the journal keeping every transfer";
    }
    return store_errc::copy_failed;
  }
  if (auto ec = write_ledger_rows(conn, accounts, transfers, journal_seq, ts_ms, error)) return ec;
  if (written != nullptr) *written = accounts.size() + transfers.size();
  return {};
}

// ---- reconciliation ----

std::string describe(const Difference& d) {
  std::string s = d.what;
  if (d.id != 0) s += " " + to_s(d.id);
  s += ": " + d.field;
  if (!d.db_value.empty() || !d.engine_value.empty()) {
    s += ": db " + (d.db_value.empty() ? std::string("-") : d.db_value) + ", engine " +
         (d.engine_value.empty() ? std::string("-") : d.engine_value);
  }
  return s;
}

ReconcileResult reconcile(const StoredLedger& db, const Ledger& engine,
                          std::size_t max_differences) {
  ReconcileResult res;
  res.accounts = engine.accounts().size();
  res.transfers = engine.transfer_count();
  const std::size_t cap = std::max<std::size_t>(1, max_differences);
  auto full = [&] { return res.differences.size() >= cap; };
  auto diff = [&](std::uint64_t id, const char* what, std::string field, std::string dbv,
                  std::string engv) {
    if (!full()) res.differences.push_back({id, what, std::move(field), std::move(dbv), std::move(engv)});
  };

  // 1. The engine against its own log.
  if (auto bad = engine.check_invariants(true)) diff(0, "engine", "invariant: " + *bad, "", "");

  std::unordered_map<std::uint64_t, std::size_t> acc_at;
  acc_at.reserve(db.accounts.size());
  for (std::size_t i = 0; i < db.accounts.size(); ++i) acc_at.emplace(db.accounts[i].account.id, i);
  std::unordered_map<std::uint64_t, std::size_t> tr_at;
  tr_at.reserve(db.transfers.size());
  for (std::size_t i = 0; i < db.transfers.size(); ++i) tr_at.emplace(db.transfers[i].transfer.id, i);

  // 2. The view against a recomputation from the stored rows.
  if (!full()) {
    std::vector<Account> again(db.accounts.size());
    std::unordered_map<std::uint64_t, bool> resolved;
    for (const auto& s : db.transfers) {
      if (s.transfer.pending_id != 0) resolved[s.transfer.pending_id] = true;
    }
    for (const auto& s : db.transfers) {
      const Transfer& t = s.transfer;
      if ((t.flags & transfer_flags::void_pending) != 0) continue;
      const auto d = acc_at.find(t.debit_account_id);
      const auto c = acc_at.find(t.credit_account_id);
      if (d == acc_at.end() || c == acc_at.end()) {
        diff(t.id, "transfer", "account not stored", to_s(d == acc_at.end() ? t.debit_account_id
                                                                             : t.credit_account_id),
             "");
        continue;
      }
      Account& da = again[d->second];
      Account& ca = again[c->second];
      if ((t.flags & transfer_flags::pending) != 0) {
        if (!resolved.contains(t.id)) {
          da.debits_pending += t.amount;
          ca.credits_pending += t.amount;
        }
      } else {
        da.debits_posted += t.amount;
        ca.credits_posted += t.amount;
      }
    }
    for (std::size_t i = 0; i < db.accounts.size() && !full(); ++i) {
      const Account& v = db.accounts[i].account;
      const Account& a = again[i];
      auto cmp = [&](const char* f, std::int64_t view, std::int64_t recomputed) {
        if (view != recomputed) {
          diff(v.id, "account", std::string(f) + " (view vs stored transfers)", to_s(view),
               to_s(recomputed));
        }
      };
      cmp("debits_pending", v.debits_pending, a.debits_pending);
      cmp("debits_posted", v.debits_posted, a.debits_posted);
      cmp("credits_pending", v.credits_pending, a.credits_pending);
      cmp("credits_posted", v.credits_posted, a.credits_posted);
    }
  }

  // 3. Accounts: engine order, then db-only ones.
  for (const Account& e : engine.accounts()) {
    if (full()) break;
    const auto it = acc_at.find(e.id);
    if (it == acc_at.end()) {
      diff(e.id, "account", "missing in db", "", "present");
      continue;
    }
    const Account& s = db.accounts[it->second].account;
    auto cmp = [&](const char* f, auto dbv, auto engv) {
      if (dbv != engv) {
        diff(e.id, "account", f, std::to_string(dbv), std::to_string(engv));
      }
    };
    cmp("ledger", s.ledger, e.ledger);
    cmp("code", s.code, e.code);
    cmp("flags", s.flags, e.flags);
    cmp("owner", s.owner, e.owner);
    cmp("debits_pending", s.debits_pending, e.debits_pending);
    cmp("debits_posted", s.debits_posted, e.debits_posted);
    cmp("credits_pending", s.credits_pending, e.credits_pending);
    cmp("credits_posted", s.credits_posted, e.credits_posted);
  }
  for (const auto& s : db.accounts) {
    if (full()) break;
    if (engine.find_account(s.account.id) == nullptr) {
      diff(s.account.id, "account", "missing in engine", "present", "");
    }
  }

  // 4. Transfers: the live log's order, then db-only ones (when the engine has retired none:
  // a retired transfer is only the database's), then the counts.
  for (const Transfer& e : engine.live_log()) {
    if (full()) break;
    const auto it = tr_at.find(e.id);
    if (it == tr_at.end()) {
      diff(e.id, "transfer", "missing in db", "", "present");
      continue;
    }
    const Transfer& s = db.transfers[it->second].transfer;
    auto cmp = [&](const char* f, auto dbv, auto engv) {
      if (dbv != engv) diff(e.id, "transfer", f, std::to_string(dbv), std::to_string(engv));
    };
    cmp("debit_account_id", s.debit_account_id, e.debit_account_id);
    cmp("credit_account_id", s.credit_account_id, e.credit_account_id);
    cmp("amount", s.amount, e.amount);
    cmp("ledger", s.ledger, e.ledger);
    cmp("flags", s.flags, e.flags);
    cmp("pending_id", s.pending_id, e.pending_id);
    cmp("code", s.code, e.code);
    cmp("ref", s.ref, e.ref);
    cmp("expires_at_ms", s.expires_at_ms, e.expires_at_ms);
    cmp("ts_ms", s.ts_ms, e.ts_ms);
  }
  for (const auto& s : db.transfers) {
    if (full() || engine.retired_count() != 0) break;
    if (engine.find_transfer(s.transfer.id) == nullptr) {
      diff(s.transfer.id, "transfer", "missing in engine", "present", "");
    }
  }
  if (db.accounts.size() != engine.accounts().size()) {
    diff(0, "count", "accounts", to_s(std::uint64_t{db.accounts.size()}),
         to_s(std::uint64_t{engine.accounts().size()}));
  }
  if (db.transfers.size() != engine.transfer_count()) {
    diff(0, "count", "transfers", to_s(std::uint64_t{db.transfers.size()}),
         to_s(std::uint64_t{engine.transfer_count()}));
  }
  return res;
}

}  // namespace ipx::ledger::pg
