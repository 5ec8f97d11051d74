#include "matching/auction.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ipx::matching {
namespace {

struct Recorder final : AuctionSink {
  std::vector<AuctionEvent> events;
  void on_event(const AuctionEvent& e) override { events.push_back(e); }
};

AuctionConfig cfg(Format f) {
  AuctionConfig c;
  c.format = f;
  c.start_price = Fen{10'000};
  c.increment = Fen{500};
  c.opens_at = Ms{0};
  c.closes_at = Ms{100'000};
  c.dutch = DutchParams{Fen{1'000}, Ms{1'000}, Fen{5'000}};
  return c;
}

TEST(AuctionFacade, Auction_EnglishBidReplyCarriesProtocolFields) {
  Auction a(cfg(Format::english));
  Recorder s;
  const auto r = a.bid(1, Fen{10'000}, Ms{5}, s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.amount, Fen{10'000});
  EXPECT_EQ(r.value.ts, Ms{5});
  EXPECT_EQ(r.value.leader, 1u);
  EXPECT_EQ(r.value.closes_at, Ms{100'000});
  EXPECT_EQ(r.value.min_next_bid, Fen{10'500});
  const auto v = a.view();
  EXPECT_EQ(v.format, Format::english);
  EXPECT_EQ(v.price, Fen{10'000});
  EXPECT_EQ(v.bids, 1u);
  EXPECT_EQ(v.increment, Fen{500});
}

TEST(AuctionFacade, Auction_ProxyReplyIsStandingPrice) {
  Auction a(cfg(Format::english));
  Recorder s;
  ASSERT_TRUE(a.proxy(1, Fen{20'000}, Ms{5}, s).ok());
  ASSERT_TRUE(a.bid(2, Fen{12'000}, Ms{6}, s).ok());
  const auto r = a.proxy(2, Fen{15'000}, Ms{7}, s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.leader, 1u);
  EXPECT_EQ(r.value.amount, Fen{15'000});  // the earlier proxy only needs to match 15,000
}

TEST(AuctionFacade, Auction_SealedReplyHasAmountAndTsOnly) {
  Auction a(cfg(Format::sealed_second));
  Recorder s;
  const auto r = a.bid(1, Fen{12'000}, Ms{5}, s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.amount, Fen{12'000});
  EXPECT_FALSE(r.value.leader.has_value());
  EXPECT_FALSE(r.value.closes_at.has_value());
  EXPECT_FALSE(r.value.min_next_bid.has_value());
  const auto v = a.view();
  EXPECT_EQ(v.bids, 1u);
  EXPECT_FALSE(v.price.has_value());
  EXPECT_FALSE(v.leader.has_value());
  EXPECT_FALSE(v.min_next_bid.has_value());
  EXPECT_EQ(a.proxy(1, Fen{20'000}, Ms{6}, s).ec, errc::invalid_state);
}

TEST(AuctionFacade, Auction_DutchAcceptAndWrongFormatMethods) {
  Auction a(cfg(Format::dutch));
  Recorder s;
  EXPECT_EQ(a.bid(1, Fen{10'000}, Ms{1}, s).ec, errc::invalid_state);
  EXPECT_EQ(a.register_intent(1, Ms{1}, s), errc::invalid_state);
  const auto r = a.accept(1, Ms{2'500}, s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.price, Fen{8'000});
  EXPECT_EQ(a.view().state, AuctionState::sold);
  EXPECT_EQ(a.view().winner, 1u);
  Auction e(cfg(Format::english));
  EXPECT_EQ(e.accept(1, Ms{1}, s).ec, errc::invalid_state);
}

TEST(AuctionFacade, Auction_NextDueDrivesEveryTimer) {
  // The engine's loop: advance to next_due() until nothing is due.
  Auction a(cfg(Format::dutch));
  Recorder s;
  int steps = 0;
  while (auto due = a.next_due()) {
    a.advance(*due, s);
    ASSERT_LT(++steps, 100);
  }
  EXPECT_EQ(a.view().state, AuctionState::unsold);
  EXPECT_EQ(a.view().unsold_reason, UnsoldReason::floor_expired);
  // opened + 5 ticks (9000..5000) + closed at 6 s (floor since 5 s, one interval)
  EXPECT_EQ(s.events.size(), 7u);
  EXPECT_EQ(s.events.back().ts, Ms{6'000});
}

TEST(AuctionFacade, Auction_AdvanceFiresEverythingDueInTimeOrder) {
  auto c = cfg(Format::fixed_price);
  Auction a(c);
  Recorder s;
  ASSERT_EQ(a.register_intent(1, Ms{1}, s), errc::ok);
  ASSERT_EQ(a.register_intent(2, Ms{2}, s), errc::ok);
  EXPECT_EQ(a.view().format, Format::fixed_price);
  EXPECT_EQ(a.view().registered, 2u);
  ASSERT_TRUE(a.bid(1, Fen{10'000}, Ms{100'000}, s).ok());  // converts, then bids
  EXPECT_EQ(a.format(), Format::english);
  EXPECT_EQ(a.view().format, Format::english);
  EXPECT_EQ(a.view().price, Fen{10'000});
  Ms last{0};
  for (const auto& e : s.events) {
    EXPECT_GE(e.ts, last);
    last = e.ts;
  }
}

TEST(AuctionFacade, Auction_PriorityAwareMinNextBid_Rule6) {
  auto c = cfg(Format::english);
  c.priority_holders = {{9, 1}};
  Auction a(c);
  Recorder s;
  ASSERT_TRUE(a.bid(1, Fen{10'000}, Ms{1}, s).ok());
  EXPECT_EQ(a.view().min_next_bid, Fen{10'500});
  EXPECT_EQ(a.min_next_bid_for(9), Fen{10'000});
}

TEST(AuctionFacade, Auction_ValidateAndCancel) {
  auto c = cfg(Format::dutch);
  c.dutch.interval_ms = Ms{0};
  EXPECT_EQ(validate(c), errc::bad_request);
  for (Format f : {Format::english, Format::dutch, Format::sealed_first, Format::sealed_second,
                   Format::fixed_price}) {
    ASSERT_EQ(validate(cfg(f)), errc::ok);
    Auction a(cfg(f));
    EXPECT_EQ(a.cancel(), errc::ok);
    EXPECT_EQ(a.view().state, AuctionState::cancelled);
    EXPECT_EQ(a.next_due(), std::nullopt);
  }
}

TEST(AuctionFacade, Auction_RejectReturnsErrcAndNoReply) {
  Auction a(cfg(Format::english));
  Recorder s;
  const auto r = a.bid(1, Fen{9'000}, Ms{1}, s);
  EXPECT_EQ(r.ec, errc::bid_too_low);
  EXPECT_EQ(a.view().bids, 0u);
}

}  // namespace
}  // namespace ipx::matching
