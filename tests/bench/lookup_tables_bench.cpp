// The engine's growing lookup tables (client_order_ids_, finished_, remembered_): the longest
// single insert while 3M keys go in, one boost::unordered_flat_map against ShardedMap (64
// shards). A flat map doubles its table in one insert; that insert stops the engine thread
// (docs/BENCHMARKS.md "Seventh round"). Counters: worst_insert_ms (the longest insert),
// mean_insert_ns. Keys as the engine makes them: "P-<n>\x1f<client id>" strings and
// consecutive order ids. Checked after the timed loop: every key is found with its value.
#include <benchmark/benchmark.h>
#include <boost/unordered/unordered_flat_map.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/sharded_map.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kKeys = 3'000'000;

std::string string_key(std::uint64_t i) { return "P-" + std::to_string(i % 97) + "\x1f" + "c" + std::to_string(i); }

template <class Map, class Key>
bool insert(Map& m, Key k, std::uint64_t v) {
  if constexpr (requires { m.try_emplace(std::move(k), v).second; }) {
    return m.try_emplace(std::move(k), v).second;
  } else {
    return m.try_emplace(std::move(k), v);
  }
}

template <class Map, class Key>
const std::uint64_t* lookup(const Map& m, const Key& k) {
  if constexpr (requires { m.find(k)->second; }) {
    auto it = m.find(k);
    return it == m.end() ? nullptr : &it->second;
  } else {
    return m.find(k);
  }
}

template <class Map, bool Strings>
void BM_Insert(benchmark::State& state) {
  double worst_ms = 0, total_ns = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::string> keys;
    if constexpr (Strings) {
      keys.reserve(kKeys);
      for (std::uint64_t i = 1; i <= kKeys; ++i) keys.push_back(string_key(i));
    }
    Map m;
    state.ResumeTiming();
    for (std::uint64_t i = 1; i <= kKeys; ++i) {
      const auto t0 = Clock::now();
      bool added;
      if constexpr (Strings) {
        added = insert(m, std::move(keys[i - 1]), i);
      } else {
        added = insert(m, i, i);
      }
      const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
      total_ns += ns;
      worst_ms = std::max(worst_ms, ns / 1e6);
      if (!added) state.SkipWithError("a key was refused");
    }
    state.PauseTiming();
    for (std::uint64_t i = 1; i <= kKeys; i += 997) {
      const std::uint64_t* v = nullptr;
      if constexpr (Strings) {
        v = lookup(m, string_key(i));
      } else {
        v = lookup(m, i);
      }
      if (v == nullptr || *v != i) state.SkipWithError("a key was lost");
    }
    state.ResumeTiming();
  }
  state.counters["worst_insert_ms"] = worst_ms;
  state.counters["mean_insert_ns"] = total_ns / static_cast<double>(kKeys * state.iterations());
}

using FlatStrings = boost::unordered_flat_map<std::string, std::uint64_t>;
using ShardedStrings = ipx::engine::ShardedMap<std::string, std::uint64_t>;
using FlatIds = boost::unordered_flat_map<std::uint64_t, std::uint64_t>;
using ShardedIds = ipx::engine::ShardedMap<std::uint64_t, std::uint64_t>;

BENCHMARK_TEMPLATE(BM_Insert, FlatStrings, true)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Insert, ShardedStrings, true)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Insert, FlatIds, false)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Insert, ShardedIds, false)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
