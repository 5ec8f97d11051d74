#include "matching/sealed_auction.hpp"

#include <algorithm>

#include "matching/assert.hpp"

namespace ipx::matching {

errc validate(const SealedConfig& c) noexcept {
  if (c.start_price.v <= 0 || c.start_price > kAmountMax) return errc::bad_request;
  if (c.reserve.v < 0 || c.reserve > kAmountMax) return errc::bad_request;
  if (c.opens_at >= c.closes_at) return errc::bad_request;
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

SealedAuction::SealedAuction(const SealedConfig& c)
    : second_price_(c.second_price),
      start_(c.start_price),
      reserve_(c.reserve),
      reserve_hidden_(c.reserve_hidden),
      opens_at_(c.opens_at),
      closes_at_(c.closes_at),
      index_(c.max_bidders) {
  IPX_ASSERT(validate(c) == errc::ok);
  bidder_.assign(c.max_bidders, 0);
  rank_.assign(c.max_bidders, kNoRank);
  amount_.assign(c.max_bidders, Fen{0});
  when_.assign(c.max_bidders, 0);
  for (const PriorityHolder& h : c.priority_holders) {
    const std::size_t s = static_cast<std::size_t>(index_.insert(h.bidder));
    bidder_[s] = h.bidder;
    rank_[s] = h.rank;
  }
}

SealedAuction::State SealedAuction::save() const {
  State s{last_now_, state_, unsold_reason_, bids_, seq_, {}, winner_, clearing_};
  s.slots.reserve(index_.size());
  for (std::size_t i = 0; i < index_.size(); ++i) s.slots.push_back({bidder_[i], amount_[i], when_[i]});
  return s;
}

errc SealedAuction::restore(const State& s) {
  if (s.state > AuctionState::cancelled || s.unsold_reason > UnsoldReason::time_up ||
      s.slots.size() > index_.capacity() || index_.size() > s.slots.size()) {
    return errc::bad_request;
  }
  for (std::size_t i = 0; i < s.slots.size(); ++i) {
    // The holders are already in slots [0, holders); the bidders come next, in order.
    if (index_.insert(s.slots[i].bidder) != static_cast<std::int32_t>(i)) return errc::bad_request;
    if (s.slots[i].amount.v < 0 || s.slots[i].amount > kAmountMax) return errc::bad_request;
    bidder_[i] = s.slots[i].bidder;
    amount_[i] = s.slots[i].amount;
    when_[i] = s.slots[i].when;
  }
  last_now_ = s.last_now;
  state_ = s.state;
  unsold_reason_ = s.unsold_reason;
  bids_ = s.bids;
  seq_ = s.seq;
  winner_ = s.winner;
  clearing_ = s.clearing;
  return errc::ok;
}

std::optional<Ms> SealedAuction::next_due() const noexcept {
  if (state_ == AuctionState::scheduled) return opens_at_;
  if (state_ == AuctionState::open) return closes_at_;
  return std::nullopt;
}

void SealedAuction::advance(Ms now, AuctionSink& sink) {
  IPX_ASSERT(now >= last_now_);
  last_now_ = now;
  if (state_ == AuctionState::scheduled && now >= opens_at_) {
    state_ = AuctionState::open;
    AuctionEvent e;
    e.kind = EventKind::opened;
    e.ts = opens_at_;
    sink.on_event(e);
  }
  if (state_ == AuctionState::open && now >= closes_at_) close(sink);
}

errc SealedAuction::bid(BidderId b, Fen amount, Ms now, AuctionSink& sink) {
  advance(now, sink);
  if (state_ == AuctionState::scheduled) return errc::auction_not_open;
  if (state_ != AuctionState::open) return errc::auction_closed;
  if (amount < start_) return errc::bid_too_low;
  if (amount > kAmountMax) return errc::bad_request;
  std::int32_t slot = index_.find(b);
  // Revision replaces only with a higher amount.
  if (slot != BidderIndex::kNone && amount <= amount_[static_cast<std::size_t>(slot)]) {
    return errc::bid_too_low;
  }
  if (slot == BidderIndex::kNone) {
    slot = index_.insert(b);
    if (slot == BidderIndex::kNone) return errc::capacity;
  }
  const std::size_t s = static_cast<std::size_t>(slot);
  bidder_[s] = b;
  amount_[s] = amount;
  when_[s] = ++seq_;
  ++bids_;
  AuctionEvent e;
  e.kind = EventKind::bid;
  e.ts = now;
  e.bidder = b;
  e.amount = amount;  // sealed: for the journal only, not for publication before close
  sink.on_event(e);
  return errc::ok;
}

// Highest amount; ties: the better rank (rule 6), then the earlier bid.
bool SealedAuction::better(std::size_t a, std::size_t b) const noexcept {
  if (amount_[a] != amount_[b]) return amount_[a] > amount_[b];
  if (rank_[a] != rank_[b]) return rank_[a] < rank_[b];
  return when_[a] < when_[b];
}

void SealedAuction::close(AuctionSink& sink) {
  std::optional<std::size_t> best;
  std::optional<std::size_t> second;
  for (std::size_t s = 0; s < index_.size(); ++s) {
    if (amount_[s].v == 0) continue;  // a holder who never bid
    if (!best || better(s, *best)) {
      second = best;
      best = s;
    } else if (!second || better(s, *second)) {
      second = s;
    }
  }
  AuctionEvent e;
  e.kind = EventKind::closed;
  e.ts = closes_at_;
  if (!best) {
    unsold_reason_ = UnsoldReason::no_bids;
  } else if (amount_[*best] < reserve_) {
    unsold_reason_ = UnsoldReason::reserve_not_met;
  } else {
    Fen pay = amount_[*best];
    if (second_price_) {
      const Fen runner_up = second ? amount_[*second] : Fen{0};
      pay = std::max({runner_up, reserve_, start_});
    }
    IPX_ASSERT(pay <= amount_[*best]);
    winner_ = bidder_[*best];
    clearing_ = pay;
    e.bidder = *winner_;
    e.amount = pay;
  }
  state_ = winner_ ? AuctionState::sold : AuctionState::unsold;
  e.state = state_;
  e.reason = unsold_reason_;
  sink.on_event(e);
}

errc SealedAuction::cancel() noexcept {
  const bool before_bids =
      state_ == AuctionState::scheduled || (state_ == AuctionState::open && bids_ == 0);
  if (!before_bids) return errc::invalid_state;
  state_ = AuctionState::cancelled;
  return errc::ok;
}

std::optional<Fen> SealedAuction::sealed_bid_of(BidderId b) const noexcept {
  const std::int32_t slot = index_.find(b);
  if (slot == BidderIndex::kNone) return std::nullopt;
  const Fen a = amount_[static_cast<std::size_t>(slot)];
  return a.v > 0 ? std::optional<Fen>(a) : std::nullopt;
}

SealedView SealedAuction::view() const noexcept {
  SealedView v;
  v.state = state_;
  v.start_price = start_;
  if (!reserve_hidden_ && reserve_.v > 0) v.reserve = reserve_;
  v.opens_at = opens_at_;
  v.closes_at = closes_at_;
  v.bids = bids_;
  v.price = clearing_;  // null until a sold close
  v.leader = winner_;
  v.winner = winner_;
  v.unsold_reason = unsold_reason_;
  return v;
}

}  // namespace ipx::matching
