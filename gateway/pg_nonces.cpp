#include "gateway/pg_nonces.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/pg/conn.hpp"
#include "engine/pg/errc.hpp"

namespace ipx::gateway {
namespace {

constexpr std::size_t kRowsPerStatement = 1'000;  // 2 parameters a row, far below 65,535
constexpr auto kPruneEvery = std::chrono::seconds(10);

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One INSERT of rows [first, last): a nonce seen again after its window keeps the later time.
bool insert_rows(pg::Connection& conn, const std::vector<std::pair<std::string, std::int64_t>>& rows,
                 std::size_t first, std::size_t last) {
  std::string sql = "INSERT INTO login_nonces (nonce, seen_ms) VALUES ";
  std::vector<std::string> ms;
  std::vector<const char*> values;
  ms.reserve(last - first);
  values.reserve(2 * (last - first));
  for (std::size_t i = first; i < last; ++i) {
    const std::size_t k = 2 * (i - first);
    if (i > first) sql += ',';
    sql += "($" + std::to_string(k + 1) + ",$" + std::to_string(k + 2) + "::bigint)";
    ms.push_back(std::to_string(rows[i].second));
  }
  for (std::size_t i = first; i < last; ++i) {
    values.push_back(rows[i].first.c_str());
    values.push_back(ms[i - first].c_str());
  }
  sql += " ON CONFLICT (nonce) DO UPDATE SET seen_ms = GREATEST(login_nonces.seen_ms, EXCLUDED.seen_ms)";
  pg::PgResult r(PQexecParams(conn.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0));
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    conn.fail(r.get(), "login_nonces insert");
    return false;
  }
  return true;
}

}  // namespace

PgNonceLog::PgNonceLog(std::string conninfo, std::shared_ptr<NonceStore> memory,
                       PgNonceLogOptions options)
    : conninfo_(std::move(conninfo)), memory_(std::move(memory)), options_(options) {}

PgNonceLog::~PgNonceLog() { stop(); }

bool PgNonceLog::start(std::string& error) {
  pg::Connection conn(conninfo_);
  if (conn.ensure()) {
    error = "login nonces: " + conn.last_error();
    return false;
  }
  const std::string since = std::to_string(wall_ms() - options_.ttl_ms);
  const char* values[] = {since.c_str()};
  pg::PgResult r(PQexecParams(conn.get(),
                              "SELECT nonce, seen_ms FROM login_nonces WHERE seen_ms > $1::bigint "
                              "ORDER BY seen_ms",
                              1, nullptr, values, nullptr, nullptr, 0));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    conn.fail(r.get(), "login_nonces read");
    error = "login nonces: " + conn.last_error();
    return false;
  }
  const int n = PQntuples(r.get());
  for (int i = 0; i < n; ++i) {
    const std::int64_t seen = std::strtoll(PQgetvalue(r.get(), i, 1), nullptr, 10);
    // In time order, each remembered until its own window ends (the store keeps its expiries
    // monotonic, so a nonce is never forgotten early).
    memory_->record(PQgetvalue(r.get(), i, 0), seen);
  }
  loaded_ = static_cast<std::size_t>(n);
  thread_ = std::thread([this] { run(); });
  return true;
}

void PgNonceLog::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PgNonceLog::record_async(std::string_view nonce, std::int64_t now_ms, Done done) {
  const Outcome outcome = memory_->record(nonce, now_ms);
  if (outcome != Outcome::fresh) return done(outcome);
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && queue_.size() < options_.queue_max) {
      queue_.push_back(Item{std::string(nonce), now_ms, std::move(done)});
      queued = true;
    }
  }
  // Seen (in memory) but not to be written: not answered fresh.
  if (!queued) return done(Outcome::full);
  cv_.notify_one();
}

NonceStore::Outcome PgNonceLog::record(std::string_view nonce, std::int64_t now_ms) {
  auto answer = std::make_shared<std::promise<Outcome>>();
  std::future<Outcome> future = answer->get_future();
  record_async(nonce, now_ms, [answer](Outcome o) { answer->set_value(o); });
  if (future.wait_for(options_.wait) != std::future_status::ready) return Outcome::full;
  return future.get();
}

// The writer: what is queued, as soon as something is, in one transaction (a group commit of
// the logins waiting then); their answers after the commit. Every 10 s, the rows older than
// the window go. A failed write answers its waiting logins `full`, keeps its rows queued
// (written behind, nobody waits for them) and retries after flush_every.
void PgNonceLog::run() {
  pg::Connection conn(conninfo_);
  auto pruned = std::chrono::steady_clock::now();
  std::vector<Item> items;
  std::vector<std::pair<std::string, std::int64_t>> rows;
  bool failed = false;
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.flush_every,
                   [&] { return stopping_ || (!failed && !queue_.empty()); });
      stopping = stopping_;
      items.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    for (const Item& it : items) rows.emplace_back(it.nonce, it.seen_ms);
    bool written = rows.empty();
    if (!rows.empty() && !conn.ensure()) {
      written = !conn.exec("BEGIN");
      for (std::size_t i = 0; written && i < rows.size(); i += kRowsPerStatement) {
        written = insert_rows(conn, rows, i, std::min(rows.size(), i + kRowsPerStatement));
      }
      written = written && !conn.exec("COMMIT");
      if (!written) conn.exec("ROLLBACK");
    }
    failed = !written;
    for (Item& it : items) {
      if (it.done) std::exchange(it.done, nullptr)(written ? Outcome::fresh : Outcome::full);
    }
    if (!written) {
      std::lock_guard lock(mu_);
      for (auto it = items.rbegin(); it != items.rend() && queue_.size() < options_.queue_max; ++it) {
        queue_.push_front(std::move(*it));
      }
    }
    items.clear();
    rows.clear();
    const auto now = std::chrono::steady_clock::now();
    if (now - pruned >= kPruneEvery && !conn.ensure()) {
      pruned = now;
      conn.exec("DELETE FROM login_nonces WHERE seen_ms < " +
                std::to_string(wall_ms() - options_.ttl_ms));
    }
    if (stopping) return;  // one last attempt: a database that is away loses the queue
  }
}

}  // namespace ipx::gateway
