#include "matching/auction.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
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

// ---- snapshots: save / restore --------------------------------------------------------------

// A random step on an auction of any format (bids near the asking price, proxies, Dutch accepts
// when `may_accept`, fixed-price registrations, time), the same for a given rng state.
void random_step(Auction& a, std::mt19937_64& rng, Ms& now, AuctionSink& sink,
                 bool may_accept = true) {
  auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  now = Ms{now.v + pick(0, 1500)};
  const BidderId b = static_cast<BidderId>(pick(1, 6));
  const Fen ask = a.min_next_bid_for(b).value_or(Fen{10'000});
  switch (pick(0, 4)) {
    case 0: a.advance(now, sink); break;
    case 1: a.proxy(b, Fen{ask.v + 500 * pick(0, 6)}, now, sink); break;
    case 2:  // a Dutch accept ends the auction: now and then only
      if (pick(0, 5) == 0 && may_accept) a.accept(b, now, sink);
      break;
    case 3: a.register_intent(b, now, sink); break;
    default: a.bid(b, Fen{ask.v + 500 * pick(0, 2)}, now, sink); break;
  }
}

// For every format: an auction rebuilt from its config and its saved state is the same auction:
// the same view and state again, and the same events, views and due times for the same steps
// from then on (proxy wars, soft close extensions, Dutch ticks, the listing's conversion).
TEST(AuctionFacade, SaveRestore_GivesTheSameAuctionAndTheSameFuture) {
  for (const Format f : {Format::english, Format::dutch, Format::sealed_first,
                         Format::sealed_second, Format::fixed_price}) {
    for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
      SCOPED_TRACE(std::to_string(static_cast<int>(f)) + " seed " + std::to_string(seed));
      AuctionConfig c = cfg(f);
      c.extend_window_ms = Ms{5'000};
      c.extend_by_ms = Ms{5'000};
      c.priority_holders = {{3, 1}};
      c.max_bidders = 16;
      c.dutch.interval_ms = Ms{10'000};  // the clock reaches its floor after the restore
      Auction a(c);
      Recorder ra, rb;
      std::mt19937_64 rng(seed);
      Ms now{0};
      const int before = 2 + static_cast<int>(seed) * 8;
      for (int i = 0; i < before; ++i) random_step(a, rng, now, ra, false);
      Auction b(a.config());
      ASSERT_EQ(b.restore(a.save()), errc::ok);
      EXPECT_EQ(b.save() == a.save(), true);
      EXPECT_EQ(b.next_due(), a.next_due());
      std::mt19937_64 rng_b = rng;
      Ms now_b = now;
      ra.events.clear();
      for (int i = 0; i < 300; ++i) {
        random_step(a, rng, now, ra);
        random_step(b, rng_b, now_b, rb);
        ASSERT_EQ(a.next_due(), b.next_due());
        ASSERT_EQ(a.view().price, b.view().price);
        ASSERT_EQ(a.view().leader, b.view().leader);
      }
      EXPECT_EQ(ra.events, rb.events);
      EXPECT_FALSE(ra.events.empty()) << "the auction was still live when restored";
      EXPECT_EQ(a.view().state, b.view().state);
      EXPECT_EQ(a.view().winner, b.view().winner);
    }
  }
}

// A state of another format, or one the config cannot have made, is refused.
TEST(AuctionFacade, SaveRestore_RefusesAnotherFormatsStateOrAStateOfAnotherConfig) {
  Auction english(cfg(Format::english));
  Auction dutch(cfg(Format::dutch));
  EXPECT_EQ(english.restore(dutch.save()), errc::bad_request);
  Recorder s;
  ASSERT_TRUE(english.proxy(7, Fen{12'000}, Ms{5}, s).ok());  // bidder 7 takes slot 0
  const auto state = english.save();
  ASSERT_EQ(std::get<EnglishAuction::State>(state).slots.size(), 1u);
  AuctionConfig with_holder = cfg(Format::english);  // where slot 0 is the holder's
  with_holder.priority_holders = {{3, 1}};
  Auction held(with_holder);
  EXPECT_EQ(held.restore(state), errc::bad_request);
  auto dutch_state = std::get<DutchAuction::State>(dutch.save());
  dutch_state.next_step = 1'000'000;  // past the floor
  Auction d2(cfg(Format::dutch));
  EXPECT_EQ(d2.restore(dutch_state), errc::bad_request);
}

}  // namespace
}  // namespace ipx::matching
