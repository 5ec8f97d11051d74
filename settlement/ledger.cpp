#include "settlement/ledger.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>

#include "matching/assert.hpp"
#include "settlement/ledger_hash.hpp"

namespace ipx::ledger {

namespace tf = transfer_flags;
namespace af = account_flags;

namespace {

constexpr std::uint16_t kKindMask = tf::pending | tf::post_pending | tf::void_pending;
constexpr std::uint64_t kAccountIdMax = (std::uint64_t{1} << 63) - 1;

bool deadline_after(const auto& a, const auto& b) {  // min-heap on (at_ms, id)
  return a.at_ms != b.at_ms ? a.at_ms > b.at_ms : a.id > b.id;
}

}  // namespace

Ledger::Ledger(Limits limits)
    : limits_(limits),
      account_index_(limits.accounts_max, limits.prefault || limits.touch_index),
      transfer_index_(limits.transfers_max, limits.prefault || limits.touch_index, limits.grow) {
  IPX_ASSERT(limits.accounts_max > 0 && limits.accounts_max < IdIndex::kNone);
  IPX_ASSERT(limits.transfers_max > 0 && limits.transfers_max < IdIndex::kNone);
  // Allocate every table now, and with limits.prefault also touch it (resize writes each
  // element, clear keeps the memory), so the hot path neither allocates nor faults.
  auto prefault = [&limits](auto& v, std::size_t n) {
    if (limits.prefault) v.resize(n);
    v.clear();
    v.reserve(n);
  };
  prefault(accounts_, limits.accounts_max);
  prefault(log_, limits.transfers_max);
  prefault(state_, limits.transfers_max);
  prefault(pending_of_, limits.transfers_max);
  prefault(deadlines_, limits.transfers_max);
}

errc Ledger::create_account(const Account& a) {
  if (a.id == 0 || a.id > kAccountIdMax) return errc::account_id_invalid;
  if (a.ledger == 0) return errc::ledger_invalid;
  if ((a.flags & ~af::all) != 0 || a.flags == af::all) return errc::account_flags_invalid;
  if (a.debits_pending != 0 || a.debits_posted != 0 || a.credits_pending != 0 ||
      a.credits_posted != 0) {
    return errc::account_balances_not_zero;
  }
  if (const Account* old = find_account(a.id)) {
    const bool same = old->ledger == a.ledger && old->code == a.code && old->flags == a.flags &&
                      old->owner == a.owner;
    return same ? errc::ok : errc::account_exists_with_different_fields;
  }
  if (accounts_.size() >= limits_.accounts_max) return errc::capacity;
  account_index_.insert(a.id, static_cast<std::uint32_t>(accounts_.size()));
  accounts_.push_back(a);
  hash_accounts_ = detail::hash_account(hash_accounts_, a);
  return errc::ok;
}

const Account* Ledger::find_account(std::uint64_t id) const {
  if (id == 0) return nullptr;
  const std::uint32_t i = account_index_.find(id);
  return i == IdIndex::kNone ? nullptr : &accounts_[i];
}

const Transfer* Ledger::find_transfer(std::uint64_t id) const {
  if (id == 0) return nullptr;
  const std::uint32_t i = transfer_index_.find(id);
  return i == IdIndex::kNone ? nullptr : &log_[i];
}

Ledger::PendingState Ledger::pending_state(std::uint64_t id) const {
  if (id == 0) return PendingState::none;
  const std::uint32_t i = transfer_index_.find(id);
  return i == IdIndex::kNone ? PendingState::none : state_[i];
}

std::span<const Transfer> Ledger::transfers_since(std::size_t index) const {
  IPX_ASSERT(index >= retired_ + carried_count() && index <= transfer_count());
  return std::span<const Transfer>(log_).subspan(index - static_cast<std::size_t>(retired_));
}

std::size_t Ledger::compact(const std::function<bool(const Transfer&)>& keep) {
  base_.assign(accounts_.begin(), accounts_.end());
  hash_base_ = hash_transfers_;
  max_id_base_ = max_id_;
  // The index is rebuilt from the survivors: clearing it is one pass over memory already
  // touched, where erasing each retired id would be a cache miss apiece.
  transfer_index_.clear();
  carried_state_.clear();
  std::size_t w = 0;
  for (std::size_t i = 0; i < log_.size(); ++i) {
    if (state_[i] != PendingState::open && !(keep && keep(log_[i]))) continue;
    log_[w] = log_[i];
    state_[w] = state_[i];
    carried_state_.push_back(state_[i]);
    pending_of_[w] = IdIndex::kNone;  // a rollback never reaches back past a compaction
    transfer_index_.insert(log_[w].id, static_cast<std::uint32_t>(w));
    ++w;
  }
  const std::size_t dropped = log_.size() - w;
  retired_ += dropped;
  log_.resize(w);  // shrinking keeps the capacity: nothing is allocated again
  state_.resize(w);
  pending_of_.resize(w);
  // The deadlines of open pendings only (the heap's stale entries name retired ids).
  deadlines_.clear();
  for (std::size_t i = 0; i < w; ++i) {
    if (state_[i] == PendingState::open) push_deadline(log_[i]);
  }
  return dropped;
}

// Same request as the stored one? Post/void may leave debit, credit, ledger, code and ref
// at 0 (inherit from the pending) and a void's amount at 0; ts_ms is the ledger's own.
bool Ledger::same_request(const Transfer& in, const Transfer& s) const {
  const bool resolves = (s.flags & (tf::post_pending | tf::void_pending)) != 0;
  auto eq = [resolves](std::uint64_t given, std::uint64_t stored) {
    return given == stored || (resolves && given == 0);
  };
  const bool amount_ok =
      in.amount == s.amount || ((s.flags & tf::void_pending) != 0 && in.amount == 0);
  return in.flags == s.flags && in.pending_id == s.pending_id && amount_ok &&
         in.expires_at_ms == s.expires_at_ms && eq(in.debit_account_id, s.debit_account_id) &&
         eq(in.credit_account_id, s.credit_account_id) && eq(in.ledger, s.ledger) &&
         eq(in.code, s.code) && eq(in.ref, s.ref);
}

errc Ledger::prepare(const Transfer& in, Ms now, Prepared& out) const {
  if (in.id == 0 || in.id > kIdMax) return errc::id_invalid;
  if (const std::uint32_t i = transfer_index_.find(in.id); i != IdIndex::kNone) {
    if (!same_request(in, log_[i])) return errc::id_exists_with_different_fields;
    out.exists = true;
    return errc::ok;
  }
  const std::uint16_t kind = in.flags & kKindMask;
  if ((in.flags & ~tf::caller_all) != 0 || std::popcount(kind) > 1) return errc::flags_invalid;
  if (!limits_.grow && log_.size() >= limits_.transfers_max) return errc::capacity;
  out.t = in;
  out.t.ts_ms = now.v;
  if ((kind & (tf::post_pending | tf::void_pending)) == 0) {
    if (in.pending_id != 0) return errc::pending_id_must_be_zero;
    if (in.amount <= 0) return errc::amount_not_positive;
    if (in.expires_at_ms != 0 && (kind != tf::pending || in.expires_at_ms <= now.v)) {
      return errc::expiry_invalid;
    }
    if (in.ledger == 0) return errc::ledger_invalid;
    if (in.debit_account_id == in.credit_account_id) return errc::accounts_same;
    if (in.debit_account_id == 0 || in.credit_account_id == 0) return errc::account_not_found;
    out.debit = account_index_.find(in.debit_account_id);
    out.credit = account_index_.find(in.credit_account_id);
    if (out.debit == IdIndex::kNone || out.credit == IdIndex::kNone) {
      return errc::account_not_found;
    }
    if (accounts_[out.debit].ledger != in.ledger || accounts_[out.credit].ledger != in.ledger) {
      return errc::ledger_mismatch;
    }
    return errc::ok;
  }
  // Post or void of a pending.
  if (in.pending_id == 0 || in.pending_id == in.id) return errc::pending_id_invalid;
  const std::uint32_t pi = transfer_index_.find(in.pending_id);
  if (pi == IdIndex::kNone) return errc::pending_not_found;
  const Transfer& p = log_[pi];
  if ((p.flags & tf::pending) == 0) return errc::pending_not_pending;
  if (state_[pi] != PendingState::open) return errc::pending_already_resolved;
  if (in.expires_at_ms != 0) return errc::expiry_invalid;
  auto mismatch = [](std::uint64_t given, std::uint64_t pending) {
    return given != 0 && given != pending;
  };
  if (mismatch(in.debit_account_id, p.debit_account_id) ||
      mismatch(in.credit_account_id, p.credit_account_id) || mismatch(in.ledger, p.ledger)) {
    return errc::pending_fields_mismatch;
  }
  if (p.expires_at_ms != 0 && p.expires_at_ms <= now.v) return errc::pending_expired;
  if (kind == tf::post_pending) {
    if (in.amount <= 0) return errc::amount_not_positive;
    if (in.amount > p.amount) return errc::exceeds_pending_amount;
  } else if (in.amount != 0 && in.amount != p.amount) {
    return in.amount < 0 ? errc::amount_not_positive : errc::pending_fields_mismatch;
  }
  out.t.debit_account_id = p.debit_account_id;
  out.t.credit_account_id = p.credit_account_id;
  out.t.ledger = p.ledger;
  if (out.t.code == 0) out.t.code = p.code;
  if (out.t.ref == 0) out.t.ref = p.ref;
  if (kind == tf::void_pending) out.t.amount = p.amount;
  out.debit = account_index_.find(p.debit_account_id);
  out.credit = account_index_.find(p.credit_account_id);
  out.pending = pi;
  return errc::ok;
}

// Balance flags and overflow, for a transfer that adds debits and credits (plain or
// pending). Posting or voiding a pending only lowers the totals, so needs no check.
errc Ledger::check_balances(const Prepared& p) const {
  if ((p.t.flags & (tf::post_pending | tf::void_pending)) != 0) return errc::ok;
  const Account& d = accounts_[p.debit];
  const Account& c = accounts_[p.credit];
  const auto d_total = checked_add(d.debits_pending + d.debits_posted, p.t.amount);
  const auto c_total = checked_add(c.credits_pending + c.credits_posted, p.t.amount);
  if (!d_total || !c_total) return errc::overflow;
  if ((d.flags & af::debits_must_not_exceed_credits) != 0 && *d_total > d.credits_posted) {
    return errc::exceeds_credits;
  }
  if ((c.flags & af::credits_must_not_exceed_debits) != 0 && *c_total > c.debits_posted) {
    return errc::exceeds_debits;
  }
  return errc::ok;
}

void Ledger::apply(const Prepared& p) {
  IPX_ASSERT(limits_.grow || log_.size() < limits_.transfers_max);
  Account& d = accounts_[p.debit];
  Account& c = accounts_[p.credit];
  const std::int64_t a = p.t.amount;
  PendingState own = PendingState::none;
  if ((p.t.flags & tf::pending) != 0) {
    d.debits_pending += a;
    c.credits_pending += a;
    own = PendingState::open;
    ++open_pendings_;
  } else if ((p.t.flags & (tf::post_pending | tf::void_pending)) != 0) {
    const std::int64_t held_amount = log_[p.pending].amount;
    IPX_ASSERT(state_[p.pending] == PendingState::open && a <= held_amount);
    d.debits_pending -= held_amount;
    c.credits_pending -= held_amount;
    if ((p.t.flags & tf::post_pending) != 0) {
      d.debits_posted += a;
      c.credits_posted += a;
      state_[p.pending] = PendingState::posted;
    } else {
      state_[p.pending] =
          (p.t.flags & tf::expiry) != 0 ? PendingState::expired : PendingState::voided;
    }
    --open_pendings_;
  } else {
    d.debits_posted += a;
    c.credits_posted += a;
  }
  IPX_ASSERT(d.debits_pending >= 0 && c.credits_pending >= 0);
  transfer_index_.insert(p.t.id, static_cast<std::uint32_t>(log_.size()));
  max_id_ = std::max(max_id_, p.t.id);
  if (record_made_) made_.push_back(p.t);
  log_.push_back(p.t);
  state_.push_back(own);
  pending_of_.push_back(p.pending);
  hash_transfers_ = detail::hash_transfer(hash_transfers_, p.t);
}

// Reverses the last apply() exactly (the running hash and max_id_ are restored by the caller).
void Ledger::undo_last() {
  IPX_ASSERT(!log_.empty());
  const Transfer& t = log_.back();
  Account& d = accounts_[account_index_.find(t.debit_account_id)];
  Account& c = accounts_[account_index_.find(t.credit_account_id)];
  if ((t.flags & tf::pending) != 0) {
    IPX_ASSERT(state_.back() == PendingState::open);
    d.debits_pending -= t.amount;
    c.credits_pending -= t.amount;
    --open_pendings_;
  } else if ((t.flags & (tf::post_pending | tf::void_pending)) != 0) {
    const std::uint32_t pi = pending_of_.back();
    const std::int64_t held_amount = log_[pi].amount;
    d.debits_pending += held_amount;
    c.credits_pending += held_amount;
    if ((t.flags & tf::post_pending) != 0) {
      d.debits_posted -= t.amount;
      c.credits_posted -= t.amount;
    }
    state_[pi] = PendingState::open;
    ++open_pendings_;
  } else {
    d.debits_posted -= t.amount;
    c.credits_posted -= t.amount;
  }
  transfer_index_.erase(t.id);
  if (record_made_) made_.pop_back();
  log_.pop_back();
  state_.pop_back();
  pending_of_.pop_back();
}

SubmitResult Ledger::submit(std::span<const Transfer> batch, Ms now) {
  SubmitResult r;
  if (batch.empty()) return r;
  IPX_ASSERT(batch.size() < IdIndex::kNone);  // indexes are reported as uint32
  if ((batch.back().flags & tf::linked) != 0) {
    return {errc::linked_chain_open, static_cast<std::uint32_t>(batch.size() - 1), 0, 0};
  }
  const std::size_t start = log_.size();
  const std::uint64_t hash_before = hash_transfers_;
  const std::uint64_t max_id_before = max_id_;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Prepared p;
    errc ec = prepare(batch[i], now, p);
    if (ec == errc::ok && !p.exists) ec = check_balances(p);
    if (ec != errc::ok) {
      while (log_.size() > start) undo_last();
      hash_transfers_ = hash_before;
      max_id_ = max_id_before;
      return {ec, static_cast<std::uint32_t>(i), 0, 0};
    }
    if (p.exists) {
      ++r.existed;
    } else {
      apply(p);
      ++r.created;
    }
  }
  // Deadlines enter the heap only once the batch stands, so a rollback leaves none behind.
  for (std::size_t i = start; i < log_.size(); ++i) push_deadline(log_[i]);
  return r;
}

void Ledger::push_deadline(const Transfer& t) {
  if ((t.flags & tf::pending) == 0 || t.expires_at_ms == 0) return;
  deadlines_.push_back({t.expires_at_ms, t.id});
  std::push_heap(deadlines_.begin(), deadlines_.end(),
                 [](const Deadline& a, const Deadline& b) { return deadline_after(a, b); });
}

std::size_t Ledger::expire(Ms now) {
  auto after = [](const Deadline& a, const Deadline& b) { return deadline_after(a, b); };
  std::size_t n = 0;
  while (!deadlines_.empty() && deadlines_.front().at_ms <= now.v) {
    if (!limits_.grow && log_.size() >= limits_.transfers_max) break;  // the rest waits
    std::pop_heap(deadlines_.begin(), deadlines_.end(), after);
    const Deadline dl = deadlines_.back();
    deadlines_.pop_back();
    const std::uint32_t pi = transfer_index_.find(dl.id);
    IPX_ASSERT(pi != IdIndex::kNone && log_[pi].expires_at_ms == dl.at_ms);
    if (state_[pi] != PendingState::open) continue;  // posted or voided before its deadline
    const Transfer& pt = log_[pi];
    Prepared p;
    p.t = pt;
    p.t.id = pt.id | kExpiryIdBit;
    p.t.pending_id = pt.id;
    p.t.expires_at_ms = 0;
    p.t.ts_ms = now.v;
    p.t.flags = tf::void_pending | tf::expiry;
    p.debit = account_index_.find(pt.debit_account_id);
    p.credit = account_index_.find(pt.credit_account_id);
    p.pending = pi;
    apply(p);
    ++n;
  }
  return n;
}

}  // namespace ipx::ledger
