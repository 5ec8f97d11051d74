#include "matching/fixed_price_listing.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ipx::matching {
namespace {

struct Recorder final : AuctionSink {
  std::vector<AuctionEvent> events;
  void on_event(const AuctionEvent& e) override { events.push_back(e); }
};

constexpr Ms kClose{1'000'000};

FixedPriceConfig base() {
  FixedPriceConfig c;
  c.start_price = Fen{50'000'000};  // 500k CNY -> rule-4 increment 1% = 500,000 fen
  c.opens_at = Ms{0};
  c.closes_at = kClose;
  return c;
}

TEST(FixedPriceListing, FixedPrice_OneBuyerBuysAtListedPrice_Rule16) {
  FixedPriceListing f(base());
  Recorder s;
  ASSERT_EQ(f.register_intent(7, Ms{10}, s), errc::ok);
  f.advance(kClose, s);
  EXPECT_EQ(f.state(), AuctionState::sold);
  EXPECT_EQ(f.winner(), 7u);
  ASSERT_GE(s.events.size(), 2u);
  EXPECT_EQ(s.events.back().kind, EventKind::closed);
  EXPECT_EQ(s.events.back().amount, Fen{50'000'000});
  EXPECT_EQ(s.events.back().ts, kClose);
}

TEST(FixedPriceListing, FixedPrice_NoBuyerUnsold_Rule16) {
  FixedPriceListing f(base());
  Recorder s;
  f.advance(Ms{5'000'000}, s);
  EXPECT_EQ(f.state(), AuctionState::unsold);
  EXPECT_EQ(f.unsold_reason(), UnsoldReason::no_bids);
  EXPECT_EQ(s.events.back().ts, kClose);
}

TEST(FixedPriceListing, FixedPrice_TwoBuyersTurnEnglish_Rule16) {
  FixedPriceListing f(base());
  Recorder s;
  ASSERT_EQ(f.register_intent(7, Ms{10}, s), errc::ok);
  ASSERT_EQ(f.register_intent(8, Ms{20}, s), errc::ok);
  f.advance(kClose, s);
  ASSERT_TRUE(f.converted());
  EXPECT_EQ(f.state(), AuctionState::open);
  EXPECT_EQ(f.closes_at(), Ms{kClose.v + 24 * 3'600'000});  // 24 h more
  EXPECT_EQ(f.english().min_next_bid(), Fen{50'000'000});     // from start_price
  EXPECT_EQ(f.next_due(), Ms{kClose.v + 24 * 3'600'000});
  // The 5 min / 5 min soft close applies.
  const Ms late{f.closes_at().v - 60'000};
  ASSERT_EQ(f.english().bid(7, Fen{50'000'000}, late, s), errc::ok);
  EXPECT_EQ(f.closes_at(), Ms{late.v + 300'000});
  ASSERT_EQ(f.english().bid(8, Fen{50'500'000}, Ms{late.v + 1}, s), errc::ok);
  f.advance(Ms{late.v + 1 + 300'000}, s);
  EXPECT_EQ(f.state(), AuctionState::sold);
  EXPECT_EQ(f.english().view().winner, 8u);
}

TEST(FixedPriceListing, FixedPrice_ConversionEventsInTimeOrder_Rule16) {
  FixedPriceListing f(base());
  Recorder s;
  ASSERT_EQ(f.register_intent(7, Ms{10}, s), errc::ok);
  ASSERT_EQ(f.register_intent(8, Ms{20}, s), errc::ok);
  f.advance(Ms{kClose.v + 48 * 3'600'000}, s);  // jump past the English phase too
  ASSERT_EQ(s.events.size(), 4u);  // opened, converted, opened (English), closed
  EXPECT_EQ(s.events[1].kind, EventKind::converted);
  EXPECT_EQ(s.events[1].ts, kClose);
  EXPECT_EQ(s.events[2].kind, EventKind::opened);
  EXPECT_EQ(s.events[2].ts, kClose);
  EXPECT_EQ(s.events[3].kind, EventKind::closed);
  EXPECT_EQ(s.events[3].ts, Ms{kClose.v + 24 * 3'600'000});
  EXPECT_EQ(f.state(), AuctionState::unsold);
}

TEST(FixedPriceListing, FixedPrice_RegisterEdges) {
  auto c = base();
  c.opens_at = Ms{100};
  FixedPriceListing f(c);
  Recorder s;
  EXPECT_EQ(f.register_intent(1, Ms{99}, s), errc::auction_not_open);
  EXPECT_EQ(f.register_intent(1, Ms{100}, s), errc::ok);
  EXPECT_EQ(f.register_intent(1, Ms{101}, s), errc::duplicate);
  EXPECT_EQ(f.registered(), 1u);
  EXPECT_EQ(f.register_intent(2, kClose, s), errc::auction_closed);  // at closes_at
}

TEST(FixedPriceListing, FixedPrice_RegisterAfterConversionInvalid) {
  FixedPriceListing f(base());
  Recorder s;
  ASSERT_EQ(f.register_intent(1, Ms{1}, s), errc::ok);
  ASSERT_EQ(f.register_intent(2, Ms{2}, s), errc::ok);
  f.advance(kClose, s);
  EXPECT_EQ(f.register_intent(3, Ms{kClose.v + 1}, s), errc::invalid_state);
}

TEST(FixedPriceListing, FixedPrice_CapacityAndCancel) {
  auto c = base();
  c.max_bidders = 1;
  FixedPriceListing f(c);
  Recorder s;
  ASSERT_EQ(f.register_intent(1, Ms{1}, s), errc::ok);
  EXPECT_EQ(f.register_intent(2, Ms{2}, s), errc::capacity);
  EXPECT_EQ(f.cancel(), errc::ok);
  EXPECT_EQ(f.state(), AuctionState::cancelled);
  EXPECT_EQ(f.cancel(), errc::invalid_state);
}

}  // namespace
}  // namespace ipx::matching
