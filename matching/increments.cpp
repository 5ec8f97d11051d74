#include "matching/increments.hpp"

#include "matching/assert.hpp"

namespace ipx::matching {

Fen default_increment(Fen start) noexcept {
  IPX_ASSERT(start.v > 0 && start <= kAmountMax);
  // Rule 4: 2% up to 100k CNY, 1% up to 1M CNY, 0.5% above; rounded down to a whole yuan.
  const std::int64_t bp = start <= kRule4Tier1Max ? 200 : start <= kRule4Tier2Max ? 100 : 50;
  const std::optional<Fen> inc = bp_of_floor_yuan(start, bp);
  IPX_ASSERT(inc.has_value());  // start <= 10^15, bp <= 200: no overflow
  return inc->v < kMinIncrement.v ? kMinIncrement : *inc;
}

std::optional<IncrementGrid> IncrementGrid::fixed(Fen start, Fen increment) noexcept {
  const IncrementTier tier{Fen{0}, increment};
  return tiered(start, std::span<const IncrementTier>(&tier, 1));
}

std::optional<IncrementGrid> IncrementGrid::tiered(Fen start,
                                                   std::span<const IncrementTier> tiers) noexcept {
  if (start.v <= 0 || start > kAmountMax) return std::nullopt;
  if (tiers.empty() || tiers.size() > kTiersMax || tiers[0].from > start) return std::nullopt;
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    if (tiers[i].increment.v <= 0 || tiers[i].increment > kAmountMax) return std::nullopt;
    if (i > 0 && tiers[i].from <= tiers[i - 1].from) return std::nullopt;
  }
  IncrementGrid g;
  // Walk the tiers: the grid enters tier i at its anchor, steps by tier i's increment up to
  // the last point below the next tier's `from`, and the following point is the next anchor
  // (it may skip tiers when an increment is wider than a tier).
  Fen anchor = start;
  std::size_t t = 0;
  while (anchor <= kAmountMax) {
    while (t + 1 < tiers.size() && tiers[t + 1].from <= anchor) ++t;
    const Fen inc = tiers[t].increment;
    const Fen bound = t + 1 < tiers.size() ? Fen{tiers[t + 1].from.v - 1} : kAmountMax;
    const std::int64_t steps = (bound.v - anchor.v) / inc.v;
    const Fen last{anchor.v + steps * inc.v};  // <= bound <= 10^15: no overflow
    IPX_ASSERT(g.seg_count_ < kTiersMax);
    g.segs_[g.seg_count_++] = Segment{anchor, inc, last};
    if (t + 1 >= tiers.size()) break;
    anchor = Fen{last.v + inc.v};  // <= 2 x 10^15
    ++t;
  }
  return g;
}

const IncrementGrid::Segment* IncrementGrid::segment_of(Fen a) const noexcept {
  const Segment* found = nullptr;
  for (std::size_t i = 0; i < seg_count_; ++i) {
    if (segs_[i].anchor > a) break;
    found = &segs_[i];
  }
  return found;
}

bool IncrementGrid::on_grid(Fen a) const noexcept {
  const Segment* s = segment_of(a);
  return s != nullptr && a <= s->last && (a.v - s->anchor.v) % s->inc.v == 0;
}

std::optional<Fen> IncrementGrid::next(Fen p) const noexcept {
  const Segment* s = segment_of(p);
  IPX_ASSERT(s != nullptr && p <= s->last);
  if (p < s->last) return Fen{p.v + s->inc.v};
  const std::size_t i = static_cast<std::size_t>(s - segs_.data());
  if (i + 1 < seg_count_) return segs_[i + 1].anchor;
  return std::nullopt;  // the top of the grid (kAmountMax)
}

Fen IncrementGrid::prev(Fen p) const noexcept {
  const Segment* s = segment_of(p);
  IPX_ASSERT(s != nullptr && p > segs_[0].anchor);
  if (p > s->anchor) return Fen{p.v - s->inc.v};
  return (s - 1)->last;  // p is an anchor above the first: the previous segment's last point
}

Fen IncrementGrid::increment_at(Fen p) const noexcept {
  const Segment* s = segment_of(p);
  return s != nullptr ? s->inc : segs_[0].inc;
}

}  // namespace ipx::matching
