#include "matching/english_auction.hpp"

#include <algorithm>
#include <bit>

#include "matching/assert.hpp"

namespace ipx::matching {

// ---- BidderIndex ----------------------------------------------------------------------

BidderIndex::BidderIndex(std::uint32_t capacity) : capacity_(capacity) {
  IPX_ASSERT(capacity > 0 && capacity <= (1u << 24));
  const std::size_t table = std::bit_ceil(static_cast<std::size_t>(capacity) * 2);
  keys_.assign(table, 0);
  slots_.assign(table, kNone);
}

std::size_t BidderIndex::home(BidderId b) const noexcept {
  // Fibonacci hashing; the table size is a power of two.
  return static_cast<std::size_t>((b * 0x9E3779B97F4A7C15ull) >> 32) & (keys_.size() - 1);
}

std::int32_t BidderIndex::find(BidderId b) const noexcept {
  const std::size_t mask = keys_.size() - 1;
  for (std::size_t i = home(b), n = 0; n < keys_.size(); i = (i + 1) & mask, ++n) {
    if (slots_[i] == kNone) return kNone;
    if (keys_[i] == b) return slots_[i];
  }
  return kNone;
}

std::int32_t BidderIndex::insert(BidderId b) noexcept {
  const std::size_t mask = keys_.size() - 1;
  for (std::size_t i = home(b), n = 0; n < keys_.size(); i = (i + 1) & mask, ++n) {
    if (slots_[i] == kNone) {
      if (size_ == capacity_) return kNone;
      keys_[i] = b;
      slots_[i] = static_cast<std::int32_t>(size_++);
      return slots_[i];
    }
    if (keys_[i] == b) return slots_[i];
  }
  return kNone;  // unreachable: the table is at most half full
}

std::vector<BidderId> BidderIndex::keys_by_slot() const {
  std::vector<BidderId> out(size_);
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (slots_[i] != kNone) out[static_cast<std::size_t>(slots_[i])] = keys_[i];
  }
  return out;
}

// ---- configuration ----------------------------------------------------------------------

namespace {
std::optional<IncrementGrid> make_grid(const EnglishConfig& c) noexcept {
  if (!c.tiers.empty()) return IncrementGrid::tiered(c.start_price, c.tiers);
  if (c.start_price.v <= 0 || c.start_price > kAmountMax) return std::nullopt;
  const Fen inc = c.increment.v == 0 ? default_increment(c.start_price) : c.increment;
  return IncrementGrid::fixed(c.start_price, inc);
}
}  // namespace

errc validate(const EnglishConfig& c) noexcept {
  if (c.increment.v < 0 || !make_grid(c)) return errc::bad_request;
  if (c.reserve.v < 0 || c.reserve > kAmountMax) return errc::bad_request;
  if (c.opens_at >= c.closes_at) return errc::bad_request;
  if (c.extend_window_ms.v < 0 || c.extend_by_ms.v < 0) return errc::bad_request;
  if (c.first_bid_close_ms.v < 0) return errc::bad_request;
  if (c.max_bidders == 0 || c.max_bidders > (1u << 20)) return errc::bad_request;
  if (c.priority_holders.size() > c.max_bidders) return errc::bad_request;
  for (std::size_t i = 0; i < c.priority_holders.size(); ++i) {
    const PriorityHolder& h = c.priority_holders[i];
    if (h.rank == 0 || h.rank == kNoRank) return errc::bad_request;
    for (std::size_t j = 0; j < i; ++j) {
      if (c.priority_holders[j].bidder == h.bidder) return errc::bad_request;
    }
  }
  return errc::ok;
}

EnglishAuction::EnglishAuction(const EnglishConfig& c)
    : start_(c.start_price),
      reserve_(c.reserve),
      reserve_hidden_(c.reserve_hidden),
      opens_at_(c.opens_at),
      closes_at_(c.closes_at),
      extend_window_(c.extend_window_ms),
      extend_by_(c.extend_by_ms),
      first_bid_close_(c.first_bid_close_ms),
      index_(c.max_bidders) {
  IPX_ASSERT(validate(c) == errc::ok);
  grid_ = *make_grid(c);
  rank_.assign(c.max_bidders, kNoRank);
  proxy_max_.assign(c.max_bidders, Fen{0});
  proxy_seq_.assign(c.max_bidders, 0);
  proxies_.reserve(c.max_bidders);
  for (const PriorityHolder& h : c.priority_holders) {
    const std::int32_t slot = index_.insert(h.bidder);
    IPX_ASSERT(slot != BidderIndex::kNone);
    rank_[static_cast<std::size_t>(slot)] = h.rank;
  }
}

// ---- snapshots ----------------------------------------------------------------------------

EnglishAuction::State EnglishAuction::save() const {
  State s{closes_at_, last_now_, state_, unsold_reason_, has_high_, high_,
          leader_,    leader_rank_, leader_bid_seq_, bids_, seq_, {}, proxies_, first_live_};
  const std::vector<BidderId> bidders = index_.keys_by_slot();
  s.slots.reserve(bidders.size());
  for (std::size_t i = 0; i < bidders.size(); ++i) {
    s.slots.push_back({bidders[i], proxy_max_[i], proxy_seq_[i]});
  }
  return s;
}

errc EnglishAuction::restore(const State& s) {
  if (s.state > AuctionState::cancelled || s.unsold_reason > UnsoldReason::time_up ||
      s.slots.size() > index_.capacity() || s.proxies.size() > proxies_.capacity() ||
      s.first_live > s.proxies.size() || index_.size() > s.slots.size()) {
    return errc::bad_request;
  }
  for (std::size_t i = 0; i < s.slots.size(); ++i) {
    // The holders are already in slots [0, holders); the others come next, in order.
    if (index_.insert(s.slots[i].bidder) != static_cast<std::int32_t>(i)) return errc::bad_request;
    if (s.slots[i].proxy_max.v < 0) return errc::bad_request;
    proxy_max_[i] = s.slots[i].proxy_max;
    proxy_seq_[i] = s.slots[i].proxy_seq;
  }
  for (std::size_t i = 0; i < s.proxies.size(); ++i) {
    const Proxy& p = s.proxies[i];
    if (p.rank != rank_of(p.bidder)) return errc::bad_request;
    if (i > s.first_live && stronger(s.proxies[i - 1], p)) return errc::bad_request;
  }
  closes_at_ = s.closes_at;
  last_now_ = s.last_now;
  state_ = s.state;
  unsold_reason_ = s.unsold_reason;
  has_high_ = s.has_high;
  high_ = s.high;
  leader_ = s.leader;
  leader_rank_ = s.leader_rank;
  leader_bid_seq_ = s.leader_bid_seq;
  bids_ = s.bids;
  seq_ = s.seq;
  proxies_.assign(s.proxies.begin(), s.proxies.end());  // within the reserved capacity
  first_live_ = static_cast<std::size_t>(s.first_live);
  return errc::ok;
}

// ---- queries ----------------------------------------------------------------------------

bool EnglishAuction::stronger(const ProxyEntry& a, const ProxyEntry& b) noexcept {
  if (a.max != b.max) return a.max > b.max;
  if (a.rank != b.rank) return a.rank < b.rank;  // rule 6: the better rank
  return a.seq < b.seq;                          // the earlier commitment
}

bool EnglishAuction::stronger(const Contender& a, const Contender& b) noexcept {
  return stronger(ProxyEntry{a.ceiling, a.rank, a.seq, a.bidder},
                  ProxyEntry{b.ceiling, b.rank, b.seq, b.bidder});
}

std::uint32_t EnglishAuction::rank_of(BidderId b) const noexcept {
  const std::int32_t slot = index_.find(b);
  return slot == BidderIndex::kNone ? kNoRank : rank_[static_cast<std::size_t>(slot)];
}

// The smallest valid bid for a bidder of `rank` (not the leader). Rule 4: the first bid is
// the start; later bids one grid step above the high bid. Rule 6: a holder whose rank beats
// the leader's may bid the high bid's amount itself.
std::optional<Fen> EnglishAuction::min_valid(std::uint32_t rank) const noexcept {
  if (!has_high_) return start_;
  if (rank < leader_rank_) return high_;
  return grid_.next(high_);
}

std::optional<Fen> EnglishAuction::price() const noexcept {
  return has_high_ ? std::optional<Fen>(high_) : std::nullopt;
}

std::optional<BidderId> EnglishAuction::leader() const noexcept {
  return has_high_ ? std::optional<BidderId>(leader_) : std::nullopt;
}

std::optional<Fen> EnglishAuction::min_next_bid() const noexcept {
  if (state_ != AuctionState::scheduled && state_ != AuctionState::open) return std::nullopt;
  return min_valid(kNoRank);
}

std::optional<Fen> EnglishAuction::min_next_bid_for(BidderId b) const noexcept {
  if (state_ != AuctionState::scheduled && state_ != AuctionState::open) return std::nullopt;
  if (has_high_ && b == leader_) return std::nullopt;  // the leader may not bid (rule 4)
  return min_valid(rank_of(b));
}

std::optional<Fen> EnglishAuction::proxy_max(BidderId b) const noexcept {
  const std::int32_t slot = index_.find(b);
  if (slot == BidderIndex::kNone) return std::nullopt;
  const Fen m = proxy_max_[static_cast<std::size_t>(slot)];
  return m.v > 0 ? std::optional<Fen>(m) : std::nullopt;
}

std::optional<Ms> EnglishAuction::next_due() const noexcept {
  if (state_ == AuctionState::scheduled) return opens_at_;
  if (state_ == AuctionState::open) return closes_at_;
  return std::nullopt;
}

EnglishView EnglishAuction::view() const noexcept {
  EnglishView v;
  v.state = state_;
  v.start_price = start_;
  v.increment = grid_.increment_at(has_high_ ? high_ : start_);
  if (!reserve_hidden_ && reserve_.v > 0) v.reserve = reserve_;
  v.opens_at = opens_at_;
  v.closes_at = closes_at_;
  v.price = price();
  v.bids = bids_;
  v.leader = leader();
  v.min_next_bid = min_next_bid();
  if (state_ == AuctionState::sold) {
    v.winner = leader_;
    v.clearing_price = high_;
  }
  v.unsold_reason = unsold_reason_;
  return v;
}

// ---- time -------------------------------------------------------------------------------

void EnglishAuction::advance(Ms now, AuctionSink& sink) {
  IPX_ASSERT(now >= last_now_);  // engine time never goes back
  last_now_ = now;
  if (state_ == AuctionState::scheduled && now >= opens_at_) {
    state_ = AuctionState::open;
    AuctionEvent e;
    e.kind = EventKind::opened;
    e.ts = opens_at_;
    sink.on_event(e);
  }
  // PROTOCOL "Edges": the auction closes at exactly closes_at, however far time jumped.
  if (state_ == AuctionState::open && now >= closes_at_) close(sink);
}

void EnglishAuction::close(AuctionSink& sink) {
  AuctionEvent e;
  e.kind = EventKind::closed;
  e.ts = closes_at_;
  if (!has_high_) {
    unsold_reason_ = UnsoldReason::no_bids;
  } else if (high_ < reserve_) {
    unsold_reason_ = UnsoldReason::reserve_not_met;  // rule 1 / hidden reserve
  }
  state_ = unsold_reason_ == UnsoldReason::none ? AuctionState::sold : AuctionState::unsold;
  if (state_ == AuctionState::sold) {
    e.bidder = leader_;
    e.amount = high_;
  }
  e.state = state_;
  e.reason = unsold_reason_;
  sink.on_event(e);
}

errc EnglishAuction::cancel() noexcept {
  const bool before_bids =
      state_ == AuctionState::scheduled || (state_ == AuctionState::open && bids_ == 0);
  if (!before_bids) return errc::invalid_state;
  state_ = AuctionState::cancelled;
  return errc::ok;
}

errc EnglishAuction::check_time(Ms now) const noexcept {
  if (state_ == AuctionState::scheduled) return errc::auction_not_open;
  if (state_ != AuctionState::open || now >= closes_at_) return errc::auction_closed;
  return errc::ok;
}

// PROTOCOL "Edges": already_leading, then bid_too_low before bad_price.
errc EnglishAuction::check_amount(BidderId b, Fen amount) const noexcept {
  if (has_high_ && b == leader_) return errc::already_leading;  // rule 4
  const std::optional<Fen> mv = min_valid(rank_of(b));
  if (!mv || amount < *mv) return errc::bid_too_low;
  if (!grid_.on_grid(amount)) return errc::bad_price;
  if (!has_high_ && amount != start_) return errc::bad_price;  // rule 4: the first bid is the start
  return errc::ok;
}

// ---- commands ---------------------------------------------------------------------------

errc EnglishAuction::bid(BidderId b, Fen amount, Ms now, AuctionSink& sink) {
  advance(now, sink);
  if (const errc e = check_time(now); e != errc::ok) return e;
  if (const errc e = check_amount(b, amount); e != errc::ok) return e;
  // A manual bid supersedes the bidder's own (outbid, hence exhausted) proxy.
  const std::int32_t slot = index_.find(b);
  if (slot != BidderIndex::kNone && proxy_max_[static_cast<std::size_t>(slot)].v > 0) {
    remove_proxy(slot);
  }
  place(b, amount, /*is_proxy=*/false, now, sink);
  resolve(now, sink);
  prune();
  return errc::ok;
}

errc EnglishAuction::proxy(BidderId b, Fen max, Ms now, AuctionSink& sink) {
  advance(now, sink);
  if (const errc e = check_time(now); e != errc::ok) return e;
  const bool is_leader = has_high_ && b == leader_;
  if (is_leader) {
    // The leader raising its own proxy maximum: allowed, not a bid (see the header).
    const std::optional<Fen> old = proxy_max(b);
    const Fen ceiling = old && *old > high_ ? *old : high_;
    if (max <= ceiling) return errc::bid_too_low;
  } else {
    const std::optional<Fen> mv = min_valid(rank_of(b));
    if (!mv || max < *mv) return errc::bid_too_low;
  }
  if (!grid_.on_grid(max)) return errc::bad_price;  // a proxy's max must be on the grid
  if (!has_room_for_proxy(b)) return errc::capacity;
  insert_proxy(index_.insert(b), b, max);
  if (is_leader) return errc::ok;  // stable before, still stable: nobody can beat it now
  resolve(now, sink);
  prune();
  return errc::ok;
}

// Records an accepted bid (manual or proxy): price, leader, count, soft close (rule 5).
void EnglishAuction::place(BidderId b, Fen amount, bool is_proxy, Ms now, AuctionSink& sink,
                           bool earlier_tie) {
  const std::uint32_t rank = rank_of(b);
  IPX_ASSERT(!has_high_ || amount > high_ ||
             (amount == high_ && (rank < leader_rank_ || (earlier_tie && rank == leader_rank_))));
  IPX_ASSERT(grid_.on_grid(amount) && now < closes_at_);
  const bool changed = !has_high_ || leader_ != b;
  const bool first = !has_high_;
  has_high_ = true;
  high_ = amount;
  leader_ = b;
  leader_rank_ = rank;
  leader_bid_seq_ = ++seq_;
  ++bids_;
  AuctionEvent e;
  e.kind = EventKind::bid;
  e.ts = now;
  e.bidder = b;
  e.amount = amount;
  e.is_proxy = is_proxy;
  sink.on_event(e);
  if (changed) {
    e.kind = EventKind::leader_changed;
    e.is_proxy = false;
    sink.on_event(e);
  }
  // Rule 10: the first bid of a sell-off moves the close to its time + first_bid_close.
  if (first && first_bid_close_.v > 0) {
    const auto moved = checked_add(now.v, first_bid_close_.v);
    closes_at_ = Ms{moved ? *moved : INT64_MAX};
    AuctionEvent x;
    x.kind = EventKind::extended;
    x.ts = now;
    x.closes_at = closes_at_;
    sink.on_event(x);
  }
  // Rule 5: a bid within the window moves the close to its time + extend_by (never earlier).
  if (extend_window_.v > 0 && closes_at_.v - now.v <= extend_window_.v) {
    const Ms moved{now.v + extend_by_.v};
    if (moved > closes_at_) {
      closes_at_ = moved;
      AuctionEvent x;
      x.kind = EventKind::extended;
      x.ts = now;
      x.closes_at = moved;
      sink.on_event(x);
    }
  }
}

// The leader and the (up to) two strongest non-leader proxies able to bid validly now.
// Contender-ness is monotone in strength order, so the scan stops at the first that cannot.
std::size_t EnglishAuction::collect(Contender (&out)[3]) const noexcept {
  std::size_t n = 0;
  if (has_high_) {
    const std::int32_t slot = index_.find(leader_);
    const std::size_t s = static_cast<std::size_t>(slot);
    const bool has_proxy = slot != BidderIndex::kNone && proxy_max_[s].v > 0;
    if (has_proxy) {
      IPX_ASSERT(proxy_max_[s] >= high_);
      out[n++] = Contender{proxy_max_[s], leader_rank_, proxy_seq_[s], leader_, true, true};
    } else {
      out[n++] = Contender{high_, leader_rank_, leader_bid_seq_, leader_, true, false};
    }
  }
  std::size_t found = 0;
  for (std::size_t i = proxies_.size(); i > first_live_ && found < 2; --i) {
    const ProxyEntry& p = proxies_[i - 1];
    if (has_high_ && p.bidder == leader_) continue;
    const Contender pc{p.max, p.rank, p.seq, p.bidder, false, true};
    const std::optional<Fen> mv = min_valid(p.rank);
    // Ties go to the earlier bid: a proxy whose maximum equals the standing high bid and was
    // committed before it (same rank) takes the lead at that amount.
    const bool earlier_tie = n > 0 && found == 0 && p.max == high_ && stronger(pc, out[0]);
    if ((!mv || p.max < *mv) && !earlier_tie) break;
    out[n++] = pc;
    ++found;
    if (earlier_tie) break;  // nobody weaker can bid either
  }
  return n;
}

// Resolves a proxy war at once (see the header): W = the strongest contender, R = the
// runner-up. W ends at the lowest amount beating R's ceiling; R's proxy first shows the
// highest valid amount W's final bid still beats. Afterwards no non-leader can bid validly
// within its proxy maximum (the state is stable), so one pass suffices.
void EnglishAuction::resolve(Ms now, AuctionSink& sink) {
  Contender c[3];
  const std::size_t n = collect(c);
  if (n == (has_high_ ? 1u : 0u)) return;  // no non-leader proxy can bid
  for (std::size_t i = 1; i < n; ++i) {  // insertion sort of <= 3, strongest first
    for (std::size_t j = i; j > 0 && stronger(c[j], c[j - 1]); --j) std::swap(c[j], c[j - 1]);
  }
  const Contender& w = c[0];
  // A non-leader that cannot bid above the high bid takes it on the earlier tie (collect).
  const bool earlier_tie = !w.is_leader && has_high_ && w.ceiling == high_;
  Fen p = w.is_leader || earlier_tie ? high_ : *min_valid(w.rank);
  if (n > 1) {
    const Contender& r = c[1];
    const bool tie_wins = w.rank < r.rank || (w.rank == r.rank && w.seq < r.seq);
    const std::optional<Fen> beat = tie_wins ? std::optional<Fen>(r.ceiling) : grid_.next(r.ceiling);
    IPX_ASSERT(beat.has_value());
    p = std::max(p, *beat);
    if (r.has_proxy) {
      std::optional<Fen> shown;  // R's last bid: the highest amount W's p still beats
      if (w.rank < r.rank) {
        shown = std::min(r.ceiling, p);
      } else if (p > start_) {
        shown = std::min(r.ceiling, grid_.prev(p));
      }
      const std::optional<Fen> floor = r.is_leader ? grid_.next(high_) : min_valid(r.rank);
      if (shown && floor && *shown >= *floor) place(r.bidder, *shown, true, now, sink);
    }
  }
  IPX_ASSERT(p <= w.ceiling);
  if (!has_high_ || leader_ != w.bidder || p > high_) place(w.bidder, p, true, now, sink, earlier_tie);
}

// Room for one more proxy of b: an index slot, and array room (compacting the dead prefix).
bool EnglishAuction::has_room_for_proxy(BidderId b) noexcept {
  if (index_.find(b) == BidderIndex::kNone && index_.size() == index_.capacity()) return false;
  if (proxies_.size() == proxies_.capacity() && first_live_ > 0) {
    proxies_.erase(proxies_.begin(), proxies_.begin() + static_cast<std::ptrdiff_t>(first_live_));
    first_live_ = 0;
  }
  // Each bidder holds at most one entry past first_live_, so after compaction the array is
  // full only if b's own entry is in it, and removing that makes room.
  IPX_ASSERT(proxies_.size() < proxies_.capacity() || proxy_max(b).has_value());
  return true;
}

void EnglishAuction::insert_proxy(std::int32_t slot, BidderId b, Fen max) {
  IPX_ASSERT(slot != BidderIndex::kNone);
  const std::size_t s = static_cast<std::size_t>(slot);
  if (proxy_max_[s].v > 0) remove_proxy(slot);
  const ProxyEntry e{max, rank_[s], ++seq_, b};
  proxy_max_[s] = max;
  proxy_seq_[s] = e.seq;
  const auto first = proxies_.begin() + static_cast<std::ptrdiff_t>(first_live_);
  const auto pos = std::partition_point(first, proxies_.end(),
                                        [&](const ProxyEntry& x) { return !stronger(x, e); });
  IPX_ASSERT(proxies_.size() < proxies_.capacity());  // no reallocation on the hot path
  proxies_.insert(pos, e);
}

void EnglishAuction::remove_proxy(std::int32_t slot) noexcept {
  const std::size_t s = static_cast<std::size_t>(slot);
  const ProxyEntry key{proxy_max_[s], rank_[s], proxy_seq_[s], 0};
  proxy_max_[s] = Fen{0};
  const auto first = proxies_.begin() + static_cast<std::ptrdiff_t>(first_live_);
  const auto pos = std::partition_point(first, proxies_.end(),
                                        [&](const ProxyEntry& x) { return stronger(key, x); });
  // Not found: it lies in the dead prefix and goes at the next compaction.
  if (pos != proxies_.end() && pos->seq == key.seq) proxies_.erase(pos);
}

// Proxies whose maximum is below the high bid can never bid again (prices only rise).
void EnglishAuction::prune() noexcept {
  while (first_live_ < proxies_.size() && proxies_[first_live_].max < high_) ++first_live_;
}

}  // namespace ipx::matching
