// Property test: EnglishAuction (proxies, priority holders, soft close, tiered increments,
// reserves) against a brute-force reference model written from the rules alone: plain
// std::map / std::vector, full scans, no top-two shortcut, no sorted proxy array, no
// closed-form prices. >= 100,000 random operations per seed; every step's result code,
// events and view must agree, and so must the final state.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "matching/english_auction.hpp"

namespace ipx::matching {
namespace {

struct Recorder final : AuctionSink {
  std::vector<AuctionEvent> events;
  void on_event(const AuctionEvent& e) override { events.push_back(e); }
};

// ---- the reference model -----------------------------------------------------------------

class Model {
 public:
  explicit Model(const EnglishConfig& c) : c_(c), closes_(c.closes_at) {
    for (const auto& h : c.priority_holders) holders_[h.bidder] = h.rank;
    // The grid, step by step: g(n+1) = g(n) + the increment of the tier g(n) lies in.
    for (std::int64_t p = c.start_price.v; p <= 5'000'000;) {
      grid_.push_back(p);
      std::int64_t inc = c.increment.v;
      for (const auto& t : c.tiers) {
        if (t.from.v <= p) inc = t.increment.v;
      }
      p += inc;
    }
  }

  std::vector<AuctionEvent> events;
  AuctionState state = AuctionState::scheduled;
  std::optional<std::int64_t> high;
  BidderId leader = 0;
  std::uint64_t bids = 0;
  std::map<BidderId, std::pair<std::int64_t, std::uint64_t>> proxies;  // max, seq
  Ms closes_at() const { return closes_; }

  std::uint32_t rank(BidderId b) const {
    auto it = holders_.find(b);
    return it == holders_.end() ? kNoRank : it->second;
  }
  bool on_grid(std::int64_t a) const { return std::binary_search(grid_.begin(), grid_.end(), a); }
  std::int64_t next(std::int64_t p) const { return *std::upper_bound(grid_.begin(), grid_.end(), p); }
  std::int64_t min_valid(std::uint32_t r) const {
    if (!high) return c_.start_price.v;
    return r < rank(leader) ? *high : next(*high);
  }
  std::optional<std::int64_t> min_next_for(BidderId b) const {
    if (state != AuctionState::open && state != AuctionState::scheduled) return std::nullopt;
    if (high && b == leader) return std::nullopt;
    return min_valid(rank(b));
  }

  void advance(Ms now) {
    if (state == AuctionState::scheduled && now >= c_.opens_at) {
      state = AuctionState::open;
      AuctionEvent e;
      e.kind = EventKind::opened;
      e.ts = c_.opens_at;
      events.push_back(e);
    }
    if (state == AuctionState::open && now >= closes_) {
      AuctionEvent e;
      e.kind = EventKind::closed;
      e.ts = closes_;
      if (!high) {
        e.reason = UnsoldReason::no_bids;
      } else if (*high < c_.reserve.v) {
        e.reason = UnsoldReason::reserve_not_met;
      }
      state = e.reason == UnsoldReason::none ? AuctionState::sold : AuctionState::unsold;
      if (state == AuctionState::sold) {
        e.bidder = leader;
        e.amount = Fen{*high};
      }
      e.state = state;
      events.push_back(e);
    }
  }

  errc time_check(Ms now) const {
    if (state == AuctionState::scheduled) return errc::auction_not_open;
    if (state != AuctionState::open || now >= closes_) return errc::auction_closed;
    return errc::ok;
  }

  errc bid(BidderId b, std::int64_t a, Ms now) {
    advance(now);
    if (errc e = time_check(now); e != errc::ok) return e;
    if (high && b == leader) return errc::already_leading;
    if (a < min_valid(rank(b))) return errc::bid_too_low;
    if (!on_grid(a)) return errc::bad_price;
    if (!high && a != c_.start_price.v) return errc::bad_price;  // rule 4: the first bid is the start
    proxies.erase(b);
    place(b, a, false, now);
    resolve(now);
    return errc::ok;
  }

  errc proxy(BidderId b, std::int64_t max, Ms now) {
    advance(now);
    if (errc e = time_check(now); e != errc::ok) return e;
    const bool is_leader = high && b == leader;
    if (is_leader) {
      std::int64_t ceiling = *high;
      if (auto it = proxies.find(b); it != proxies.end()) ceiling = std::max(ceiling, it->second.first);
      if (max <= ceiling) return errc::bid_too_low;
    } else if (max < min_valid(rank(b))) {
      return errc::bid_too_low;
    }
    if (!on_grid(max)) return errc::bad_price;
    proxies[b] = {max, ++seq_};
    if (!is_leader) resolve(now);
    return errc::ok;
  }

  errc cancel() {
    if (state == AuctionState::scheduled || (state == AuctionState::open && bids == 0)) {
      state = AuctionState::cancelled;
      return errc::ok;
    }
    return errc::invalid_state;
  }

 private:
  struct Cand {
    std::int64_t ceiling;
    std::uint32_t rank;
    std::uint64_t seq;
    BidderId bidder;
    bool is_leader;
    bool has_proxy;
  };
  // Key order: higher amount; equal: better rank; equal: earlier.
  static bool beats(std::int64_t a, std::uint32_t ra, std::uint64_t sa, std::int64_t b,
                    std::uint32_t rb, std::uint64_t sb) {
    if (a != b) return a > b;
    if (ra != rb) return ra < rb;
    return sa < sb;
  }

  void place(BidderId b, std::int64_t a, bool is_proxy, Ms now) {
    const bool changed = !high || leader != b;
    const bool first = !high;
    high = a;
    leader = b;
    leader_seq_ = ++seq_;
    ++bids;
    AuctionEvent e;
    e.kind = EventKind::bid;
    e.ts = now;
    e.bidder = b;
    e.amount = Fen{a};
    e.is_proxy = is_proxy;
    events.push_back(e);
    if (changed) {
      e.kind = EventKind::leader_changed;
      e.is_proxy = false;
      events.push_back(e);
    }
    if (first && c_.first_bid_close_ms.v > 0) {  // rule 10
      closes_ = Ms{now.v + c_.first_bid_close_ms.v};
      AuctionEvent x;
      x.kind = EventKind::extended;
      x.ts = now;
      x.closes_at = closes_;
      events.push_back(x);
    }
    if (c_.extend_window_ms.v > 0 && closes_.v - now.v <= c_.extend_window_ms.v &&
        now.v + c_.extend_by_ms.v > closes_.v) {
      closes_ = Ms{now.v + c_.extend_by_ms.v};
      AuctionEvent x;
      x.kind = EventKind::extended;
      x.ts = now;
      x.closes_at = closes_;
      events.push_back(x);
    }
  }

  void resolve(Ms now) {
    std::vector<Cand> all;
    if (high) {
      auto it = proxies.find(leader);
      if (it != proxies.end() && it->second.first >= *high) {
        all.push_back({it->second.first, rank(leader), it->second.second, leader, true, true});
      } else {
        all.push_back({*high, rank(leader), leader_seq_, leader, true, false});
      }
    }
    for (const auto& [b, mp] : proxies) {
      if (high && b == leader) continue;
      // Ties go to the earlier bid: a proxy whose maximum equals the high bid and beats the
      // leader in the key order (same amount, better rank or earlier) takes the lead.
      const bool earlier_tie = high && mp.first == *high &&
                               beats(mp.first, rank(b), mp.second, all[0].ceiling, all[0].rank, all[0].seq);
      if (mp.first >= min_valid(rank(b)) || earlier_tie) all.push_back({mp.first, rank(b), mp.second, b, false, true});
    }
    if (all.size() == (high ? 1u : 0u)) return;
    std::sort(all.begin(), all.end(), [](const Cand& x, const Cand& y) {
      return beats(x.ceiling, x.rank, x.seq, y.ceiling, y.rank, y.seq);
    });
    const Cand w = all[0];
    const std::int64_t floor_w = w.is_leader || (high && w.ceiling == *high) ? *high : min_valid(w.rank);
    // The lowest grid amount >= floor at which W beats every other contender's ceiling.
    std::int64_t p = 0;
    for (auto it = std::lower_bound(grid_.begin(), grid_.end(), floor_w); it != grid_.end(); ++it) {
      bool ok = true;
      for (std::size_t i = 1; i < all.size(); ++i) {
        ok = ok && beats(*it, w.rank, w.seq, all[i].ceiling, all[i].rank, all[i].seq);
      }
      if (ok) {
        p = *it;
        break;
      }
    }
    EXPECT_LE(p, w.ceiling);
    if (all.size() > 1 && all[1].has_proxy) {
      const Cand r = all[1];
      const std::int64_t floor_r = r.is_leader ? next(*high) : min_valid(r.rank);
      // The highest grid amount R may bid that W's p still beats under the bidding rules.
      std::optional<std::int64_t> shown;
      for (std::int64_t g : grid_) {
        if (g < floor_r || g > r.ceiling) continue;
        if (p > g || (p == g && w.rank < r.rank)) shown = g;
      }
      if (shown) place(r.bidder, *shown, true, now);
    }
    if (!(high && leader == w.bidder && p == *high)) place(w.bidder, p, true, now);
  }

  EnglishConfig c_;
  Ms closes_;
  std::map<BidderId, std::uint32_t> holders_;
  std::vector<std::int64_t> grid_;
  std::uint64_t seq_ = 0;
  std::uint64_t leader_seq_ = 0;
};

// ---- the driver --------------------------------------------------------------------------

constexpr BidderId kHolderA = 20, kHolderB = 21, kHolderC = 22;
const std::vector<BidderId> kBidders{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, kHolderA, kHolderB, kHolderC};

EnglishConfig random_config(std::mt19937_64& rng, Ms now) {
  EnglishConfig c;
  c.start_price = Fen{1000};
  c.increment = Fen{50};
  if (rng() % 2) c.tiers = {{Fen{0}, Fen{50}}, {Fen{2000}, Fen{100}}, {Fen{4000}, Fen{250}}};
  if (rng() % 3 == 0) c.reserve = Fen{2500};
  c.reserve_hidden = rng() % 2;
  c.opens_at = Ms{now.v + static_cast<std::int64_t>(rng() % 50)};
  c.closes_at = Ms{c.opens_at.v + 1000 + static_cast<std::int64_t>(rng() % 3000)};
  if (rng() % 4 != 0) {
    c.extend_window_ms = Ms{static_cast<std::int64_t>(100 + rng() % 300)};
    c.extend_by_ms = Ms{static_cast<std::int64_t>(rng() % 400)};
  }
  if (rng() % 5 == 0) c.first_bid_close_ms = Ms{static_cast<std::int64_t>(200 + rng() % 2000)};
  c.priority_holders = {{kHolderA, 1}, {kHolderB, 2}, {kHolderC, 2}};
  c.max_bidders = 64;
  return c;
}

void expect_agree(const EnglishAuction& a, const Model& m, std::uint64_t step) {
  ASSERT_EQ(a.state(), m.state) << "step " << step;
  ASSERT_EQ(a.bids(), m.bids) << "step " << step;
  ASSERT_EQ(a.price().has_value(), m.high.has_value()) << "step " << step;
  if (m.high) {
    ASSERT_EQ(a.price()->v, *m.high) << "step " << step;
    ASSERT_EQ(*a.leader(), m.leader) << "step " << step;
  }
  ASSERT_EQ(a.closes_at(), m.closes_at()) << "step " << step;
  for (BidderId b : kBidders) {
    const auto mine = a.min_next_bid_for(b);
    const auto ref = m.min_next_for(b);
    ASSERT_EQ(mine.has_value(), ref.has_value()) << "step " << step;
    if (ref) {
      ASSERT_EQ(mine->v, *ref) << "step " << step << " bidder " << b;
    }
  }
  const auto pub = a.min_next_bid();
  const auto ref = m.min_next_for(0);
  ASSERT_EQ(pub.has_value(), ref.has_value());
  if (ref) {
    ASSERT_EQ(pub->v, *ref);
  }
}

std::int64_t pick_amount(std::mt19937_64& rng, const Model& m, BidderId b) {
  std::int64_t a = m.min_next_for(b).value_or(m.high.value_or(1000));
  const int steps = static_cast<int>(rng() % 12) - 1;  // -1 .. 10 grid-ish steps
  for (int i = 0; i < steps; ++i) a = m.next(a);
  if (steps < 0) a -= 50;
  if (rng() % 10 == 0) a += 25;  // off the grid
  return a;
}

void run_seed(std::uint64_t seed, std::uint64_t ops) {
  std::mt19937_64 rng(seed);
  Ms now{1'000'000};
  Recorder sink;
  std::uint64_t auctions = 0, accepted = 0;
  while (true) {
    const EnglishConfig c = random_config(rng, now);
    EnglishAuction a(c);
    Model m(c);
    ++auctions;
    for (std::uint64_t step = 0; ops > 0; ++step, --ops) {
      const std::uint64_t roll = rng() % 100;
      now = Ms{now.v + static_cast<std::int64_t>(roll < 95 ? rng() % 25 : rng() % 1500)};
      const BidderId b = kBidders[rng() % kBidders.size()];
      sink.events.clear();
      m.events.clear();
      errc got = errc::ok, want = errc::ok;
      if (roll < 45) {
        const std::int64_t amt = pick_amount(rng, m, b);
        got = a.bid(b, Fen{amt}, now, sink);
        want = m.bid(b, amt, now);
      } else if (roll < 80) {
        const std::int64_t amt = pick_amount(rng, m, b);
        got = a.proxy(b, Fen{amt}, now, sink);
        want = m.proxy(b, amt, now);
      } else if (roll < 88 && m.high) {  // the leader raises its proxy
        const std::int64_t amt = m.next(m.next(*m.high)) + (rng() % 8 == 0 ? 10 : 0);
        got = a.proxy(m.leader, Fen{amt}, now, sink);
        want = m.proxy(m.leader, amt, now);
      } else if (roll == 88) {
        got = a.cancel();
        want = m.cancel();
      } else {
        a.advance(now, sink);
        m.advance(now);
      }
      ASSERT_EQ(got, want) << "seed " << seed << " step " << step;
      ASSERT_EQ(sink.events, m.events) << "seed " << seed << " step " << step;
      expect_agree(a, m, step);
      if (got == errc::ok) ++accepted;
      if (m.state != AuctionState::open && m.state != AuctionState::scheduled) break;
    }
    if (ops == 0) {
      expect_agree(a, m, 0);  // the final state
      break;
    }
  }
  EXPECT_GT(auctions, 10u);
  EXPECT_GT(accepted, 1000u);
}

constexpr std::uint64_t kOpsPerSeed = 100'000;

TEST(EnglishAuctionProperty, AgreesWithReferenceModel_Seed1) { run_seed(1, kOpsPerSeed); }
TEST(EnglishAuctionProperty, AgreesWithReferenceModel_Seed42) { run_seed(42, kOpsPerSeed); }
TEST(EnglishAuctionProperty, AgreesWithReferenceModel_Seed2024) { run_seed(2024, kOpsPerSeed); }
TEST(EnglishAuctionProperty, AgreesWithReferenceModel_Seed9001) { run_seed(9001, kOpsPerSeed); }

}  // namespace
}  // namespace ipx::matching
