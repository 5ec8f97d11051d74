// English auction throughput: ~1M accepted bids from 1k proxy bidders.
// Each benchmark checks its result against a simple closed-form computation and fails
// (SkipWithError) if they disagree: a benchmark that does not check its result measures
// nothing. Items/s = accepted bids (proxy auto-bids included), the engine's unit of work.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "matching/english_auction.hpp"

namespace {

using namespace ipx;
using namespace ipx::matching;

struct CountingSink final : AuctionSink {
  std::uint64_t bids = 0;
  void on_event(const AuctionEvent& e) override { bids += e.kind == EventKind::bid; }
};

constexpr std::int64_t kStart = 1'000'000;
constexpr std::int64_t kInc = 100;
constexpr std::uint32_t kProxyBidders = 1'000;

EnglishConfig config() {
  EnglishConfig c;
  c.start_price = Fen{kStart};
  c.increment = Fen{kInc};
  c.opens_at = Ms{0};
  c.closes_at = Ms{INT64_MAX / 2};
  c.extend_window_ms = Ms{300'000};
  c.extend_by_ms = Ms{300'000};
  c.max_bidders = 1'024;
  return c;
}

// Scenario A, a proxy war: 1k bidders take turns setting a proxy 1-3 steps above the
// leader's maximum. Each command makes the newcomer lead one step above the old maximum;
// the old leader's proxy first shows its maximum when that is above the standing price
// (2 bids), else not (1 bid). Expected, by a plain loop: leader = the last bidder, price,
// bid count.
void BM_EnglishProxyWar(benchmark::State& state) {
  const auto commands = static_cast<std::int64_t>(state.range(0));
  std::uint64_t total_bids = 0;
  for (auto _ : state) {
    state.PauseTiming();
    EnglishAuction a(config());
    CountingSink sink;
    a.advance(Ms{0}, sink);
    state.ResumeTiming();
    std::int64_t max = kStart;
    for (std::int64_t k = 0; k < commands; ++k) {
      max += kInc * (1 + k % 3);
      const BidderId b = static_cast<BidderId>(k % kProxyBidders) + 1;
      if (a.proxy(b, Fen{max}, Ms{k + 1}, sink) != errc::ok) state.SkipWithError("rejected");
    }
    benchmark::DoNotOptimize(a.price());
    state.PauseTiming();
    // The simple computation: the newcomer leads one step above the old leader's maximum;
    // the old leader's proxy shows its maximum first if that is above the standing price.
    std::int64_t m = kStart + kInc, price = kStart, expect_bids = 1;
    for (std::int64_t k = 1; k < commands; ++k) {
      expect_bids += m > price ? 2 : 1;
      price = m + kInc;
      m += kInc * (1 + k % 3);
    }
    const BidderId last = static_cast<BidderId>((commands - 1) % kProxyBidders) + 1;
    if (a.leader() != last || a.price() != Fen{price} ||
        sink.bids != static_cast<std::uint64_t>(expect_bids) || a.bids() != sink.bids) {
      state.SkipWithError("result differs from the expected leader/price/bid count");
      break;
    }
    total_bids += sink.bids;
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(total_bids));
}
BENCHMARK(BM_EnglishProxyWar)->Arg(600'000)->Unit(benchmark::kMillisecond);

// Scenario B, a crowd against proxies: 1k proxy bidders set rising maxima (the last is the
// strongest), then two manual bidders alternate at min_next_bid; the leading proxy answers
// each with one step more until its maximum, after which the manual bidders climb alone.
// Expected: computed by stepping one increment per accepted bid.
void BM_EnglishManualVsProxies(benchmark::State& state) {
  const auto commands = static_cast<std::int64_t>(state.range(0));
  std::uint64_t total_bids = 0;
  for (auto _ : state) {
    state.PauseTiming();
    EnglishAuction a(config());
    CountingSink sink;
    a.advance(Ms{0}, sink);
    for (std::uint32_t j = 1; j <= kProxyBidders; ++j) {
      (void)a.proxy(j, Fen{kStart + kInc * 400 * j}, Ms{1}, sink);
    }
    const std::uint64_t setup_bids = sink.bids;
    const Fen top_max{kStart + kInc * 400 * kProxyBidders};
    state.ResumeTiming();
    for (std::int64_t k = 0; k < commands; ++k) {
      const BidderId b = 1'000'000 + static_cast<BidderId>(k % 2);
      const Fen amount = a.leader() == b ? Fen{0} : *a.min_next_bid();
      if (amount.v == 0) continue;  // never: the leader is the proxy or the other bidder
      if (a.bid(b, amount, Ms{2 + k}, sink) != errc::ok) state.SkipWithError("rejected");
    }
    benchmark::DoNotOptimize(a.price());
    state.PauseTiming();
    // After setup: price = the second-highest max + one step, led by proxy 1000. Each manual
    // bid then adds one step, and the proxy one more while it has room.
    std::int64_t price = kStart + kInc * 400 * (kProxyBidders - 1) + kInc;
    BidderId leader = kProxyBidders;
    std::uint64_t bids = 0;
    for (std::int64_t k = 0; k < commands; ++k) {
      price += kInc;
      leader = 1'000'000 + static_cast<BidderId>(k % 2);
      ++bids;
      if (price + kInc <= top_max.v) {
        price += kInc;
        leader = kProxyBidders;
        ++bids;
      }
    }
    if (a.price() != Fen{price} || a.leader() != leader || sink.bids - setup_bids != bids) {
      state.SkipWithError("result differs from the expected leader/price/bid count");
      break;
    }
    total_bids += sink.bids - setup_bids;
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(total_bids));
}
BENCHMARK(BM_EnglishManualVsProxies)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
