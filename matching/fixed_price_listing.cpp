#include "matching/fixed_price_listing.hpp"

#include "matching/assert.hpp"

namespace ipx::matching {

EnglishConfig FixedPriceListing::english_config(const FixedPriceConfig& c) {
  EnglishConfig e;
  e.start_price = c.start_price;
  e.increment = c.increment;
  e.tiers = c.tiers;
  e.opens_at = c.closes_at;  // rule 16: the same auction continues from the listing's close
  const auto end = checked_add(c.closes_at.v, c.english_duration_ms.v);
  e.closes_at = Ms{end ? *end : INT64_MAX};
  e.extend_window_ms = c.extend_window_ms;
  e.extend_by_ms = c.extend_by_ms;
  e.priority_holders = c.priority_holders;
  e.max_bidders = c.max_bidders;
  return e;
}

errc validate(const FixedPriceConfig& c) noexcept {
  if (c.opens_at >= c.closes_at || c.english_duration_ms.v <= 0) return errc::bad_request;
  if (!checked_add(c.closes_at.v, c.english_duration_ms.v)) return errc::bad_request;
  return validate(FixedPriceListing::english_config(c));
}

FixedPriceListing::FixedPriceListing(const FixedPriceConfig& c)
    : start_(c.start_price),
      opens_at_(c.opens_at),
      closes_at_(c.closes_at),
      index_(c.max_bidders),
      english_(english_config(c)) {
  IPX_ASSERT(validate(c) == errc::ok);
  buyers_.reserve(c.max_bidders);
}

FixedPriceListing::State FixedPriceListing::save() const {
  return {last_now_, state_, unsold_reason_, converted_, buyers_, winner_, english_.save()};
}

errc FixedPriceListing::restore(const State& s) {
  if (s.state > AuctionState::cancelled || s.unsold_reason > UnsoldReason::time_up ||
      s.buyers.size() > buyers_.capacity()) {
    return errc::bad_request;
  }
  for (const BidderId b : s.buyers) {
    if (index_.find(b) != BidderIndex::kNone || index_.insert(b) == BidderIndex::kNone) {
      return errc::bad_request;
    }
  }
  if (const errc e = english_.restore(s.english); e != errc::ok) return e;
  last_now_ = s.last_now;
  state_ = s.state;
  unsold_reason_ = s.unsold_reason;
  converted_ = s.converted;
  buyers_.assign(s.buyers.begin(), s.buyers.end());  // within the reserved capacity
  count_ = static_cast<std::uint32_t>(s.buyers.size());
  winner_ = s.winner;
  return errc::ok;
}

AuctionState FixedPriceListing::state() const noexcept {
  return converted_ ? english_.state() : state_;
}

bool FixedPriceListing::is_registered(BidderId b) const noexcept {
  return index_.find(b) != BidderIndex::kNone;
}

std::optional<Ms> FixedPriceListing::next_due() const noexcept {
  if (converted_) return english_.next_due();
  if (state_ == AuctionState::scheduled) return opens_at_;
  if (state_ == AuctionState::open) return closes_at_;
  return std::nullopt;
}

void FixedPriceListing::advance(Ms now, AuctionSink& sink) {
  IPX_ASSERT(now >= last_now_);
  last_now_ = now;
  if (!converted_ && state_ == AuctionState::scheduled && now >= opens_at_) {
    state_ = AuctionState::open;
    AuctionEvent e;
    e.kind = EventKind::opened;
    e.ts = opens_at_;
    e.amount = start_;
    sink.on_event(e);
  }
  if (!converted_ && state_ == AuctionState::open && now >= closes_at_) close(sink);
  // After conversion (possibly just now), the English auction catches up to now: it opens
  // at the listing's closes_at and may even close if time jumped past its end.
  if (converted_) english_.advance(now, sink);
}

void FixedPriceListing::close(AuctionSink& sink) {
  AuctionEvent e;
  e.ts = closes_at_;
  if (count_ >= 2) {  // rule 16: two or more buyers -> English auction from start_price
    converted_ = true;
    e.kind = EventKind::converted;
    e.amount = start_;
    e.closes_at = english_.closes_at();
    sink.on_event(e);
    return;
  }
  if (count_ == 1) {  // rule 16: one buyer buys at the listed price
    winner_ = buyers_[0];
    state_ = AuctionState::sold;
    e.kind = EventKind::bid;
    e.bidder = *winner_;
    e.amount = start_;
    sink.on_event(e);
  } else {
    state_ = AuctionState::unsold;
    unsold_reason_ = UnsoldReason::no_bids;
  }
  e.kind = EventKind::closed;
  e.state = state_;
  e.reason = unsold_reason_;
  sink.on_event(e);
}

errc FixedPriceListing::register_intent(BidderId b, Ms now, AuctionSink& sink) {
  advance(now, sink);
  if (converted_) return errc::invalid_state;
  if (state_ == AuctionState::scheduled) return errc::auction_not_open;
  if (state_ != AuctionState::open) return errc::auction_closed;
  if (index_.find(b) != BidderIndex::kNone) return errc::duplicate;
  if (index_.insert(b) == BidderIndex::kNone) return errc::capacity;
  buyers_.push_back(b);  // within the reserved capacity
  ++count_;
  return errc::ok;
}

errc FixedPriceListing::cancel() noexcept {
  if (converted_) return english_.cancel();
  if (state_ != AuctionState::scheduled && state_ != AuctionState::open) {
    return errc::invalid_state;
  }
  state_ = AuctionState::cancelled;
  return errc::ok;
}

}  // namespace ipx::matching
