// engine/sharded_map.hpp: a map in 64 shards behaves as one map (checked against
// std::unordered_map over a random run of adds, finds and erases), and its keys spread over
// the shards (so no shard grows alone).
#include "engine/sharded_map.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

namespace ipx::engine {
namespace {

TEST(ShardedMap, BehavesAsOneMapOverARandomRun) {
  ShardedMap<std::string, std::uint64_t> m;
  std::unordered_map<std::string, std::uint64_t> want;
  std::mt19937_64 rng(11);
  for (int step = 0; step < 200'000; ++step) {
    const std::string k = "P-" + std::to_string(rng() % 7) + "\x1f" + std::to_string(rng() % 20'000);
    switch (rng() % 3) {
      case 0: {
        const std::uint64_t v = rng();
        EXPECT_EQ(m.try_emplace(k, v), want.try_emplace(k, v).second) << step;
        break;
      }
      case 1:
        EXPECT_EQ(m.erase(k), want.erase(k) == 1) << step;
        break;
      default: {
        const std::uint64_t* got = m.find(k);
        auto it = want.find(k);
        ASSERT_EQ(got != nullptr, it != want.end()) << step;
        if (got != nullptr) {
          EXPECT_EQ(*got, it->second) << step;
        }
        EXPECT_EQ(m.contains(k), it != want.end());
      }
    }
  }
  EXPECT_EQ(m.size(), want.size());
  m.clear();
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.find("P-1\x1f" "1"), nullptr);
}

TEST(ShardedMap, SequentialIntegerKeysSpreadOverEveryShard) {
  ShardedMap<std::uint64_t, int> m;
  m.reserve(64'000);
  for (std::uint64_t id = 1; id <= 64'000; ++id) ASSERT_TRUE(m.try_emplace(id, 1));
  EXPECT_FALSE(m.try_emplace(7, 2));
  EXPECT_EQ(*m.find(7), 1);
  EXPECT_EQ(m.size(), 64'000u);
  // Each shard holds about 1,000 (the ids are consecutive, as order ids are).
  using Map = ShardedMap<std::uint64_t, int>;
  EXPECT_EQ(m.shard_sizes().size(), Map::kShards);
  for (std::size_t n : m.shard_sizes()) {
    EXPECT_GT(n, 800u);
    EXPECT_LT(n, 1'200u);
  }
}

}  // namespace
}  // namespace ipx::engine
