// Domain: auctions (create, cancel, register with a deposit, bid, proxy, accept, get, list),
// driven by matching::Auction, with deposits held in the ledger (DOMAIN.md rule 3).
#include <algorithm>

#include "engine/domain.hpp"
#include "engine/ids.hpp"
#include "matching/assert.hpp"

namespace ipx::engine {

namespace {

// Collects a mechanism's events during one call; the domain turns them into effects after.
// Given the mechanism, it also keeps the mechanism's view as each bid is accepted, so that a
// bid's push shows the auction after that bid, not after the command (a proxy's answer to
// it comes later, with a push of its own).
struct EventLog final : matching::AuctionSink {
  explicit EventLog(const matching::Auction* mechanism = nullptr) : mech(mechanism) {}
  const matching::Auction* mech;
  std::vector<matching::AuctionEvent> events;
  std::vector<matching::AuctionView> at_bid;
  void on_event(const matching::AuctionEvent& e) override {
    events.push_back(e);
    if (mech != nullptr && e.kind == matching::EventKind::bid) at_bid.push_back(mech->view());
  }
};


const char* format_name(matching::Format f) {
  switch (f) {
    case matching::Format::english:
      return "english";
    case matching::Format::dutch:
      return "dutch";
    case matching::Format::sealed_first:
      return "sealed_first";
    case matching::Format::sealed_second:
      return "sealed_second";
    case matching::Format::fixed_price:
      return "fixed_price";
  }
  return "english";
}

bool parse_format(const std::string& s, matching::Format& f) {
  static const std::pair<const char*, matching::Format> kFormats[] = {
      {"english", matching::Format::english},
      {"dutch", matching::Format::dutch},
      {"sealed_first", matching::Format::sealed_first},
      {"sealed_second", matching::Format::sealed_second},
      {"fixed_price", matching::Format::fixed_price}};
  for (const auto& [name, v] : kFormats) {
    if (s == name) return f = v, true;
  }
  return false;
}

bool valid_purpose(const std::string& s) {
  return s == "transfer" || s == "exclusive_licence" || s == "sole_licence" || s == "disposal";
}

bool is_sealed(const Auction& a) {
  return a.mech->format() == matching::Format::sealed_first ||
         a.mech->format() == matching::Format::sealed_second;
}

bool is_over(const Auction& a) {
  return a.state == "sold" || a.state == "unsold" || a.state == "cancelled";
}

json::value opt_fen(const std::optional<Fen>& v) {
  return v ? json::value(v->v) : json::value(nullptr);
}

}  // namespace

// A title can be sold once: an asset is in a live sale while an auction selling it is
// scheduled or open, or sold with its settlement not yet confirmed, failed or defaulted.
bool Domain::in_live_sale(const std::string& asset_id) const {
  const auto& settlements = settlements_;
  for (const auto& [id, a] : auctions_) {
    if (a.purpose != "transfer" && a.purpose != "disposal") continue;
    if (std::find(a.lot.begin(), a.lot.end(), asset_id) == a.lot.end()) continue;
    if (a.state == "scheduled" || a.state == "open") return true;
    if (a.state != "sold" || a.settlement_id.empty()) continue;
    const std::string& st = settlements.at(a.settlement_id).state;
    if (st == "awaiting_payment" || st == "paid") return true;
  }
  return false;
}

std::string bidder_code_of(const Auction& a, matching::BidderId b) {
  auto it = a.bidders.find(b);
  if (it == a.bidders.end()) return {};
  return a.registrations.at(it->second).bidder_code;
}

// Rule 13: a pledged asset is listed or licensed by its owner only with the consent of every
// live pledgee (each consents for its own pledges).
Outcome Domain::check_consents(const Asset& a) {
  for (const auto& pl : a.pledges) {
    if (!pl.consented) {
      return Outcome::error(Code::invalid_state, "asset " + a.id + " is pledged to " + pl.pledgee +
                                                     " (" + pl.registration_no +
                                                     ") without that pledgee's consent (rule 13)");
    }
  }
  return Outcome::success({});
}

// Validates the listing rules shared with markets (rule 13 consent, rule 15 licences).
Outcome Domain::check_listing(const Ctx& c, const std::vector<std::string>& lot,
                              const std::optional<Licence>& licence, std::string& seller) {
  if (lot.empty()) return Outcome::error(Code::bad_request, "lot: must name at least one asset");
  const bool is_operator = (c.actor->roles & role_operator) != 0;
  for (const auto& asset_id : lot) {
    auto it = assets_.find(asset_id);
    if (it == assets_.end()) return Outcome::error(Code::not_found, "no asset " + asset_id);
    const Asset& a = it->second;
    if (!is_operator && a.owner != c.actor->id) {
      return Outcome::error(Code::not_found, "no asset " + asset_id);
    }
    if (seller.empty()) seller = a.owner;
    if (a.owner != seller) {
      return Outcome::error(Code::bad_request, "lot: every asset must have the same owner");
    }
    for (const auto& pl : a.pledges) {
      // A pledge under disposal: the asset is sold only by its case's rounds.
      if (pl.status == "foreclosed") {
        return Outcome::error(Code::invalid_state, "asset " + asset_id + " is under disposal");
      }
    }
    if (!is_operator) {
      if (Outcome o = check_consents(a); !o.ok()) return o;
    }
    if (licence) {
      Outcome lo = check_licence(a, *licence, c.now);
      if (!lo.ok()) return lo;
    }
  }
  return Outcome::success({});
}

Outcome Domain::auction_shape(const AuctionCreate& p, matching::Format& format) {
  for (auto it = p.lot.begin(); it != p.lot.end(); ++it) {
    if (std::find(p.lot.begin(), it, *it) != it) {
      return Outcome::error(Code::bad_request, "lot: " + *it + " is named twice");
    }
  }
  if (!parse_format(p.format, format)) {
    return Outcome::error(Code::bad_request,
                          "format: must be english, dutch, sealed_first, "
                          "sealed_second or fixed_price");
  }
  if (!valid_purpose(p.purpose)) {
    return Outcome::error(Code::bad_request,
                          "purpose: must be transfer, exclusive_licence, sole_licence or disposal");
  }
  if (p.closes_at <= p.opens_at)
    return Outcome::error(Code::bad_request, "closes_at: must be after opens_at");
  if (format == matching::Format::dutch && !p.dutch) {
    return Outcome::error(Code::bad_request, "dutch: required for a dutch auction");
  }
  if (p.dutch && p.dutch->floor > p.start_price) {
    return Outcome::error(Code::bad_request, "dutch.floor: must be <= start_price");
  }
  const bool licence_purpose = p.purpose == "exclusive_licence" || p.purpose == "sole_licence";
  if (licence_purpose && !p.licence) {
    return Outcome::error(Code::bad_request, "licence: required for a licence auction");
  }
  if (p.licence && licence_purpose && p.licence->kind != p.purpose.substr(0, p.purpose.find('_'))) {
    return Outcome::error(Code::bad_request, "licence.kind: must match the purpose");
  }
  if (p.hidden_reserve.value_or(false) && p.purpose == "disposal") {
    return Outcome::error(Code::bad_request, "hidden_reserve: only for private sales");
  }
  if (p.extend_window_ms.value_or(0) > 0 && p.extend_by_ms && *p.extend_by_ms <= 0) {
    return Outcome::error(Code::bad_request, "extend_by_ms: must be > 0 with extend_window_ms");
  }
  if (p.licence) {
    if (Outcome lo = check_licence_shape(*p.licence); !lo.ok()) return lo;
  }
  if (p.min_bidders) {
    if (*p.min_bidders < 1 || *p.min_bidders > kMinBiddersMax) {
      return Outcome::error(Code::bad_request, "min_bidders: must be between 1 and 100");
    }
    if (*p.min_bidders > 1 && format != matching::Format::english &&
        format != matching::Format::sealed_first && format != matching::Format::sealed_second) {
      return Outcome::error(Code::bad_request,
                            "min_bidders: for english and sealed auctions (a dutch or fixed-price "
                            "sale goes to its first buyer)");
    }
  }
  return Outcome::success({});
}

// Rule 6: the co-owners of the assets, ranked in the order they were registered (an asset's
// list, then the next asset's), each once; the seller and unknown participants are not.
std::vector<PriorityHolder> Domain::co_owner_holders(const std::vector<std::string>& assets,
                                                     const std::string& seller) const {
  std::vector<PriorityHolder> out;
  for (const auto& asset_id : assets) {
    for (const auto& co : assets_.at(asset_id).co_owners) {
      const bool listed = std::any_of(out.begin(), out.end(),
                                      [&](const PriorityHolder& h) { return h.participant_id == co; });
      if (co == seller || listed || participant(co) == nullptr) continue;
      out.push_back({co, static_cast<I64>(out.size()) + 1});
    }
  }
  return out;
}

Outcome Domain::auction_create(Ctx& c, const AuctionCreate& p) {
  matching::Format format{};
  if (Outcome s = auction_shape(p, format); !s.ok()) return s;
  if (p.closes_at <= c.now)
    return Outcome::error(Code::bad_request, "closes_at: must be in the future");
  const bool licence_purpose = p.purpose == "exclusive_licence" || p.purpose == "sole_licence";
  for (const auto& h : p.priority_holders) {
    if (participant(h.participant_id) == nullptr) {
      return Outcome::error(Code::not_found,
                            "priority_holders: no participant " + h.participant_id);
    }
  }
  std::string seller;
  Outcome listing = check_listing(c, p.lot, p.licence, seller);
  if (!listing.ok()) return listing;
  if (!licence_purpose) {  // a title sale (transfer or disposal): one at a time per asset
    for (const auto& asset_id : p.lot) {
      if (in_live_sale(asset_id)) {
        return Outcome::error(Code::invalid_state, "asset " + asset_id + " is already for sale");
      }
    }
  }

  // Rule 6: in a sale of the title, the lot's co-owners hold priority purchase rights (in the
  // order they were registered, as in a disposal round) unless the listing names its holders.
  // A licence grants no title: no one holds a right of first purchase in it.
  AuctionCreate listed = p;
  if (listed.priority_holders.empty() && !licence_purpose) {
    listed.priority_holders = co_owner_holders(p.lot, seller);
  }

  matching::AuctionConfig cfg;
  cfg.format = format;
  cfg.start_price = Fen{p.start_price};
  cfg.increment = Fen{p.increment};
  cfg.reserve = Fen{p.reserve.value_or(0)};
  cfg.reserve_hidden = p.hidden_reserve.value_or(false);
  cfg.opens_at = Ms{p.opens_at};
  cfg.closes_at = Ms{p.closes_at};
  cfg.extend_window_ms = Ms{p.extend_window_ms.value_or(0)};
  // A window without an extension extends by 5 minutes (DOMAIN rule 5's default).
  cfg.extend_by_ms = Ms{p.extend_by_ms.value_or(p.extend_window_ms.value_or(0) > 0 ? 300'000 : 0)};
  if (p.dutch) cfg.dutch = {Fen{p.dutch->decrement}, Ms{p.dutch->interval_ms}, Fen{p.dutch->floor}};
  for (const auto& h : listed.priority_holders) {
    cfg.priority_holders.push_back({participant(h.participant_id)->num,
                                    static_cast<std::uint32_t>(std::min<I64>(h.rank, 1000))});
  }
  if (auto ec = matching::validate(cfg); ec != matching::errc::ok) {
    return Outcome::error(Code::bad_request, "auction parameters are inconsistent (" +
                                                 std::string(matching::protocol_code(ec)) + ")");
  }
  return Outcome::success(create_auction(c, listed, cfg, seller, {}));
}

// Creates the auction (validated) and opens it when due. Also used by disposal rounds.
json::object Domain::create_auction(Ctx& c, const AuctionCreate& p,
                                    const matching::AuctionConfig& cfg, const std::string& seller,
                                    const std::string& case_id) {
  Auction a;
  a.num = ++auctions_n_;
  a.id = "A-" + std::to_string(a.num);
  a.lot = p.lot;
  a.purpose = p.purpose;
  a.format = p.format;
  a.seller = seller;
  a.start_price = p.start_price;
  a.increment = p.increment;
  a.deposit = p.deposit;
  a.opens_at = p.opens_at;
  a.reserve = p.reserve;
  a.hidden_reserve = p.hidden_reserve.value_or(false);
  a.buyer_premium_bp = p.buyer_premium_bp.value_or(0);
  a.seller_commission_bp = p.seller_commission_bp.value_or(0);
  a.payment_ms = p.payment_ms.value_or(10LL * 86'400'000);
  a.min_bidders = p.min_bidders.value_or(1);
  a.licence = p.licence;
  a.priority_holders = p.priority_holders;
  a.case_id = case_id;
  a.mech = std::make_unique<matching::Auction>(cfg);
  escrow_account(a);
  Auction& stored = auctions_.emplace(a.id, std::move(a)).first->second;
  c.pushes.push_back({"auction." + stored.id, "created", c.now, {{"state", stored.state}}});
  advance_auction(stored, c.now, c);
  return auction_json(stored);
}

Outcome Domain::auction_cancel(Ctx& c, const AuctionCancel& p) {
  auto it = auctions_.find(p.auction_id);
  if (it == auctions_.end()) return Outcome::error(Code::not_found, "no auction " + p.auction_id);
  Auction& a = it->second;
  if (a.mech->view().bids > 0) return Outcome::error(Code::invalid_state, "the auction has bids");
  if (a.mech->cancel() != matching::errc::ok) {
    return Outcome::error(Code::invalid_state, "the auction is " + a.state);
  }
  a.state = "cancelled";
  a.closed_at = c.now;
  release_deposits(a, "", c);
  json::object view = auction_json(a);
  json::object d{{"state", "cancelled"}, {"reason", p.reason}};
  with_auction_state(d, a);
  c.pushes.push_back({"auction." + a.id, "close", c.now, std::move(d)});
  if (!a.case_id.empty()) on_round_closed(cases_.at(a.case_id), a, c);
  return Outcome::success(std::move(view));
}

Outcome Domain::auction_register(Ctx& c, const AuctionRef& p) {
  auto it = auctions_.find(p.auction_id);
  if (it == auctions_.end()) return Outcome::error(Code::not_found, "no auction " + p.auction_id);
  Auction& a = it->second;
  if (a.registrations.count(c.actor->id)) {
    return Outcome::error(Code::duplicate, "already registered for " + a.id);
  }
  if (a.state != "scheduled" && a.state != "open") {
    return Outcome::error(Code::auction_closed, "the auction is " + a.state);
  }
  if (c.actor->id == a.seller) return Outcome::error(Code::not_qualified, "the seller may not bid");
  if (!a.case_id.empty() && cases_.at(a.case_id).barred.count(c.actor->id)) {
    return Outcome::error(Code::not_qualified, "barred from this case after a default (rule 7)");
  }
  // Rule 16: once a listing turned English, only the buyers registered during it may bid.
  // (a.format keeps the listing's original format; the mechanism reports the current one.)
  if (a.format == "fixed_price" && a.mech->format() == matching::Format::english) {
    return Outcome::error(Code::auction_closed,
                          "registration closed when the listing turned english");
  }
  if (a.deposit > cash_available(*c.actor)) {
    return Outcome::error(Code::insufficient_funds,
                          "deposit " + std::to_string(a.deposit) + " fen exceeds cash available");
  }
  Registration r;
  r.participant_id = c.actor->id;
  r.bidder_code = "B" + std::to_string(a.registrations.size() + 1);
  if (a.format == "fixed_price") {
    EventLog log;
    auto ec = a.mech->register_intent(c.actor->num, Ms{c.now}, log);
    if (ec != matching::errc::ok) return Outcome::error(code_of(ec), "cannot register now");
  }
  if (a.deposit > 0) {
    ledger::Transfer t;
    t.id = next_transfer_id(c);
    t.debit_account_id = cash_account(*c.actor);
    t.credit_account_id = escrow_account(a);
    t.amount = a.deposit;
    t.ledger = ledger::kLedgerCny;
    t.flags = ledger::transfer_flags::pending;
    t.code = ids::code_deposit;
    t.ref = a.num;
    auto res = submit_transfers(std::span(&t, 1), Ms{c.now});
    if (!res.ok()) return Outcome::error(Code::insufficient_funds, "deposit cannot be held");
    r.hold_id = t.id;
  }
  a.bidders[c.actor->num] = c.actor->id;
  const std::string code = r.bidder_code;
  a.registrations.emplace(c.actor->id, std::move(r));
  push_private(c, c.actor->id, "deposit",
               {{"auction_id", a.id}, {"amount", a.deposit}, {"state", "held"}});
  push_balance(c, c.actor->id);
  c.pushes.push_back({"auction." + a.id,
                      "register",
                      c.now,
                      {{"registered", static_cast<std::int64_t>(a.registrations.size())}}});
  return Outcome::success({{"auction_id", a.id},
                           {"bidder_code", code},
                           {"deposit", a.deposit},
                           {"deposit_state", "held"}});
}

Outcome Domain::check_bidder(const Ctx& c, const std::string& auction_id, Auction*& out) {
  auto it = auctions_.find(auction_id);
  if (it == auctions_.end()) return Outcome::error(Code::not_found, "no auction " + auction_id);
  out = &it->second;
  // PROTOCOL "Edges": a bid at closes_at or later is AUCTION_CLOSED, for every bidder (the
  // losers' deposits are released by then, which must not turn it into NOT_QUALIFIED).
  if (is_over(*out)) return Outcome::error(Code::auction_closed, "the auction is " + out->state);
  auto r = out->registrations.find(c.actor->id);
  if (r == out->registrations.end()) {
    return Outcome::error(Code::not_qualified, "register for " + auction_id + " first");
  }
  if (!out->case_id.empty() && cases_.at(out->case_id).barred.count(c.actor->id)) {
    return Outcome::error(Code::not_qualified, "barred from this case after a default (rule 7)");
  }
  if (r->second.released) return Outcome::error(Code::not_qualified, "deposit not held");
  return Outcome::success({});
}

namespace {

// Why an auction's mechanism refused a bid, a proxy or an accept, in words (the code is the
// mechanism's). `method` is the refused method's name.
std::string refusal_message(const Auction& a, matching::errc ec, std::string_view method) {
  using matching::errc;
  switch (ec) {
    case errc::auction_not_open:
      return a.id + " opens at " + std::to_string(a.opens_at);
    case errc::auction_closed:
      return a.id + " is closed";
    case errc::already_leading:
      return "the bidder already leads " + a.id + " and may not raise its own bid (rule 4)";
    case errc::invalid_state: {
      // The mechanism's format is the current one (a.format stays "fixed_price" after a
      // listing turns English).
      const matching::Format f = a.mech->format();
      const std::string is = a.id + (f == matching::Format::english ? " is an " : " is a ") +
                             format_name(f) + " auction" +
                             (a.format != format_name(f) ? " (the listing turned English)" : "");
      if (f == matching::Format::fixed_price) {
        return a.id + " is a fixed_price listing: a buyer registers (auction.register) and does not " +
               std::string(method == "auction.accept" ? "accept" : "bid") +
               " until two or more registrations turn it into an English auction (rule 16)";
      }
      if (f == matching::Format::dutch) return is + ": it takes auction.accept, not " + std::string(method);
      if (method == "auction.accept") return is + ": only a dutch auction takes auction.accept";
      return is + ": it takes no " + std::string(method);
    }
    default:
      return std::string(matching::protocol_code(ec));
  }
}

}  // namespace

Outcome Domain::bid_reply(Ctx& c, Auction& a, const matching::Result<matching::BidReply>& r,
                          std::vector<matching::AuctionEvent>& events,
                          const std::vector<matching::AuctionView>& at_bid, std::string_view method) {
  if (!r.ok()) {
    std::string msg = refusal_message(a, r.ec, method);
    if (r.ec == matching::errc::bid_too_low || r.ec == matching::errc::bad_price) {
      auto min = a.mech->min_next_bid_for(c.actor->num);
      if (min) msg = "minimum next bid is " + std::to_string(min->v) + " fen";
      if (r.ec == matching::errc::bad_price) {
        msg = "the first bid is the starting price, later bids start + k x increment; " + msg;
      }
    }
    return Outcome::error(code_of(r.ec), msg);
  }
  apply_auction_events(a, events, c, &at_bid);
  json::object o{{"auction_id", a.id}, {"amount", r.value.amount.v}, {"ts", r.value.ts.v}};
  if (!is_sealed(a)) {
    o["leader"] = r.value.leader ? json::value(bidder_code_of(a, *r.value.leader)) : nullptr;
    o["closes_at"] = r.value.closes_at ? json::value(r.value.closes_at->v) : nullptr;
    o["min_next_bid"] = opt_fen(r.value.min_next_bid);
  }
  return Outcome::success(std::move(o));
}

Outcome Domain::auction_bid(Ctx& c, const AuctionBid& p) {
  Auction* a = nullptr;
  Outcome q = check_bidder(c, p.auction_id, a);
  if (!q.ok()) return q;
  EventLog log(a->mech.get());
  auto r = a->mech->bid(c.actor->num, Fen{p.amount}, Ms{c.now}, log);
  return bid_reply(c, *a, r, log.events, log.at_bid, "auction.bid");
}

Outcome Domain::auction_proxy(Ctx& c, const AuctionProxy& p) {
  Auction* a = nullptr;
  Outcome q = check_bidder(c, p.auction_id, a);
  if (!q.ok()) return q;
  EventLog log(a->mech.get());
  auto r = a->mech->proxy(c.actor->num, Fen{p.max_amount}, Ms{c.now}, log);
  return bid_reply(c, *a, r, log.events, log.at_bid, "auction.proxy");
}

Outcome Domain::auction_accept(Ctx& c, const AuctionRef& p) {
  Auction* a = nullptr;
  Outcome q = check_bidder(c, p.auction_id, a);
  if (!q.ok()) return q;
  EventLog log;
  auto r = a->mech->accept(c.actor->num, Ms{c.now}, log);
  if (!r.ok()) return Outcome::error(code_of(r.ec), refusal_message(*a, r.ec, "auction.accept"));
  apply_auction_events(*a, log.events, c);
  return Outcome::success(
      {{"auction_id", a->id}, {"price", r.value.price.v}, {"ts", r.value.ts.v}});
}

Outcome Domain::auction_get(Ctx& c, const AuctionGet& p) {
  auto it = auctions_.find(p.auction_id);
  if (it == auctions_.end()) return Outcome::error(Code::not_found, "no auction " + p.auction_id);
  json::object o = auction_json(it->second);
  if (p.mine) {
    auto r = it->second.registrations.find(c.actor->id);
    if (r != it->second.registrations.end()) o["my_bidder_code"] = r->second.bidder_code;
  }
  return Outcome::success(std::move(o));
}

Outcome Domain::auction_list(Ctx& /*c*/, const AuctionList& p) {
  json::array rows;
  for (const auto& [id, a] : auctions_) {
    if (p.state && a.state != *p.state) continue;
    rows.push_back(auction_json(a));
    if (rows.size() >= 1000) break;
  }
  return Outcome::success({{"auctions", std::move(rows)}});
}

void Domain::advance_auction(Auction& a, std::int64_t until, Ctx& c) {
  if (is_over(a)) return;
  auto due = a.mech->next_due();
  if (!due || due->v > until) return;
  EventLog log(a.mech.get());
  a.mech->advance(Ms{until}, log);
  apply_auction_events(a, log.events, c, &log.at_bid);
}

// Turns mechanism events into state, pushes, deposits and settlements.
void Domain::apply_auction_events(Auction& a, const std::vector<matching::AuctionEvent>& events,
                                  Ctx& c, const std::vector<matching::AuctionView>* at_bid) {
  const std::string channel = "auction." + a.id;
  std::size_t bids_seen = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const matching::AuctionEvent& e = events[i];
    using matching::EventKind;
    switch (e.kind) {
      case EventKind::opened:
        a.state = "open";
        if (!quiet()) {
          json::object d{{"state", "open"}};
          with_auction_state(d, a);
          c.pushes.push_back({channel, "open", e.ts.v, std::move(d)});
        }
        break;
      case EventKind::bid: {
        // The auction as this bid left it, with the close it moved (its extension follows).
        const matching::AuctionView v = at_bid != nullptr && bids_seen < at_bid->size()
                                            ? (*at_bid)[bids_seen]
                                            : a.mech->view();
        ++bids_seen;
        std::int64_t closes_at = v.closes_at.v;
        for (std::size_t j = i + 1; j < events.size() && events[j].kind != EventKind::bid; ++j) {
          if (events[j].kind == EventKind::extended) closes_at = events[j].closes_at.v;
        }
        json::object d{{"bids", static_cast<std::int64_t>(v.bids)}, {"ts", e.ts.v}};
        if (!is_sealed(a)) {
          d["amount"] = e.amount.v;
          d["bidder"] = bidder_code_of(a, e.bidder);
          d["proxy"] = e.is_proxy;
          d["price"] = opt_fen(v.price);
          d["leader"] = v.leader ? json::value(bidder_code_of(a, *v.leader)) : nullptr;
          d["min_next_bid"] = opt_fen(v.min_next_bid);
          d["closes_at"] = closes_at;
        }
        c.pushes.push_back({channel, "bid", e.ts.v, std::move(d)});
        break;
      }
      case EventKind::leader_changed:
        break;  // carried by the bid push
      case EventKind::extended:
        c.pushes.push_back({channel, "extension", e.ts.v, {{"closes_at", e.closes_at.v}}});
        break;
      case EventKind::price_tick:
        c.pushes.push_back({channel, "price", e.ts.v, {{"price", e.amount.v}}});
        break;
      case EventKind::converted:  // a.format stays "fixed_price": see auction_register
        if (!quiet()) {
          json::object d{{"format", "english"}, {"closes_at", e.closes_at.v}};
          with_auction_state(d, a);
          c.pushes.push_back({channel, "converted", e.ts.v, std::move(d)});
        }
        break;
      case EventKind::closed:
        close_auction(a, e, c);
        break;
    }
  }
}

void Domain::close_auction(Auction& a, const matching::AuctionEvent& e, Ctx& c) {
  // Rule 2: with fewer qualified bidders than the auction requires, nothing is sold.
  const bool enough = static_cast<std::int64_t>(a.registrations.size()) >= a.min_bidders;
  const bool sold = e.state == matching::AuctionState::sold && enough;
  a.state = sold ? "sold" : "unsold";
  a.closed_at = e.ts.v;
  const std::string winner = sold ? a.bidders.at(e.bidder) : std::string();
  // Rule 3: losers' deposits are released at close; the winner's counts toward the price.
  release_deposits(a, winner, c);
  json::object d{{"state", a.state}, {"ts", e.ts.v}};
  if (sold) {
    d["winner"] = bidder_code_of(a, e.bidder);
    d["price"] = e.amount.v;
    open_settlement(a, winner, e.amount.v, e.ts.v, c);
    d["settlement_id"] = a.settlement_id;
  }
  with_auction_state(d, a);
  c.pushes.push_back({"auction." + a.id, "close", e.ts.v, std::move(d)});
  if (!a.case_id.empty()) on_round_closed(cases_.at(a.case_id), a, c);
}

void Domain::release_deposits(Auction& a, const std::string& keep, Ctx& c) {
  for (auto& [pid, r] : a.registrations) {
    if (pid == keep || r.released || r.hold_id == 0) continue;
    if (ledger_.pending_state(r.hold_id) != ledger::Ledger::PendingState::open) continue;
    ledger::Transfer t;
    t.id = next_transfer_id(c);
    t.pending_id = r.hold_id;
    t.flags = ledger::transfer_flags::void_pending;
    auto res = submit_transfers(std::span(&t, 1), Ms{c.now});
    IPX_ASSERT(res.ok());
    r.released = true;
    push_private(c, pid, "deposit",
                 {{"auction_id", a.id}, {"amount", a.deposit}, {"state", "released"}});
    push_balance(c, pid);
  }
}

// PROTOCOL "Channels": an auction's updates carry the fields that changed, so a client that
// applies them to its snapshot has auction.get's result. An open, a conversion and a close
// (or cancel) change more than their own field: each also carries the auction's state fields
// as auction.get shows them after it (a sealed close reveals price and leader; an unsold close
// has no price; a closed auction no min_next_bid; a conversion moves opens_at). The push's own
// fields (ts, reason, ...) stay as they are.
void Domain::with_auction_state(json::object& d, const Auction& a) const {
  if (quiet()) return;
  json::object o = auction_json(a);
  for (const char* k : {"format", "state", "opens_at", "closes_at", "price", "bids", "leader",
                        "min_next_bid", "winner", "settlement_id"}) {
    if (!d.contains(k)) d[k] = std::move(o[k]);
  }
}

json::object Domain::auction_json(const Auction& a) const {
  const matching::AuctionView v = a.mech->view();
  const bool sealed_open = is_sealed(a) && (a.state == "scheduled" || a.state == "open");
  json::object o;
  o["auction_id"] = a.id;
  json::array lot;
  for (const auto& x : a.lot) lot.push_back(json::string(x));
  o["lot"] = std::move(lot);
  o["purpose"] = a.purpose;
  o["format"] = format_name(a.mech->format());
  o["state"] = a.state;
  o["start_price"] = a.start_price;
  o["increment"] = v.increment ? json::value(v.increment->v) : json::value(a.increment);
  o["deposit"] = a.deposit;
  o["reserve"] = a.hidden_reserve ? json::value(nullptr) : opt_fen(v.reserve);
  o["opens_at"] = v.opens_at.v;
  // An auction that ended before its scheduled close (a Dutch accept, a Dutch floor that stood
  // unaccepted) closed then: what follows a close counts from closes_at (PROTOCOL "Edges").
  const bool ended = a.state == "sold" || a.state == "unsold";
  o["closes_at"] = ended && a.closed_at > 0 && a.closed_at < v.closes_at.v ? a.closed_at
                                                                             : v.closes_at.v;
  // After the close, price is the clearing price (PROTOCOL "Meaning of auction.get fields"):
  // an unsold close has none, whatever the highest bid was (a reserve it did not meet).
  o["price"] = sealed_open || a.state == "unsold"
                   ? json::value(nullptr)
                   : (v.clearing_price ? json::value(v.clearing_price->v) : opt_fen(v.price));
  o["bids"] = static_cast<std::int64_t>(v.bids);
  o["leader"] =
      sealed_open || !v.leader ? json::value(nullptr) : json::value(bidder_code_of(a, *v.leader));
  o["min_next_bid"] = sealed_open ? json::value(nullptr) : opt_fen(v.min_next_bid);
  o["winner"] = v.winner && a.state != "unsold" ? json::value(bidder_code_of(a, *v.winner))
                                                : json::value(nullptr);
  o["settlement_id"] =
      a.settlement_id.empty() ? json::value(nullptr) : json::value(a.settlement_id);
  o["registered"] = static_cast<std::int64_t>(a.registrations.size());
  if (!a.case_id.empty()) o["case_id"] = a.case_id;
  if (a.licence) o["licence"] = codec::encode(*a.licence);
  if (a.buyer_premium_bp) o["buyer_premium_bp"] = a.buyer_premium_bp;
  if (a.min_bidders > 1) o["min_bidders"] = a.min_bidders;
  return o;
}

}  // namespace ipx::engine
