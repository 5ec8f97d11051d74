// The ledger's checks on itself: recomputation from the log, invariants, snapshot encoding
// and the state hash. Off the hot path (debug/test builds per batch, snapshots, restarts).
#include <cstring>
#include <map>

#include "matching/assert.hpp"
#include "settlement/ledger.hpp"
#include "settlement/ledger_hash.hpp"

namespace ipx::ledger {

namespace tf = transfer_flags;
namespace af = account_flags;

namespace {

constexpr std::uint64_t kMagic = 0x3130'4744'4C58'5049ull;  // "IPXLDG01" little-endian (hashes)
constexpr std::uint64_t kFormat = 0x3230'4744'4C58'5049ull;  // "IPXLDG02": serialize()
constexpr std::size_t kAccountBytes = 6 * 8 + 4 + 2 + 2;
constexpr std::size_t kTransferBytes = 9 * 8 + 4 + 2;

// Two's-complement add without UB, so a corrupted log shows as a mismatch, not a crash.
std::int64_t wrap_add(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

class Writer {
 public:
  explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}
  void u64(std::uint64_t v) { put(v, 8); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u16(std::uint16_t v) { put(v, 2); }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }

 private:
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::vector<std::uint8_t>& out_;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  bool has(std::size_t n) const { return in_.size() - pos_ >= n; }
  bool done() const { return pos_ == in_.size(); }
  std::uint64_t u64() { return get(8); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(get(2)); }
  std::uint8_t u8() { return static_cast<std::uint8_t>(get(1)); }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }

 private:
  std::uint64_t get(int n) {
    IPX_ASSERT(has(static_cast<std::size_t>(n)));
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= std::uint64_t{in_[pos_ + static_cast<std::size_t>(i)]} << (8 * i);
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
};

// Over every byte before the trailer: verified before anything is allocated or parsed.
std::uint64_t checksum(std::span<const std::uint8_t> bytes) {
  std::uint64_t h = detail::mix(kMagic, bytes.size());
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) h = detail::mix(h, Reader(bytes.subspan(i, 8)).u64());
  for (; i < bytes.size(); ++i) h = detail::mix(h, bytes[i]);
  return h;
}

}  // namespace

std::vector<Account> Ledger::recompute_balances_from_transfers() const {
  std::vector<Account> out(accounts_);
  for (std::size_t i = 0; i < out.size(); ++i) {
    Account& a = out[i];
    const Account zero{};
    const Account& b = i < base_.size() ? base_[i] : zero;
    a.debits_pending = b.debits_pending;
    a.debits_posted = b.debits_posted;
    a.credits_pending = b.credits_pending;
    a.credits_posted = b.credits_posted;
  }
  for (std::size_t i = carried_count(); i < log_.size(); ++i) {
    const Transfer& t = log_[i];
    const std::uint32_t di = account_index_.find(t.debit_account_id);
    const std::uint32_t ci = account_index_.find(t.credit_account_id);
    IPX_ASSERT(di != IdIndex::kNone && ci != IdIndex::kNone);
    Account& d = out[di];
    Account& c = out[ci];
    if ((t.flags & tf::pending) != 0) {
      d.debits_pending = wrap_add(d.debits_pending, t.amount);
      c.credits_pending = wrap_add(c.credits_pending, t.amount);
    } else if ((t.flags & (tf::post_pending | tf::void_pending)) != 0) {
      const std::int64_t held_amount = log_[pending_of_[i]].amount;
      d.debits_pending = wrap_add(d.debits_pending, -held_amount);
      c.credits_pending = wrap_add(c.credits_pending, -held_amount);
      if ((t.flags & tf::post_pending) != 0) {
        d.debits_posted = wrap_add(d.debits_posted, t.amount);
        c.credits_posted = wrap_add(c.credits_posted, t.amount);
      }
    } else {
      d.debits_posted = wrap_add(d.debits_posted, t.amount);
      c.credits_posted = wrap_add(c.credits_posted, t.amount);
    }
  }
  return out;
}

namespace {

std::optional<std::string> check_account(const Account& a) {
  const std::string id = std::to_string(a.id);
  if (a.debits_pending < 0 || a.debits_posted < 0 || a.credits_pending < 0 ||
      a.credits_posted < 0) {
    return "account " + id + ": negative balance field";
  }
  const auto d_total = checked_add(a.debits_pending, a.debits_posted);
  const auto c_total = checked_add(a.credits_pending, a.credits_posted);
  if (!d_total || !c_total) return "account " + id + ": debits or credits total overflows";
  if ((a.flags & af::debits_must_not_exceed_credits) != 0 && *d_total > a.credits_posted) {
    return "account " + id + ": debits exceed credits";
  }
  if ((a.flags & af::credits_must_not_exceed_debits) != 0 && *c_total > a.debits_posted) {
    return "account " + id + ": credits exceed debits";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Ledger::check_invariants(bool full) const {
  __extension__ typedef __int128 Wide;  // a ledger's sum over accounts may pass int64
  struct Sums {
    Wide dp = 0, dpo = 0, cp = 0, cpo = 0;
  };
  std::map<std::uint32_t, Sums> per_ledger;
  for (const Account& a : accounts_) {
    if (auto v = check_account(a)) return v;
    Sums& s = per_ledger[a.ledger];
    s.dp += a.debits_pending;
    s.dpo += a.debits_posted;
    s.cp += a.credits_pending;
    s.cpo += a.credits_posted;
  }
  for (const auto& [ledger, s] : per_ledger) {
    if (s.dpo != s.cpo) return "ledger " + std::to_string(ledger) + ": posted does not sum to zero";
    if (s.dp != s.cp) return "ledger " + std::to_string(ledger) + ": pending does not sum to zero";
  }
  if (log_.size() != state_.size() || log_.size() != pending_of_.size() ||
      transfer_index_.size() != log_.size() || account_index_.size() != accounts_.size() ||
      carried_count() > log_.size() || base_.size() > accounts_.size()) {
    return std::string("table sizes disagree");
  }
  if (!full) return std::nullopt;

  for (std::size_t i = 0; i < base_.size(); ++i) {
    if (base_[i].id != accounts_[i].id) return std::string("base accounts disagree");
  }
  // Every pending resolved at most once, and its state says how. A carried entry's own
  // resolution (of a retired pending) is not in the live log.
  std::vector<std::uint8_t> resolutions(log_.size(), 0);
  std::size_t open = 0;
  std::uint64_t ha = 0;
  std::uint64_t ht = hash_base_;
  for (const Account& a : accounts_) ha = detail::hash_account(ha, a);
  for (std::size_t i = 0; i < log_.size(); ++i) {
    const Transfer& t = log_[i];
    if (i >= carried_count()) ht = detail::hash_transfer(ht, t);
    if (transfer_index_.find(t.id) != i) return "transfer " + std::to_string(t.id) + ": index";
    if (t.amount <= 0) return "transfer " + std::to_string(t.id) + ": amount <= 0";
    if (i < carried_count() || (t.flags & (tf::post_pending | tf::void_pending)) == 0) continue;
    const std::uint32_t pi = pending_of_[i];
    if (pi >= i || (log_[pi].flags & tf::pending) == 0 || log_[pi].id != t.pending_id) {
      return "transfer " + std::to_string(t.id) + ": resolves no earlier pending";
    }
    if (++resolutions[pi] > 1)
      return "pending " + std::to_string(t.pending_id) + ": resolved twice";
    const PendingState want = (t.flags & tf::post_pending) != 0 ? PendingState::posted
                              : (t.flags & tf::expiry) != 0     ? PendingState::expired
                                                                : PendingState::voided;
    if (state_[pi] != want) return "pending " + std::to_string(t.pending_id) + ": state";
  }
  for (std::size_t i = 0; i < log_.size(); ++i) {
    if ((log_[i].flags & tf::pending) == 0) {
      if (state_[i] != PendingState::none)
        return "transfer " + std::to_string(log_[i].id) + ": state";
    } else if (resolutions[i] == 0) {
      if (i < carried_count() && state_[i] != carried_state_[i]) {
        return "pending " + std::to_string(log_[i].id) + ": carried state";
      }
      if (state_[i] == PendingState::open) {
        ++open;
      } else if (i >= carried_count() || state_[i] == PendingState::none) {
        return "pending " + std::to_string(log_[i].id) + ": not open";
      }  // else carried, resolved before the compaction
    }
  }
  if (open != open_pendings_) return std::string("open pending count");
  if (ha != hash_accounts_ || ht != hash_transfers_) return std::string("running hash");
  const std::vector<Account> replayed = recompute_balances_from_transfers();
  for (std::size_t i = 0; i < accounts_.size(); ++i) {
    if (!(replayed[i] == accounts_[i])) {
      return "account " + std::to_string(accounts_[i].id) + ": balances differ from the log";
    }
  }
  return std::nullopt;
}

std::uint64_t Ledger::state_hash() const {
  std::uint64_t h = detail::mix(kMagic, accounts_.size());
  h = detail::mix(h, transfer_count());
  h = detail::mix(h, hash_accounts_);
  return detail::mix(h, hash_transfers_);
}

namespace {

void write_account(Writer& w, const Account& a) {
  w.u64(a.id);
  w.u64(a.owner);
  w.i64(a.debits_pending);
  w.i64(a.debits_posted);
  w.i64(a.credits_pending);
  w.i64(a.credits_posted);
  w.u32(a.ledger);
  w.u16(a.code);
  w.u16(a.flags);
}

Account read_account(Reader& r) {
  Account a;
  a.id = r.u64();
  a.owner = r.u64();
  a.debits_pending = r.i64();
  a.debits_posted = r.i64();
  a.credits_pending = r.i64();
  a.credits_posted = r.i64();
  a.ledger = r.u32();
  a.code = r.u16();
  a.flags = r.u16();
  return a;
}

}  // namespace

std::vector<std::uint8_t> Ledger::serialize() const {
  std::vector<std::uint8_t> out;
  out.reserve(8 * 12 + (accounts_.size() + base_.size()) * kAccountBytes +
              log_.size() * (kTransferBytes + 1));
  Writer w(out);
  w.u64(kFormat);
  w.u64(limits_.accounts_max);
  w.u64(limits_.transfers_max);
  w.u64(limits_.grow ? 1 : 0);
  w.u64(accounts_.size());
  for (const Account& a : accounts_) write_account(w, a);
  w.u64(retired_);
  w.u64(carried_count());
  w.u64(hash_base_);
  w.u64(max_id_base_);
  w.u64(base_.size());
  for (const Account& a : base_) write_account(w, a);
  w.u64(log_.size());
  for (std::size_t i = 0; i < log_.size(); ++i) {
    const Transfer& t = log_[i];
    w.u64(t.id);
    w.u64(t.debit_account_id);
    w.u64(t.credit_account_id);
    w.i64(t.amount);
    w.u64(t.pending_id);
    w.u64(t.code);
    w.u64(t.ref);
    w.i64(t.expires_at_ms);
    w.i64(t.ts_ms);
    w.u32(t.ledger);
    w.u16(t.flags);
    if (i < carried_count()) out.push_back(static_cast<std::uint8_t>(carried_state_[i]));
  }
  w.u64(state_hash());
  w.u64(checksum(out));
  return out;
}

// Re-applies one logged transfer with every check a submit makes (at its own ts_ms).
errc Ledger::replay(const Transfer& t) {
  if ((t.flags & tf::expiry) != 0) {
    const std::uint32_t pi =
        t.pending_id == 0 ? IdIndex::kNone : transfer_index_.find(t.pending_id);
    if (pi == IdIndex::kNone || t.id != (t.pending_id | kExpiryIdBit) ||
        t.flags != (tf::void_pending | tf::expiry) || state_[pi] != PendingState::open) {
      return errc::pending_not_found;
    }
    const Transfer& p = log_[pi];
    if (p.expires_at_ms == 0 || p.expires_at_ms > t.ts_ms || t.amount != p.amount ||
        t.debit_account_id != p.debit_account_id || t.credit_account_id != p.credit_account_id ||
        t.ledger != p.ledger || t.code != p.code || t.ref != p.ref || t.expires_at_ms != 0) {
      return errc::pending_fields_mismatch;
    }
    if (!limits_.grow && log_.size() >= limits_.transfers_max) return errc::capacity;
    Prepared pr{t, account_index_.find(t.debit_account_id),
                account_index_.find(t.credit_account_id), pi, false};
    apply(pr);
    return errc::ok;
  }
  Prepared p;
  errc ec = prepare(t, Ms{t.ts_ms}, p);
  if (ec == errc::ok && p.exists) ec = errc::id_exists_with_different_fields;
  if (ec == errc::ok) ec = check_balances(p);
  if (ec == errc::ok && !(p.t == t)) ec = errc::pending_fields_mismatch;  // not normalized
  if (ec == errc::ok) apply(p);
  return ec;
}

std::optional<Ledger> Ledger::deserialize(std::span<const std::uint8_t> bytes, bool prefault) {
  if (bytes.size() < 8 * 13) return std::nullopt;
  const auto body = bytes.first(bytes.size() - 8);
  if (Reader(bytes.last(8)).u64() != checksum(body)) return std::nullopt;
  Reader r(body);
  if (r.u64() != kFormat) return std::nullopt;
  Limits limits;
  limits.prefault = prefault;
  limits.accounts_max = r.u64();
  limits.transfers_max = r.u64();
  const std::uint64_t grow = r.u64();
  if (grow > 1) return std::nullopt;
  limits.grow = grow == 1;
  constexpr std::size_t kSaneMax = std::size_t{1} << 31;
  if (limits.accounts_max == 0 || limits.accounts_max > kSaneMax || limits.transfers_max == 0 ||
      limits.transfers_max > kSaneMax) {
    return std::nullopt;
  }
  auto read_accounts = [&](std::vector<Account>& out) {
    if (!r.has(8)) return false;
    const std::uint64_t n = r.u64();
    if (n > limits.accounts_max || !r.has(n * kAccountBytes)) return false;
    out.resize(n);
    for (Account& a : out) a = read_account(r);
    return true;
  };
  std::vector<Account> accounts;
  History h;
  if (!read_accounts(accounts) || !r.has(8 * 4)) return std::nullopt;
  h.retired = r.u64();
  h.carried = r.u64();
  h.hash_transfers = r.u64();
  h.max_id = r.u64();
  if (!read_accounts(h.base) || !r.has(8)) return std::nullopt;
  const std::uint64_t n_transfers = r.u64();
  if ((!limits.grow && n_transfers > limits.transfers_max) || n_transfers > kSaneMax ||
      h.carried > n_transfers ||
      !r.has(n_transfers * kTransferBytes + h.carried)) {
    return std::nullopt;
  }
  std::uint64_t i = 0;
  auto next = [&](Transfer& t, PendingState& st) {
    t.id = r.u64();
    t.debit_account_id = r.u64();
    t.credit_account_id = r.u64();
    t.amount = r.i64();
    t.pending_id = r.u64();
    t.code = r.u64();
    t.ref = r.u64();
    t.expires_at_ms = r.i64();
    t.ts_ms = r.i64();
    t.ledger = r.u32();
    t.flags = r.u16();
    if (i++ < h.carried) st = static_cast<PendingState>(r.u8());
    return true;
  };
  std::string error;
  std::optional<Ledger> out = restore(limits, accounts, h, n_transfers, next, error);
  if (!out || !r.has(8) || r.u64() != out->state_hash() || !r.done()) return std::nullopt;
  if (out->check_invariants(true)) return std::nullopt;
  return out;
}

std::optional<Ledger> Ledger::restore(Limits limits, std::span<const Account> accounts,
                                      const History& history, std::uint64_t transfers,
                                      const NextTransfer& next, std::string& error) {
  if (accounts.size() > limits.accounts_max || (!limits.grow && transfers > limits.transfers_max)) {
    error = "ledger: more accounts or transfers than its limits";
    return std::nullopt;
  }
  if (history.carried > transfers || history.base.size() > accounts.size()) {
    error = "ledger: a history larger than its ledger";
    return std::nullopt;
  }
  std::optional<Ledger> out(std::in_place, limits);
  Ledger& l = *out;
  for (const Account& a : accounts) {
    Account fresh = a;
    fresh.debits_pending = fresh.debits_posted = fresh.credits_pending = fresh.credits_posted = 0;
    if (l.find_account(a.id) != nullptr || l.create_account(fresh) != errc::ok) {
      error = "ledger: account " + std::to_string(a.id) + " is repeated or malformed";
      return std::nullopt;
    }
  }
  // The base: the balances at the last compaction, of the accounts of that time.
  for (std::size_t i = 0; i < history.base.size(); ++i) {
    const Account& b = history.base[i];
    Account& a = l.accounts_[i];
    if (b.id != a.id || b.ledger != a.ledger || b.code != a.code || b.flags != a.flags ||
        b.owner != a.owner) {
      error = "ledger: base account " + std::to_string(b.id) + " is not the ledger's";
      return std::nullopt;
    }
    if (auto bad = check_account(b)) {
      error = "ledger: base " + *bad;
      return std::nullopt;
    }
    a = b;
  }
  l.base_.assign(history.base.begin(), history.base.end());
  l.retired_ = history.retired;
  l.hash_base_ = l.hash_transfers_ = history.hash_transfers;
  l.max_id_base_ = l.max_id_ = history.max_id;
  if (history.retired > (std::uint64_t{1} << 62)) {
    error = "ledger: a retired count out of range";
    return std::nullopt;
  }
  // Carried entries: already in the base. Checked, indexed, not applied; the open pendings
  // must be exactly the base's pending balances.
  std::vector<Account> pending(history.base.size());
  Transfer t;
  for (std::uint64_t i = 0; i < history.carried; ++i) {
    PendingState st = PendingState::none;
    if (!next(t, st)) {
      error = "ledger: the log ends after " + std::to_string(i) + " transfers";
      return std::nullopt;
    }
    const std::string id = "ledger: carried transfer " + std::to_string(t.id);
    const std::uint32_t d = t.debit_account_id == 0 ? IdIndex::kNone : l.account_index_.find(t.debit_account_id);
    const std::uint32_t c = t.credit_account_id == 0 ? IdIndex::kNone : l.account_index_.find(t.credit_account_id);
    const bool is_pending = (t.flags & tf::pending) != 0;
    const bool state_ok = is_pending ? st >= PendingState::open && st <= PendingState::expired
                                     : st == PendingState::none;
    if (t.id == 0 || t.id > (kIdMax | kExpiryIdBit) || t.id > history.max_id ||
        l.transfer_index_.find(t.id) != IdIndex::kNone || t.amount <= 0 ||
        d >= history.base.size() || c >= history.base.size() || d == c ||
        l.accounts_[d].ledger != t.ledger || l.accounts_[c].ledger != t.ledger || !state_ok) {
      error = id + " is malformed";
      return std::nullopt;
    }
    if (st == PendingState::open) {
      pending[d].debits_pending = wrap_add(pending[d].debits_pending, t.amount);
      pending[c].credits_pending = wrap_add(pending[c].credits_pending, t.amount);
      ++l.open_pendings_;
    }
    l.transfer_index_.insert(t.id, static_cast<std::uint32_t>(l.log_.size()));
    l.log_.push_back(t);
    l.state_.push_back(st);
    l.carried_state_.push_back(st);
    l.pending_of_.push_back(IdIndex::kNone);
  }
  for (std::size_t i = 0; i < history.base.size(); ++i) {
    if (pending[i].debits_pending != history.base[i].debits_pending ||
        pending[i].credits_pending != history.base[i].credits_pending) {
      error = "ledger: account " + std::to_string(history.base[i].id) +
              "'s base pending balances are not its open carried pendings";
      return std::nullopt;
    }
  }
  for (std::uint64_t i = history.carried; i < transfers; ++i) {
    PendingState ignored = PendingState::none;
    if (!next(t, ignored)) {
      error = "ledger: the log ends after " + std::to_string(i) + " transfers";
      return std::nullopt;
    }
    if (const errc ec = l.replay(t); ec != errc::ok) {
      error = "ledger: transfer " + std::to_string(t.id) + " does not replay (" +
              std::string(ledger_category().message(static_cast<int>(ec))) + ")";
      return std::nullopt;
    }
  }
  for (std::size_t i = 0; i < l.log_.size(); ++i) {
    if (l.state_[i] == PendingState::open) l.push_deadline(l.log_[i]);
  }
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    if (!(accounts[i] == l.accounts_[i])) {
      error = "ledger: account " + std::to_string(accounts[i].id) + " disagrees with the log";
      return std::nullopt;
    }
  }
  if (auto broken = l.check_invariants(false)) {
    error = "ledger: " + *broken;
    return std::nullopt;
  }
  return out;
}

}  // namespace ipx::ledger
