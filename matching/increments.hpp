#pragma once
// Increments for English auctions: DOMAIN.md rule 4 defaults and the bid grid.
//
// Rule 4: the first bid equals the starting price; later bids are start + k x increment.
// The increment may be fixed (one tier) or tiered by price level (an eBay-style table:
// "from this price on, the step is X"). The grid of acceptable bids is then
//   g0 = start, g(n+1) = g(n) + increment_at(g(n)),
// i.e. an arithmetic progression per tier, each tier's progression continuing from the last
// grid point of the tier below. With one tier this is exactly start + k x increment.
//
// Rule-4 default increment (PROTOCOL.md "Edges"): a percentage of the start, rounded down to
// a whole yuan; start <= 100,000 CNY -> 2%, <= 1,000,000 CNY -> 1%, above -> 0.5%; never 0
// (at least 1 yuan).
#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "matching/types.hpp"

namespace ipx::matching {

// The largest amount the grid reaches (10^15 fen = 10 trillion CNY). Every grid computation
// stays far below INT64_MAX, so next()/prev() cannot overflow.
inline constexpr Fen kAmountMax{1'000'000'000'000'000};

// Rule 4 tier bounds, in fen.
inline constexpr Fen kRule4Tier1Max{10'000'000};   // 100,000 CNY -> 2%
inline constexpr Fen kRule4Tier2Max{100'000'000};  // 1,000,000 CNY -> 1%, above 0.5%
inline constexpr Fen kMinIncrement{100};           // 1 yuan

// DOMAIN.md rule 4: the default increment for a starting price (never below 1 yuan).
// Precondition: 0 < start <= kAmountMax.
Fen default_increment(Fen start) noexcept;

// One tier of an increment table: from price `from` on (inclusive), the step is `increment`.
struct IncrementTier {
  Fen from{0};
  Fen increment{0};
};

// The bid grid of one auction: built once from the start and the tier table (construction
// time), then O(number of tiers) per query with no allocation.
class IncrementGrid {
 public:
  static constexpr std::size_t kTiersMax = 8;

  // A fixed increment: start + k x increment (rule 4).
  static std::optional<IncrementGrid> fixed(Fen start, Fen increment) noexcept;
  // A tiered table: tiers sorted by strictly increasing `from`, the first `from` <= start,
  // every increment > 0, at most kTiersMax tiers. nullopt if the table is malformed.
  static std::optional<IncrementGrid> tiered(Fen start, std::span<const IncrementTier> tiers) noexcept;

  Fen start() const noexcept { return segs_[0].anchor; }
  // True if `a` is a grid point (start + the steps of the table).
  bool on_grid(Fen a) const noexcept;
  // The grid point after `p` (p on the grid). nullopt past kAmountMax.
  std::optional<Fen> next(Fen p) const noexcept;
  // The grid point before `p` (p on the grid, p > start).
  Fen prev(Fen p) const noexcept;
  // The step that applies at price p (p on the grid): the public "increment".
  Fen increment_at(Fen p) const noexcept;

 private:
  // Grid points anchor, anchor + inc, ..., last (all inclusive).
  struct Segment {
    Fen anchor{0};
    Fen inc{0};
    Fen last{0};
  };
  const Segment* segment_of(Fen a) const noexcept;  // the segment with anchor <= a, or null

  std::array<Segment, kTiersMax> segs_{};
  std::size_t seg_count_ = 0;
};

}  // namespace ipx::matching
