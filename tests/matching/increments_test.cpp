#include "matching/increments.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ipx::matching {
namespace {

// DOMAIN.md rule 4 / PROTOCOL "Edges": 2% up to 100k CNY, 1% up to 1M CNY, 0.5% above,
// rounded down to a whole yuan, never below 1 yuan.
TEST(IncrementsDefault, TwoPercentUpTo100kCny_Rule4) {
  EXPECT_EQ(default_increment(Fen{10'000'000}), Fen{200'000});  // exactly 100k CNY -> 2%
  EXPECT_EQ(default_increment(Fen{5'000'000}), Fen{100'000});
}
TEST(IncrementsDefault, OnePercentUpTo1MCny_Rule4) {
  EXPECT_EQ(default_increment(Fen{10'000'100}), Fen{100'000});  // just above 100k -> 1%
  EXPECT_EQ(default_increment(Fen{100'000'000}), Fen{1'000'000});
}
TEST(IncrementsDefault, HalfPercentAbove1MCny_Rule4) {
  EXPECT_EQ(default_increment(Fen{100'000'100}), Fen{500'000});
  EXPECT_EQ(default_increment(Fen{210'000'000}), Fen{1'050'000});
}
TEST(IncrementsDefault, RoundedDownToWholeYuan_Rule4) {
  // Percentages of odd starts drop the fen.
  EXPECT_EQ(default_increment(Fen{12'345'678}), Fen{123'400});  // 1%: 1,234.5678 -> 1,234 CNY
  EXPECT_EQ(default_increment(Fen{9'876'543}), Fen{197'500});    // 2%: 1,975.3086 -> 1,975 CNY
}
TEST(IncrementsDefault, NeverZeroAtLeastOneYuan_Rule4) {
  EXPECT_EQ(default_increment(Fen{1}), Fen{100});
  EXPECT_EQ(default_increment(Fen{4'999}), Fen{100});
}

TEST(IncrementsGrid, FixedIsStartPlusKTimesIncrement_Rule4) {
  const auto g = IncrementGrid::fixed(Fen{1000}, Fen{30});
  ASSERT_TRUE(g);
  EXPECT_TRUE(g->on_grid(Fen{1000}));
  EXPECT_TRUE(g->on_grid(Fen{1090}));
  EXPECT_FALSE(g->on_grid(Fen{1091}));
  EXPECT_FALSE(g->on_grid(Fen{970}));
  EXPECT_EQ(g->next(Fen{1030}), Fen{1060});
  EXPECT_EQ(g->prev(Fen{1030}), Fen{1000});
  EXPECT_EQ(g->increment_at(Fen{1030}), Fen{30});
}

TEST(IncrementsGrid, TieredContinuesFromLastPointOfLowerTier) {
  const std::vector<IncrementTier> t{{Fen{0}, Fen{30}}, {Fen{1100}, Fen{100}}};
  const auto g = IncrementGrid::tiered(Fen{1000}, t);
  ASSERT_TRUE(g);
  // 1000, 1030, 1060, 1090 | 1120 (first point >= 1100 comes from 1090 + 30), 1220, ...
  EXPECT_EQ(g->next(Fen{1090}), Fen{1120});
  EXPECT_EQ(g->prev(Fen{1120}), Fen{1090});
  EXPECT_TRUE(g->on_grid(Fen{1220}));
  EXPECT_FALSE(g->on_grid(Fen{1200}));
  EXPECT_FALSE(g->on_grid(Fen{1150}));
  EXPECT_EQ(g->increment_at(Fen{1220}), Fen{100});
}

TEST(IncrementsGrid, WideIncrementSkipsATier) {
  const std::vector<IncrementTier> t{{Fen{0}, Fen{500}}, {Fen{1100}, Fen{1}}, {Fen{1200}, Fen{7}}};
  const auto g = IncrementGrid::tiered(Fen{1000}, t);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->next(Fen{1000}), Fen{1500});  // lands in the third tier
  EXPECT_EQ(g->next(Fen{1500}), Fen{1507});
  EXPECT_EQ(g->prev(Fen{1500}), Fen{1000});
  EXPECT_FALSE(g->on_grid(Fen{1101}));
}

TEST(IncrementsGrid, MalformedTablesRejected) {
  EXPECT_FALSE(IncrementGrid::fixed(Fen{1000}, Fen{0}));
  EXPECT_FALSE(IncrementGrid::fixed(Fen{0}, Fen{10}));
  const std::vector<IncrementTier> unsorted{{Fen{0}, Fen{1}}, {Fen{0}, Fen{2}}};
  EXPECT_FALSE(IncrementGrid::tiered(Fen{10}, unsorted));
  const std::vector<IncrementTier> late{{Fen{20}, Fen{1}}};
  EXPECT_FALSE(IncrementGrid::tiered(Fen{10}, late));
  const std::vector<IncrementTier> none;
  EXPECT_FALSE(IncrementGrid::tiered(Fen{10}, none));
}

TEST(IncrementsGrid, TopOfGridHasNoNext) {
  const auto g = IncrementGrid::fixed(kAmountMax, Fen{100});
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->next(kAmountMax).has_value());
  EXPECT_FALSE(g->on_grid(Fen{kAmountMax.v + 100}));
}

}  // namespace
}  // namespace ipx::matching

namespace ipx::matching {
namespace {

// floor(amount x bp / 10000) exactly, where amount x bp does not fit in int64 (fees on a large
// notional, a premium on a large price), checked against 128-bit arithmetic.
TEST(BasisPoints, ExactWithoutAnIntermediateOverflow) {
  __extension__ using Wide = __int128;
  const std::int64_t amounts[] = {0, 1, 9'999, 10'001, 123'456'789, 999'999'999'999'999,
                                  999'999'999'999'999 * 2'048, INT64_MAX / 10'000 * 9'999,
                                  INT64_MAX};
  for (std::int64_t a : amounts) {
    for (std::int64_t bp : {0, 1, 37, 123, 5'000, 9'999, 10'000}) {
      const Wide want = static_cast<Wide>(a) * bp / 10'000;
      const auto got = bp_of_floor(a, bp);
      ASSERT_TRUE(got.has_value()) << a << " x " << bp;
      EXPECT_EQ(static_cast<Wide>(*got), want) << a << " x " << bp;
    }
  }
  EXPECT_EQ(bp_of_floor(INT64_MAX, 10'001), std::nullopt);  // the result itself does not fit
  EXPECT_EQ(bp_of_floor(-1, 100), std::nullopt);
  EXPECT_EQ(bp_of_floor_yuan(Fen{999'999'999'999'999}, 10'000)->v, 999'999'999'999'900);
}

}  // namespace
}  // namespace ipx::matching
