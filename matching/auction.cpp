#include "matching/auction.hpp"

#include <utility>

#include "matching/assert.hpp"

namespace ipx::matching {

namespace {

EnglishConfig to_english(const AuctionConfig& c) {
  EnglishConfig e;
  e.start_price = c.start_price;
  e.increment = c.increment;
  e.tiers = c.tiers;
  e.reserve = c.reserve;
  e.reserve_hidden = c.reserve_hidden;
  e.opens_at = c.opens_at;
  e.closes_at = c.closes_at;
  e.extend_window_ms = c.extend_window_ms;
  e.extend_by_ms = c.extend_by_ms;
  e.first_bid_close_ms = c.first_bid_close_ms;
  e.priority_holders = c.priority_holders;
  e.max_bidders = c.max_bidders;
  return e;
}

DutchConfig to_dutch(const AuctionConfig& c) {
  return DutchConfig{c.start_price, c.dutch.decrement, c.dutch.interval_ms,
                     c.dutch.floor, c.opens_at,        c.closes_at};
}

SealedConfig to_sealed(const AuctionConfig& c) {
  SealedConfig s;
  s.second_price = c.format == Format::sealed_second;
  s.start_price = c.start_price;
  s.reserve = c.reserve;
  s.reserve_hidden = c.reserve_hidden;
  s.opens_at = c.opens_at;
  s.closes_at = c.closes_at;
  s.priority_holders = c.priority_holders;
  s.max_bidders = c.max_bidders;
  return s;
}

FixedPriceConfig to_fixed(const AuctionConfig& c) {
  FixedPriceConfig f;
  f.start_price = c.start_price;
  f.increment = c.increment;
  f.tiers = c.tiers;
  f.opens_at = c.opens_at;
  f.closes_at = c.closes_at;
  f.priority_holders = c.priority_holders;
  f.max_bidders = c.max_bidders;
  return f;
}

using Impl = std::variant<EnglishAuction, DutchAuction, SealedAuction, FixedPriceListing>;

Impl make_impl(const AuctionConfig& c) {
  switch (c.format) {
    case Format::english: return Impl(std::in_place_type<EnglishAuction>, to_english(c));
    case Format::dutch: return Impl(std::in_place_type<DutchAuction>, to_dutch(c));
    case Format::sealed_first:
    case Format::sealed_second:
      return Impl(std::in_place_type<SealedAuction>, to_sealed(c));
    case Format::fixed_price:
      return Impl(std::in_place_type<FixedPriceListing>, to_fixed(c));
  }
  IPX_ASSERT(false);
  return Impl(std::in_place_type<DutchAuction>, to_dutch(c));
}

}  // namespace

errc validate(const AuctionConfig& c) noexcept {
  switch (c.format) {
    case Format::english: return validate(to_english(c));
    case Format::dutch: return validate(to_dutch(c));
    case Format::sealed_first:
    case Format::sealed_second: return validate(to_sealed(c));
    case Format::fixed_price: return validate(to_fixed(c));
  }
  return errc::bad_request;
}

Auction::Auction(const AuctionConfig& c) : config_(c), format_(c.format), impl_(make_impl(c)) {}

Auction::State Auction::save() const {
  return std::visit([](const auto& a) { return State(a.save()); }, impl_);
}

errc Auction::restore(const State& s) {
  if (s.index() != impl_.index()) return errc::bad_request;
  return std::visit(
      [&s](auto& a) { return a.restore(std::get<typename std::decay_t<decltype(a)>::State>(s)); },
      impl_);
}

Format Auction::format() const noexcept {
  if (const auto* f = std::get_if<FixedPriceListing>(&impl_); f && f->converted()) {
    return Format::english;
  }
  return format_;
}

const EnglishAuction* Auction::english() const noexcept {
  if (const auto* e = std::get_if<EnglishAuction>(&impl_)) return e;
  if (const auto* f = std::get_if<FixedPriceListing>(&impl_); f && f->converted()) {
    return &f->english();
  }
  return nullptr;
}

EnglishAuction* Auction::english_mut() noexcept {
  return const_cast<EnglishAuction*>(std::as_const(*this).english());
}

BidReply Auction::english_reply(Fen amount, Ms now) const noexcept {
  const EnglishAuction* e = english();
  return BidReply{amount, now, e->leader(), e->closes_at(), e->min_next_bid()};
}

Result<BidReply> Auction::bid(BidderId b, Fen amount, Ms now, AuctionSink& sink) {
  advance(now, sink);  // a fixed-price listing may convert right now
  if (auto* s = std::get_if<SealedAuction>(&impl_)) {
    const errc ec = s->bid(b, amount, now, sink);
    return {ec, BidReply{amount, now, std::nullopt, std::nullopt, std::nullopt}};
  }
  EnglishAuction* e = english_mut();
  if (e == nullptr) return {errc::invalid_state, {}};
  const errc ec = e->bid(b, amount, now, sink);
  if (ec != errc::ok) return {ec, {}};
  return {ec, english_reply(amount, now)};
}

Result<BidReply> Auction::proxy(BidderId b, Fen max, Ms now, AuctionSink& sink) {
  advance(now, sink);
  EnglishAuction* e = english_mut();
  if (e == nullptr) return {errc::invalid_state, {}};
  const errc ec = e->proxy(b, max, now, sink);
  if (ec != errc::ok) return {ec, {}};
  return {ec, english_reply(*e->price(), now)};
}

Result<AcceptReply> Auction::accept(BidderId b, Ms now, AuctionSink& sink) {
  auto* d = std::get_if<DutchAuction>(&impl_);
  if (d == nullptr) return {errc::invalid_state, {}};
  const errc ec = d->accept(b, now, sink);
  if (ec != errc::ok) return {ec, {}};
  return {ec, AcceptReply{*d->price(), now}};
}

errc Auction::register_intent(BidderId b, Ms now, AuctionSink& sink) {
  auto* f = std::get_if<FixedPriceListing>(&impl_);
  if (f == nullptr) return errc::invalid_state;
  return f->register_intent(b, now, sink);
}

void Auction::advance(Ms now, AuctionSink& sink) {
  std::visit([&](auto& a) { a.advance(now, sink); }, impl_);
}

errc Auction::cancel() noexcept {
  return std::visit([](auto& a) { return a.cancel(); }, impl_);
}

std::optional<Ms> Auction::next_due() const noexcept {
  return std::visit([](const auto& a) { return a.next_due(); }, impl_);
}

std::optional<Fen> Auction::min_next_bid_for(BidderId b) const noexcept {
  const EnglishAuction* e = english();
  return e != nullptr ? e->min_next_bid_for(b) : std::nullopt;
}

namespace {

AuctionView from_english(const EnglishView& e) {
  AuctionView v;
  v.format = Format::english;
  v.state = e.state;
  v.start_price = e.start_price;
  v.increment = e.increment;
  v.reserve = e.reserve;
  v.opens_at = e.opens_at;
  v.closes_at = e.closes_at;
  v.price = e.price;
  v.bids = e.bids;
  v.leader = e.leader;
  v.min_next_bid = e.min_next_bid;
  v.winner = e.winner;
  v.clearing_price = e.clearing_price;
  v.unsold_reason = e.unsold_reason;
  return v;
}

AuctionView from_dutch(const DutchView& d) {
  AuctionView v;
  v.format = Format::dutch;
  v.state = d.state;
  v.start_price = d.start_price;
  v.opens_at = d.opens_at;
  v.closes_at = d.closes_at;
  v.price = d.price;
  v.bids = d.bids;
  v.leader = d.winner;
  v.winner = d.winner;
  if (d.state == AuctionState::sold) v.clearing_price = d.price;
  v.unsold_reason = d.unsold_reason;
  return v;
}

AuctionView from_sealed(const SealedView& s, Format f) {
  AuctionView v;
  v.format = f;
  v.state = s.state;
  v.start_price = s.start_price;
  v.reserve = s.reserve;
  v.opens_at = s.opens_at;
  v.closes_at = s.closes_at;
  v.price = s.price;  // sealed: null until close (PROTOCOL "Edges")
  v.bids = s.bids;
  v.leader = s.leader;
  v.winner = s.winner;
  v.clearing_price = s.price;
  v.unsold_reason = s.unsold_reason;
  return v;
}

AuctionView from_fixed(const FixedPriceListing& f) {
  if (f.converted()) {
    AuctionView v = from_english(f.english().view());
    v.registered = f.registered();
    return v;
  }
  AuctionView v;
  v.format = Format::fixed_price;
  v.state = f.state();
  v.start_price = f.start_price();
  v.opens_at = f.opens_at();
  v.closes_at = f.closes_at();
  v.registered = f.registered();
  v.unsold_reason = f.unsold_reason();
  if (f.winner()) {
    v.price = f.start_price();
    v.bids = 1;
    v.leader = f.winner();
    v.winner = f.winner();
    v.clearing_price = f.start_price();
  }
  return v;
}

}  // namespace

AuctionView Auction::view() const noexcept {
  if (const auto* e = std::get_if<EnglishAuction>(&impl_)) return from_english(e->view());
  if (const auto* d = std::get_if<DutchAuction>(&impl_)) return from_dutch(d->view());
  if (const auto* s = std::get_if<SealedAuction>(&impl_)) return from_sealed(s->view(), format_);
  return from_fixed(std::get<FixedPriceListing>(impl_));
}

}  // namespace ipx::matching
