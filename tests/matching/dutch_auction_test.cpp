#include "matching/dutch_auction.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ipx::matching {
namespace {

struct Recorder final : AuctionSink {
  std::vector<AuctionEvent> events;
  void on_event(const AuctionEvent& e) override { events.push_back(e); }
};

// start 10,000, -1,000 every 60 s, floor 6,500: 10000, 9000, 8000, 7000, 6500 (step 4).
DutchConfig base() {
  return DutchConfig{Fen{10'000}, Fen{1'000}, Ms{60'000}, Fen{6'500}, Ms{1'000}, Ms{10'000'000}};
}

TEST(DutchAuction, Dutch_PriceFormula) {
  DutchAuction a(base());
  EXPECT_EQ(a.price_at(Ms{1'000}), Fen{10'000});
  EXPECT_EQ(a.price_at(Ms{60'999}), Fen{10'000});
  EXPECT_EQ(a.price_at(Ms{61'000}), Fen{9'000});
  EXPECT_EQ(a.price_at(Ms{181'000}), Fen{7'000});
  EXPECT_EQ(a.price_at(Ms{241'000}), Fen{6'500});  // max(floor, 6000)
  EXPECT_EQ(a.price_at(Ms{9'000'000}), Fen{6'500});
}

TEST(DutchAuction, Dutch_FirstAcceptWinsAtCurrentPrice) {
  DutchAuction a(base());
  Recorder s;
  ASSERT_EQ(a.accept(7, Ms{125'000}, s), errc::ok);  // 2 intervals in: 8,000
  EXPECT_EQ(a.state(), AuctionState::sold);
  EXPECT_EQ(a.view().price, Fen{8'000});
  EXPECT_EQ(a.view().winner, 7u);
  EXPECT_EQ(a.view().bids, 1u);
  EXPECT_EQ(a.accept(8, Ms{125'001}, s), errc::auction_closed);
  ASSERT_FALSE(s.events.empty());
  EXPECT_EQ(s.events.back().kind, EventKind::closed);
  EXPECT_EQ(s.events.back().amount, Fen{8'000});
  EXPECT_EQ(s.events.back().ts, Ms{125'000});
}

TEST(DutchAuction, Dutch_AcceptBeforeOpenIsNotOpen) {
  DutchAuction a(base());
  Recorder s;
  EXPECT_EQ(a.accept(7, Ms{999}, s), errc::auction_not_open);
  EXPECT_EQ(a.state(), AuctionState::scheduled);
}

TEST(DutchAuction, Dutch_TicksFireInTimeOrderAtTheirOwnTimes) {
  DutchAuction a(base());
  Recorder s;
  a.advance(Ms{200'000}, s);  // opened, 9000@61s, 8000@121s, 7000@181s
  ASSERT_EQ(s.events.size(), 4u);
  EXPECT_EQ(s.events[0].kind, EventKind::opened);
  EXPECT_EQ(s.events[1].kind, EventKind::price_tick);
  EXPECT_EQ(s.events[1].ts, Ms{61'000});
  EXPECT_EQ(s.events[3].amount, Fen{7'000});
  EXPECT_EQ(a.next_due(), Ms{241'000});
  EXPECT_EQ(a.view().price, Fen{7'000});
}

TEST(DutchAuction, Dutch_UnsoldAfterFloorStoodOneInterval) {
  DutchAuction a(base());
  Recorder s;
  a.advance(Ms{300'999}, s);  // the floor since 241 s; expires at 301 s
  EXPECT_EQ(a.state(), AuctionState::open);
  EXPECT_EQ(a.next_due(), Ms{301'000});
  a.advance(Ms{301'000}, s);
  EXPECT_EQ(a.state(), AuctionState::unsold);
  EXPECT_EQ(a.view().unsold_reason, UnsoldReason::floor_expired);
  EXPECT_EQ(s.events.back().ts, Ms{301'000});
}

TEST(DutchAuction, Dutch_AcceptAtFloorBeforeExpiry) {
  DutchAuction a(base());
  Recorder s;
  ASSERT_EQ(a.accept(3, Ms{300'999}, s), errc::ok);
  EXPECT_EQ(a.view().price, Fen{6'500});
}

TEST(DutchAuction, Dutch_UnsoldAtClosesAt) {
  auto c = base();
  c.closes_at = Ms{150'000};
  DutchAuction a(c);
  Recorder s;
  a.advance(Ms{10'000'000}, s);
  EXPECT_EQ(a.state(), AuctionState::unsold);
  EXPECT_EQ(a.view().unsold_reason, UnsoldReason::time_up);
  EXPECT_EQ(s.events.back().ts, Ms{150'000});  // closes at exactly closes_at
  EXPECT_EQ(a.accept(1, Ms{10'000'001}, s), errc::auction_closed);
}

TEST(DutchAuction, Dutch_AcceptAtClosesAtIsClosed) {
  auto c = base();
  c.closes_at = Ms{150'000};
  DutchAuction a(c);
  Recorder s;
  EXPECT_EQ(a.accept(1, Ms{150'000}, s), errc::auction_closed);
}

TEST(DutchAuction, Dutch_StartAtFloorExpiresAfterOneInterval) {
  auto c = base();
  c.floor = c.start_price;
  DutchAuction a(c);
  Recorder s;
  a.advance(Ms{61'000}, s);
  EXPECT_EQ(a.state(), AuctionState::unsold);
  EXPECT_EQ(a.view().unsold_reason, UnsoldReason::floor_expired);
}

TEST(DutchAuction, Dutch_CancelBeforeAccept) {
  DutchAuction a(base());
  Recorder s;
  EXPECT_EQ(a.cancel(), errc::ok);
  EXPECT_EQ(a.accept(1, Ms{5'000}, s), errc::auction_closed);
  EXPECT_EQ(a.cancel(), errc::invalid_state);
}

TEST(DutchAuction, Dutch_ValidateBounds) {
  auto c = base();
  c.floor = Fen{20'000};
  EXPECT_EQ(validate(c), errc::bad_request);
  c = base();
  c.interval_ms = Ms{0};
  EXPECT_EQ(validate(c), errc::bad_request);
  c = base();
  c.decrement = Fen{1};
  c.start_price = Fen{kDutchStepsMax * 2};
  c.floor = Fen{1};
  EXPECT_EQ(validate(c), errc::bad_request);  // too many ticks
}

}  // namespace
}  // namespace ipx::matching
