// Property test: random ledger operations (holds, posts, partial posts, voids, expiries,
// retries, linked batches with one bad leg, overdrafts, overflows, cross-ledger legs)
// against a reference model written the plain way (std::map, __int128 sums, batch overlay
// instead of undo). After every step: the same result, the same balances, the invariants.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "settlement/ledger.hpp"

namespace ipx::ledger {
namespace {

namespace tf = transfer_flags;
namespace af = account_flags;
using PS = Ledger::PendingState;
__extension__ typedef __int128 Wide;
constexpr Wide kI64Max = std::numeric_limits<std::int64_t>::max();

// ---- reference model -------------------------------------------------------------------
struct RefModel {
  std::map<std::uint64_t, Account> accounts;
  std::map<std::uint64_t, Transfer> transfers;  // normalized, by id
  std::map<std::uint64_t, PS> states;           // pending id -> state
  std::set<std::uint64_t> open;                 // pending ids whose state is open
  std::size_t count = 0;

  struct Batch {  // the batch's effects, merged only if every transfer passes
    std::map<std::uint64_t, Account> accounts;
    std::map<std::uint64_t, Transfer> transfers;
    std::map<std::uint64_t, PS> states;
  };

  const Transfer* find(const Batch& b, std::uint64_t id) const {
    if (auto it = b.transfers.find(id); it != b.transfers.end()) return &it->second;
    if (auto it = transfers.find(id); it != transfers.end()) return &it->second;
    return nullptr;
  }
  PS state(const Batch& b, std::uint64_t id) const {
    if (auto it = b.states.find(id); it != b.states.end()) return it->second;
    if (auto it = states.find(id); it != states.end()) return it->second;
    return PS::none;
  }

  // Fill what a post/void may leave at 0 from the stored one, then compare field by field.
  static bool same(Transfer in, const Transfer& s) {
    if ((s.flags & (tf::post_pending | tf::void_pending)) != 0) {
      if (in.debit_account_id == 0) in.debit_account_id = s.debit_account_id;
      if (in.credit_account_id == 0) in.credit_account_id = s.credit_account_id;
      if (in.ledger == 0) in.ledger = s.ledger;
      if (in.code == 0) in.code = s.code;
      if (in.ref == 0) in.ref = s.ref;
      if ((s.flags & tf::void_pending) != 0 && in.amount == 0) in.amount = s.amount;
    }
    in.ts_ms = s.ts_ms;
    return in == s;
  }

  errc one(Batch& b, const Transfer& in, std::int64_t now, bool& existed) const {
    existed = false;
    if (in.id == 0 || in.id >= kExpiryIdBit) return errc::id_invalid;
    if (const Transfer* s = find(b, in.id)) {
      if (!same(in, *s)) return errc::id_exists_with_different_fields;
      existed = true;
      return errc::ok;
    }
    const int kinds = ((in.flags & tf::pending) ? 1 : 0) + ((in.flags & tf::post_pending) ? 1 : 0) +
                      ((in.flags & tf::void_pending) ? 1 : 0);
    if ((in.flags & ~0xF) != 0 || kinds > 1) return errc::flags_invalid;
    const bool resolve = (in.flags & (tf::post_pending | tf::void_pending)) != 0;
    Transfer t = in;
    t.ts_ms = now;
    if (!resolve) {
      if (in.pending_id != 0) return errc::pending_id_must_be_zero;
      if (in.amount <= 0) return errc::amount_not_positive;
      if (in.expires_at_ms != 0 && (!(in.flags & tf::pending) || in.expires_at_ms <= now))
        return errc::expiry_invalid;
      if (in.ledger == 0) return errc::ledger_invalid;
      if (in.debit_account_id == in.credit_account_id) return errc::accounts_same;
      if (!b.accounts.count(in.debit_account_id) || !b.accounts.count(in.credit_account_id))
        return errc::account_not_found;
      Account& d = b.accounts[in.debit_account_id];
      Account& c = b.accounts[in.credit_account_id];
      if (d.ledger != in.ledger || c.ledger != in.ledger) return errc::ledger_mismatch;
      const Wide d_total = Wide{d.debits_pending} + d.debits_posted + in.amount;
      const Wide c_total = Wide{c.credits_pending} + c.credits_posted + in.amount;
      if (d_total > kI64Max || c_total > kI64Max) return errc::overflow;
      if ((d.flags & af::debits_must_not_exceed_credits) && d_total > d.credits_posted)
        return errc::exceeds_credits;
      if ((c.flags & af::credits_must_not_exceed_debits) && c_total > c.debits_posted)
        return errc::exceeds_debits;
      if (in.flags & tf::pending) {
        d.debits_pending += in.amount;
        c.credits_pending += in.amount;
        b.states[in.id] = PS::open;
      } else {
        d.debits_posted += in.amount;
        c.credits_posted += in.amount;
      }
      b.transfers[in.id] = t;
      return errc::ok;
    }
    if (in.pending_id == 0 || in.pending_id == in.id) return errc::pending_id_invalid;
    const Transfer* p = find(b, in.pending_id);
    if (p == nullptr) return errc::pending_not_found;
    if (!(p->flags & tf::pending)) return errc::pending_not_pending;
    if (state(b, p->id) != PS::open) return errc::pending_already_resolved;
    if (in.expires_at_ms != 0) return errc::expiry_invalid;
    if ((in.debit_account_id && in.debit_account_id != p->debit_account_id) ||
        (in.credit_account_id && in.credit_account_id != p->credit_account_id) ||
        (in.ledger && in.ledger != p->ledger)) {
      return errc::pending_fields_mismatch;
    }
    if (p->expires_at_ms != 0 && p->expires_at_ms <= now) return errc::pending_expired;
    const bool is_post = (in.flags & tf::post_pending) != 0;
    if (is_post && in.amount <= 0) return errc::amount_not_positive;
    if (is_post && in.amount > p->amount) return errc::exceeds_pending_amount;
    if (!is_post && in.amount < 0) return errc::amount_not_positive;
    if (!is_post && in.amount != 0 && in.amount != p->amount) return errc::pending_fields_mismatch;
    t.debit_account_id = p->debit_account_id;
    t.credit_account_id = p->credit_account_id;
    t.ledger = p->ledger;
    if (t.code == 0) t.code = p->code;
    if (t.ref == 0) t.ref = p->ref;
    if (!is_post) t.amount = p->amount;
    resolve_into(b, *p, t, is_post ? PS::posted : PS::voided);
    return errc::ok;
  }

  static void resolve_into(Batch& b, const Transfer& p, const Transfer& t, PS how) {
    Account& d = b.accounts[p.debit_account_id];
    Account& c = b.accounts[p.credit_account_id];
    d.debits_pending -= p.amount;
    c.credits_pending -= p.amount;
    if (how == PS::posted) {
      d.debits_posted += t.amount;
      c.credits_posted += t.amount;
    }
    b.states[p.id] = how;
    b.transfers[t.id] = t;
  }

  void commit(Batch& b, std::size_t created) {
    accounts = b.accounts;
    for (auto& [id, t] : b.transfers) transfers[id] = t;
    for (auto& [id, s] : b.states) {
      states[id] = s;
      if (s == PS::open) {
        open.insert(id);
      } else {
        open.erase(id);
      }
    }
    count += created;
  }

  SubmitResult submit(const std::vector<Transfer>& batch, std::int64_t now) {
    SubmitResult r;
    if (batch.empty()) return r;
    if (batch.back().flags & tf::linked)
      return {errc::linked_chain_open, static_cast<std::uint32_t>(batch.size() - 1), 0, 0};
    Batch b;
    b.accounts = accounts;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      bool existed = false;
      const errc ec = one(b, batch[i], now, existed);
      if (ec != errc::ok) return {ec, static_cast<std::uint32_t>(i), 0, 0};
      ++(existed ? r.existed : r.created);
    }
    commit(b, r.created);
    return r;
  }

  std::size_t expire(std::int64_t now) {
    std::vector<std::pair<std::int64_t, std::uint64_t>> due;
    for (const std::uint64_t id : open) {
      const Transfer& p = transfers.at(id);
      if (p.expires_at_ms != 0 && p.expires_at_ms <= now) due.push_back({p.expires_at_ms, id});
    }
    std::sort(due.begin(), due.end());
    Batch b;
    b.accounts = accounts;
    for (const auto& [at, id] : due) {
      Transfer v = transfers.at(id);
      v.id = id | kExpiryIdBit;
      v.pending_id = id;
      v.expires_at_ms = 0;
      v.ts_ms = now;
      v.flags = tf::void_pending | tf::expiry;
      resolve_into(b, transfers.at(id), v, PS::expired);
    }
    commit(b, due.size());
    return due.size();
  }
};

// ---- random operations -----------------------------------------------------------------
constexpr std::uint32_t kMarket = ledger_for_market(1);

struct Fixture {
  Ledger ledger{Limits{64, std::size_t{1} << 19}};
  RefModel model;
  std::vector<std::uint64_t> cash;   // CNY account ids
  std::vector<std::uint64_t> units;  // market account ids
  std::vector<std::uint64_t> ids;    // every id submitted (for retries)
  std::vector<std::uint64_t> pendings;
  std::uint64_t next_id = 1;
  std::int64_t now = 1'000;

  void add(const Account& a) {
    ASSERT_EQ(ledger.create_account(a), errc::ok);
    model.accounts[a.id] = a;
    (a.ledger == kLedgerCny ? cash : units).push_back(a.id);
  }
  Fixture() {
    add({.id = 1, .ledger = kLedgerCny});  // external
    add({.id = 2,
         .ledger = kLedgerCny,
         .flags = af::credits_must_not_exceed_debits});  // fund payouts
    for (std::uint64_t i = 3; i < 12; ++i) {
      add({.id = i, .owner = i, .ledger = kLedgerCny, .flags = af::debits_must_not_exceed_credits});
    }
    add({.id = 12, .ledger = kLedgerCny});  // escrow
    add({.id = 20, .ledger = kMarket});     // issuance
    for (std::uint64_t i = 21; i < 25; ++i) {
      add({.id = i, .ledger = kMarket, .flags = af::debits_must_not_exceed_credits});
    }
  }
};

class LedgerProperty : public ::testing::TestWithParam<std::uint64_t> {};

std::int64_t random_amount(std::mt19937_64& rng) {
  const auto roll = rng() % 1000;
  if (roll == 0)
    return std::numeric_limits<std::int64_t>::max() - static_cast<std::int64_t>(rng() % 3);
  if (roll < 5) return -static_cast<std::int64_t>(rng() % 3);
  if (roll < 100) return 10'000 + static_cast<std::int64_t>(rng() % 1'000'000);
  return 1 + static_cast<std::int64_t>(rng() % 2'000);
}

Transfer random_transfer(Fixture& f, std::mt19937_64& rng) {
  auto pick = [&rng](const std::vector<std::uint64_t>& v) { return v[rng() % v.size()]; };
  Transfer t;
  t.id = f.next_id++;
  const auto kind = rng() % 100;
  if (kind < 8 && !f.ids.empty()) {  // a retry: same id, same or changed fields
    const Transfer* old = f.ledger.find_transfer(pick(f.ids));
    if (old != nullptr && (old->flags & tf::expiry) == 0) {
      t = *old;
      if (rng() % 3 == 0) t.amount += 1;
      if (rng() % 3 == 0 && (t.flags & (tf::post_pending | tf::void_pending))) {
        t.debit_account_id = t.credit_account_id = t.ledger = 0;
        t.code = t.ref = 0;
      }
      t.flags &= static_cast<std::uint16_t>(~tf::linked);
      return t;
    }
  }
  if (kind < 40 && !f.pendings.empty()) {  // resolve a pending
    const std::uint64_t p = pick(f.pendings);
    const Transfer* pt = f.ledger.find_transfer(p);
    t.pending_id = (rng() % 50 == 0) ? p + 1'000'000 : p;
    t.flags = rng() % 3 == 0 ? tf::void_pending : tf::post_pending;
    const std::int64_t held_amount = pt != nullptr ? pt->amount : 1;
    t.amount = t.flags == tf::void_pending
                   ? (rng() % 2 ? 0 : held_amount)
                   : (rng() % 20 == 0 ? held_amount + 1
                                      : 1 + static_cast<std::int64_t>(
                                                rng() % static_cast<std::uint64_t>(held_amount)));
    if (rng() % 30 == 0) t.credit_account_id = pick(f.cash);  // likely a mismatch
    return t;
  }
  const bool on_market = rng() % 5 == 0;
  const auto& pool = on_market ? f.units : f.cash;
  t.ledger = on_market ? kMarket : kLedgerCny;
  t.debit_account_id = pick(pool);
  t.credit_account_id = pick(pool);
  if (rng() % 40 == 0) t.credit_account_id = pick(on_market ? f.cash : f.units);  // cross-ledger
  if (rng() % 200 == 0) t.credit_account_id = 999;                                // unknown
  if (kind < 55) t.debit_account_id = on_market ? 20 : 1;                         // funding / issue
  t.amount = random_amount(rng);
  t.code = 1 + rng() % 8;
  t.ref = rng() % 4;
  if (kind >= 70) {
    t.flags = tf::pending;
    if (rng() % 2) t.expires_at_ms = f.now + static_cast<std::int64_t>(rng() % 5'000) - 10;
  }
  if (rng() % 300 == 0) t.flags |= tf::expiry;  // not the caller's to set
  return t;
}

void expect_same(Fixture& f, std::size_t step) {
  ASSERT_EQ(f.ledger.transfer_count(), f.model.count) << "step " << step;
  for (const Account& a : f.ledger.accounts()) {
    ASSERT_EQ(a, f.model.accounts.at(a.id)) << "account " << a.id << " step " << step;
  }
}

TEST_P(LedgerProperty, LedgerAgreesWithReferenceModel) {
  constexpr std::size_t kSteps = 100'000;
  std::mt19937_64 rng(GetParam());
  Fixture f;
  std::size_t ok_batches = 0, refused = 0, expired = 0, existed = 0;
  for (std::size_t step = 0; step < kSteps; ++step) {
    f.now += static_cast<std::int64_t>(rng() % 40);
    if (rng() % 20 == 0) {
      const std::size_t n = f.ledger.expire(Ms{f.now});
      ASSERT_EQ(n, f.model.expire(f.now)) << "step " << step;
      expired += n;
    } else {
      const std::size_t size = rng() % 4 == 0 ? 2 + rng() % 4 : 1;
      std::vector<Transfer> batch;
      for (std::size_t i = 0; i < size; ++i) batch.push_back(random_transfer(f, rng));
      for (std::size_t i = 0; i + 1 < size; ++i) batch[i].flags |= tf::linked;
      if (rng() % 100 == 0) batch.back().flags |= tf::linked;  // chain left open
      const SubmitResult got = f.ledger.submit(batch, Ms{f.now});
      const SubmitResult want = f.model.submit(batch, f.now);
      ASSERT_EQ(got.ec, want.ec) << "step " << step << ": " << name(got.ec) << " vs "
                                 << name(want.ec);
      ASSERT_EQ(got.index, want.index) << "step " << step;
      ASSERT_EQ(got.created, want.created) << "step " << step;
      ASSERT_EQ(got.existed, want.existed) << "step " << step;
      if (got.ok()) {
        ++ok_batches;
        existed += got.existed;
        for (const Transfer& t : batch) {
          f.ids.push_back(t.id);
          if (t.flags & tf::pending) f.pendings.push_back(t.id);
        }
      } else {
        ++refused;
      }
    }
    expect_same(f, step);
    if (auto v = f.ledger.check_invariants(step % 20'000 == 0))
      FAIL() << "step " << step << ": " << *v;
  }
  auto v = f.ledger.check_invariants(true);
  ASSERT_FALSE(v.has_value()) << *v;
  for (const auto& [id, s] : f.model.states) ASSERT_EQ(f.ledger.pending_state(id), s) << id;
  for (const auto& [id, t] : f.model.transfers) ASSERT_EQ(*f.ledger.find_transfer(id), t) << id;
  // Enough of every path was taken for the run to mean something.
  EXPECT_GT(ok_batches, kSteps / 4);
  EXPECT_GT(refused, kSteps / 20);
  EXPECT_GT(expired, 100u);
  EXPECT_GT(existed, 100u);
  // The end state survives a snapshot round trip.
  auto copy = Ledger::deserialize(f.ledger.serialize());
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(copy->state_hash(), f.ledger.state_hash());
}

// Compaction is not state: a ledger compacted at random points (keeping a random sample of
// settled transfers besides the open pendings), and now and then rebuilt from its own
// snapshot, answers every batch as the one that never compacts, and has the same balances,
// counts and state hash after every step. Batches naming a transfer the compacted ledger has
// retired (a retry of an old id, a post of a pending resolved long ago) are left out: after
// compaction those ids are the database's alone.
TEST_P(LedgerProperty, LedgerCompactedAtRandomAgreesWithOneThatNeverIs) {
  constexpr std::size_t kSteps = 100'000;
  std::mt19937_64 rng(GetParam() * 31 + 5);
  Fixture f;
  Ledger c = f.ledger;
  std::size_t compactions = 0, restores = 0, applied = 0, left_out = 0;
  auto retired = [&](std::uint64_t id) {
    return id != 0 && f.ledger.find_transfer(id) != nullptr && c.find_transfer(id) == nullptr;
  };
  for (std::size_t step = 0; step < kSteps; ++step) {
    f.now += static_cast<std::int64_t>(rng() % 40);
    if (rng() % 20 == 0) {
      ASSERT_EQ(c.expire(Ms{f.now}), f.ledger.expire(Ms{f.now})) << "step " << step;
    } else {
      const std::size_t size = rng() % 4 == 0 ? 2 + rng() % 4 : 1;
      std::vector<Transfer> batch;
      for (std::size_t i = 0; i < size; ++i) batch.push_back(random_transfer(f, rng));
      for (std::size_t i = 0; i + 1 < size; ++i) batch[i].flags |= tf::linked;
      if (std::any_of(batch.begin(), batch.end(),
                      [&](const Transfer& t) { return retired(t.id) || retired(t.pending_id); })) {
        ++left_out;
        continue;
      }
      const SubmitResult want = f.ledger.submit(batch, Ms{f.now});
      const SubmitResult got = c.submit(batch, Ms{f.now});
      ASSERT_EQ(got.ec, want.ec) << "step " << step << ": " << name(got.ec) << " vs " << name(want.ec);
      ASSERT_EQ(got.index, want.index) << "step " << step;
      ASSERT_EQ(got.created, want.created) << "step " << step;
      ASSERT_EQ(got.existed, want.existed) << "step " << step;
      if (want.ok()) {
        ++applied;
        for (const Transfer& t : batch) {
          f.ids.push_back(t.id);
          if (t.flags & tf::pending) f.pendings.push_back(t.id);
        }
      }
    }
    ASSERT_EQ(c.state_hash(), f.ledger.state_hash()) << "step " << step;
    ASSERT_EQ(c.transfer_count(), f.ledger.transfer_count()) << "step " << step;
    ASSERT_EQ(c.open_pending_count(), f.ledger.open_pending_count()) << "step " << step;
    ASSERT_TRUE(std::equal(c.accounts().begin(), c.accounts().end(), f.ledger.accounts().begin()))
        << "step " << step;
    if (rng() % 400 == 0) {
      const std::uint64_t salt = rng();
      c.compact([salt](const Transfer& t) { return (t.id ^ salt) % 5 == 0; });
      ++compactions;
      if (auto v = c.check_invariants(true)) FAIL() << "step " << step << ": " << *v;
    }
    if (rng() % 4'000 == 0) {
      auto copy = Ledger::deserialize(c.serialize());
      ASSERT_TRUE(copy.has_value()) << "step " << step;
      ASSERT_EQ(copy->serialize(), c.serialize()) << "step " << step;
      c = std::move(*copy);
      ++restores;
    }
  }
  auto v = c.check_invariants(true);
  ASSERT_FALSE(v.has_value()) << *v;
  EXPECT_GT(compactions, 50u);
  EXPECT_GT(restores, 3u);
  EXPECT_GT(applied, kSteps / 4);
  EXPECT_GT(c.retired_count(), applied);
  EXPECT_LT(left_out, kSteps / 2);  // most of the time a retry or a post of an old pending
}

INSTANTIATE_TEST_SUITE_P(Seeds, LedgerProperty, ::testing::Values(1u, 7u, 42u, 20240601u));

}  // namespace
}  // namespace ipx::ledger
