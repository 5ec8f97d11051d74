// Order-book benchmarks (docs/BENCHMARKS.md "Matching: order book"). Inputs are generated
// before the timed region; every benchmark checks its result and aborts if it is wrong.
//
// Latency: a single op (~50-150 ns) is too short to time alone, so ops are timed in batches
// (kBatch ops between two steady_clock reads); the clock-read overhead, measured at start-up,
// is subtracted and each batch gives one per-op sample (batch time / kBatch). Percentiles are
// over those samples.
//
// Instruction counts (repeatable on a noisy machine): with IPX_BENCH_SMALL=1 the add-only and
// mixed workloads shrink tenfold, and under
//   valgrind --tool=callgrind --collect-atstart=no <bench> --benchmark_filter=BM_Mixed
// only the timed regions are collected (callgrind's "Collected" total / ops = instructions
// per op, clock reads of the latency batches included).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>
#include <vector>

#include "matching/order_book.hpp"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define IPX_COLLECT_TOGGLE() CALLGRIND_TOGGLE_COLLECT
#else
#define IPX_COLLECT_TOGGLE() ((void)0)
#endif

namespace {

using namespace ipx;
using namespace ipx::matching;
using clock_type = std::chrono::steady_clock;

// IPX_BENCH_SMALL=1 divides the add-only and mixed op counts by 10 (for callgrind).
std::uint32_t scaled(std::uint32_t n) {
  const char* small = std::getenv("IPX_BENCH_SMALL");
  return small != nullptr && small[0] == '1' ? n / 10 : n;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "order_book_bench: result check failed: %s\n", what);
    std::abort();
  }
}

struct rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E37'79B9'7F4A'7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58'476D'1CE4'E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D0'49BB'1331'11EBull;
    return z ^ (z >> 31);
  }
  std::int64_t below(std::int64_t n) {
    return static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(n));
  }
};

struct null_sink final : book_sink {  // counts, so nothing is optimised away
  std::uint64_t trades = 0, events = 0, depth = 0;
  void on_trade(const trade&) override { ++trades; }
  void on_order(order_event, const order_view&) override { ++events; }
  void on_depth(side, Fen, Units) override { ++depth; }
};

order_params limit(OrderId id, OwnerId owner, side s, std::int64_t price, std::int64_t qty,
                   tif t = tif::gtc) {
  order_params p;
  p.id = id;
  p.owner = owner;
  p.side_ = s;
  p.tif_ = t;
  p.price = Fen{price};
  p.qty = Units{qty};
  return p;
}

double clock_overhead_ns() {  // median cost of one steady_clock read pair
  std::vector<double> v(10'001);
  for (double& x : v) {
    const auto a = clock_type::now();
    const auto b = clock_type::now();
    x = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count());
  }
  std::nth_element(v.begin(), v.begin() + 5000, v.end());
  return v[5000];
}
const double kClockNs = clock_overhead_ns();

double pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

void report_latency(benchmark::State& state, std::vector<double>& samples) {
  state.counters["p50_ns"] = pct(samples, 0.50);
  state.counters["p99_ns"] = pct(samples, 0.99);
  state.counters["p999_ns"] = pct(samples, 0.999);
  state.counters["clock_ns"] = kClockNs;
}

// ---- add-only: 3M limit orders alternating buy/sell over 10 prices, qty 100..1000 ----------

const std::uint32_t kAddOrders = scaled(3'000'000);

void BM_AddOnly(benchmark::State& state) {
  std::vector<order_params> in(kAddOrders);
  std::int64_t want[10] = {};
  rng r{42};
  for (std::uint32_t i = 0; i < kAddOrders; ++i) {
    const std::int64_t k = i % 10;  // even k buy at 1000..1008 step 2; odd k sell above
    const side s = k % 2 == 0 ? side::buy : side::sell;
    const std::int64_t price = s == side::buy ? 1000 + k / 2 : 1010 + k / 2;
    in[i] = limit(i + 1, 1 + i % 64, s, price, 100 + r.below(901));
    want[k] += in[i].qty.v;
  }
  null_sink sink;
  book_config cfg;
  cfg.orders_max = kAddOrders;
  cfg.levels_max = 64;
  order_book book{cfg, sink};
  for (auto _ : state) {
    state.PauseTiming();
    book.clear();
    state.ResumeTiming();
    IPX_COLLECT_TOGGLE();
    for (const order_params& p : in) {
      if (book.place(p, Ms{0}).ec != errc::ok) check(false, "add rejected");
    }
    IPX_COLLECT_TOGGLE();
    state.PauseTiming();
    check(book.order_count() == kAddOrders, "order count");
    const book_depth d = book.depth(10);
    check(d.bids.size() == 5 && d.asks.size() == 5, "10 levels");
    for (int k = 0; k < 5; ++k) {
      check(d.bids[static_cast<std::size_t>(k)].qty.v == want[8 - 2 * k], "bid level total");
      check(d.asks[static_cast<std::size_t>(k)].qty.v == want[2 * k + 1], "ask level total");
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kAddOrders);
  state.counters["orders_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kAddOrders, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AddOnly)->Unit(benchmark::kMillisecond)->Iterations(3);

// ---- mixed, as exchange-core measures: 9% GTC, 3% IOC, 6% cancel, 82% replace -----------

enum class op_kind : std::uint8_t { place, cancel, replace };
struct command {
  op_kind kind;
  order_params p;  // place: the order; cancel/replace: p.id, p.price, p.qty
};

constexpr std::int64_t kMid = 100'000;
constexpr std::int64_t kHalfBand = 375;  // ~750 prices in all
const std::size_t kMixedOps = scaled(2'000'000);
constexpr std::size_t kSeedOrders = 1'000;
constexpr std::size_t kTargetResting = 1'000;

struct live_set : book_sink {  // tracks live ids while generating
  std::vector<OrderId> ids;
  std::unordered_map<OrderId, std::size_t> pos;
  void add(OrderId id) {
    pos[id] = ids.size();
    ids.push_back(id);
  }
  void remove(OrderId id) {
    const auto it = pos.find(id);
    if (it == pos.end()) return;
    const std::size_t k = it->second;
    pos[ids.back()] = k;
    ids[k] = ids.back();
    ids.pop_back();
    pos.erase(id);
  }
  void on_order(order_event e, const order_view& o) override {
    if (e == order_event::accepted) {
      if (!pos.contains(o.id)) add(o.id);
    } else {
      remove(o.id);
    }
  }
};

struct mixed_input {
  std::vector<order_params> seed;
  std::vector<command> cmds;
  std::uint64_t digest = 0;
  std::size_t final_orders = 0;
};

book_config mixed_config() {
  book_config c;
  c.orders_max = 1u << 16;
  c.levels_max = 4096;
  return c;
}

order_params random_resting(rng& r, OrderId id) {
  const side s = r.below(2) == 0 ? side::buy : side::sell;
  const std::int64_t off = 1 + r.below(kHalfBand);
  return limit(id, 1 + static_cast<OwnerId>(r.below(1000)), s, s == side::buy ? kMid - off : kMid + off,
               1 + r.below(100));
}

command next_command(rng& r, live_set& live, OrderId& next_id) {
  const std::int64_t roll = r.below(100);
  if (roll < 12 || live.ids.empty()) {  // 9% GTC (may cross a little), 3% IOC (takes)
    order_params p = random_resting(r, next_id++);
    if (roll >= 9) {
      p.tif_ = tif::ioc;
      p.price = Fen{p.side_ == side::buy ? kMid + kHalfBand : kMid - kHalfBand};
      // IOC size adapts so the book hovers around ~1k resting orders.
      p.qty = Units{1 + r.below(live.ids.size() > kTargetResting ? 400 : 40)};
    } else if (r.below(8) == 0) {
      p.price.v += p.side_ == side::buy ? 3 : -3;
    }
    return {op_kind::place, p};
  }
  const OrderId id = live.ids[static_cast<std::size_t>(r.below(static_cast<std::int64_t>(live.ids.size())))];
  if (roll < 18) return {op_kind::cancel, limit(id, 0, side::buy, 0, 0)};
  const order_params near = random_resting(r, 0);  // a new price on the order's own side
  return {op_kind::replace, limit(id, 0, side::buy, 0, near.qty.v)};
}

std::size_t apply(order_book& b, const command& c) {  // returns 1 when rejected
  switch (c.kind) {
    case op_kind::place: return b.place(c.p, Ms{0}).ec == errc::ok ? 0 : 1;
    case op_kind::cancel: return b.cancel(c.p.id).ec == errc::ok ? 0 : 1;
    case op_kind::replace: return b.replace(c.p.id, c.p.price, c.p.qty, Ms{0}).ec == errc::ok ? 0 : 1;
  }
  return 1;
}

const mixed_input& mixed() {
  static const mixed_input in = [] {
    mixed_input m;
    live_set live;
    order_book b{mixed_config(), live};
    rng r{7};
    OrderId next_id = 1;
    for (std::size_t i = 0; i < kSeedOrders; ++i) {
      m.seed.push_back(random_resting(r, next_id++));
      check(b.place(m.seed.back(), Ms{0}).ec == errc::ok, "seed order");
    }
    m.cmds.reserve(kMixedOps);
    for (std::size_t i = 0; i < kMixedOps; ++i) {
      command c = next_command(r, live, next_id);
      if (c.kind == op_kind::replace) {  // move within the order's own side of the band
        const auto o = b.find(c.p.id);
        const std::int64_t off = 1 + r.below(kHalfBand);
        c.p.price = Fen{o->side_ == side::buy ? kMid - off : kMid + off};
        c.p.qty = Units{o->qty.v - o->leaves.v + c.p.qty.v};
      }
      check(apply(b, c) == 0, "generated command rejected");
      m.cmds.push_back(c);
    }
    b.check_invariants();
    m.digest = b.state_digest();
    m.final_orders = b.order_count();
    return m;
  }();
  return in;
}

constexpr std::size_t kBatch = 16;

void BM_Mixed(benchmark::State& state) {
  const mixed_input& in = mixed();
  null_sink sink;
  order_book book{mixed_config(), sink};
  std::vector<double> samples;
  samples.reserve(in.cmds.size() / kBatch * 8);
  for (auto _ : state) {
    state.PauseTiming();
    book.clear();
    for (const order_params& p : in.seed) book.place(p, Ms{0});
    state.ResumeTiming();
    std::size_t rejected = 0;
    IPX_COLLECT_TOGGLE();
    for (std::size_t i = 0; i + kBatch <= in.cmds.size(); i += kBatch) {
      const auto t0 = clock_type::now();
      for (std::size_t j = i; j < i + kBatch; ++j) rejected += apply(book, in.cmds[j]);
      const auto t1 = clock_type::now();
      const double ns = static_cast<double>((t1 - t0).count()) - kClockNs;
      samples.push_back(ns / kBatch);
    }
    IPX_COLLECT_TOGGLE();
    state.PauseTiming();
    check(rejected == 0, "no command may be rejected");
    check(book.state_digest() == in.digest, "final book equals the generator's");
    check(book.order_count() == in.final_orders, "final order count");
    state.ResumeTiming();
  }
  const double ops = static_cast<double>(state.iterations()) * static_cast<double>(in.cmds.size() / kBatch * kBatch);
  state.counters["ops_per_s"] = benchmark::Counter(ops, benchmark::Counter::kIsRate);
  state.counters["resting"] = static_cast<double>(in.final_orders);
  report_latency(state, samples);
}
BENCHMARK(BM_Mixed)->Unit(benchmark::kMillisecond)->Iterations(3);

// ---- cancel from a price level holding 100k orders ----------------------------------------

constexpr std::uint32_t kLevelOrders = 100'000;
constexpr std::uint32_t kCancels = 10'000;  // the level still holds >= 90k orders
constexpr std::size_t kCancelBatch = 8;

void BM_CancelDeepLevel(benchmark::State& state) {
  std::vector<OrderId> order(kLevelOrders);
  for (std::uint32_t i = 0; i < kLevelOrders; ++i) order[i] = i + 1;
  rng r{99};
  for (std::size_t i = order.size() - 1; i > 0; --i) {
    std::swap(order[i], order[static_cast<std::size_t>(r.below(static_cast<std::int64_t>(i + 1)))]);
  }
  null_sink sink;
  book_config cfg;
  cfg.orders_max = kLevelOrders;
  order_book book{cfg, sink};
  std::vector<double> samples;
  for (auto _ : state) {
    state.PauseTiming();
    book.clear();
    for (OrderId id = 1; id <= kLevelOrders; ++id) book.place(limit(id, id, side::buy, 100, 1), Ms{0});
    state.ResumeTiming();
    IPX_COLLECT_TOGGLE();
    for (std::size_t i = 0; i < kCancels; i += kCancelBatch) {
      const auto t0 = clock_type::now();
      for (std::size_t j = i; j < i + kCancelBatch; ++j) {
        if (book.cancel(order[j]).ec != errc::ok) check(false, "cancel rejected");
      }
      const auto t1 = clock_type::now();
      samples.push_back((static_cast<double>((t1 - t0).count()) - kClockNs) / kCancelBatch);
    }
    IPX_COLLECT_TOGGLE();
    state.PauseTiming();
    check(book.order_count() == kLevelOrders - kCancels, "orders left");
    check(book.depth(1).bids.at(0).qty.v == kLevelOrders - kCancels, "level total");
    state.ResumeTiming();
  }
  state.counters["cancels_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kCancels, benchmark::Counter::kIsRate);
  report_latency(state, samples);
}
BENCHMARK(BM_CancelDeepLevel)->Unit(benchmark::kMicrosecond)->Iterations(20);

}  // namespace

BENCHMARK_MAIN();
