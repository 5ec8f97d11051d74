#include "matching/dutch_auction.hpp"

#include <algorithm>

#include "matching/assert.hpp"

namespace ipx::matching {

errc validate(const DutchConfig& c) noexcept {
  if (c.start_price.v <= 0 || c.start_price > kAmountMax) return errc::bad_request;
  if (c.decrement.v <= 0 || c.interval_ms.v <= 0) return errc::bad_request;
  if (c.floor.v <= 0 || c.floor > c.start_price) return errc::bad_request;
  if (c.opens_at >= c.closes_at) return errc::bad_request;
  const std::int64_t steps = (c.start_price.v - c.floor.v + c.decrement.v - 1) / c.decrement.v;
  if (steps > kDutchStepsMax) return errc::bad_request;
  // The whole clock (steps + 1 intervals) must fit in int64 ms after opens_at.
  const auto span = checked_mul(steps + 1, c.interval_ms.v);
  if (!span || !checked_add(c.opens_at.v, *span)) return errc::bad_request;
  return errc::ok;
}

DutchAuction::DutchAuction(const DutchConfig& c)
    : start_(c.start_price),
      decrement_(c.decrement),
      interval_(c.interval_ms),
      floor_(c.floor),
      opens_at_(c.opens_at),
      closes_at_(c.closes_at),
      current_(c.start_price) {
  IPX_ASSERT(validate(c) == errc::ok);
  floor_step_ = (start_.v - floor_.v + decrement_.v - 1) / decrement_.v;
  end_at_ = std::min(closes_at_, tick_time(floor_step_ + 1));
}

DutchAuction::State DutchAuction::save() const {
  return {last_now_, state_, unsold_reason_, next_step_, current_, winner_};
}

errc DutchAuction::restore(const State& s) {
  if (s.state > AuctionState::cancelled || s.unsold_reason > UnsoldReason::time_up ||
      s.next_step < 1 || s.next_step > floor_step_ + 1) {
    return errc::bad_request;
  }
  // The clock price is the one of the last drop fired (step next_step - 1).
  if (s.current != price_at(tick_time(s.next_step - 1))) return errc::bad_request;
  last_now_ = s.last_now;
  state_ = s.state;
  unsold_reason_ = s.unsold_reason;
  next_step_ = s.next_step;
  current_ = s.current;
  winner_ = s.winner;
  return errc::ok;
}

Fen DutchAuction::price_at(Ms t) const noexcept {
  IPX_ASSERT(t >= opens_at_);
  const std::int64_t k = std::min((t.v - opens_at_.v) / interval_.v, floor_step_);
  return Fen{std::max(floor_.v, start_.v - k * decrement_.v)};  // k x dec <= start: no overflow
}

std::optional<Fen> DutchAuction::price() const noexcept {
  if (state_ == AuctionState::open || state_ == AuctionState::sold) return current_;
  return std::nullopt;
}

std::optional<Ms> DutchAuction::next_due() const noexcept {
  if (state_ == AuctionState::scheduled) return opens_at_;
  if (state_ != AuctionState::open) return std::nullopt;
  if (next_step_ <= floor_step_ && tick_time(next_step_) < end_at_) return tick_time(next_step_);
  return end_at_;
}

void DutchAuction::advance(Ms now, AuctionSink& sink) {
  IPX_ASSERT(now >= last_now_);
  last_now_ = now;
  if (state_ == AuctionState::scheduled && now >= opens_at_) {
    state_ = AuctionState::open;
    AuctionEvent e;
    e.kind = EventKind::opened;
    e.ts = opens_at_;
    e.amount = start_;
    sink.on_event(e);
  }
  if (state_ != AuctionState::open) return;
  // Price drops in time order, each at its own boundary, none at or after the end.
  while (next_step_ <= floor_step_ && tick_time(next_step_) <= now &&
         tick_time(next_step_) < end_at_) {
    const Ms ts = tick_time(next_step_++);
    current_ = price_at(ts);
    AuctionEvent e;
    e.kind = EventKind::price_tick;
    e.ts = ts;
    e.amount = current_;
    sink.on_event(e);
  }
  if (now >= end_at_) close_unsold(sink);
}

void DutchAuction::close_unsold(AuctionSink& sink) {
  state_ = AuctionState::unsold;
  // The floor standing one interval unaccepted wins a tie with closes_at.
  unsold_reason_ = end_at_ == tick_time(floor_step_ + 1) ? UnsoldReason::floor_expired
                                                         : UnsoldReason::time_up;
  AuctionEvent e;
  e.kind = EventKind::closed;
  e.ts = end_at_;
  e.state = state_;
  e.reason = unsold_reason_;
  sink.on_event(e);
}

errc DutchAuction::accept(BidderId b, Ms now, AuctionSink& sink) {
  advance(now, sink);
  if (state_ == AuctionState::scheduled) return errc::auction_not_open;
  if (state_ != AuctionState::open) return errc::auction_closed;
  IPX_ASSERT(now < end_at_ && current_ == price_at(now));
  // The first accept wins at the current clock price.
  state_ = AuctionState::sold;
  winner_ = b;
  AuctionEvent e;
  e.kind = EventKind::bid;
  e.ts = now;
  e.bidder = b;
  e.amount = current_;
  sink.on_event(e);
  e.kind = EventKind::leader_changed;
  sink.on_event(e);
  e.kind = EventKind::closed;
  e.state = state_;
  sink.on_event(e);
  return errc::ok;
}

errc DutchAuction::cancel() noexcept {
  if (state_ != AuctionState::scheduled && state_ != AuctionState::open) {
    return errc::invalid_state;
  }
  state_ = AuctionState::cancelled;
  return errc::ok;
}

DutchView DutchAuction::view() const noexcept {
  DutchView v;
  v.state = state_;
  v.start_price = start_;
  v.opens_at = opens_at_;
  v.closes_at = closes_at_;
  v.ends_at = end_at_;
  v.price = price();
  v.bids = winner_ ? 1 : 0;
  v.winner = winner_;
  v.unsold_reason = unsold_reason_;
  return v;
}

}  // namespace ipx::matching
