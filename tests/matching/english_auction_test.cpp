#include "matching/english_auction.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ipx::matching {
namespace {

struct Recorder final : AuctionSink {
  std::vector<AuctionEvent> events;
  void on_event(const AuctionEvent& e) override { events.push_back(e); }
  std::vector<AuctionEvent> of(EventKind k) const {
    std::vector<AuctionEvent> out;
    for (const auto& e : events) {
      if (e.kind == k) out.push_back(e);
    }
    return out;
  }
};

EnglishConfig base() {
  EnglishConfig c;
  c.start_price = Fen{1000};
  c.increment = Fen{100};
  c.opens_at = Ms{0};
  c.closes_at = Ms{100'000};
  return c;
}

struct EnglishFixture : ::testing::Test {
  Recorder sink;
  EnglishAuction make(const EnglishConfig& c = base()) {
    EXPECT_EQ(validate(c), errc::ok);
    EnglishAuction a(c);
    a.advance(Ms{0}, sink);
    return a;
  }
};

void expect_same(const EnglishView& a, const EnglishView& b) {
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.price, b.price);
  EXPECT_EQ(a.bids, b.bids);
  EXPECT_EQ(a.leader, b.leader);
  EXPECT_EQ(a.min_next_bid, b.min_next_bid);
  EXPECT_EQ(a.closes_at, b.closes_at);
}

using EnglishRules = EnglishFixture;

TEST_F(EnglishRules, FirstBid_EqualsStart_Rule4) {
  auto a = make();
  EXPECT_EQ(a.min_next_bid(), Fen{1000});
  EXPECT_FALSE(a.price().has_value());  // null before the first bid
  EXPECT_EQ(a.bid(1, Fen{999}, Ms{10}, sink), errc::bid_too_low);
  EXPECT_EQ(a.bid(1, Fen{1000}, Ms{10}, sink), errc::ok);
  EXPECT_EQ(a.price(), Fen{1000});
  EXPECT_EQ(a.leader(), 1u);
  EXPECT_EQ(a.min_next_bid(), Fen{1100});
}

TEST_F(EnglishRules, FirstBid_MustEqualStart_Rule4) {
  auto a = make();
  EXPECT_EQ(a.bid(1, Fen{1300}, Ms{10}, sink), errc::bad_price);  // on the grid, above the start
  EXPECT_FALSE(a.price().has_value());
  EXPECT_EQ(a.bid(1, Fen{1000}, Ms{11}, sink), errc::ok);
  EXPECT_EQ(a.price(), Fen{1000});
}

TEST_F(EnglishRules, LaterBids_OnStartPlusKIncrement_ElseBadPrice_Rule4) {
  auto a = make();
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{10}, sink), errc::ok);
  EXPECT_EQ(a.bid(2, Fen{1150}, Ms{11}, sink), errc::bad_price);
  EXPECT_EQ(a.bid(2, Fen{1200}, Ms{12}, sink), errc::ok);
}

TEST_F(EnglishRules, BidTooLowCheckedBeforeBadPrice) {
  auto a = make();
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{10}, sink), errc::ok);
  EXPECT_EQ(a.bid(2, Fen{1050}, Ms{11}, sink), errc::bid_too_low);  // low and off grid
  EXPECT_EQ(a.bid(2, Fen{1000}, Ms{11}, sink), errc::bid_too_low);  // equal, non-holder
}

TEST_F(EnglishRules, LeaderMayNotRaiseOwnBid_AlreadyLeading_Rule4) {
  auto a = make();
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{10}, sink), errc::ok);
  EXPECT_EQ(a.bid(1, Fen{1500}, Ms{11}, sink), errc::already_leading);
  EXPECT_EQ(a.min_next_bid_for(1), std::nullopt);
}

TEST_F(EnglishRules, Bid_BeforeOpensAtIsNotOpen) {
  auto c = base();
  c.opens_at = Ms{500};
  EnglishAuction a(c);
  EXPECT_EQ(a.bid(1, Fen{1000}, Ms{499}, sink), errc::auction_not_open);
  EXPECT_EQ(a.state(), AuctionState::scheduled);
  EXPECT_EQ(a.bid(1, Fen{1000}, Ms{500}, sink), errc::ok);  // opens at exactly opens_at
  EXPECT_EQ(sink.of(EventKind::opened).at(0).ts, Ms{500});
}

TEST_F(EnglishRules, Bid_AtClosesAtIsClosed) {
  auto a = make();
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{99'999}, sink), errc::ok);
  EXPECT_EQ(a.bid(2, Fen{1100}, Ms{100'000}, sink), errc::auction_closed);
  EXPECT_EQ(a.state(), AuctionState::sold);
}

TEST_F(EnglishRules, Close_AtExactlyClosesAtEvenAfterATimeJump) {
  auto a = make();
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{10}, sink), errc::ok);
  a.advance(Ms{99'999}, sink);
  EXPECT_EQ(a.state(), AuctionState::open);
  EXPECT_EQ(a.next_due(), Ms{100'000});
  a.advance(Ms{5'000'000}, sink);
  ASSERT_EQ(a.state(), AuctionState::sold);
  const auto closed = sink.of(EventKind::closed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].ts, Ms{100'000});  // counts from closes_at, not from now
  EXPECT_EQ(closed[0].bidder, 1u);
  EXPECT_EQ(closed[0].amount, Fen{1000});
  EXPECT_EQ(a.view().winner, 1u);
  EXPECT_EQ(a.view().clearing_price, Fen{1000});
  EXPECT_EQ(a.next_due(), std::nullopt);
}

TEST_F(EnglishRules, Unsold_NoBids) {
  auto a = make();
  a.advance(Ms{100'000}, sink);
  EXPECT_EQ(a.state(), AuctionState::unsold);
  EXPECT_EQ(a.view().unsold_reason, UnsoldReason::no_bids);
  EXPECT_EQ(sink.of(EventKind::closed).at(0).reason, UnsoldReason::no_bids);
}

TEST_F(EnglishRules, Reserve_HighBidBelowReserveUnsold_Rule1) {
  auto c = base();
  c.reserve = Fen{1500};
  auto a = make(c);
  EXPECT_EQ(a.view().reserve, Fen{1500});
  ASSERT_EQ(a.bid(99, Fen{1000}, Ms{10}, sink), errc::ok);  // rule 4: the first bid is the start
  ASSERT_EQ(a.bid(1, Fen{1400}, Ms{10}, sink), errc::ok);
  a.advance(Ms{100'000}, sink);
  EXPECT_EQ(a.state(), AuctionState::unsold);
  EXPECT_EQ(a.view().unsold_reason, UnsoldReason::reserve_not_met);
  EXPECT_FALSE(a.view().winner.has_value());
}

TEST_F(EnglishRules, Reserve_MetSells_Rule1) {
  auto c = base();
  c.reserve = Fen{1500};
  auto a = make(c);
  ASSERT_EQ(a.bid(99, Fen{1000}, Ms{10}, sink), errc::ok);  // rule 4: the first bid is the start
  ASSERT_EQ(a.bid(1, Fen{1500}, Ms{10}, sink), errc::ok);
  a.advance(Ms{100'000}, sink);
  EXPECT_EQ(a.state(), AuctionState::sold);
}

TEST_F(EnglishRules, Reserve_HiddenIsNotShownButApplies) {
  auto c = base();
  c.reserve = Fen{1500};
  c.reserve_hidden = true;
  auto a = make(c);
  EXPECT_FALSE(a.view().reserve.has_value());
  ASSERT_EQ(a.bid(99, Fen{1000}, Ms{10}, sink), errc::ok);  // rule 4: the first bid is the start
  ASSERT_EQ(a.bid(1, Fen{1400}, Ms{10}, sink), errc::ok);
  a.advance(Ms{100'000}, sink);
  EXPECT_EQ(a.view().unsold_reason, UnsoldReason::reserve_not_met);
}

TEST_F(EnglishRules, Cancel_BeforeAnyBid) {
  auto a = make();
  EXPECT_EQ(a.cancel(), errc::ok);
  EXPECT_EQ(a.state(), AuctionState::cancelled);
  EXPECT_EQ(a.bid(1, Fen{1000}, Ms{10}, sink), errc::auction_closed);
  EXPECT_EQ(a.next_due(), std::nullopt);
}

TEST_F(EnglishRules, Cancel_AfterABidIsInvalidState) {
  auto a = make();
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{10}, sink), errc::ok);
  EXPECT_EQ(a.cancel(), errc::invalid_state);
  EXPECT_EQ(a.state(), AuctionState::open);
}

TEST_F(EnglishRules, Events_BidLeaderChangedInOrder) {
  auto a = make();
  sink.events.clear();
  ASSERT_EQ(a.bid(7, Fen{1000}, Ms{10}, sink), errc::ok);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].kind, EventKind::bid);
  EXPECT_EQ(sink.events[0].bidder, 7u);
  EXPECT_EQ(sink.events[0].amount, Fen{1000});
  EXPECT_EQ(sink.events[0].ts, Ms{10});
  EXPECT_FALSE(sink.events[0].is_proxy);
  EXPECT_EQ(sink.events[1].kind, EventKind::leader_changed);
}

TEST_F(EnglishRules, Reject_LeavesStateExactlyAsItWas) {
  auto c = base();
  c.extend_window_ms = Ms{1000};
  c.extend_by_ms = Ms{1000};
  c.priority_holders = {{9, 1}};
  auto a = make(c);
  ASSERT_EQ(a.proxy(1, Fen{2000}, Ms{10}, sink), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1200}, Ms{11}, sink), errc::ok);
  const EnglishView before = a.view();
  const auto n = sink.events.size();
  EXPECT_EQ(a.bid(1, Fen{5000}, Ms{99'500}, sink), errc::already_leading);
  EXPECT_EQ(a.bid(2, Fen{1250}, Ms{99'500}, sink), errc::bid_too_low);
  EXPECT_EQ(a.bid(2, Fen{1450}, Ms{99'500}, sink), errc::bad_price);
  EXPECT_EQ(a.proxy(3, Fen{1250}, Ms{99'500}, sink), errc::bid_too_low);
  EXPECT_EQ(a.proxy(3, Fen{1450}, Ms{99'500}, sink), errc::bad_price);
  EXPECT_EQ(a.proxy(1, Fen{2000}, Ms{99'500}, sink), errc::bid_too_low);  // not a raise
  EXPECT_EQ(a.bid(9, Fen{1250}, Ms{99'500}, sink), errc::bid_too_low);
  expect_same(before, a.view());
  EXPECT_EQ(a.proxy_max(1), Fen{2000});
  EXPECT_EQ(sink.events.size(), n);
}

TEST_F(EnglishRules, Validate_RejectsBadConfigs) {
  auto c = base();
  c.closes_at = c.opens_at;
  EXPECT_EQ(validate(c), errc::bad_request);
  c = base();
  c.start_price = Fen{0};
  EXPECT_EQ(validate(c), errc::bad_request);
  c = base();
  c.priority_holders = {{1, 1}, {1, 2}};
  EXPECT_EQ(validate(c), errc::bad_request);
  c = base();
  c.priority_holders = {{1, 0}};
  EXPECT_EQ(validate(c), errc::bad_request);
  c = base();
  c.increment = Fen{-1};
  EXPECT_EQ(validate(c), errc::bad_request);
}

TEST_F(EnglishRules, DefaultIncrementWhenNoneGiven_Rule4) {
  auto c = base();
  c.start_price = Fen{70'000'000};  // 700k CNY -> 1% = 7,000 CNY
  c.increment = Fen{0};
  auto a = make(c);
  ASSERT_EQ(a.bid(1, Fen{70'000'000}, Ms{1}, sink), errc::ok);
  EXPECT_EQ(a.min_next_bid(), Fen{70'700'000});
  EXPECT_EQ(a.view().increment, Fen{700'000});
}

TEST_F(EnglishRules, TieredIncrements_StepGrowsWithPrice_Rule4) {
  auto c = base();
  c.tiers = {{Fen{0}, Fen{100}}, {Fen{1300}, Fen{500}}};
  auto a = make(c);
  ASSERT_EQ(a.bid(99, Fen{1000}, Ms{1}, sink), errc::ok);  // rule 4: the first bid is the start
  ASSERT_EQ(a.bid(1, Fen{1200}, Ms{1}, sink), errc::ok);
  EXPECT_EQ(a.min_next_bid(), Fen{1300});
  ASSERT_EQ(a.bid(2, Fen{1300}, Ms{2}, sink), errc::ok);
  EXPECT_EQ(a.min_next_bid(), Fen{1800});
  EXPECT_EQ(a.bid(1, Fen{1400}, Ms{3}, sink), errc::bid_too_low);
  EXPECT_EQ(a.bid(1, Fen{2000}, Ms{3}, sink), errc::bad_price);
  EXPECT_EQ(a.bid(1, Fen{2300}, Ms{3}, sink), errc::ok);
}

// ---- rule 5: soft close ---------------------------------------------------------------

using EnglishSoftClose = EnglishFixture;

EnglishConfig soft() {
  auto c = base();
  c.extend_window_ms = Ms{300};
  c.extend_by_ms = Ms{300};
  return c;
}

TEST_F(EnglishSoftClose, SoftClose_ExtensionRunsFromBidTime_Rule5) {
  auto a = make(soft());
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{99'800}, sink), errc::ok);  // 200 ms before the close
  EXPECT_EQ(a.closes_at(), Ms{100'100});                         // bid time + 300, not close + 300
  const auto ext = sink.of(EventKind::extended);
  ASSERT_EQ(ext.size(), 1u);
  EXPECT_EQ(ext[0].closes_at, Ms{100'100});
  EXPECT_EQ(ext[0].ts, Ms{99'800});
}

TEST_F(EnglishSoftClose, SoftClose_RepeatsOnEachBidInWindow_Rule5) {
  auto a = make(soft());
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{99'800}, sink), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1100}, Ms{100'050}, sink), errc::ok);  // after the original close
  EXPECT_EQ(a.closes_at(), Ms{100'350});
  ASSERT_EQ(a.bid(1, Fen{1200}, Ms{100'349}, sink), errc::ok);
  EXPECT_EQ(a.closes_at(), Ms{100'649});
  a.advance(Ms{100'648}, sink);
  EXPECT_EQ(a.state(), AuctionState::open);
  a.advance(Ms{100'649}, sink);
  EXPECT_EQ(a.state(), AuctionState::sold);
  EXPECT_EQ(sink.of(EventKind::closed).at(0).ts, Ms{100'649});
}

TEST_F(EnglishSoftClose, SoftClose_WindowEdgeIsInclusive_Rule5) {
  auto a = make(soft());
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{99'699}, sink), errc::ok);  // closes_at - t = 301
  EXPECT_EQ(a.closes_at(), Ms{100'000});
  ASSERT_EQ(a.bid(2, Fen{1100}, Ms{99'700}, sink), errc::ok);  // closes_at - t = 300
  EXPECT_EQ(a.closes_at(), Ms{100'000});  // moved to 99'700 + 300 = unchanged
  ASSERT_EQ(a.bid(1, Fen{1200}, Ms{99'701}, sink), errc::ok);
  EXPECT_EQ(a.closes_at(), Ms{100'001});
}

TEST_F(EnglishSoftClose, SoftClose_NoneUnlessWindowConfigured) {
  auto a = make();
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{99'999}, sink), errc::ok);
  EXPECT_EQ(a.closes_at(), Ms{100'000});
  EXPECT_TRUE(sink.of(EventKind::extended).empty());
}

TEST_F(EnglishSoftClose, SoftClose_NeverMovesTheCloseEarlier_Rule5) {
  auto c = base();
  c.extend_window_ms = Ms{1000};
  c.extend_by_ms = Ms{200};
  auto a = make(c);
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{99'100}, sink), errc::ok);  // in window; +200 < close
  EXPECT_EQ(a.closes_at(), Ms{100'000});
}

TEST_F(EnglishSoftClose, SoftClose_ProxyAutoBidsExtendToo_Rule5) {
  auto a = make(soft());
  ASSERT_EQ(a.proxy(1, Fen{3000}, Ms{10}, sink), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1500}, Ms{99'900}, sink), errc::ok);  // proxy answers at once
  EXPECT_EQ(a.leader(), 1u);
  EXPECT_EQ(a.closes_at(), Ms{100'200});
}

TEST_F(EnglishSoftClose, SellOff_FirstBidMovesCloseThenSoftClose_Rule10) {
  auto c = soft();
  c.closes_at = Ms{10'000'000};
  c.first_bid_close_ms = Ms{1'000};
  auto a = make(c);
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{50}, sink), errc::ok);
  EXPECT_EQ(a.closes_at(), Ms{1'050});  // the first bid's time + 1,000 (earlier than before)
  ASSERT_EQ(a.bid(2, Fen{1100}, Ms{900}, sink), errc::ok);
  EXPECT_EQ(a.closes_at(), Ms{1'200});  // then the rule-5 soft close
  EXPECT_EQ(sink.of(EventKind::extended).size(), 2u);
}

// ---- rule 6: priority holders ---------------------------------------------------------

using EnglishPriority = EnglishFixture;

EnglishConfig holders() {
  auto c = base();
  c.priority_holders = {{10, 1}, {11, 2}, {12, 2}};
  return c;
}

TEST_F(EnglishPriority, Priority_HolderMatchingHighBidTakesLead_Rule6) {
  auto a = make(holders());
  ASSERT_EQ(a.bid(99, Fen{1000}, Ms{1}, sink), errc::ok);  // rule 4: the first bid is the start
  ASSERT_EQ(a.bid(1, Fen{1500}, Ms{1}, sink), errc::ok);
  EXPECT_EQ(a.min_next_bid_for(10), Fen{1500});
  ASSERT_EQ(a.bid(10, Fen{1500}, Ms{2}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 10u);
  EXPECT_EQ(a.price(), Fen{1500});
  EXPECT_EQ(a.bids(), 3u);
  // Nobody went higher: the holder wins.
  a.advance(Ms{100'000}, sink);
  EXPECT_EQ(a.view().winner, 10u);
}

TEST_F(EnglishPriority, Priority_NonHolderMustGoHigher_Rule6) {
  auto a = make(holders());
  ASSERT_EQ(a.bid(99, Fen{1000}, Ms{1}, sink), errc::ok);  // rule 4: the first bid is the start
  ASSERT_EQ(a.bid(10, Fen{1500}, Ms{1}, sink), errc::ok);
  EXPECT_EQ(a.bid(1, Fen{1500}, Ms{2}, sink), errc::bid_too_low);
  ASSERT_EQ(a.bid(1, Fen{1600}, Ms{3}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 1u);
}

TEST_F(EnglishPriority, Priority_HigherRankBeatsLower_Rule6) {
  auto a = make(holders());
  ASSERT_EQ(a.bid(99, Fen{1000}, Ms{1}, sink), errc::ok);  // rule 4: the first bid is the start
  ASSERT_EQ(a.bid(11, Fen{1500}, Ms{1}, sink), errc::ok);  // rank 2
  EXPECT_EQ(a.min_next_bid_for(10), Fen{1500});
  ASSERT_EQ(a.bid(10, Fen{1500}, Ms{2}, sink), errc::ok);  // rank 1 matches and leads
  EXPECT_EQ(a.leader(), 10u);
  EXPECT_EQ(a.min_next_bid_for(11), Fen{1600});            // rank 2 cannot match rank 1
  EXPECT_EQ(a.bid(11, Fen{1500}, Ms{3}, sink), errc::bid_too_low);
}

TEST_F(EnglishPriority, Priority_EqualRankEarlierWins_Rule6) {
  auto a = make(holders());
  ASSERT_EQ(a.bid(99, Fen{1000}, Ms{1}, sink), errc::ok);  // rule 4: the first bid is the start
  ASSERT_EQ(a.bid(11, Fen{1500}, Ms{1}, sink), errc::ok);
  EXPECT_EQ(a.min_next_bid_for(12), Fen{1600});  // same rank: matching is not enough
  EXPECT_EQ(a.bid(12, Fen{1500}, Ms{2}, sink), errc::bid_too_low);
  EXPECT_EQ(a.leader(), 11u);
}

TEST_F(EnglishPriority, Priority_MinNextBidDependsOnWhoAsks_Rule6) {
  auto a = make(holders());
  EXPECT_EQ(a.min_next_bid_for(10), Fen{1000});  // the first bid is the start for all
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{1}, sink), errc::ok);
  EXPECT_EQ(a.min_next_bid(), Fen{1100});
  EXPECT_EQ(a.min_next_bid_for(2), Fen{1100});
  EXPECT_EQ(a.min_next_bid_for(10), Fen{1000});
  EXPECT_EQ(a.min_next_bid_for(12), Fen{1000});
}

TEST_F(EnglishPriority, Priority_HolderProxyMatchesAtItsMax_Rule6) {
  auto a = make(holders());
  ASSERT_EQ(a.proxy(10, Fen{2000}, Ms{1}, sink), errc::ok);
  ASSERT_EQ(a.bid(1, Fen{2000}, Ms{2}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 10u);  // the holder's proxy matches 2000 and leads
  EXPECT_EQ(a.price(), Fen{2000});
  EXPECT_EQ(a.bid(1, Fen{2000}, Ms{3}, sink), errc::bid_too_low);
}

// ---- proxies ----------------------------------------------------------------------------

using EnglishProxy = EnglishFixture;

TEST_F(EnglishProxy, Proxy_FirstProxyBidsTheStart) {
  auto a = make();
  ASSERT_EQ(a.proxy(1, Fen{5000}, Ms{1}, sink), errc::ok);
  EXPECT_EQ(a.price(), Fen{1000});
  EXPECT_EQ(a.leader(), 1u);
  EXPECT_EQ(a.bids(), 1u);
  EXPECT_TRUE(sink.of(EventKind::bid).at(0).is_proxy);
}

TEST_F(EnglishProxy, Proxy_BidsTheMinimumNeeded) {
  auto a = make();
  ASSERT_EQ(a.proxy(1, Fen{5000}, Ms{1}, sink), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1500}, Ms{2}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 1u);
  EXPECT_EQ(a.price(), Fen{1600});  // one step above the manual bid
  EXPECT_EQ(a.bids(), 3u);          // auto-bids count
}

TEST_F(EnglishProxy, Proxy_TwoProxiesSecondHighestMaxPlusOneStep) {
  auto a = make();
  ASSERT_EQ(a.proxy(1, Fen{3000}, Ms{1}, sink), errc::ok);
  sink.events.clear();
  ASSERT_EQ(a.proxy(2, Fen{5000}, Ms{2}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 2u);
  EXPECT_EQ(a.price(), Fen{3100});
  const auto bids = sink.of(EventKind::bid);
  ASSERT_EQ(bids.size(), 2u);  // the underbidder shows its max, the winner one step above
  EXPECT_EQ(bids[0].bidder, 1u);
  EXPECT_EQ(bids[0].amount, Fen{3000});
  EXPECT_EQ(bids[1].bidder, 2u);
  EXPECT_EQ(bids[1].amount, Fen{3100});
}

TEST_F(EnglishProxy, Proxy_EqualMaximaEarlierLeads) {
  auto a = make();
  ASSERT_EQ(a.proxy(1, Fen{3000}, Ms{1}, sink), errc::ok);
  ASSERT_EQ(a.proxy(2, Fen{3000}, Ms{2}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 1u);
  EXPECT_EQ(a.price(), Fen{3000});
  EXPECT_EQ(a.min_next_bid(), Fen{3100});
}

TEST_F(EnglishProxy, Proxy_EqualMaximaEarlierLeadsEvenAtTheMax) {
  auto a = make();
  ASSERT_EQ(a.proxy(1, Fen{3000}, Ms{1}, sink), errc::ok);
  ASSERT_EQ(a.bid(3, Fen{2900}, Ms{2}, sink), errc::ok);  // proxy 1 answers 3000
  ASSERT_EQ(a.price(), Fen{3000});
  EXPECT_EQ(a.proxy(2, Fen{3000}, Ms{3}, sink), errc::bid_too_low);
}

TEST_F(EnglishProxy, Proxy_ManualBidAboveMaxWins) {
  auto a = make();
  ASSERT_EQ(a.proxy(1, Fen{3000}, Ms{1}, sink), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{3100}, Ms{2}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 2u);
  EXPECT_EQ(a.price(), Fen{3100});
}

// PROTOCOL "Ties in any format: the earlier bid": the proxy's maximum was committed first.
TEST_F(EnglishProxy, Proxy_ManualBidEqualToEarlierMaxLosesTheTie) {
  auto a = make();
  ASSERT_EQ(a.proxy(1, Fen{3000}, Ms{1}, sink), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{3000}, Ms{2}, sink), errc::ok);  // accepted, then matched
  EXPECT_EQ(a.leader(), 1u);
  EXPECT_EQ(a.price(), Fen{3000});
  EXPECT_EQ(a.bid(2, Fen{3000}, Ms{3}, sink), errc::bid_too_low);  // must now go higher
}

TEST_F(EnglishProxy, Proxy_LaterMaxEqualToHighBidIsTooLow) {
  auto a = make();
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{1}, sink), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{3000}, Ms{2}, sink), errc::ok);
  EXPECT_EQ(a.proxy(1, Fen{3000}, Ms{3}, sink), errc::bid_too_low);  // later: loses the tie
  EXPECT_EQ(a.leader(), 2u);
}

TEST_F(EnglishProxy, Proxy_MaxMustBeOnGrid_BadPrice) {
  auto a = make();
  EXPECT_EQ(a.proxy(1, Fen{3050}, Ms{1}, sink), errc::bad_price);
  EXPECT_FALSE(a.price().has_value());
}

TEST_F(EnglishProxy, Proxy_MaxBelowMinimum_BidTooLow) {
  auto a = make();
  ASSERT_EQ(a.bid(99, Fen{1000}, Ms{1}, sink), errc::ok);  // rule 4: the first bid is the start
  ASSERT_EQ(a.bid(2, Fen{2000}, Ms{1}, sink), errc::ok);
  EXPECT_EQ(a.proxy(1, Fen{2000}, Ms{2}, sink), errc::bid_too_low);
  EXPECT_EQ(a.proxy(1, Fen{2050}, Ms{2}, sink), errc::bid_too_low);  // before bad_price
}

TEST_F(EnglishProxy, Proxy_LeaderRaisesOwnMax_AllowedNotABid) {
  auto a = make(soft());
  ASSERT_EQ(a.proxy(1, Fen{3000}, Ms{1}, sink), errc::ok);
  const auto n = sink.events.size();
  ASSERT_EQ(a.proxy(1, Fen{6000}, Ms{99'900}, sink), errc::ok);
  EXPECT_EQ(sink.events.size(), n);  // no bid event, no extension
  EXPECT_EQ(a.bids(), 1u);
  EXPECT_EQ(a.price(), Fen{1000});
  EXPECT_EQ(a.closes_at(), Ms{100'000});
  EXPECT_EQ(a.proxy_max(1), Fen{6000});
  EXPECT_EQ(a.proxy(1, Fen{6000}, Ms{99'901}, sink), errc::bid_too_low);  // must raise
  ASSERT_EQ(a.bid(2, Fen{5000}, Ms{99'950}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 1u);
  EXPECT_EQ(a.price(), Fen{5100});
}

TEST_F(EnglishProxy, Proxy_ManualLeaderMaySetAProxy) {
  auto a = make();
  ASSERT_EQ(a.bid(1, Fen{1000}, Ms{1}, sink), errc::ok);
  EXPECT_EQ(a.proxy(1, Fen{1000}, Ms{2}, sink), errc::bid_too_low);
  ASSERT_EQ(a.proxy(1, Fen{2000}, Ms{2}, sink), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1500}, Ms{3}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 1u);
  EXPECT_EQ(a.price(), Fen{1600});
}

TEST_F(EnglishProxy, Proxy_ExhaustedProxyStopsAtItsMax) {
  auto a = make();
  ASSERT_EQ(a.proxy(1, Fen{2000}, Ms{1}, sink), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1900}, Ms{2}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 1u);
  EXPECT_EQ(a.price(), Fen{2000});
  ASSERT_EQ(a.bid(2, Fen{2100}, Ms{3}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 2u);  // the proxy cannot answer
  EXPECT_EQ(a.price(), Fen{2100});
}

TEST_F(EnglishProxy, Proxy_ReplacingAnOutbidProxy) {
  auto a = make();
  ASSERT_EQ(a.proxy(1, Fen{2000}, Ms{1}, sink), errc::ok);
  ASSERT_EQ(a.proxy(2, Fen{4000}, Ms{2}, sink), errc::ok);
  ASSERT_EQ(a.price(), Fen{2100});
  ASSERT_EQ(a.proxy(1, Fen{5000}, Ms{3}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 1u);
  EXPECT_EQ(a.price(), Fen{4100});
  EXPECT_EQ(a.proxy_max(1), Fen{5000});
}

TEST_F(EnglishProxy, Proxy_ThreeWayWarOnlyTopTwoShow) {
  auto a = make();
  ASSERT_EQ(a.proxy(1, Fen{2000}, Ms{1}, sink), errc::ok);
  ASSERT_EQ(a.proxy(2, Fen{3000}, Ms{2}, sink), errc::ok);
  sink.events.clear();
  ASSERT_EQ(a.proxy(3, Fen{2500}, Ms{3}, sink), errc::ok);
  // The earlier proxy (2) only needs to reach the later one's max: 3 cannot bid above 2500.
  EXPECT_EQ(a.leader(), 2u);
  EXPECT_EQ(a.price(), Fen{2500});
  const auto bids = sink.of(EventKind::bid);
  ASSERT_EQ(bids.size(), 2u);
  EXPECT_EQ(bids[0].bidder, 3u);
  EXPECT_EQ(bids[0].amount, Fen{2400});
  EXPECT_EQ(bids[1].bidder, 2u);
  EXPECT_EQ(bids[1].amount, Fen{2500});
  EXPECT_EQ(a.proxy(3, Fen{2500}, Ms{4}, sink), errc::bid_too_low);
  ASSERT_EQ(a.bid(4, Fen{2900}, Ms{4}, sink), errc::ok);
  EXPECT_EQ(a.leader(), 2u);
  EXPECT_EQ(a.price(), Fen{3000});
}

TEST_F(EnglishProxy, Proxy_CapacityBoundAnswersCapacity) {
  auto c = base();
  c.max_bidders = 2;
  auto a = make(c);
  ASSERT_EQ(a.proxy(1, Fen{2000}, Ms{1}, sink), errc::ok);
  ASSERT_EQ(a.proxy(2, Fen{3000}, Ms{2}, sink), errc::ok);
  const auto before = a.view();
  EXPECT_EQ(a.proxy(3, Fen{4000}, Ms{3}, sink), errc::capacity);
  expect_same(before, a.view());
  EXPECT_EQ(a.proxy(1, Fen{4000}, Ms{4}, sink), errc::ok);  // a known bidder still may
  EXPECT_EQ(a.bid(3, Fen{5000}, Ms{5}, sink), errc::ok);    // manual bids need no slot
}

TEST_F(EnglishProxy, Proxy_ManyReplacementsCompactWithoutGrowth) {
  auto c = base();
  c.max_bidders = 4;
  auto a = make(c);
  std::int64_t max = 1000;
  for (int i = 0; i < 1000; ++i) {
    max += 100;
    ASSERT_EQ(a.proxy(static_cast<BidderId>(i % 4 + 1), Fen{max}, Ms{i + 1}, sink), errc::ok);
  }
  EXPECT_EQ(a.leader(), static_cast<BidderId>(999 % 4 + 1));
  EXPECT_EQ(a.price(), Fen{max});  // each newcomer must beat the previous max
}

}  // namespace
}  // namespace ipx::matching
