#include "engine/pg/group_commit.hpp"

#include <poll.h>
#include <pthread.h>
#include <algorithm>
#include <utility>

#include "engine/pg/errc.hpp"
#include "matching/assert.hpp"

namespace ipx::pg {

GroupCommitter::GroupCommitter(std::string conninfo, CommitterOptions options)
    : options_(std::move(options)), journal_(std::move(conninfo)) {
  IPX_ASSERT(options_.batch_records_max > 0 && options_.batch_bytes_max > 0);
  IPX_ASSERT(options_.queue_records_max >= options_.batch_records_max);
  IPX_ASSERT(options_.backoff_min.count() > 0 && options_.backoff_max >= options_.backoff_min);
  if (options_.fault_drop_ack) journal_.set_fault_drop_ack(options_.fault_drop_ack);
}

GroupCommitter::~GroupCommitter() { stop(); }

std::error_code GroupCommitter::start() {
  IPX_ASSERT(!thread_.joinable());
  if (auto ec = journal_.open()) {
    std::lock_guard lock(mu_);
    last_error_ = journal_.last_error();
    return ec;
  }
  start_seq_ = journal_.head().seq;
  submitted_seq_ = start_seq_;
  committed_seq_ = start_seq_;
  stats_.committed_seq = start_seq_;
  backoff_ = options_.backoff_min;
  available_ = true;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ipx-committer");
    run();
  });
  return {};
}

void GroupCommitter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  available_ = false;
}

std::error_code GroupCommitter::submit(std::vector<JournalRecord>&& records, Completion done,
                                       ExtraWriter extra, std::shared_ptr<const Rows> rows) {
  auto sub = std::make_unique<Submission>();
  for (const auto& r : records) sub->bytes += r.payload.size() + 32;
  {
    std::lock_guard lock(mu_);
    if (fatal_) return fatal_ec_;
    if (stopping_ || !thread_.joinable()) return errc::stopped;
    if (records.empty() || records.size() > options_.queue_records_max) return errc::bad_record;
    std::int64_t expect = submitted_seq_ + 1;
    for (const auto& r : records) {
      if (r.payload.size() > kPayloadBytesMax) return errc::bad_record;
      if (r.seq != expect++) return errc::sequence_mismatch;
    }
    if (queued_records_ + records.size() > options_.queue_records_max ||
        queued_bytes_ + sub->bytes > options_.queue_bytes_max) {
      return errc::queue_full;
    }
    submitted_seq_ = records.back().seq;
    queued_records_ += records.size();
    queued_bytes_ += sub->bytes;
    sub->records = std::move(records);
    sub->done = std::move(done);
    sub->extra = std::move(extra);
    sub->rows = std::move(rows);
    queue_.push_back(std::move(sub));
    update_available();
  }
  wake_.notify_one();
  return {};
}

// Under mu_.
void GroupCommitter::update_available() {
  const bool room = queued_records_ <= options_.queue_records_max / 4 * 3 &&
                    queued_bytes_ <= options_.queue_bytes_max / 4 * 3;
  available_ = db_ok_ && !fatal_ && !stopping_ && room;
}

bool GroupCommitter::available() const noexcept { return available_.load(); }

bool GroupCommitter::probe() {
  if (!available_.load()) return false;
  {
    std::lock_guard lock(mu_);
    if (!queue_.empty()) return true;  // in flight: the commit itself will tell
  }
  std::unique_lock conn(conn_mu_, std::try_to_lock);
  if (!conn.owns_lock()) return available_.load();  // the committer is using it (a ping)
  const int fd = journal_.connection().get() != nullptr ? PQsocket(journal_.connection().get()) : -1;
  if (fd < 0) return available_.load();
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) == 0) return true;
  {
    std::lock_guard lock(mu_);
    suspect_ = true;
    db_ok_ = false;
    last_error_ = "the journal connection was closed by the server";
    update_available();
  }
  wake_.notify_one();
  return false;
}

CommitterStats GroupCommitter::stats() const {
  std::lock_guard lock(mu_);
  CommitterStats s = stats_;
  s.queued_records = queued_records_;
  s.queued_bytes = queued_bytes_;
  return s;
}

std::string GroupCommitter::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

bool GroupCommitter::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, timeout, [this] { return queue_.empty() || fatal_; }) &&
         queue_.empty();
}

// Takes the oldest submissions up to the batch bounds (at least one) and fills parts_,
// extras_ and rows_.
// Submissions stay in queue_ until committed; deque push_back keeps references valid.
std::size_t GroupCommitter::take_batch() {
  std::lock_guard lock(mu_);
  parts_.clear();
  extras_.clear();
  rows_.clear();
  std::size_t records = 0, bytes = 0, n = 0;
  for (const auto& sub : queue_) {
    if (n > 0 && (records + sub->records.size() > options_.batch_records_max ||
                  bytes + sub->bytes > options_.batch_bytes_max)) {
      break;
    }
    records += sub->records.size();
    bytes += sub->bytes;
    parts_.emplace_back(sub->records);
    if (sub->extra) extras_.push_back(&sub->extra);
    if (sub->rows) rows_.push_back(sub->rows.get());
    ++n;
  }
  return n;
}

// Pops the n oldest submissions and calls their completions, in order, outside the lock.
void GroupCommitter::complete_front(std::size_t n, std::error_code ec, bool lost_ack) {
  std::vector<std::unique_ptr<Submission>> done;
  done.reserve(n);
  {
    std::lock_guard lock(mu_);
    IPX_ASSERT(n <= queue_.size());
    for (std::size_t i = 0; i < n; ++i) {
      auto& sub = queue_.front();
      queued_records_ -= sub->records.size();
      queued_bytes_ -= sub->bytes;
      if (!ec) {
        IPX_ASSERT(sub->records.front().seq == stats_.committed_seq + 1);
        stats_.committed_seq = sub->records.back().seq;
        stats_.records += sub->records.size();
        if (lost_ack) ++stats_.lost_acks;
      }
      done.push_back(std::move(sub));
      queue_.pop_front();
    }
    if (!ec) {
      db_ok_ = true;
      committed_seq_ = stats_.committed_seq;
    }
    update_available();
  }
  for (auto& sub : done) {
    if (sub->done) sub->done(ec);
  }
  idle_.notify_all();
}

void GroupCommitter::on_failure(std::error_code ec) {
  need_recover_ = true;
  std::lock_guard lock(mu_);
  ++stats_.failures;
  db_ok_ = false;
  last_error_ = journal_.last_error().empty() ? ec.message() : journal_.last_error();
  update_available();
}

void GroupCommitter::set_fatal(std::error_code ec) {
  {
    std::lock_guard lock(mu_);
    fatal_ = true;
    fatal_ec_ = errc::fatal;
    last_error_ = "fatal (" + ec.message() + "): " + journal_.last_error();
    update_available();
  }
  idle_.notify_all();
}

void GroupCommitter::sleep_backoff() {
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, backoff_, [this] { return stopping_; });
  backoff_ = std::min(backoff_ * 2, options_.backoff_max);
}

// After a failure: re-read the head; complete (without re-sending) the oldest submissions the
// journal already holds, after checking their hashes. False: still failing (or fatal).
bool GroupCommitter::recover() {
  for (;;) {
    const Submission* front = nullptr;
    {
      std::lock_guard lock(mu_);
      if (!queue_.empty()) front = queue_.front().get();
    }
    bool committed = false;
    const auto ec = front != nullptr ? journal_.confirm_committed(front->records, committed)
                                     : journal_.refresh_head();
    if (ec == make_error_code(errc::chain_mismatch) ||
        ec == make_error_code(errc::sequence_mismatch)) {
      set_fatal(ec);
      return false;
    }
    if (ec) {
      on_failure(ec);
      return false;
    }
    if (!committed || front == nullptr) break;
    complete_front(1, {}, true);
  }
  need_recover_ = false;
  return true;
}

bool GroupCommitter::commit_batch(std::size_t n) {
  const auto ec = journal_.append_parts(parts_, extras_, &options_.rows_writer, rows_);
  if (!ec) {
    {
      std::lock_guard lock(mu_);
      ++stats_.commits;
    }
    complete_front(n, {}, false);
    backoff_ = options_.backoff_min;
    return true;
  }
  if (ec == make_error_code(errc::sequence_mismatch) || ec == make_error_code(errc::bad_record)) {
    set_fatal(ec);  // another writer, or a tampered journal: re-sending cannot help
  } else {
    on_failure(ec);
  }
  return false;
}

void GroupCommitter::run() {
  auto last_activity = std::chrono::steady_clock::now();
  for (;;) {
    bool idle = false, stopping = false, fatal = false;
    {
      std::unique_lock lock(mu_);
      // After a failure the backoff (sleep_backoff) is the wait: the retry comes next.
      wake_.wait_for(lock, need_recover_ ? std::chrono::milliseconds(0) : options_.health_interval,
                     [this] { return !queue_.empty() || stopping_ || suspect_; });
      if (std::exchange(suspect_, false)) need_recover_ = true;
      idle = queue_.empty();
      stopping = stopping_;
      fatal = fatal_;
    }
    if (fatal || (stopping && idle)) break;
    if (idle) {
      const auto now = std::chrono::steady_clock::now();
      if (!need_recover_ && now - last_activity < options_.health_interval) continue;
      last_activity = now;
      std::unique_lock conn(conn_mu_);
      if (need_recover_ ? !recover() : static_cast<bool>(journal_.ping())) {
        if (!need_recover_) on_failure(errc::connection_lost);
        sleep_backoff();
      } else {
        std::lock_guard lock(mu_);
        db_ok_ = true;
        update_available();
      }
      continue;
    }
    last_activity = std::chrono::steady_clock::now();
    std::unique_lock conn(conn_mu_);
    if (need_recover_ && !recover()) {
      if (stopping) break;  // stop() does not wait for the database to come back
      sleep_backoff();
      continue;
    }
    const std::size_t n = take_batch();
    if (n > 0 && !commit_batch(n)) {
      if (stopping) break;
      sleep_backoff();
    }
  }
  // Whatever is left will never be committed by this committer.
  std::size_t left = 0;
  std::error_code why = errc::stopped;
  {
    std::lock_guard lock(mu_);
    left = queue_.size();
    if (fatal_) why = fatal_ec_;
  }
  complete_front(left, why, false);
}

}  // namespace ipx::pg
