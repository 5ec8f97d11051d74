// IdIndex: the ledger's open-addressing id map. Its table comes zeroed from calloc (an empty
// slot is key 0), touched up front only when asked; both ways must behave the same.
#include "settlement/id_index.hpp"
#include "settlement/ledger.hpp"

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

// A growing table is rebuilt twice the size when full: every entry is still found, erase
// still works, and clear() empties it at its new size.
TEST(IdIndex, AGrowingTableDoublesWhenFullAndKeepsEveryEntry) {
  IdIndex g(8, /*touch=*/false, /*grow=*/true);
  for (std::uint64_t k = 1; k <= 100; ++k) g.insert(k * 17, static_cast<std::uint32_t>(k));
  EXPECT_EQ(g.size(), 100u);
  EXPECT_GE(g.max_entries(), 100u);
  for (std::uint64_t k = 1; k <= 100; ++k) EXPECT_EQ(g.find(k * 17), k) << k;
  g.erase(17 * 50);
  EXPECT_EQ(g.find(17 * 50), IdIndex::kNone);
  EXPECT_EQ(g.find(17 * 51), 51u);
  g.clear();
  EXPECT_EQ(g.find(17), IdIndex::kNone);
  EXPECT_EQ(g.size(), 0u);
}

// With Limits::grow the ledger's capacity is soft: past it, submits go on.
TEST(IdIndex, ALedgerThatGrowsTakesTransfersPastItsCapacity) {
  Ledger l(Limits{.accounts_max = 2, .transfers_max = 3, .grow = true});
  ASSERT_EQ(l.create_account({.id = 1, .ledger = 1}), errc::ok);
  ASSERT_EQ(l.create_account({.id = 2, .ledger = 1}), errc::ok);
  for (std::uint64_t id = 1; id <= 50; ++id) {
    const Transfer t{.id = id, .debit_account_id = 1, .credit_account_id = 2, .amount = 1, .ledger = 1};
    ASSERT_TRUE(l.submit(std::span(&t, 1), Ms{0}).ok()) << id;
  }
  EXPECT_EQ(l.transfer_count(), 50u);
  EXPECT_FALSE(l.check_invariants(true).has_value());
  auto copy = Ledger::deserialize(l.serialize());
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(copy->state_hash(), l.state_hash());
}

}  // namespace
}  // namespace ipx::ledger
