#include "matching/sealed_auction.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ipx::matching {
namespace {

struct Recorder final : AuctionSink {
  std::vector<AuctionEvent> events;
  void on_event(const AuctionEvent& e) override { events.push_back(e); }
};

SealedConfig base(bool second) {
  SealedConfig c;
  c.second_price = second;
  c.start_price = Fen{1'000};
  c.opens_at = Ms{0};
  c.closes_at = Ms{1'000};
  return c;
}

TEST(SealedAuction, Sealed_HiddenUntilCloseCountShown) {
  SealedAuction a(base(false));
  Recorder s;
  ASSERT_EQ(a.bid(1, Fen{1'500}, Ms{10}, s), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1'700}, Ms{20}, s), errc::ok);
  const auto v = a.view();
  EXPECT_EQ(v.bids, 2u);
  EXPECT_FALSE(v.price.has_value());
  EXPECT_FALSE(v.leader.has_value());
  EXPECT_FALSE(v.winner.has_value());
}

TEST(SealedAuction, Sealed_BelowStartIsTooLow) {
  SealedAuction a(base(false));
  Recorder s;
  EXPECT_EQ(a.bid(1, Fen{999}, Ms{10}, s), errc::bid_too_low);
  EXPECT_EQ(a.bid(1, Fen{1'000}, Ms{10}, s), errc::ok);
}

TEST(SealedAuction, SealedFirst_HighestWinsPaysOwnBid) {
  SealedAuction a(base(false));
  Recorder s;
  ASSERT_EQ(a.bid(1, Fen{1'500}, Ms{10}, s), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1'700}, Ms{20}, s), errc::ok);
  a.advance(Ms{1'000}, s);
  const auto v = a.view();
  EXPECT_EQ(v.state, AuctionState::sold);
  EXPECT_EQ(v.winner, 2u);
  EXPECT_EQ(v.price, Fen{1'700});
  EXPECT_EQ(s.events.back().kind, EventKind::closed);
  EXPECT_EQ(s.events.back().ts, Ms{1'000});
}

TEST(SealedAuction, Sealed_TiesGoToTheEarlierBid) {
  SealedAuction a(base(false));
  Recorder s;
  ASSERT_EQ(a.bid(1, Fen{1'500}, Ms{10}, s), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1'500}, Ms{20}, s), errc::ok);
  a.advance(Ms{2'000}, s);
  EXPECT_EQ(a.view().winner, 1u);
}

TEST(SealedAuction, Sealed_TiesGoToBetterPriorityRank_Rule6) {
  auto c = base(false);
  c.priority_holders = {{2, 1}};
  SealedAuction a(c);
  Recorder s;
  ASSERT_EQ(a.bid(1, Fen{1'500}, Ms{10}, s), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1'500}, Ms{20}, s), errc::ok);
  a.advance(Ms{2'000}, s);
  EXPECT_EQ(a.view().winner, 2u);
}

TEST(SealedAuction, SealedSecond_PaysMaxOfSecondReserveStart) {
  {  // the second-highest bid dominates
    SealedAuction a(base(true));
    Recorder s;
    ASSERT_EQ(a.bid(1, Fen{1'500}, Ms{10}, s), errc::ok);
    ASSERT_EQ(a.bid(2, Fen{1'900}, Ms{20}, s), errc::ok);
    a.advance(Ms{1'000}, s);
    EXPECT_EQ(a.view().winner, 2u);
    EXPECT_EQ(a.view().price, Fen{1'500});
  }
  {  // the reserve dominates
    auto c = base(true);
    c.reserve = Fen{1'600};
    SealedAuction a(c);
    Recorder s;
    ASSERT_EQ(a.bid(1, Fen{1'500}, Ms{10}, s), errc::ok);
    ASSERT_EQ(a.bid(2, Fen{1'900}, Ms{20}, s), errc::ok);
    a.advance(Ms{1'000}, s);
    EXPECT_EQ(a.view().price, Fen{1'600});
  }
  {  // a single bid pays the start
    SealedAuction a(base(true));
    Recorder s;
    ASSERT_EQ(a.bid(2, Fen{1'900}, Ms{20}, s), errc::ok);
    a.advance(Ms{1'000}, s);
    EXPECT_EQ(a.view().price, Fen{1'000});
  }
}

TEST(SealedAuction, SealedSecond_EqualTopBidsPayThatAmount) {
  SealedAuction a(base(true));
  Recorder s;
  ASSERT_EQ(a.bid(1, Fen{1'500}, Ms{10}, s), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1'500}, Ms{20}, s), errc::ok);
  a.advance(Ms{1'000}, s);
  EXPECT_EQ(a.view().winner, 1u);
  EXPECT_EQ(a.view().price, Fen{1'500});
}

TEST(SealedAuction, Sealed_RevisionReplacesOnlyIfHigher) {
  SealedAuction a(base(true));
  Recorder s;
  ASSERT_EQ(a.bid(1, Fen{1'500}, Ms{10}, s), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1'400}, Ms{20}, s), errc::ok);
  EXPECT_EQ(a.bid(1, Fen{1'500}, Ms{30}, s), errc::bid_too_low);
  EXPECT_EQ(a.bid(1, Fen{1'200}, Ms{30}, s), errc::bid_too_low);
  ASSERT_EQ(a.bid(1, Fen{2'000}, Ms{40}, s), errc::ok);
  EXPECT_EQ(a.sealed_bid_of(1), Fen{2'000});
  EXPECT_EQ(a.view().bids, 3u);
  a.advance(Ms{1'000}, s);
  EXPECT_EQ(a.view().winner, 1u);
  EXPECT_EQ(a.view().price, Fen{1'400});  // its own replaced bid does not count
}

TEST(SealedAuction, Sealed_RevisionTakesTheLaterTimeForTies) {
  SealedAuction a(base(false));
  Recorder s;
  ASSERT_EQ(a.bid(1, Fen{1'100}, Ms{10}, s), errc::ok);
  ASSERT_EQ(a.bid(2, Fen{1'500}, Ms{20}, s), errc::ok);
  ASSERT_EQ(a.bid(1, Fen{1'500}, Ms{30}, s), errc::ok);
  a.advance(Ms{1'000}, s);
  EXPECT_EQ(a.view().winner, 2u);
}

TEST(SealedAuction, Sealed_BelowReserveUnsold) {
  auto c = base(false);
  c.reserve = Fen{2'000};
  SealedAuction a(c);
  Recorder s;
  ASSERT_EQ(a.bid(1, Fen{1'999}, Ms{10}, s), errc::ok);
  a.advance(Ms{1'000}, s);
  EXPECT_EQ(a.state(), AuctionState::unsold);
  EXPECT_EQ(a.view().unsold_reason, UnsoldReason::reserve_not_met);
  EXPECT_FALSE(a.view().price.has_value());
}

TEST(SealedAuction, Sealed_NoBidsUnsold) {
  SealedAuction a(base(false));
  Recorder s;
  a.advance(Ms{1'000}, s);
  EXPECT_EQ(a.view().unsold_reason, UnsoldReason::no_bids);
}

TEST(SealedAuction, Sealed_TimeEdges) {
  auto c = base(false);
  c.opens_at = Ms{100};
  SealedAuction a(c);
  Recorder s;
  EXPECT_EQ(a.bid(1, Fen{1'000}, Ms{99}, s), errc::auction_not_open);
  EXPECT_EQ(a.bid(1, Fen{1'000}, Ms{100}, s), errc::ok);
  EXPECT_EQ(a.bid(2, Fen{1'000}, Ms{1'000}, s), errc::auction_closed);
}

TEST(SealedAuction, Sealed_CapacityAndCancel) {
  auto c = base(false);
  c.max_bidders = 1;
  SealedAuction a(c);
  Recorder s;
  EXPECT_EQ(a.cancel(), errc::ok);
  SealedAuction b(c);
  ASSERT_EQ(b.bid(1, Fen{1'000}, Ms{1}, s), errc::ok);
  EXPECT_EQ(b.bid(2, Fen{1'000}, Ms{2}, s), errc::capacity);
  EXPECT_EQ(b.view().bids, 1u);
  EXPECT_EQ(b.cancel(), errc::invalid_state);
}

}  // namespace
}  // namespace ipx::matching
