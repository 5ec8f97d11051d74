#include "engine/pg/durability.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include "engine/pg/errc.hpp"
#include "engine/pg/snapshots.hpp"
#include "matching/assert.hpp"
#include "settlement/pg_store.hpp"

namespace ipx::pg {

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr,
               "ipx: FATAL: %s; the state in memory is ahead of the journal, aborting (a restart "
               "replays the journal)\n",
               what.c_str());
  std::fflush(stderr);
  std::abort();
}

// One batch's ledger rows, merged with the other batches of its transaction by encode_ledger.
struct LedgerRows final : Rows {
  std::vector<ledger::Account> accounts;
  std::vector<ledger::Transfer> transfers;
  std::int64_t journal_seq = 0;  // the batch's last record
  std::int64_t ts_ms = 0;
};

std::error_code encode_ledger(std::span<const Rows* const> rows, std::vector<CopyIn>& out) {
  thread_local std::vector<ledger::pg::LedgerBatch> batches;  // the committer's thread
  batches.clear();
  for (const Rows* r : rows) {
    const auto& l = static_cast<const LedgerRows&>(*r);
    batches.push_back({l.accounts, l.transfers, l.journal_seq, l.ts_ms});
  }
  CopyIn accounts{ledger::pg::kCopyAccountsSql, {}}, transfers{ledger::pg::kCopyTransfersSql, {}};
  std::string error;
  if (auto ec = ledger::pg::encode_ledger_rows(batches, accounts.data, transfers.data, &error)) {
    std::fprintf(stderr, "ipx: %s\n", error.c_str());
    return ec;
  }
  if (!accounts.data.empty()) out.push_back(std::move(accounts));
  if (!transfers.data.empty()) out.push_back(std::move(transfers));
  return {};
}

CommitterOptions committer_options(const DurabilityOptions& o) {
  CommitterOptions c = o.committer;
  if (o.ledger_rows) c.rows_writer = encode_ledger;
  return c;
}

}  // namespace

std::string state_hash_hex(std::uint64_t h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i) {
    s[static_cast<std::size_t>(i)] = kHex[h & 15];
    h >>= 4;
  }
  return s;
}

PgDurability::PgDurability(std::string conninfo, DurabilityOptions options)
    : options_(std::move(options)), conninfo_(conninfo),
      committer_(std::move(conninfo), committer_options(options_)) {
  IPX_ASSERT(options_.snapshot_every >= 0);
}

PgDurability::~PgDurability() { stop(); }

std::error_code PgDurability::start(engine::Engine& engine) {
  if (auto ec = committer_.start()) {
    std::lock_guard lock(mu_);
    start_error_ = committer_.last_error();
    return ec;
  }
  if (committer_.start_seq() != engine.last_seq()) {
    std::lock_guard lock(mu_);
    start_error_ = "the journal's head is seq " + std::to_string(committer_.start_seq()) +
                   " but the engine recovered up to seq " + std::to_string(engine.last_seq()) +
                   " (another writer?)";
    committer_.stop();
    return errc::sequence_mismatch;
  }
  if (options_.ledger_rows) {
    if (auto ec = sync_ledger(engine)) {
      committer_.stop();
      return ec;
    }
  }
  engine_ = &engine;
  return {};
}

// The rows of the ledger's accounts made outside any batch (the domain's own at its birth), or
// of a journal written before its ledger rows were stored, go in once, so the first batch that
// moves money through them is not refused.
std::error_code PgDurability::sync_ledger(engine::Engine& engine) {
  Connection conn(conninfo_);
  std::string error;
  std::error_code ec = conn.ensure();
  if (!ec) ec = conn.exec("BEGIN");
  if (!ec) {
    ec = ledger::pg::sync_ledger_rows(conn.get(), engine.domain().ledger(), engine.last_seq(),
                                      engine.domain().now(), nullptr, &error);
    if (ec) conn.set_error(error);
  }
  if (!ec) ec = conn.exec("COMMIT");
  if (ec) {
    std::lock_guard lock(mu_);
    start_error_ = "cannot bring the stored ledger up to the journal: " + conn.last_error();
  }
  return ec;
}

void PgDurability::stop() { committer_.stop(); }

bool PgDurability::available() const { return committer_.available(); }

std::string PgDurability::last_error() const {
  {
    std::lock_guard lock(mu_);
    if (!start_error_.empty()) return start_error_;
  }
  return committer_.last_error();
}

std::int64_t PgDurability::snapshots_written() const {
  std::lock_guard lock(mu_);
  return snapshot_stats_.snapshots;
}

SnapshotStats PgDurability::snapshot_stats() const {
  std::lock_guard lock(mu_);
  return snapshot_stats_;
}

// Engine thread, right after the batch that ends at `seq` was applied: the state is that of seq.
ExtraWriter PgDurability::snapshot_writer(std::int64_t seq, std::int64_t ts_ms) {
  using Clock = std::chrono::steady_clock;
  const std::string hash = state_hash_hex(engine_->domain().state_hash());
  const auto t0 = Clock::now();
  auto state = std::make_shared<const std::string>(engine_->domain().save());
  const auto saved = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
  const std::string payload = "{\"seq\":" + std::to_string(seq) +
                              ",\"ts_ms\":" + std::to_string(ts_ms) + ",\"state_hash\":\"" +
                              hash + "\",\"state_bytes\":" + std::to_string(state->size()) +
                              ",\"save_us\":" + std::to_string(saved.count()) + "}";
  {
    std::lock_guard lock(mu_);
    SnapshotStats& st = snapshot_stats_;
    ++st.snapshots;
    st.last_bytes = static_cast<std::int64_t>(state->size());
    st.last_save = saved;
    st.max_save = std::max(st.max_save, saved);
    st.total_save += saved;
  }
  const std::size_t kept = options_.snapshot_states_kept;
  return [this, seq, hash, payload, state, kept](PGconn* conn) -> std::error_code {
    std::string error;
    const auto t = Clock::now();
    const auto ec = save_snapshot(conn, SnapshotWrite{seq, hash, payload, *state, kept}, &error);
    const auto wrote = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t);
    {
      std::lock_guard lock(mu_);
      snapshot_stats_.last_write = wrote;
      snapshot_stats_.max_write = std::max(snapshot_stats_.max_write, wrote);
    }
    if (ec == make_error_code(errc::snapshot_conflict)) {
      // The same seq with another state hash: the engine is not deterministic. Re-sending
      // cannot help; bad_record makes the committer fatal (and so this process abort).
      std::fprintf(stderr, "ipx: %s\n", error.c_str());
      return errc::bad_record;
    }
    return ec;
  };
}

void PgDurability::ledger_rows(std::vector<ledger::Account> accounts,
                               std::vector<ledger::Transfer> transfers) {
  if (!options_.ledger_rows) return;
  pending_accounts_ = std::move(accounts);
  pending_transfers_ = std::move(transfers);
}

void PgDurability::submit(std::vector<engine::Record> records,
                          std::function<void()> on_committed) {
  if (records.empty()) {
    // A barrier: behind every batch in flight, or at once.
    std::unique_lock deliver(deliver_mu_);
    {
      std::lock_guard lock(mu_);
      if (!entries_.empty()) {
        entries_.push_back({false, std::move(on_committed)});
        return;
      }
    }
    if (on_committed) on_committed();
    return;
  }
  IPX_ASSERT(engine_ != nullptr);  // start() first
  ExtraWriter extra;
  const std::int64_t first = records.front().seq;
  const std::int64_t last = records.back().seq;
  if (options_.snapshot_every > 0 &&
      last / options_.snapshot_every > (first - 1) / options_.snapshot_every) {
    extra = snapshot_writer(last, records.back().ts_ms);
  }
  std::shared_ptr<LedgerRows> rows;
  if (!pending_accounts_.empty() || !pending_transfers_.empty()) {
    rows = std::make_shared<LedgerRows>();
    rows->accounts = std::exchange(pending_accounts_, {});
    rows->transfers = std::exchange(pending_transfers_, {});
    rows->journal_seq = last;
    rows->ts_ms = records.back().ts_ms;
  }
  std::vector<JournalRecord> out;
  out.reserve(records.size());
  for (auto& r : records) out.push_back({r.seq, r.ts_ms, r.kind, std::move(r.payload)});
  {
    std::lock_guard lock(mu_);
    entries_.push_back({true, std::move(on_committed)});
  }
  const auto ec = committer_.submit(
      std::move(out), [this](std::error_code e) { on_completion(e); }, std::move(extra),
      std::move(rows));
  if (!ec) return;
  if (ec == make_error_code(errc::stopped)) {
    std::lock_guard lock(mu_);
    entries_.pop_back();  // shutting down: the replies never leave
    return;
  }
  die("the journal refused batch " + std::to_string(first) + ".." + std::to_string(last) + " (" +
      ec.message() + "): " + committer_.last_error());
}

void PgDurability::on_completion(std::error_code ec) {
  if (ec == make_error_code(errc::stopped)) {
    std::lock_guard lock(mu_);
    IPX_ASSERT(!entries_.empty() && entries_.front().write);
    entries_.pop_front();
    while (!entries_.empty() && !entries_.front().write) entries_.pop_front();
    idle_.notify_all();
    return;
  }
  if (ec) die("journal commit failed for good (" + ec.message() + "): " + committer_.last_error());
  std::lock_guard deliver(deliver_mu_);
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mu_);
    IPX_ASSERT(!entries_.empty() && entries_.front().write);
    ready.push_back(std::move(entries_.front().on_committed));
    entries_.pop_front();
    while (!entries_.empty() && !entries_.front().write) {
      ready.push_back(std::move(entries_.front().on_committed));
      entries_.pop_front();
    }
    delivering_ = true;
  }
  for (auto& f : ready) {
    if (f) f();
  }
  std::lock_guard lock(mu_);
  delivering_ = false;
  if (entries_.empty()) idle_.notify_all();
}

bool PgDurability::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, timeout, [this] { return entries_.empty() && !delivering_; });
}

}  // namespace ipx::pg
