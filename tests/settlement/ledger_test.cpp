// Unit tests: one per rule or flow of settlement/ledger.hpp.
#include "settlement/ledger.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace ipx::ledger {
namespace {

namespace tf = transfer_flags;
namespace af = account_flags;

constexpr std::uint64_t kExternal = 1;
constexpr std::uint64_t kAlice = 2;
constexpr std::uint64_t kBob = 3;
constexpr std::uint64_t kEscrow = 4;
constexpr std::uint64_t kAliceUnits = 10;
constexpr std::uint64_t kIssuer = 11;
constexpr Ms kNow{1'000};

class LedgerTest : public ::testing::Test {
 protected:
  LedgerTest() : l(Limits{64, 256}) {
    EXPECT_EQ(l.create_account({.id = kExternal, .ledger = kLedgerCny}), errc::ok);
    EXPECT_EQ(l.create_account({.id = kAlice,
                                .owner = 100,
                                .ledger = kLedgerCny,
                                .flags = af::debits_must_not_exceed_credits}),
              errc::ok);
    EXPECT_EQ(l.create_account({.id = kBob,
                                .owner = 101,
                                .ledger = kLedgerCny,
                                .flags = af::debits_must_not_exceed_credits}),
              errc::ok);
    EXPECT_EQ(l.create_account({.id = kEscrow, .ledger = kLedgerCny}), errc::ok);
    EXPECT_EQ(l.create_account({.id = kAliceUnits,
                                .ledger = ledger_for_market(7),
                                .flags = af::debits_must_not_exceed_credits}),
              errc::ok);
    EXPECT_EQ(l.create_account({.id = kIssuer, .ledger = ledger_for_market(7)}), errc::ok);
  }
  void TearDown() override {
    auto v = l.check_invariants();
    EXPECT_FALSE(v.has_value()) << *v;
  }
  static Transfer plain(std::uint64_t id, std::uint64_t debit, std::uint64_t credit,
                        std::int64_t amount) {
    return {.id = id,
            .debit_account_id = debit,
            .credit_account_id = credit,
            .amount = amount,
            .code = 1,
            .ref = 0,
            .ledger = kLedgerCny};
  }
  static Transfer hold(std::uint64_t id, std::uint64_t debit, std::uint64_t credit,
                       std::int64_t amount, std::int64_t expires_at_ms = 0) {
    Transfer t = plain(id, debit, credit, amount);
    t.flags = tf::pending;
    t.expires_at_ms = expires_at_ms;
    return t;
  }
  static Transfer post(std::uint64_t id, std::uint64_t pending_id, std::int64_t amount) {
    return {.id = id, .amount = amount, .pending_id = pending_id, .flags = tf::post_pending};
  }
  static Transfer void_(std::uint64_t id, std::uint64_t pending_id) {
    return {.id = id, .pending_id = pending_id, .flags = tf::void_pending};
  }
  SubmitResult one(const Transfer& t, Ms now = kNow) { return l.submit(std::span(&t, 1), now); }
  const Account& acct(std::uint64_t id) { return *l.find_account(id); }
  void fund(std::uint64_t who, std::int64_t amount, std::uint64_t id) {
    ASSERT_TRUE(one(plain(id, kExternal, who, amount)).ok());
  }

  Ledger l;
};

TEST_F(LedgerTest, LedgerFundMovesFromExternalAndSumsToZero) {
  fund(kAlice, 5'000, 1);
  EXPECT_EQ(available(acct(kAlice)), 5'000);
  EXPECT_EQ(posted_balance(acct(kExternal)), -5'000);
  EXPECT_EQ(l.transfer_count(), 1u);
  EXPECT_EQ(l.transfers_since(0)[0].ts_ms, kNow.v);
}

TEST_F(LedgerTest, LedgerOverdraftRefusedAsExceedsCredits) {
  fund(kAlice, 100, 1);
  const auto r = one(plain(2, kAlice, kBob, 101));
  EXPECT_EQ(r.ec, errc::exceeds_credits);
  EXPECT_EQ(protocol_code(r.ec), "INSUFFICIENT_FUNDS");
  EXPECT_EQ(available(acct(kAlice)), 100);
  EXPECT_TRUE(one(plain(2, kAlice, kBob, 100)).ok());
  EXPECT_EQ(available(acct(kAlice)), 0);
}

TEST_F(LedgerTest, LedgerHoldCountsAgainstAvailable) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 600)).ok());
  EXPECT_EQ(available(acct(kAlice)), 400);
  EXPECT_EQ(held(acct(kAlice)), 600);
  EXPECT_EQ(one(hold(3, kAlice, kEscrow, 401)).ec, errc::exceeds_credits);
  EXPECT_EQ(l.pending_state(2), Ledger::PendingState::open);
  EXPECT_EQ(l.open_pending_count(), 1u);
}

TEST_F(LedgerTest, LedgerPartialPostReturnsTheRest) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 600)).ok());
  ASSERT_TRUE(one(post(3, 2, 450)).ok());
  EXPECT_EQ(held(acct(kAlice)), 0);
  EXPECT_EQ(available(acct(kAlice)), 550);
  EXPECT_EQ(posted_balance(acct(kEscrow)), 450);
  EXPECT_EQ(l.pending_state(2), Ledger::PendingState::posted);
  const Transfer* stored = l.find_transfer(3);
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(stored->debit_account_id, kAlice);  // inherited from the pending
  EXPECT_EQ(stored->code, 1u);
  EXPECT_EQ(stored->ledger, kLedgerCny);
}

TEST_F(LedgerTest, LedgerPostAboveHeldRefused) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 600)).ok());
  EXPECT_EQ(one(post(3, 2, 601)).ec, errc::exceeds_pending_amount);
  EXPECT_EQ(one(post(3, 2, 0)).ec, errc::amount_not_positive);
}

TEST_F(LedgerTest, LedgerVoidReturnsAll) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 600)).ok());
  ASSERT_TRUE(one(void_(3, 2)).ok());
  EXPECT_EQ(available(acct(kAlice)), 1'000);
  EXPECT_EQ(l.find_transfer(3)->amount, 600);
  EXPECT_EQ(l.pending_state(2), Ledger::PendingState::voided);
}

TEST_F(LedgerTest, LedgerPendingResolvedAtMostOnce) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 600)).ok());
  ASSERT_TRUE(one(post(3, 2, 600)).ok());
  EXPECT_EQ(one(void_(4, 2)).ec, errc::pending_already_resolved);
  EXPECT_EQ(one(post(4, 2, 1)).ec, errc::pending_already_resolved);
  EXPECT_EQ(one(post(4, 1, 1)).ec, errc::pending_not_pending);
  EXPECT_EQ(one(post(4, 99, 1)).ec, errc::pending_not_found);
  EXPECT_EQ(one(post(4, 4, 1)).ec, errc::pending_id_invalid);
}

TEST_F(LedgerTest, LedgerExpiryVoidsWithDerivedId) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 300, 5'000)).ok());
  ASSERT_TRUE(one(hold(3, kAlice, kEscrow, 200, 4'000)).ok());
  ASSERT_TRUE(one(hold(4, kAlice, kEscrow, 100, 9'000)).ok());
  EXPECT_EQ(l.expire(Ms{3'999}), 0u);
  EXPECT_EQ(one(post(5, 2, 1), Ms{5'000}).ec, errc::pending_expired);  // at its deadline
  EXPECT_EQ(l.expire(Ms{5'000}), 2u);
  const auto fresh = l.transfers_since(l.transfer_count() - 2);
  EXPECT_EQ(fresh[0].id, 3 | kExpiryIdBit);  // earlier deadline first
  EXPECT_EQ(fresh[1].id, 2 | kExpiryIdBit);
  EXPECT_EQ(fresh[1].flags, tf::void_pending | tf::expiry);
  EXPECT_EQ(fresh[1].ts_ms, 5'000);
  EXPECT_EQ(l.pending_state(2), Ledger::PendingState::expired);
  EXPECT_EQ(held(acct(kAlice)), 100);
  EXPECT_EQ(l.expire(Ms{6'000}), 0u);
  EXPECT_EQ(one(void_(6, 3), Ms{6'000}).ec, errc::pending_already_resolved);
}

TEST_F(LedgerTest, LedgerResolvedPendingIsNotExpiredLater) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 300, 5'000)).ok());
  ASSERT_TRUE(one(post(3, 2, 300)).ok());
  EXPECT_EQ(l.expire(Ms{10'000}), 0u);
  EXPECT_EQ(posted_balance(acct(kEscrow)), 300);
}

TEST_F(LedgerTest, LedgerExpiryMustBeFutureAndOnPendingOnly) {
  fund(kAlice, 1'000, 1);
  EXPECT_EQ(one(hold(2, kAlice, kEscrow, 1, kNow.v)).ec, errc::expiry_invalid);
  Transfer t = plain(2, kAlice, kEscrow, 1);
  t.expires_at_ms = kNow.v + 1;
  EXPECT_EQ(one(t).ec, errc::expiry_invalid);
}

TEST_F(LedgerTest, LedgerLinkedBatchRollsBackOnBadLeg) {
  fund(kAlice, 1'000, 1);
  const std::uint64_t hash_before = l.state_hash();
  const std::size_t count_before = l.transfer_count();
  std::vector<Transfer> batch = {hold(2, kAlice, kEscrow, 500), post(3, 2, 400),
                                 plain(4, kEscrow, kBob, 400), plain(5, kAlice, kBob, 601)};
  for (std::size_t i = 0; i + 1 < batch.size(); ++i) batch[i].flags |= tf::linked;
  const auto r = l.submit(batch, kNow);
  EXPECT_EQ(r.ec, errc::exceeds_credits);
  EXPECT_EQ(r.index, 3u);
  EXPECT_EQ(l.transfer_count(), count_before);
  EXPECT_EQ(l.state_hash(), hash_before);
  EXPECT_EQ(available(acct(kAlice)), 1'000);
  EXPECT_EQ(posted_balance(acct(kBob)), 0);
  EXPECT_EQ(l.find_transfer(2), nullptr);
  // The same ids apply once the bad leg is fixed.
  batch[3].amount = 600;
  const auto ok = l.submit(batch, kNow);
  ASSERT_TRUE(ok.ok()) << name(ok.ec);
  EXPECT_EQ(ok.created, 4u);
  EXPECT_EQ(available(acct(kAlice)), 0);
  EXPECT_EQ(posted_balance(acct(kBob)), 1'000);
}

TEST_F(LedgerTest, LedgerLinkedChainMustBeClosed) {
  fund(kAlice, 1'000, 1);
  Transfer t = plain(2, kAlice, kBob, 1);
  t.flags = tf::linked;
  const auto r = one(t);
  EXPECT_EQ(r.ec, errc::linked_chain_open);
  EXPECT_EQ(r.index, 0u);
}

TEST_F(LedgerTest, LedgerIdempotentIdChangesNothing) {
  fund(kAlice, 1'000, 1);
  const auto again = one(plain(1, kExternal, kAlice, 1'000), Ms{kNow.v + 50});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.existed, 1u);
  EXPECT_EQ(again.created, 0u);
  EXPECT_EQ(available(acct(kAlice)), 1'000);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 600)).ok());
  ASSERT_TRUE(one(void_(3, 2)).ok());
  EXPECT_EQ(one(void_(3, 2)).existed, 1u);  // a retried void: exists, not already_resolved
  Transfer explicit_void = void_(3, 2);
  explicit_void.amount = 600;
  explicit_void.debit_account_id = kAlice;
  EXPECT_EQ(one(explicit_void).existed, 1u);
}

TEST_F(LedgerTest, LedgerSameIdDifferentFieldsRefused) {
  fund(kAlice, 1'000, 1);
  EXPECT_EQ(one(plain(1, kExternal, kAlice, 999)).ec, errc::id_exists_with_different_fields);
  EXPECT_EQ(one(plain(1, kExternal, kBob, 1'000)).ec, errc::id_exists_with_different_fields);
  Transfer other_ref = plain(1, kExternal, kAlice, 1'000);
  other_ref.ref = 77;
  EXPECT_EQ(one(other_ref).ec, errc::id_exists_with_different_fields);
}

TEST_F(LedgerTest, LedgerSameIdTwiceInOneBatch) {
  const std::vector<Transfer> batch = {plain(1, kExternal, kAlice, 5),
                                       plain(1, kExternal, kAlice, 5)};
  const auto r = l.submit(batch, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.created, 1u);
  EXPECT_EQ(r.existed, 1u);
  EXPECT_EQ(available(acct(kAlice)), 5);
}

TEST_F(LedgerTest, LedgerCrossLedgerRefused) {
  fund(kAlice, 1'000, 1);
  EXPECT_EQ(one(plain(2, kAlice, kIssuer, 1)).ec, errc::ledger_mismatch);
  Transfer units = plain(2, kIssuer, kAliceUnits, 10);
  EXPECT_EQ(one(units).ec, errc::ledger_mismatch);  // transfer says CNY, accounts a market
  units.ledger = ledger_for_market(7);
  EXPECT_TRUE(one(units).ok());
  EXPECT_EQ(posted_balance(acct(kAliceUnits)), 10);
}

TEST_F(LedgerTest, LedgerShapeErrors) {
  EXPECT_EQ(one(plain(0, kExternal, kAlice, 1)).ec, errc::id_invalid);
  EXPECT_EQ(one(plain(kExpiryIdBit | 1, kExternal, kAlice, 1)).ec, errc::id_invalid);
  EXPECT_EQ(one(plain(1, kExternal, kAlice, 0)).ec, errc::amount_not_positive);
  EXPECT_EQ(one(plain(1, kExternal, kAlice, -5)).ec, errc::amount_not_positive);
  EXPECT_EQ(one(plain(1, kAlice, kAlice, 1)).ec, errc::accounts_same);
  EXPECT_EQ(one(plain(1, kExternal, 999, 1)).ec, errc::account_not_found);
  EXPECT_EQ(one(plain(1, kExternal, 0, 1)).ec, errc::account_not_found);
  Transfer t = plain(1, kExternal, kAlice, 1);
  t.flags = tf::pending | tf::post_pending;
  EXPECT_EQ(one(t).ec, errc::flags_invalid);
  t.flags = tf::expiry;
  EXPECT_EQ(one(t).ec, errc::flags_invalid);
  t.flags = 0;
  t.pending_id = 5;
  EXPECT_EQ(one(t).ec, errc::pending_id_must_be_zero);
  t.pending_id = 0;
  t.ledger = 0;
  EXPECT_EQ(one(t).ec, errc::ledger_invalid);
  EXPECT_EQ(l.transfer_count(), 0u);
}

TEST_F(LedgerTest, LedgerPostNamingOtherAccountsRefused) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 600)).ok());
  Transfer p = post(3, 2, 10);
  p.credit_account_id = kBob;
  EXPECT_EQ(one(p).ec, errc::pending_fields_mismatch);
  Transfer v = void_(3, 2);
  v.amount = 5;  // a void returns all: only 0 or the held amount
  EXPECT_EQ(one(v).ec, errc::pending_fields_mismatch);
}

TEST_F(LedgerTest, LedgerOverflowRefused) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  ASSERT_TRUE(one(plain(1, kExternal, kBob, kMax)).ok());
  EXPECT_EQ(one(plain(2, kExternal, kAlice, 1)).ec, errc::overflow);  // external's debits
  EXPECT_EQ(one(plain(2, kEscrow, kBob, 1)).ec, errc::overflow);      // Bob's credits
  ASSERT_TRUE(one(hold(3, kBob, kEscrow, kMax)).ok());
  EXPECT_EQ(available(acct(kBob)), 0);
}

TEST_F(LedgerTest, LedgerCreditsMustNotExceedDebits) {
  ASSERT_EQ(l.create_account(
                {.id = 20, .ledger = kLedgerCny, .flags = af::credits_must_not_exceed_debits}),
            errc::ok);
  EXPECT_EQ(one(plain(1, kExternal, 20, 1)).ec, errc::exceeds_debits);
  ASSERT_TRUE(one(plain(1, 20, kExternal, 10)).ok());
  EXPECT_TRUE(one(plain(2, kExternal, 20, 10)).ok());
}

TEST_F(LedgerTest, LedgerAccountCreationRules) {
  EXPECT_EQ(l.create_account({.id = kAlice,
                              .owner = 100,
                              .ledger = kLedgerCny,
                              .flags = af::debits_must_not_exceed_credits}),
            errc::ok);
  EXPECT_EQ(l.create_account({.id = kAlice, .ledger = kLedgerCny}),
            errc::account_exists_with_different_fields);
  EXPECT_EQ(l.create_account({.id = 0, .ledger = kLedgerCny}), errc::account_id_invalid);
  EXPECT_EQ(l.create_account({.id = 50, .ledger = 0}), errc::ledger_invalid);
  EXPECT_EQ(l.create_account({.id = 50, .ledger = 1, .flags = af::all}),
            errc::account_flags_invalid);
  EXPECT_EQ(l.create_account({.id = 50, .credits_posted = 1, .ledger = 1}),
            errc::account_balances_not_zero);
}

TEST(LedgerLimits, LedgerCapacityIsAnErrorNotAGrowth) {
  Ledger l(Limits{.accounts_max = 2, .transfers_max = 3, .prefault = true});
  ASSERT_EQ(l.create_account({.id = 1, .ledger = 1}), errc::ok);
  ASSERT_EQ(l.create_account({.id = 2, .ledger = 1}), errc::ok);
  EXPECT_EQ(l.create_account({.id = 3, .ledger = 1}), errc::capacity);
  std::vector<Transfer> ts;
  for (std::uint64_t i = 1; i <= 4; ++i) {
    ts.push_back(
        {.id = i, .debit_account_id = 1, .credit_account_id = 2, .amount = 1, .ledger = 1});
  }
  const auto r = l.submit(ts, Ms{0});
  EXPECT_EQ(r.ec, errc::capacity);
  EXPECT_EQ(r.index, 3u);
  EXPECT_EQ(l.transfer_count(), 0u);
  EXPECT_TRUE(l.submit(std::span(ts).first(3), Ms{0}).ok());
  EXPECT_FALSE(l.check_invariants().has_value());
}

TEST_F(LedgerTest, LedgerSnapshotRoundTripsAndHashMatches) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 300, 5'000)).ok());
  ASSERT_TRUE(one(hold(3, kAlice, kEscrow, 200, 6'000)).ok());
  ASSERT_TRUE(one(post(4, 3, 150)).ok());
  ASSERT_TRUE(one(hold(5, kAlice, kBob, 100, 9'000)).ok());
  ASSERT_EQ(l.expire(Ms{5'000}), 1u);
  const auto bytes = l.serialize();
  auto copy = Ledger::deserialize(bytes);
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(copy->state_hash(), l.state_hash());
  EXPECT_EQ(copy->serialize(), bytes);
  // Both go on identically, expiry included.
  EXPECT_EQ(copy->expire(Ms{9'000}), l.expire(Ms{9'000}));
  EXPECT_EQ(copy->state_hash(), l.state_hash());
  // Any flipped byte is refused, never loaded.
  for (std::size_t i = 0; i < bytes.size(); i += 7) {
    auto bad = bytes;
    bad[i] ^= 0x01;
    EXPECT_FALSE(Ledger::deserialize(bad).has_value()) << "byte " << i;
  }
  EXPECT_FALSE(Ledger::deserialize(std::span(bytes).first(bytes.size() - 1)).has_value());
}

// Ledger::restore (engine snapshots): from its accounts and log, the same ledger (hash,
// balances, pending states, deadlines: both expire alike); what the log cannot have made is
// refused with the reason.
TEST_F(LedgerTest, LedgerRestoreFromAccountsAndLogGivesTheSameLedger) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 300, 5'000)).ok());
  ASSERT_TRUE(one(hold(3, kAlice, kEscrow, 200, 6'000)).ok());
  ASSERT_TRUE(one(post(4, 3, 150)).ok());
  ASSERT_TRUE(one(hold(5, kAlice, kBob, 100, 9'000)).ok());
  ASSERT_TRUE(one(void_(6, 5)).ok());
  ASSERT_TRUE(one(hold(7, kAlice, kBob, 50, 8'000)).ok());
  ASSERT_EQ(l.expire(Ms{5'000}), 1u);
  const std::vector<Account> accounts(l.accounts().begin(), l.accounts().end());
  const std::vector<Transfer> log(l.transfers_since(0).begin(), l.transfers_since(0).end());
  auto restore = [&](std::vector<Account> a, std::vector<Transfer> t, std::uint64_t n,
                     std::string& error) {
    std::size_t i = 0;
    return Ledger::restore(Limits{64, 256}, a, {}, n, [&](Transfer& out, Ledger::PendingState&) {
      if (i == t.size()) return false;
      out = t[i++];
      return true;
    }, error);
  };
  std::string error;
  auto copy = restore(accounts, log, log.size(), error);
  ASSERT_TRUE(copy.has_value()) << error;
  EXPECT_EQ(copy->state_hash(), l.state_hash());
  EXPECT_EQ(copy->serialize(), l.serialize());
  EXPECT_EQ(copy->pending_state(7), Ledger::PendingState::open);
  EXPECT_EQ(copy->pending_state(2), Ledger::PendingState::expired);
  EXPECT_EQ(copy->open_pending_count(), l.open_pending_count());
  EXPECT_EQ(copy->expire(Ms{8'000}), l.expire(Ms{8'000}));  // the deadline came along
  EXPECT_EQ(copy->state_hash(), l.state_hash());
  EXPECT_FALSE(copy->check_invariants().has_value());

  auto refused = [&](std::vector<Account> a, std::vector<Transfer> t, std::uint64_t n,
                     std::string_view why) {
    std::string e;
    EXPECT_FALSE(restore(std::move(a), std::move(t), n, e).has_value()) << why;
    EXPECT_NE(e.find(why), std::string::npos) << e;
  };
  std::vector<Account> richer = accounts;
  richer[1].credits_posted += 1;
  refused(richer, log, log.size(), "disagrees with the log");
  refused(accounts, log, log.size() + 1, "the log ends after");
  std::vector<Transfer> orphan = log;
  orphan[3].pending_id = 99;  // a post of no pending
  refused(accounts, orphan, log.size(), "does not replay");
  std::vector<Account> twice = accounts;
  twice[2] = twice[1];
  refused(twice, log, log.size(), "repeated or malformed");
}

// compact(): the settled history leaves memory, the state does not change. A twin that never
// compacts goes on to the same hash; a carried hold can still be posted, voided or expire; a
// retired id is unknown; the counts go on; snapshots (serialize, restore) carry the history.
TEST_F(LedgerTest, LedgerCompactRetiresSettledHistoryAndKeepsTheState) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 300, 5'000)).ok());  // stays open, deadline
  ASSERT_TRUE(one(hold(3, kAlice, kEscrow, 200)).ok());
  ASSERT_TRUE(one(post(4, 3, 150)).ok());                      // 3 posted: retired
  ASSERT_TRUE(one(hold(5, kAlice, kBob, 100)).ok());
  ASSERT_TRUE(one(void_(6, 5)).ok());                          // 5 voided: kept (asked for)
  ASSERT_TRUE(one(hold(7, kAlice, kBob, 50)).ok());            // stays open
  ASSERT_TRUE(one(plain(8, kAlice, kBob, 10)).ok());
  Ledger twin = l;
  const std::uint64_t hash = l.state_hash();
  const std::vector<Account> balances(l.accounts().begin(), l.accounts().end());

  EXPECT_EQ(l.compact([](const Transfer& t) { return t.id == 5; }), 5u);  // 1, 3, 4, 6, 8
  EXPECT_EQ(l.retired_count(), 5u);
  EXPECT_EQ(l.transfer_count(), 8u);
  EXPECT_EQ(l.carried_count(), 3u);
  ASSERT_EQ(l.live_log().size(), 3u);
  EXPECT_EQ(l.live_log()[0].id, 2u);
  EXPECT_EQ(l.live_log()[1].id, 5u);
  EXPECT_EQ(l.live_log()[2].id, 7u);
  EXPECT_EQ(l.state_hash(), hash);
  EXPECT_TRUE(std::equal(balances.begin(), balances.end(), l.accounts().begin()));
  EXPECT_EQ(l.find_transfer(3), nullptr);
  EXPECT_EQ(l.pending_state(3), Ledger::PendingState::none);
  EXPECT_EQ(l.pending_state(5), Ledger::PendingState::voided);
  EXPECT_EQ(l.pending_state(2), Ledger::PendingState::open);
  EXPECT_EQ(l.open_pending_count(), 2u);
  EXPECT_EQ(l.max_transfer_id(), 8u);
  EXPECT_TRUE(l.transfers_since(8).empty());
  EXPECT_FALSE(l.check_invariants(true).has_value());
  const auto recomputed = l.recompute_balances_from_transfers();
  EXPECT_TRUE(std::equal(recomputed.begin(), recomputed.end(), l.accounts().begin()));

  // Both go on alike: a post of a carried hold, new transfers, the carried deadline.
  for (Ledger* x : {&l, &twin}) {
    ASSERT_TRUE(x->submit(std::vector{post(9, 7, 50), plain(10, kBob, kAlice, 5)}, kNow).ok());
    EXPECT_EQ(x->submit(std::vector{post(11, 3, 1)}, kNow).ec,
              x == &l ? errc::pending_not_found : errc::pending_already_resolved);
    EXPECT_EQ(x->expire(Ms{5'000}), 1u);
  }
  EXPECT_EQ(l.state_hash(), twin.state_hash());
  EXPECT_TRUE(std::equal(twin.accounts().begin(), twin.accounts().end(), l.accounts().begin()));
  EXPECT_EQ(l.transfer_count(), twin.transfer_count());
  ASSERT_EQ(l.transfers_since(8).size(), 3u);  // 9, 10 and the expiry of 2
  EXPECT_EQ(l.transfers_since(8)[2].id, 2u | kExpiryIdBit);
  EXPECT_FALSE(l.check_invariants(true).has_value());

  // Its snapshots carry the history: the same bytes back, and it goes on alike.
  const auto bytes = l.serialize();
  auto copy = Ledger::deserialize(bytes);
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(copy->serialize(), bytes);
  EXPECT_EQ(copy->history(), l.history());
  EXPECT_EQ(copy->state_hash(), twin.state_hash());
  for (Ledger* x : {&*copy, &twin}) ASSERT_TRUE(x->submit(std::vector{plain(12, kAlice, kBob, 1)}, kNow).ok());
  EXPECT_EQ(copy->state_hash(), twin.state_hash());

  // A second compaction keeps the open holds only (2 and 7 are resolved now; 5 not asked for).
  EXPECT_EQ(l.compact(), 6u);
  EXPECT_EQ(l.live_log().size(), 0u);
  EXPECT_EQ(l.retired_count(), l.transfer_count());
  EXPECT_EQ(l.open_pending_count(), 0u);
  EXPECT_FALSE(l.check_invariants(true).has_value());
}

// restore() of a compacted ledger refuses a base that its carried holds do not explain, and a
// carried entry the ledger could not have kept.
TEST_F(LedgerTest, LedgerRestoreChecksTheHistory) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 300)).ok());
  ASSERT_TRUE(one(plain(3, kAlice, kBob, 10)).ok());
  l.compact();
  ASSERT_TRUE(one(post(4, 2, 100)).ok());
  const std::vector<Account> accounts(l.accounts().begin(), l.accounts().end());
  const std::vector<Transfer> log(l.live_log().begin(), l.live_log().end());
  const Ledger::History h = l.history();
  auto restore = [&](const Ledger::History& hh, std::vector<Transfer> t,
                     Ledger::PendingState carried_state, std::string& error) {
    std::size_t i = 0;
    return Ledger::restore(Limits{64, 256}, accounts, hh, t.size(),
                           [&](Transfer& out, Ledger::PendingState& st) {
                             if (i == t.size()) return false;
                             out = t[i++];
                             st = carried_state;
                             return true;
                           },
                           error);
  };
  std::string error;
  auto copy = restore(h, log, Ledger::PendingState::open, error);
  ASSERT_TRUE(copy.has_value()) << error;
  EXPECT_EQ(copy->state_hash(), l.state_hash());
  EXPECT_EQ(copy->serialize(), l.serialize());

  auto refused = [&](const Ledger::History& hh, std::vector<Transfer> t,
                     Ledger::PendingState st, std::string_view why) {
    std::string e;
    EXPECT_FALSE(restore(hh, std::move(t), st, e).has_value()) << why;
    EXPECT_NE(e.find(why), std::string::npos) << e;
  };
  Ledger::History more = h;
  more.base[1].debits_pending += 1;  // Alice's base holds more than her carried hold
  refused(more, log, Ledger::PendingState::open, "base pending balances");
  refused(h, log, Ledger::PendingState::posted, "base pending balances");  // not open, then
  refused(h, log, Ledger::PendingState::none, "is malformed");  // a pending with no state
  std::vector<Transfer> unknown = log;
  unknown[0].debit_account_id = 99;
  refused(h, unknown, Ledger::PendingState::open, "is malformed");
  Ledger::History richer = h;
  richer.base[2].credits_posted += 1;  // Bob's base: the log then ends elsewhere
  refused(richer, log, Ledger::PendingState::open, "disagrees with the log");
  Ledger::History later = h;
  later.max_id = 1;  // a carried id the ledger had not made by then
  refused(later, log, Ledger::PendingState::open, "is malformed");
}

// The live log's capacity is an error at the bound, and compaction makes room again: a
// ledger runs for good.
TEST(LedgerLimits, LedgerCompactionMakesRoomAtCapacity) {
  Ledger l(Limits{.accounts_max = 2, .transfers_max = 3});
  ASSERT_EQ(l.create_account({.id = 1, .ledger = 1}), errc::ok);
  ASSERT_EQ(l.create_account({.id = 2, .ledger = 1}), errc::ok);
  std::uint64_t id = 0;
  auto next = [&] {
    const Transfer t{.id = ++id, .debit_account_id = 1, .credit_account_id = 2, .amount = 1, .ledger = 1};
    return l.submit(std::span(&t, 1), Ms{0}).ec;
  };
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 3; ++i) ASSERT_EQ(next(), errc::ok);
    const std::uint64_t before = l.state_hash();
    EXPECT_EQ(next(), errc::capacity);
    --id;
    EXPECT_EQ(l.state_hash(), before);
    EXPECT_EQ(l.compact(), 3u);
  }
  EXPECT_EQ(l.transfer_count(), 12u);
  EXPECT_EQ(l.find_account(2)->credits_posted, 12);
  EXPECT_FALSE(l.check_invariants(true).has_value());
}

TEST_F(LedgerTest, LedgerRecomputeMatchesLiveBalances) {
  fund(kAlice, 1'000, 1);
  ASSERT_TRUE(one(hold(2, kAlice, kEscrow, 300)).ok());
  ASSERT_TRUE(one(post(3, 2, 100)).ok());
  const auto replayed = l.recompute_balances_from_transfers();
  ASSERT_EQ(replayed.size(), l.accounts().size());
  for (std::size_t i = 0; i < replayed.size(); ++i) EXPECT_EQ(replayed[i], l.accounts()[i]);
}

TEST(LedgerErrc, LedgerErrorCodesHaveACategory) {
  const std::error_code ec = errc::exceeds_credits;
  EXPECT_EQ(ec.category().name(), std::string("ipx.ledger"));
  EXPECT_EQ(ec.message(), "exceeds_credits");
  EXPECT_EQ(protocol_code(errc::capacity), "UNAVAILABLE");
  EXPECT_EQ(protocol_code(errc::ledger_mismatch), "INTERNAL");
}

}  // namespace
}  // namespace ipx::ledger
