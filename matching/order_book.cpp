#include "matching/order_book.hpp"

#include <algorithm>
#include <bit>

#include "matching/assert.hpp"

// Back-of-the-envelope sizing (STYLE.md), which shaped the structures below:
// - A licence-unit market of the pilot holds hundreds to tens of thousands of live orders on
//   at most a few hundred prices; the benchmarks stretch this to 3M orders on 10 prices,
//   ~1k orders on ~750 prices, and 100k orders on one price.
// - Orders: a pool of `orders_max` 72-byte nodes (3M orders = 216 MB; the default 64k = 4.7 MB)
//   in intrusive per-level FIFO lists (uint32 links): no heap node per order, O(1) unlink.
// - Id index: open addressing, linear probing, >= 2x orders_max slots of 16 bytes (load
//   <= 0.5, so a probe is ~1.5 slots, one cache line); backward-shift delete, no tombstones.
//   At 3M orders the table is 128 MB: a fully scattering hash costs a cache and TLB miss per
//   insert (~100 ns, the whole add budget), hence home() below keeps runs of 8 ids together.
// - Price levels: per side a sorted array of (key, level) with the best level at the back.
//   Matching and most adds touch the top, so finding the best is O(1); a new or emptied
//   level costs a binary search (log2 750 ~ 10 compares in a 6 KB array that stays in L1)
//   plus a memmove of the levels behind it, which near the top is a few entries, and at worst
//   (levels_max 4096) 32 KB, ~1 us, only for a level far from the top. A tick-indexed ladder
//   would make that O(1) but needs a bounded price range, which licence prices do not have.
// - Expiry: a binary min-heap of GTD orders on (expire_at, id), positions kept in the nodes
//   so a cancel removes its entry in O(log n).

namespace ipx::matching {
namespace {

std::size_t pow2_at_least(std::size_t n) {
  std::size_t p = 16;  // home() needs at least 16 slots
  while (p < n) p <<= 1;
  return p;
}

order_event event_of(order_status st) {
  switch (st) {
    case order_status::filled: return order_event::filled;
    case order_status::cancelled: return order_event::cancelled;
    case order_status::expired: return order_event::expired;
    case order_status::open:
    case order_status::partially_filled: break;
  }
  return order_event::accepted;
}

// Branchless lower_bound (compiles to cmov): a branchy binary search over ~400 levels
// mispredicts about half of its ~9 steps, which profiling showed as a third of a replace.
std::size_t lower_bound_pos(const std::vector<std::int64_t>& keys, std::int64_t key) {
  if (keys.empty()) return 0;
  const std::int64_t* base = keys.data();
  std::size_t n = keys.size();
  while (n > 1) {
    const std::size_t half = n / 2;
    base = base[half] < key ? base + half : base;
    n -= half;
  }
  return static_cast<std::size_t>(base - keys.data()) + (*base < key ? 1u : 0u);
}

std::uint64_t mix(std::uint64_t h, std::uint64_t x) {  // splitmix64 finaliser over h ^ x
  std::uint64_t z = (h ^ x) + 0x9E37'79B9'7F4A'7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58'476D'1CE4'E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D0'49BB'1331'11EBull;
  return z ^ (z >> 31);
}

}  // namespace

order_book::order_book(const book_config& cfg, book_sink& sink) : cfg_(cfg), sink_(sink) {
  IPX_ASSERT(cfg.tick.v > 0 && cfg.lot.v > 0);
  IPX_ASSERT(cfg.orders_max > 0 && cfg.orders_max < nil / 4);
  IPX_ASSERT(cfg.levels_max > 0 && cfg.levels_max < nil);
  nodes_.resize(cfg.orders_max);
  free_nodes_.reserve(cfg.orders_max);
  levels_.resize(cfg.levels_max);
  free_levels_.reserve(cfg.levels_max);
  for (ladder& l : ladders_) {
    l.keys.reserve(cfg.levels_max);
    l.lv.reserve(cfg.levels_max);
  }
  const std::size_t slots = pow2_at_least(std::size_t{cfg.orders_max} * 2);
  index_.resize(slots);
  index_mask_ = slots - 1;
  index_bits_ = static_cast<unsigned>(std::countr_zero(slots));
  heap_.reserve(cfg.orders_max);
  const std::size_t pslots = pow2_at_least(std::size_t{cfg.levels_max} * 4);
  price_slots_.resize(pslots);
  price_shift_ = 64u - static_cast<unsigned>(std::countr_zero(pslots));
  const auto pow2_mask = [](std::int64_t v) {
    return std::has_single_bit(static_cast<std::uint64_t>(v)) ? v - 1 : std::int64_t{-1};
  };
  lot_mask_ = pow2_mask(cfg.lot.v);
  tick_mask_ = pow2_mask(cfg.tick.v);
  clear();
}

void order_book::clear() {
  free_nodes_.clear();
  for (std::uint32_t i = cfg_.orders_max; i-- > 0;) free_nodes_.push_back(i);
  free_levels_.clear();
  for (std::uint32_t i = cfg_.levels_max; i-- > 0;) free_levels_.push_back(i);
  for (ladder& l : ladders_) {
    l.keys.clear();
    l.lv.clear();
  }
  std::fill(index_.begin(), index_.end(), slot{0, nil, 0});
  std::fill(price_slots_.begin(), price_slots_.end(), nil);
  spilled_[0] = spilled_[1] = 0;
  ghosts_[0] = ghosts_[1] = 0;
  heap_.clear();
  orders_live_ = 0;
  next_trade_id_ = cfg_.first_trade_id;
  next_priority_ = 1;
}

// ---- commands -------------------------------------------------------------------------------

// Shape checks (PROTOCOL.md "Orders", BAD_REQUEST): qty a positive multiple of the lot,
// price > 0 for limits, a market order has no price and tif ioc/fok, post-only not with ioc/fok;
// notional price x qty must fit int64; a GTD order must not be already expired.
errc order_book::check_shape(const order_params& p, Ms now) const {
  if (static_cast<unsigned>(p.side_) > 1u || static_cast<unsigned>(p.type) > 1u ||
      static_cast<unsigned>(p.tif_) > 3u || static_cast<unsigned>(p.stp_) > 3u) {
    return errc::bad_request;
  }
  if (p.qty.v <= 0 || !multiple_of_lot(p.qty.v)) return errc::bad_request;
  const bool immediate = p.tif_ == tif::ioc || p.tif_ == tif::fok;
  if (p.type == order_type::market) {
    if (p.price.v != 0 || !immediate) return errc::bad_request;
  } else {
    if (p.price.v <= 0 || !notional(p.price, p.qty)) return errc::bad_request;
  }
  if (p.post_only && immediate) return errc::bad_request;
  if (p.tif_ == tif::gtd && p.expire_at <= now) return errc::bad_request;
  return errc::ok;
}

book_result order_book::place(const order_params& p, Ms now, funds_ref funds) {
  if (const errc e = check_shape(p, now); e != errc::ok) return {e, {}};
  if (index_find(p.id) != nil) return {errc::duplicate, {}};
  if (p.type == order_type::limit && !multiple_of_tick(p.price.v)) return {errc::bad_price, {}};
  taker t{p, 0, p.qty.v};
  plan pl;
  if (const errc e = check_rules(t, now, funds, nil, pl); e != errc::ok) return {e, {}};
  return execute(t, now, pl);
}

book_result order_book::replace(OrderId id, Fen new_price, Units new_qty, Ms now,
                                funds_ref funds) {
  const std::uint32_t i = index_find(id);
  if (i == nil) return {errc::not_found, {}};
  const node& o = nodes_[i];
  if (expired_at(o, now)) return {errc::invalid_state, {}};  // the engine expires first
  const std::int64_t filled = o.qty - o.leaves;
  // Shape: as for a new limit order, and the new total must exceed what is already filled.
  if (new_qty.v <= 0 || !multiple_of_lot(new_qty.v) || new_qty.v <= filled ||
      new_price.v <= 0 || !notional(new_price, new_qty)) {
    return {errc::bad_request, {}};
  }
  if (!multiple_of_tick(new_price.v)) return {errc::bad_price, {}};
  order_params p{o.id, o.owner, o.side_, o.type, o.tif_, new_price, new_qty,
                 Ms{o.expire_at}, o.post_only, o.stp_};
  taker t{p, filled, new_qty.v - filled};
  plan pl;
  // Same price and no larger: keeps its priority, cannot cross (the book is never crossed).
  if (new_price.v == o.price && t.leaves <= o.leaves) {
    if (const errc e = check_funds(t, pl, funds); e != errc::ok) return {e, {}};
    return amend(i, t.leaves);
  }
  if (const errc e = check_rules(t, now, funds, i, pl); e != errc::ok) return {e, {}};
  // Loses priority without reaching the other side (the usual case): nothing can match, so
  // it goes to the back of its new level keeping its node, index slot and expiry entry.
  const ladder& opp = ladders_[idx(opposite(o.side_))];
  if (opp.keys.empty() || !crosses(t, levels_[opp.lv.back()].price)) return requeue(i, t);
  // Loses priority: leaves the book silently and comes back as a new order would.
  const std::uint32_t lvi = o.level;
  retire(i, order_status::cancelled, cancel_reason::none, false);
  level_changed(lvi);
  return execute(t, now, pl);
}

book_result order_book::cancel(OrderId id) {
  const std::uint32_t i = index_find(id);
  if (i == nil) return {errc::not_found, {}};
  const std::uint32_t lvi = nodes_[i].level;
  const order_view v = retire(i, order_status::cancelled, cancel_reason::user, true);
  level_changed(lvi);
  return {errc::ok, v};
}

std::size_t order_book::expire(Ms now) {
  std::size_t n = 0;
  while (!heap_.empty() && nodes_[heap_[0]].expire_at <= now.v) {
    IPX_ASSERT(n < cfg_.orders_max);
    const std::uint32_t i = heap_[0];
    const std::uint32_t lvi = nodes_[i].level;
    retire(i, order_status::expired, cancel_reason::none, true);
    level_changed(lvi);
    ++n;
  }
  return n;
}

std::optional<Ms> order_book::next_expiry() const {
  if (heap_.empty()) return std::nullopt;
  return Ms{nodes_[heap_[0]].expire_at};
}

// ---- checks (change nothing) ----------------------------------------------------------------

// Rules after shape and BAD_PRICE, first failing wins: INSUFFICIENT_FUNDS, WOULD_CROSS,
// SELF_TRADE, then capacity. `pl` is the dry run when one was needed (FOK, stp reject, and
// market buys with a funds check), else empty.
errc order_book::check_rules(const taker& t, Ms now, funds_ref funds, std::uint32_t replacing,
                             plan& pl) const {
  const bool market_buy = t.p.type == order_type::market && t.p.side_ == side::buy;
  if (t.p.tif_ == tif::fok || t.p.stp_ == stp::reject || (market_buy && funds)) {
    pl = dry_run(t, now);
  }
  if (const errc e = check_funds(t, pl, funds); e != errc::ok) return e;
  // Post-only is checked against any live resting order, the owner's included.
  if (t.p.post_only && crosses_live(t, now)) return errc::would_cross;
  // stp reject refuses the whole order only if it would reach its owner's order unfilled.
  if (t.p.stp_ == stp::reject && pl.reaches_own) return errc::self_trade;
  if (!room_to_rest(t, replacing)) return errc::capacity;
  return errc::ok;
}

// Funds (buys only): a limit buy needs price x leaves; a market buy the cost of what it would
// actually take under STP and FOK rules (an unfillable FOK takes nothing).
errc order_book::check_funds(const taker& t, const plan& pl, funds_ref funds) const {
  if (t.p.side_ != side::buy || !funds) return errc::ok;
  Fen required{0};
  if (t.p.type == order_type::limit) {
    const auto n = notional(t.p.price, Units{t.leaves});
    IPX_ASSERT(n.has_value());
    required = *n;
  } else {
    if (pl.cost_overflow) return errc::bad_request;
    const bool fok_unfillable = t.p.tif_ == tif::fok && pl.fill < t.leaves;
    required = Fen{fok_unfillable ? 0 : pl.cost_fen};
  }
  return funds.can_afford(required) ? errc::ok : errc::insufficient_funds;
}

bool order_book::crosses(const taker& t, std::int64_t level_price) {
  if (t.p.type == order_type::market) return true;
  return t.p.side_ == side::buy ? level_price <= t.p.price.v : level_price >= t.p.price.v;
}

// Walks the opposite side as the match would, skipping expired orders, without changing it.
order_book::plan order_book::dry_run(const taker& t, Ms now) const {
  plan pl;
  const ladder& l = ladders_[idx(opposite(t.p.side_))];
  std::int64_t remaining = t.leaves;
  for (std::size_t k = l.keys.size(); k-- > 0 && remaining > 0;) {
    const level& lv = levels_[l.lv[k]];
    if (!crosses(t, lv.price)) break;
    for (std::uint32_t i = lv.head; i != nil && remaining > 0; i = nodes_[i].next) {
      const node& m = nodes_[i];
      if (expired_at(m, now)) continue;
      if (m.owner == t.p.owner) {
        if (t.p.stp_ == stp::cancel_resting) continue;  // would be cancelled, not traded
        pl.reaches_own = true;  // cancel_incoming/both stop here; reject refuses
        return pl;
      }
      const std::int64_t q = std::min(remaining, m.leaves);
      remaining -= q;
      pl.fill += q;
      const auto c = checked_mul(q, lv.price);
      const auto sum = c ? checked_add(pl.cost_fen, *c) : std::nullopt;
      if (sum) pl.cost_fen = *sum;
      else pl.cost_overflow = true;
    }
  }
  return pl;
}

bool order_book::crosses_live(const taker& t, Ms now) const {
  const ladder& l = ladders_[idx(opposite(t.p.side_))];
  for (std::size_t k = l.keys.size(); k-- > 0;) {
    const level& lv = levels_[l.lv[k]];
    if (!crosses(t, lv.price)) return false;
    for (std::uint32_t i = lv.head; i != nil; i = nodes_[i].next) {
      if (!expired_at(nodes_[i], now)) return true;
    }
  }
  return false;
}

// A remainder that would rest needs a node, a level (existing, free, or the one the replaced
// order leaves empty) and a level total that stays within int64.
bool order_book::room_to_rest(const taker& t, std::uint32_t replacing) const {
  if (t.p.type == order_type::market || t.p.tif_ == tif::ioc || t.p.tif_ == tif::fok) {
    return true;
  }
  if (replacing == nil && free_nodes_.empty()) return false;
  const std::uint32_t lvi = find_level(t.p.side_, t.p.price.v);
  if (lvi != nil) return checked_add(levels_[lvi].total, t.leaves).has_value();
  return !free_levels_.empty() || ghosts_[0] + ghosts_[1] > 0 ||
         (replacing != nil && levels_[nodes_[replacing].level].count == 1);
}

// ---- execution ------------------------------------------------------------------------------

book_result order_book::execute(taker& t, Ms now, const plan& pl) {
  // An unfillable FOK changes nothing, not even STP cancellations or expiries.
  if (t.p.tif_ == tif::fok && pl.fill < t.leaves) {
    return finish(t, order_status::cancelled, cancel_reason::fok);
  }
  const bool stp_stop = match(t, now);
  if (stp_stop) return finish(t, order_status::cancelled, cancel_reason::stp);
  if (t.leaves == 0) return finish(t, order_status::filled, cancel_reason::none);
  IPX_ASSERT(t.p.tif_ != tif::fok);
  if (t.p.type == order_type::market || t.p.tif_ == tif::ioc) {
    return finish(t, order_status::cancelled, cancel_reason::ioc);
  }
  const std::uint32_t i = rest(t);
  return {errc::ok, view(i)};
}

// Price-time priority: best level first, FIFO within it. Returns true when self-trade
// prevention stops the incoming order.
bool order_book::match(taker& t, Ms now) {
  ladder& l = ladders_[idx(opposite(t.p.side_))];
  while (t.leaves > 0 && !l.keys.empty()) {
    const std::uint32_t lvi = l.lv.back();
    if (!crosses(t, levels_[lvi].price)) break;
    const std::int64_t before = levels_[lvi].total;
    const bool stop = match_level(t, lvi, now);
    if (levels_[lvi].count == 0 || levels_[lvi].total != before) level_changed(lvi);
    if (stop) return true;
  }
  return false;
}

// One level, as the order would execute: expired makers are expired (never traded with);
// the owner's own makers are handled by the incoming order's stp mode.
bool order_book::match_level(taker& t, std::uint32_t lvi, Ms now) {
  std::uint32_t i = levels_[lvi].head;
  while (i != nil && t.leaves > 0) {
    const std::uint32_t next = nodes_[i].next;
    const node& m = nodes_[i];
    if (expired_at(m, now)) {
      retire(i, order_status::expired, cancel_reason::none, true);
    } else if (m.owner == t.p.owner) {
      IPX_ASSERT(t.p.stp_ != stp::reject);  // refused by check_rules
      if (t.p.stp_ == stp::cancel_incoming) return true;
      retire(i, order_status::cancelled, cancel_reason::stp, true);
      if (t.p.stp_ == stp::cancel_both) return true;
    } else {
      fill(t, i, levels_[lvi]);
    }
    i = next;
  }
  return false;
}

void order_book::fill(taker& t, std::uint32_t maker, level& lv) {
  node& m = nodes_[maker];
  const std::int64_t q = std::min(t.leaves, m.leaves);
  IPX_ASSERT(q > 0);
  m.leaves -= q;
  lv.total -= q;
  t.leaves -= q;
  t.filled += q;
  sink_.on_trade(trade{next_trade_id_++, m.id, t.p.id, m.owner, t.p.owner, Fen{m.price},
                       Units{q}, t.p.side_});
  if (m.leaves == 0) {
    retire(maker, order_status::filled, cancel_reason::none, true);
  } else {
    m.status = order_status::partially_filled;
  }
}

std::uint32_t order_book::rest(const taker& t) {
  IPX_ASSERT(!free_nodes_.empty());
  const std::uint32_t i = free_nodes_.back();
  free_nodes_.pop_back();
  const std::uint32_t lvi = level_for(t.p.side_, t.p.price.v);
  nodes_[i] = node{t.p.id, t.p.owner, t.p.price.v, t.p.qty.v, t.leaves, t.p.expire_at.v, nil, nil,
                   lvi, nil, t.p.side_, t.p.type, t.p.tif_, t.p.stp_, t.p.post_only,
                   t.filled > 0 ? order_status::partially_filled : order_status::open,
                   next_priority_++};
  link_tail(i, lvi);
  index_insert(t.p.id, i);
  if (t.p.tif_ == tif::gtd) heap_push(i);
  ++orders_live_;
  const level& lv = levels_[lvi];
  sink_.on_depth(lv.side_, Fen{lv.price}, Units{lv.total});
  sink_.on_order(order_event::accepted, view(i));
  return i;
}

// A replace that loses priority and cannot match: observably the same as retire + rest (the
// same events in the same order, and rest would take back the node retire freed), but the
// node, its index slot and its expiry-heap entry (same expire_at and id) stay where they are.
book_result order_book::requeue(std::uint32_t i, const taker& t) {
  const std::uint32_t old = nodes_[i].level;
  unlink(i);
  level_changed(old);
  const std::uint32_t lvi = level_for(t.p.side_, t.p.price.v);
  node& n = nodes_[i];
  n.price = t.p.price.v;
  n.qty = t.p.qty.v;
  n.leaves = t.leaves;
  n.level = lvi;
  n.status = t.filled > 0 ? order_status::partially_filled : order_status::open;
  n.priority = next_priority_++;
  link_tail(i, lvi);
  const level& lv = levels_[lvi];
  sink_.on_depth(lv.side_, Fen{lv.price}, Units{lv.total});
  const order_view v = view(i);
  sink_.on_order(order_event::accepted, v);
  return {errc::ok, v};
}

void order_book::link_tail(std::uint32_t i, std::uint32_t lvi) {
  level& lv = levels_[lvi];
  node& n = nodes_[i];
  n.prev = lv.tail;
  n.next = nil;
  if (lv.tail != nil) nodes_[lv.tail].next = i;
  else lv.head = i;
  lv.tail = i;
  ++lv.count;
  lv.total += n.leaves;
}

book_result order_book::amend(std::uint32_t i, std::int64_t new_leaves) {
  node& n = nodes_[i];
  level& lv = levels_[n.level];
  const std::int64_t cut = n.leaves - new_leaves;
  IPX_ASSERT(cut >= 0 && new_leaves > 0);
  n.leaves = new_leaves;
  n.qty -= cut;
  lv.total -= cut;
  if (cut != 0) sink_.on_depth(lv.side_, Fen{lv.price}, Units{lv.total});
  const order_view v = view(i);
  sink_.on_order(order_event::accepted, v);
  return {errc::ok, v};
}

book_result order_book::finish(const taker& t, order_status st, cancel_reason r) {
  const order_view v{t.p.id,    t.p.owner,     t.p.side_, t.p.type,        t.p.tif_,
                     t.p.stp_,  t.p.post_only, t.p.price, t.p.expire_at,   t.p.qty,
                     Units{t.filled}, Units{0}, st, r};
  sink_.on_order(event_of(st), v);
  return {errc::ok, v};
}

// Removes a resting order from its level, the index and the heap, and frees its node. The
// level itself is left for level_changed (the caller may be walking it).
order_view order_book::retire(std::uint32_t i, order_status st, cancel_reason r, bool notify) {
  unlink(i);
  node& n = nodes_[i];
  index_erase(n.id);
  if (n.heap_pos != nil) heap_erase(i);
  n.status = st;
  order_view v = view(i);
  v.leaves = Units{0};
  v.reason = r;
  if (notify) sink_.on_order(event_of(st), v);
  free_nodes_.push_back(i);
  --orders_live_;
  return v;
}

void order_book::unlink(std::uint32_t i) {
  const node& n = nodes_[i];
  level& lv = levels_[n.level];
  if (n.prev != nil) nodes_[n.prev].next = n.next;
  else lv.head = n.next;
  if (n.next != nil) nodes_[n.next].prev = n.prev;
  else lv.tail = n.prev;
  IPX_ASSERT(lv.count > 0);
  --lv.count;
  lv.total -= n.leaves;
}

// Publishes the level's new total and drops the level once it is empty.
void order_book::level_changed(std::uint32_t lvi) {
  const level& lv = levels_[lvi];
  sink_.on_depth(lv.side_, Fen{lv.price}, Units{lv.total});
  if (lv.count != 0) return;
  IPX_ASSERT(lv.total == 0);
  const std::size_t s = idx(lv.side_);
  ladder& l = ladders_[s];
  if (l.lv.back() != lvi) {  // below the top: becomes a ghost, no erase
    ++ghosts_[s];
    if (ghosts_[s] > l.keys.size() - ghosts_[s] + kGhostSlack) purge_ghosts(s);
    return;
  }
  // The top: drop it and the ghosts it uncovers, so the back is a live level again.
  l.keys.pop_back();
  l.lv.pop_back();
  free_level(lvi);
  while (!l.lv.empty() && levels_[l.lv.back()].count == 0) {
    free_level(l.lv.back());
    l.keys.pop_back();
    l.lv.pop_back();
    --ghosts_[s];
  }
}

void order_book::free_level(std::uint32_t lvi) {
  price_cache_remove(lvi);
  free_levels_.push_back(lvi);
}

// Drops every ghost of one side in one pass (O(levels)); amortised over the ghosts made.
void order_book::purge_ghosts(std::size_t s) {
  ladder& l = ladders_[s];
  std::size_t w = 0;
  for (std::size_t k = 0; k < l.keys.size(); ++k) {
    if (levels_[l.lv[k]].count == 0) {
      free_level(l.lv[k]);
      continue;
    }
    l.keys[w] = l.keys[k];
    l.lv[w] = l.lv[k];
    ++w;
  }
  l.keys.resize(w);
  l.lv.resize(w);
  ghosts_[s] = 0;
}

// The price cache: a direct-mapped table of level indexes, 4x levels_max slots, hashed by
// Fibonacci hashing of (price, side), so consecutive prices land in distinct slots and a
// lookup is one load and a compare instead of a binary search. A level whose slot is taken
// is counted in spilled_; only while a side has spilled levels does a miss need the search.
std::size_t order_book::price_slot(side s, std::int64_t price) const {
  const std::uint64_t k = (static_cast<std::uint64_t>(price) << 1) | idx(s);
  return static_cast<std::size_t>((k * 0x9E37'79B9'7F4A'7C15ull) >> price_shift_);
}

void order_book::price_cache_add(std::uint32_t lvi) {
  const level& lv = levels_[lvi];
  std::uint32_t& slot_lv = price_slots_[price_slot(lv.side_, lv.price)];
  if (slot_lv == nil) slot_lv = lvi;
  else ++spilled_[idx(lv.side_)];
}

void order_book::price_cache_remove(std::uint32_t lvi) {
  const level& lv = levels_[lvi];
  std::uint32_t& slot_lv = price_slots_[price_slot(lv.side_, lv.price)];
  if (slot_lv == lvi) {
    slot_lv = nil;
  } else {
    IPX_ASSERT(spilled_[idx(lv.side_)] > 0);
    --spilled_[idx(lv.side_)];
  }
}

std::uint32_t order_book::find_level(side s, std::int64_t price) const {
  const std::uint32_t cached = price_slots_[price_slot(s, price)];
  if (cached != nil && levels_[cached].price == price && levels_[cached].side_ == s) return cached;
  if (spilled_[idx(s)] == 0) return nil;
  const ladder& l = ladders_[idx(s)];
  const std::int64_t key = key_of(s, price);
  const std::size_t pos = lower_bound_pos(l.keys, key);
  if (pos == l.keys.size() || l.keys[pos] != key) return nil;
  return l.lv[pos];
}

std::uint32_t order_book::level_for(side s, std::int64_t price) {
  const std::uint32_t found = find_level(s, price);
  if (found == nil) [[unlikely]] return new_level(s, price);
  if (levels_[found].count == 0) --ghosts_[idx(s)];  // a ghost comes back to life in place
  return found;
}

std::uint32_t order_book::new_level(side s, std::int64_t price) {
  if (free_levels_.empty()) {
    purge_ghosts(0);
    purge_ghosts(1);
  }
  IPX_ASSERT(!free_levels_.empty());
  const std::uint32_t lvi = free_levels_.back();
  free_levels_.pop_back();
  levels_[lvi] = level{price, 0, nil, nil, 0, s};
  ladder& l = ladders_[idx(s)];
  IPX_ASSERT(l.keys.size() < l.keys.capacity());  // reserved: insert never allocates
  const std::int64_t key = key_of(s, price);
  const auto pos = static_cast<std::ptrdiff_t>(
      !l.keys.empty() && l.keys.back() < key ? l.keys.size() : lower_bound_pos(l.keys, key));
  l.keys.insert(l.keys.begin() + pos, key);
  l.lv.insert(l.lv.begin() + pos, lvi);
  price_cache_add(lvi);
  return lvi;
}

// ---- snapshots ------------------------------------------------------------------------------

errc order_book::restore(std::span<const order_view> orders, TradeId next_trade_id,
                         std::uint64_t next_priority) {
  clear();
  if (next_trade_id < cfg_.first_trade_id) return errc::bad_request;
  // Each one rests at the back of its level: taken by priority, the queues come out in time
  // order whatever order the views came in.
  std::vector<const order_view*> by_priority;
  by_priority.reserve(orders.size());
  std::uint64_t latest = 0;
  for (const order_view& v : orders) {
    by_priority.push_back(&v);
    latest = std::max(latest, v.priority);
  }
  if (next_priority != 0 && latest >= next_priority) return errc::bad_request;
  std::stable_sort(by_priority.begin(), by_priority.end(),
                   [](const order_view* a, const order_view* b) { return a->priority < b->priority; });
  for (const order_view* v : by_priority) {
    if (const errc e = restore_one(*v); e != errc::ok) {
      clear();
      return e;
    }
  }
  next_priority_ = next_priority != 0 ? next_priority : latest + 1;
  const auto bid = best(side::buy);
  const auto ask = best(side::sell);
  if (bid && ask && *bid >= *ask) {  // a book at rest is never crossed
    clear();
    return errc::bad_request;
  }
  next_trade_id_ = next_trade_id;
  return errc::ok;
}

// What a resting order can be: a GTC or GTD limit on the grid, open or partly filled
// (filled = qty - leaves, both multiples of the lot).
errc order_book::check_restored(const order_view& v) const {
  if (static_cast<unsigned>(v.side_) > 1u || v.type != order_type::limit ||
      (v.tif_ != tif::gtc && v.tif_ != tif::gtd) || static_cast<unsigned>(v.stp_) > 3u) {
    return errc::bad_request;
  }
  if (v.price.v <= 0 || !multiple_of_tick(v.price.v) || !notional(v.price, v.qty)) {
    return errc::bad_request;
  }
  if (v.leaves.v <= 0 || v.leaves > v.qty || !multiple_of_lot(v.qty.v) ||
      !multiple_of_lot(v.leaves.v) || v.filled.v != v.qty.v - v.leaves.v) {
    return errc::bad_request;
  }
  const order_status want = v.filled.v == 0 ? order_status::open : order_status::partially_filled;
  if (v.status != want || v.reason != cancel_reason::none) return errc::bad_request;
  return errc::ok;
}

// Rests one order at the back of its level, as rest() does, without events.
errc order_book::restore_one(const order_view& v) {
  if (const errc e = check_restored(v); e != errc::ok) return e;
  if (index_find(v.id) != nil || free_nodes_.empty()) return errc::bad_request;
  const std::uint32_t found = find_level(v.side_, v.price.v);
  if (found == nil && free_levels_.empty()) return errc::bad_request;
  if (found != nil && !checked_add(levels_[found].total, v.leaves.v)) return errc::bad_request;
  const std::uint32_t i = free_nodes_.back();
  free_nodes_.pop_back();
  const std::uint32_t lvi = level_for(v.side_, v.price.v);
  nodes_[i] = node{v.id,  v.owner,   v.price.v, v.qty.v,     v.leaves.v, v.expire_at.v,
                   nil,   nil,       lvi,       nil,         v.side_,    v.type,
                   v.tif_, v.stp_,   v.post_only, v.status,  v.priority};
  link_tail(i, lvi);
  index_insert(v.id, i);
  if (v.tif_ == tif::gtd) heap_push(i);
  ++orders_live_;
  return errc::ok;
}

// ---- reads ----------------------------------------------------------------------------------

order_view order_book::view(std::uint32_t i) const {
  const node& n = nodes_[i];
  return order_view{n.id,          n.owner,        n.side_,     n.type,       n.tif_,
                    n.stp_,        n.post_only,    Fen{n.price}, Ms{n.expire_at}, Units{n.qty},
                    Units{n.qty - n.leaves}, Units{n.leaves}, n.status, cancel_reason::none,
                    n.priority};
}

std::optional<order_view> order_book::find(OrderId id) const {
  const std::uint32_t i = index_find(id);
  if (i == nil) return std::nullopt;
  return view(i);
}

std::size_t order_book::depth(side s, std::span<depth_level> out) const {
  const ladder& l = ladders_[idx(s)];
  std::size_t n = 0;
  for (std::size_t k = l.keys.size(); k-- > 0 && n < out.size();) {
    const level& lv = levels_[l.lv[k]];
    if (lv.count != 0) out[n++] = depth_level{Fen{lv.price}, Units{lv.total}};
  }
  return n;
}

book_depth order_book::depth(std::size_t n) const {
  book_depth d;
  d.bids.resize(std::min(n, live_levels(side::buy)));
  d.asks.resize(std::min(n, live_levels(side::sell)));
  depth(side::buy, d.bids);
  depth(side::sell, d.asks);
  return d;
}

std::optional<Fen> order_book::best(side s) const {
  const ladder& l = ladders_[idx(s)];
  if (l.keys.empty()) return std::nullopt;
  return Fen{levels_[l.lv.back()].price};
}

std::uint64_t order_book::state_digest() const {
  std::uint64_t h = mix(0, next_trade_id_);
  for (const side s : {side::buy, side::sell}) {
    h = mix(h, 0xB00Cu + idx(s));
    for_each_order(s, [&](const order_view& v) {
      h = mix(h, v.id);
      h = mix(h, v.owner);
      h = mix(h, static_cast<std::uint64_t>(v.price.v));
      h = mix(h, static_cast<std::uint64_t>(v.qty.v));
      h = mix(h, static_cast<std::uint64_t>(v.leaves.v));
      h = mix(h, static_cast<std::uint64_t>(v.expire_at.v));
      h = mix(h, static_cast<std::uint64_t>(v.tif_) | static_cast<std::uint64_t>(v.stp_) << 8 |
                     static_cast<std::uint64_t>(v.post_only) << 16 |
                     static_cast<std::uint64_t>(v.status) << 24);
    });
  }
  return h;
}

// ---- id index: open addressing, linear probing, backward-shift delete ------------------------

// Engine order ids are mostly sequential. Runs of 8 consecutive ids share one scattered home
// block (8 slots = two cache lines), so adding recent orders costs one cache/TLB miss per
// 8 ids instead of one per id, while blocks still land at random (a plain `id & mask` would
// make one giant cluster and turn backward-shift deletes into long scans).
std::size_t order_book::home(OrderId id) const {
  const std::uint64_t block = ((id >> 3) * 0x9E37'79B9'7F4A'7C15ull) >> (67u - index_bits_);
  return static_cast<std::size_t>((block << 3) | (id & 7u)) & index_mask_;
}

std::uint32_t order_book::index_find(OrderId id) const {
  for (std::size_t pos = home(id), probes = 0;; pos = (pos + 1) & index_mask_, ++probes) {
    IPX_ASSERT(probes <= index_mask_);
    const slot& s = index_[pos];
    if (s.val == nil) return nil;
    if (s.key == id) return s.val;
  }
}

void order_book::index_insert(OrderId id, std::uint32_t val) {
  for (std::size_t pos = home(id), probes = 0;; pos = (pos + 1) & index_mask_, ++probes) {
    IPX_ASSERT(probes <= index_mask_);
    slot& s = index_[pos];
    IPX_ASSERT(s.val == nil || s.key != id);
    if (s.val == nil) {
      s = slot{id, val, static_cast<std::uint32_t>(home(id))};
      return;
    }
  }
}

void order_book::index_erase(OrderId id) {
  std::size_t hole = home(id);
  while (index_[hole].key != id || index_[hole].val == nil) {
    IPX_ASSERT(index_[hole].val != nil);  // the id is present
    hole = (hole + 1) & index_mask_;
  }
  // Shift back every later entry of the cluster whose home is at or before the hole.
  for (std::size_t j = (hole + 1) & index_mask_; index_[j].val != nil; j = (j + 1) & index_mask_) {
    const std::size_t h = index_[j].home;
    if (((j - h) & index_mask_) >= ((j - hole) & index_mask_)) {
      index_[hole] = index_[j];
      hole = j;
    }
  }
  index_[hole].val = nil;
}

// ---- expiry heap: min on (expire_at, id) -----------------------------------------------------

bool order_book::heap_less(std::uint32_t a, std::uint32_t b) const {
  const node& x = nodes_[a];
  const node& y = nodes_[b];
  return x.expire_at != y.expire_at ? x.expire_at < y.expire_at : x.id < y.id;
}

void order_book::heap_set(std::size_t pos, std::uint32_t i) {
  heap_[pos] = i;
  nodes_[i].heap_pos = static_cast<std::uint32_t>(pos);
}

void order_book::heap_push(std::uint32_t i) {
  IPX_ASSERT(heap_.size() < heap_.capacity());
  heap_.push_back(i);
  heap_set(heap_.size() - 1, i);
  heap_sift_up(heap_.size() - 1);
}

void order_book::heap_erase(std::uint32_t i) {
  const std::size_t pos = nodes_[i].heap_pos;
  IPX_ASSERT(pos < heap_.size() && heap_[pos] == i);
  const std::uint32_t last = heap_.back();
  heap_.pop_back();
  nodes_[i].heap_pos = nil;
  if (pos == heap_.size()) return;
  heap_set(pos, last);
  heap_sift_up(pos);
  heap_sift_down(nodes_[last].heap_pos);
}

void order_book::heap_sift_up(std::size_t pos) {
  while (pos > 0) {
    const std::size_t parent = (pos - 1) / 2;
    if (!heap_less(heap_[pos], heap_[parent])) return;
    const std::uint32_t a = heap_[pos];
    heap_set(pos, heap_[parent]);
    heap_set(parent, a);
    pos = parent;
  }
}

void order_book::heap_sift_down(std::size_t pos) {
  for (;;) {
    std::size_t least = pos;
    const std::size_t l = 2 * pos + 1;
    const std::size_t r = l + 1;
    if (l < heap_.size() && heap_less(heap_[l], heap_[least])) least = l;
    if (r < heap_.size() && heap_less(heap_[r], heap_[least])) least = r;
    if (least == pos) return;
    const std::uint32_t a = heap_[pos];
    heap_set(pos, heap_[least]);
    heap_set(least, a);
    pos = least;
  }
}

// ---- invariants (tests) ---------------------------------------------------------------------

void order_book::check_invariants() const {
  std::size_t orders = 0;
  std::uint32_t spilled_seen[2] = {0, 0};
  std::size_t ghosts_seen = 0;
  for (const side s : {side::buy, side::sell}) {
    const ladder& l = ladders_[idx(s)];
    IPX_ASSERT(l.keys.size() == l.lv.size());
    for (std::size_t k = 0; k < l.keys.size(); ++k) {
      const level& lv = levels_[l.lv[k]];
      IPX_ASSERT(k == 0 || l.keys[k - 1] < l.keys[k]);
      IPX_ASSERT(lv.side_ == s && key_of(s, lv.price) == l.keys[k]);
      if (lv.count == 0) {
        IPX_ASSERT(k + 1 != l.keys.size() && lv.head == nil && lv.tail == nil && lv.total == 0);
        ++ghosts_seen;
      }
      IPX_ASSERT(find_level(s, lv.price) == l.lv[k]);
      if (price_slots_[price_slot(s, lv.price)] != l.lv[k]) ++spilled_seen[idx(s)];
      std::int64_t total = 0;
      std::uint32_t count = 0;
      std::uint32_t prev = nil;
      for (std::uint32_t i = lv.head; i != nil; prev = i, i = nodes_[i].next) {
        const node& n = nodes_[i];
        IPX_ASSERT(n.prev == prev && n.level == l.lv[k] && n.side_ == s && n.price == lv.price);
        // Time priority: the queue is in stamp order (equal only as a restore was given them).
        IPX_ASSERT(n.priority < next_priority_ &&
                   (prev == nil || nodes_[prev].priority <= n.priority));
        IPX_ASSERT(n.leaves > 0 && n.leaves <= n.qty && index_find(n.id) == i);
        IPX_ASSERT(n.status == (n.leaves == n.qty ? order_status::open
                                                  : order_status::partially_filled));
        IPX_ASSERT((n.tif_ == tif::gtd) == (n.heap_pos != nil));
        IPX_ASSERT(n.heap_pos == nil || heap_[n.heap_pos] == i);
        total += n.leaves;
        ++count;
      }
      IPX_ASSERT(lv.tail == prev && total == lv.total && count == lv.count);
      orders += count;
    }
    IPX_ASSERT(ghosts_seen == ghosts_[idx(s)]);
    ghosts_seen = 0;
  }
  IPX_ASSERT(orders == orders_live_ && free_nodes_.size() + orders == cfg_.orders_max);
  IPX_ASSERT(spilled_seen[0] == spilled_[0] && spilled_seen[1] == spilled_[1]);
  std::size_t cached = 0;
  for (const std::uint32_t lvi : price_slots_) {
    if (lvi == nil) continue;
    ++cached;
    const level& lv = levels_[lvi];
    IPX_ASSERT(price_slots_[price_slot(lv.side_, lv.price)] == lvi);
  }
  const std::size_t in_ladders = ladders_[0].keys.size() + ladders_[1].keys.size();
  IPX_ASSERT(cached + spilled_[0] + spilled_[1] == in_ladders);
  IPX_ASSERT(free_levels_.size() + in_ladders == cfg_.levels_max);
  for (std::size_t p = 1; p < heap_.size(); ++p) IPX_ASSERT(!heap_less(heap_[p], heap_[(p - 1) / 2]));
  const auto bid = best(side::buy);
  const auto ask = best(side::sell);
  IPX_ASSERT(!bid || !ask || *bid < *ask);  // never crossed
}

}  // namespace ipx::matching
