// IdIndex: the ledger's open-addressing id map. Its table comes zeroed from calloc (an empty
// slot is key 0), touched up front only when asked; both ways must behave the same.
#include "settlement/id_index.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <unordered_map>

namespace ipx::ledger {
namespace {

void exercise(IdIndex& ix, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::unordered_map<std::uint64_t, std::uint32_t> mirror;
  std::uint32_t next = 0;
  for (int step = 0; step < 20'000; ++step) {
    // Engine-like ids (a sequence shifted, a few per command) and random ones, and erases.
    const std::uint64_t key = (rng() % 3 == 0) ? (rng() | 1) : ((rng() % 4096 + 1) << 6 | (rng() % 8));
    const auto it = mirror.find(key);
    if (it != mirror.end()) {
      ASSERT_EQ(ix.find(key), it->second);
      if (rng() % 2 == 0) {
        ix.erase(key);
        mirror.erase(it);
        ASSERT_EQ(ix.find(key), IdIndex::kNone);
      }
    } else if (mirror.size() < ix.max_entries()) {
      ASSERT_EQ(ix.find(key), IdIndex::kNone);
      ix.insert(key, next);
      mirror.emplace(key, next++);
    }
    ASSERT_EQ(ix.size(), mirror.size());
  }
  for (const auto& [k, v] : mirror) ASSERT_EQ(ix.find(k), v);
}

TEST(IdIndex, LazyAndTouchedTablesAgreeWithAMapUnderInsertsAndErases) {
  for (bool touch : {false, true}) {
    IdIndex ix(4096, touch);
    exercise(ix, 7);
  }
}

TEST(IdIndex, AFreshTableFindsNothingAndACopyIsIndependent) {
  IdIndex a(1 << 20);  // 32 MiB of slots, none written
  EXPECT_EQ(a.find(1), IdIndex::kNone);
  EXPECT_EQ(a.find(0xFFFF'FFFF'FFFF'FFFFull), IdIndex::kNone);
  a.insert(42, 7);
  IdIndex b(a);
  b.erase(42);
  b.insert(43, 8);
  EXPECT_EQ(a.find(42), 7u);
  EXPECT_EQ(a.find(43), IdIndex::kNone);
  EXPECT_EQ(b.find(42), IdIndex::kNone);
  EXPECT_EQ(b.find(43), 8u);
  a = b;
  EXPECT_EQ(a.find(43), 8u);
  EXPECT_EQ(a.size(), 1u);
}

}  // namespace
}  // namespace ipx::ledger
