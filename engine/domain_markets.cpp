// Domain: licence-unit markets (PROTOCOL.md "Orders"). The order book matches; the ledger
// holds cash for resting buys and units for resting sells, and settles each trade at once as
// one linked set (cash and units together), so no trade is ever half settled.
#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include "engine/domain.hpp"
#include "engine/ids.hpp"
#include "matching/assert.hpp"

namespace ipx::engine {

namespace {

constexpr std::size_t kDepthLevels = 50;  // book.<market> shows the best 50 levels a side

// Why the book refused a place or a replace, in words (the code is the book's).
std::string book_refusal_message(matching::errc ec) {
  using matching::errc;
  switch (ec) {
    case errc::insufficient_funds: return "cash available does not cover the order";
    case errc::bad_price: return "price is not a multiple of the market's tick";
    case errc::would_cross: return "a post_only order would trade on arrival";
    case errc::self_trade: return "the order would trade with the participant's own resting order (stp reject)";
    case errc::capacity: return "the book is full: no room for another resting order";
    case errc::not_found: return "no such live order";
    case errc::invalid_state: return "the order has expired";
    case errc::bad_request: return "price, qty: price x qty out of range";
    default: return std::string(matching::protocol_code(ec));
  }
}

// Collects what the book reports during one command.
struct BookLog final : matching::book_sink {
  std::vector<matching::trade> trades;
  std::vector<std::pair<matching::order_event, matching::order_view>> orders;
  void on_trade(const matching::trade& t) override { trades.push_back(t); }
  void on_order(matching::order_event e, const matching::order_view& v) override {
    orders.emplace_back(e, v);
  }
  void clear() {
    trades.clear();
    orders.clear();
  }
};

const char* status_name(matching::order_status s) {
  switch (s) {
    case matching::order_status::open: return "open";
    case matching::order_status::partially_filled: return "partially_filled";
    case matching::order_status::filled: return "filled";
    case matching::order_status::cancelled: return "cancelled";
    case matching::order_status::expired: return "expired";
  }
  return "open";
}


// Read only when the command's pushes are made (!quiet(): settle_book_events diffs it); a
// replay neither zeroes nor fills its 1.6 kB.
struct Depth {
  std::array<matching::depth_level, kDepthLevels> bids, asks;  // [0, nb) and [0, na) hold levels
  std::size_t nb = 0, na = 0;
  void read(const matching::order_book& b) {
    nb = b.depth(matching::side::buy, bids);
    na = b.depth(matching::side::sell, asks);
  }
};

// Levels that changed within the best 50 between two depth views ([side, price, qty]): the
// new or changed levels in the after view's order, then the levels gone (qty 0) in the before
// view's. Both views are best first (bids by falling price, asks by rising), so one merge pass
// finds them.
void diff_side(const matching::depth_level* before, std::size_t nb, const matching::depth_level* after,
               std::size_t na, const char* side, json::array& out) {
  const bool bids = side[0] == 'b';
  auto ranks_first = [bids](Fen x, Fen y) { return bids ? x.v > y.v : x.v < y.v; };
  std::array<std::size_t, kDepthLevels> gone{};
  std::size_t n_gone = 0, i = 0, j = 0;
  while (i < na || j < nb) {
    if (j == nb || (i < na && ranks_first(after[i].price, before[j].price))) {
      out.push_back(json::array{side, after[i].price.v, after[i].qty.v});  // a new level
      ++i;
    } else if (i == na || ranks_first(before[j].price, after[i].price)) {
      gone[n_gone++] = j++;
    } else {
      if (before[j].qty != after[i].qty) out.push_back(json::array{side, after[i].price.v, after[i].qty.v});
      ++i;
      ++j;
    }
  }
  for (std::size_t k = 0; k < n_gone; ++k) out.push_back(json::array{side, before[gone[k]].price.v, 0});
}

json::array levels_json(const matching::depth_level* l, std::size_t n) {
  json::array a;
  for (std::size_t i = 0; i < n; ++i) a.push_back(json::array{l[i].price.v, l[i].qty.v});
  return a;
}

// floor(notional x bp / 10000), exact (bp <= 10000: it fits whenever the notional does).
std::int64_t fee_of(std::int64_t notional, std::int64_t bp) {
  auto r = bp_of_floor(notional, bp);
  IPX_ASSERT(r.has_value());
  return *r;
}

// What a resting order holds (PROTOCOL "Defaults"): a buy its limit price x leaves, a sell
// its leaves in units. Fees are not held: they are charged after the command's trades from
// what is then available (see settle_book_events).
std::int64_t hold_of(const matching::order_view& v) {
  if (v.side_ == matching::side::sell) return v.leaves.v;
  return v.price.v * v.leaves.v;  // fits: the book checks price x qty
}

// A limit buy needs price x qty available; a market buy the cash for the prices it would take.
bool covers(std::int64_t cash, std::int64_t required) { return required <= cash; }

// An order id as the protocol shows it ("O-12"), or a client_order_id's stored number, to the
// book's id; 0 when it is not exactly one (no sign, no leading zero, no junk).
std::uint64_t order_num(std::string_view digits) {
  std::uint64_t v = 0;
  if (digits.empty() || digits[0] == '0') return 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  return ec == std::errc{} && end == digits.data() + digits.size() ? v : 0;
}

}  // namespace

void Domain::install_book(Market& m) {
  matching::book_config cfg;
  cfg.tick = Fen{m.tick};
  cfg.lot = Units{m.min_qty};
  auto log = std::make_unique<BookLog>();
  m.book = std::make_unique<matching::order_book>(cfg, *log);
  m.sink = std::move(log);
}

json::object Domain::book_json(const Market& m) const {
  Depth d;
  d.read(*m.book);
  return {{"bids", levels_json(d.bids.data(), d.nb)}, {"asks", levels_json(d.asks.data(), d.na)}};
}

Outcome Domain::market_shape(const MarketCreate& p) {
  if (Outcome lo = check_licence_shape(p.licence); !lo.ok()) return lo;
  if (p.licence.kind != "non_exclusive") {
    return Outcome::error(Code::bad_request, "licence.kind: a licence-unit market is non_exclusive");
  }
  if (p.tick <= 0 || p.min_qty <= 0) return Outcome::error(Code::bad_request, "tick: must be > 0");
  return Outcome::success({});
}

Outcome Domain::market_create(Ctx& c, const MarketCreate& p) {
  if (Outcome s = market_shape(p); !s.ok()) return s;
  std::string licensor;
  if (Outcome lo = check_listing(c, {p.asset_id}, p.licence, licensor); !lo.ok()) return lo;
  if (markets_.count(p.market_id)) return Outcome::error(Code::duplicate, "market " + p.market_id + " exists");
  Market m;
  m.id = p.market_id;
  m.num = ++markets_n_;
  m.asset_id = p.asset_id;
  m.licensor = licensor;
  m.licence = p.licence;
  m.tick = p.tick;
  m.min_qty = p.min_qty;
  m.maker_fee_bp = p.maker_fee_bp.value_or(0);
  m.taker_fee_bp = p.taker_fee_bp.value_or(0);
  install_book(m);
  ensure_account(ids::external_units(m.num), ledger::ledger_for_market(static_cast<std::uint32_t>(m.num)),
                 ids::code_external, 0, 0);
  ensure_account(ids::order_escrow_units(m.num), ledger::ledger_for_market(static_cast<std::uint32_t>(m.num)),
                 ids::code_order_escrow, 0, m.num);
  ensure_account(ids::order_escrow_cash(m.num), ledger::kLedgerCny, ids::code_order_escrow, 0, m.num);
  Market& stored = markets_.emplace(m.id, std::move(m)).first->second;
  c.pushes.push_back({"book." + stored.id, "update", c.now, {{"changes", json::array{}}}});
  return Outcome::success(market_json(stored));
}

json::object Domain::market_json(const Market& m) const {
  json::object o{{"market_id", m.id},       {"asset_id", m.asset_id},
                 {"licensor", m.licensor},  {"licence", codec::encode(m.licence)},
                 {"tick", m.tick},          {"min_qty", m.min_qty},
                 {"maker_fee_bp", m.maker_fee_bp}, {"taker_fee_bp", m.taker_fee_bp},
                 {"trades", m.trades}};
  json::object book = book_json(m);
  o["bids"] = book["bids"];
  o["asks"] = book["asks"];
  return o;
}

Outcome Domain::market_get(Ctx&, const MarketRef& p) {
  auto it = markets_.find(p.market_id);
  if (it == markets_.end()) return Outcome::error(Code::not_found, "no market " + p.market_id);
  return Outcome::success(market_json(it->second));
}

// New licences of a market's patent (units issued, the licensor's new offers): only while the
// licensor owns it, and with the consent of every pledgee (rule 13). Licences already granted
// (units held, resting offers) stand.
Outcome Domain::check_may_license(const Market& m) const {
  const Asset& a = assets_.at(m.asset_id);
  if (a.owner != m.licensor) {
    return Outcome::error(Code::invalid_state,
                          "asset " + a.id + " is no longer " + m.licensor + "'s to license");
  }
  return check_consents(a);
}

Outcome Domain::units_issue(Ctx& c, const UnitsIssue& p) {
  auto it = markets_.find(p.market_id);
  if (it == markets_.end()) return Outcome::error(Code::not_found, "no market " + p.market_id);
  Market& m = it->second;
  // Another licensor's market is not the caller's to touch (PROTOCOL "Edges": NOT_FOUND).
  if (m.licensor != c.actor->id) return Outcome::error(Code::not_found, "no market " + p.market_id + " of yours");
  // Issuing units licenses the patent: its owner's to do (a licensor that sold the patent
  // since grants no more), and a pledge registered since the market was made needs its
  // pledgee's consent first (rule 13).
  if (Outcome o = check_may_license(m); !o.ok()) return o;
  // Refuse an overflowing position before the account is made: a rejected command changes
  // nothing, not even the set of accounts.
  const ledger::Account* position = ledger_.find_account(ids::units(c.actor->num, m.num));
  const ledger::Account* ext = ledger_.find_account(ids::external_units(m.num));
  IPX_ASSERT(ext != nullptr);
  const bool fits = checked_add(ext->debits_posted + ext->debits_pending, p.qty) &&
                    (position == nullptr ||
                     checked_add(position->credits_posted + position->credits_pending, p.qty));
  if (!fits) return Outcome::error(Code::bad_request, "qty: would overflow the position");
  ledger::Transfer t;
  t.id = next_transfer_id(c);
  t.debit_account_id = ids::external_units(m.num);
  t.credit_account_id = units_account(*c.actor, m);
  t.amount = p.qty;
  t.ledger = ledger::ledger_for_market(static_cast<std::uint32_t>(m.num));
  t.code = ids::code_issue;
  t.ref = m.num;
  const auto res = submit_transfers(std::span(&t, 1), Ms{c.now});
  IPX_ASSERT(res.ok());
  const ledger::Account* a = ledger_.find_account(t.credit_account_id);
  push_balance(c, c.actor->id);
  return Outcome::success({{"market_id", m.id},
                           {"units", ledger::posted_balance(*a)},
                           {"units_held", ledger::held(*a)}});
}

std::string Domain::order_text(const OrderMeta& meta, const matching::order_view& v) const {
  std::string out;
  out.reserve(256 + 48 * meta.fills.size());
  auto num = [&](std::int64_t n) { codec::detail::write_text(out, n); };
  auto str = [&](const char* key, std::string_view value) {
    out += key;
    codec::append_string(out, value);
  };
  str("{\"order_id\":", meta.id);
  str(",\"client_order_id\":", meta.client_order_id);
  str(",\"market_id\":", meta.market_id);
  str(",\"side\":", v.side_ == matching::side::buy ? "buy" : "sell");
  str(",\"type\":", v.type == matching::order_type::limit ? "limit" : "market");
  str(",\"status\":", status_name(v.status));
  out += ",\"qty\":";
  num(v.qty.v);
  out += ",\"filled_qty\":";
  num(v.filled.v);
  out += ",\"leaves_qty\":";
  num(v.leaves.v);
  out += ",\"price\":";
  if (v.type == matching::order_type::limit) {
    num(v.price.v);
  } else {
    out += "null";
  }
  out += ",\"fills\":[";
  for (std::size_t i = 0; i < meta.fills.size(); ++i) {
    const OrderFill& f = meta.fills[i];
    out += i == 0 ? "{\"trade_id\":\"T-" : ",{\"trade_id\":\"T-";
    out += std::to_string(f.trade_id);
    out += "\",\"price\":";
    num(f.price);
    out += ",\"qty\":";
    num(f.qty);
    out += '}';
  }
  out += "]}";
  return out;
}

// Shape checks that PROTOCOL.md puts before NOT_FOUND, and the mapping to book params.
Outcome Domain::order_params(const Market& m, const OrderPlace& p, std::uint64_t id,
                             matching::order_params& out) {
  using namespace matching;
  if (p.side != "buy" && p.side != "sell") return Outcome::error(Code::bad_request, "side: must be buy or sell");
  if (p.type != "limit" && p.type != "market") return Outcome::error(Code::bad_request, "type: must be limit or market");
  static const std::pair<const char*, tif> kTifs[] = {{"gtc", tif::gtc}, {"ioc", tif::ioc}, {"fok", tif::fok}, {"gtd", tif::gtd}};
  static const std::pair<const char*, stp> kStps[] = {{"cancel_incoming", stp::cancel_incoming},
                                                       {"cancel_resting", stp::cancel_resting},
                                                       {"cancel_both", stp::cancel_both},
                                                       {"reject", stp::reject}};
  bool tif_ok = false, stp_ok = !p.stp;
  for (const auto& [n, v] : kTifs) if (p.tif == n) out.tif_ = v, tif_ok = true;
  for (const auto& [n, v] : kStps) if (p.stp && *p.stp == n) out.stp_ = v, stp_ok = true;
  if (!tif_ok) return Outcome::error(Code::bad_request, "tif: must be gtc, ioc, fok or gtd");
  if (!stp_ok) return Outcome::error(Code::bad_request, "stp: must be cancel_incoming, cancel_resting, cancel_both or reject");
  if (p.qty <= 0 || p.qty % m.min_qty != 0) {
    return Outcome::error(Code::bad_request, "qty: must be a positive multiple of " + std::to_string(m.min_qty));
  }
  const bool market = p.type == "market";
  if (market && p.price) return Outcome::error(Code::bad_request, "price: a market order has no price");
  if (!market && !p.price) return Outcome::error(Code::bad_request, "price: required for a limit order");
  if (p.price && *p.price <= 0) return Outcome::error(Code::bad_request, "price: must be > 0");
  if (market && out.tif_ != tif::ioc && out.tif_ != tif::fok) {
    return Outcome::error(Code::bad_request, "tif: a market order is ioc or fok");
  }
  if (p.post_only.value_or(false) && (out.tif_ == tif::ioc || out.tif_ == tif::fok)) {
    return Outcome::error(Code::bad_request, "post_only: not with ioc or fok");
  }
  if (out.tif_ == tif::gtd && !p.expire_at) return Outcome::error(Code::bad_request, "expire_at: required for gtd");
  out.id = id;
  out.side_ = p.side == "buy" ? side::buy : side::sell;
  out.type = market ? order_type::market : order_type::limit;
  out.price = Fen{p.price.value_or(0)};
  out.qty = Units{p.qty};
  out.expire_at = Ms{p.expire_at.value_or(0)};
  out.post_only = p.post_only.value_or(false);
  return Outcome::success({});
}

Outcome Domain::order_place(Ctx& c, const OrderPlace& p) {
  auto it = markets_.find(p.market_id);
  matching::order_params op;
  // Shape first (BAD_REQUEST before NOT_FOUND), against a dummy lot when the market is unknown.
  if (p.expire_at && *p.expire_at <= c.now) {
    return Outcome::error(Code::bad_request, "expire_at: must be in the future");
  }
  if (it == markets_.end()) {
    Market probe;
    if (Outcome s = order_params(probe, p, 0, op); !s.ok()) return s;
    return Outcome::error(Code::not_found, "no market " + p.market_id);
  }
  Market& m = it->second;
  if (Outcome s = order_params(m, p, orders_n_ + 1, op); !s.ok()) return s;
  if (client_order_ids_.contains(pair_key(c.actor->id, p.client_order_id))) {
    return Outcome::error(Code::duplicate, "client_order_id " + p.client_order_id + " already used");
  }
  if (op.type == matching::order_type::limit && op.price.v % m.tick != 0) {
    return Outcome::error(Code::bad_price, "price: not a multiple of the tick " + std::to_string(m.tick));
  }
  op.owner = c.actor->num;
  // The licensor offering units licenses the patent (its buyers' resales do not).
  if (op.side_ == matching::side::sell && m.licensor == c.actor->id) {
    if (Outcome o = check_may_license(m); !o.ok()) return o;
  }
  if (op.side_ == matching::side::sell) {
    const ledger::Account* u = ledger_.find_account(ids::units(c.actor->num, m.num));
    if (u == nullptr || ledger::available(*u) < p.qty) {
      return Outcome::error(Code::insufficient_funds, "not enough units available to sell");
    }
  }
  const std::int64_t cash = cash_available(*c.actor);
  auto funds = [&](Fen required) { return covers(cash, required.v); };
  auto& log = static_cast<BookLog&>(*m.sink);
  log.clear();
  Depth before;
  if (!quiet()) before.read(*m.book);
  auto r = m.book->place(op, Ms{c.now}, funds);
  if (r.ec != matching::errc::ok) {
    return Outcome::error(code_of(r.ec), book_refusal_message(r.ec));
  }
  ++orders_n_;
  OrderMeta meta;
  meta.id = "O-" + std::to_string(op.id);
  meta.client_order_id = p.client_order_id;
  meta.owner = c.actor->id;
  meta.market_id = m.id;
  meta.limit_price = op.price.v;
  // Stays put while the command runs (only after_change erases, after the reply is made).
  const OrderMeta& placed = m.orders.emplace(op.id, std::move(meta)).first->second;
  m.page_add(op.id, placed);
  unencoded_.emplace_back(&m, op.id);
  client_order_ids_.try_emplace(pair_key(c.actor->id, p.client_order_id), op.id);
  std::string pushed;
  settle_book_events(m, c, &before, op.id, &pushed);
  retiring_.emplace_back(&m, op.id);  // an order done at once (filled, or IOC) is retired too
  return Outcome::success_text(reply_order_text(placed, std::move(pushed)));
}

// Settles trades, moves holds, publishes pushes for what the book reported in one command.
// Private pushes: each fill to both owners, then each order whose state changed (the taker,
// makers partially or fully filled, orders cancelled or expired), then one balance per owner.
void Domain::settle_book_events(Market& m, Ctx& c, const void* before_depth,
                                std::uint64_t reply_id, std::string* reply_text) {
  auto& log = static_cast<BookLog&>(*m.sink);
  const std::uint32_t led = ledger::ledger_for_market(static_cast<std::uint32_t>(m.num));
  std::vector<std::string> touched;  // owners whose balance changed, in first-touch order
  auto touch = [&](const std::string& id) {
    if (std::find(touched.begin(), touched.end(), id) == touched.end()) touched.push_back(id);
  };
  std::vector<std::uint64_t> partial_makers;  // makers left resting after a fill
  // Fees per participant, charged once the command's trades and holds are done: a buyer's fee
  // comes from its cash then available, capped there (its order held only price x qty).
  std::vector<std::pair<Participant*, std::int64_t>> fees;
  auto fee_due = [&](Participant& p, std::int64_t fee) {
    if (fee <= 0) return;
    auto it = std::find_if(fees.begin(), fees.end(), [&](const auto& f) { return f.first == &p; });
    if (it == fees.end()) {
      fees.emplace_back(&p, fee);
    } else {
      it->second += fee;
    }
  };
  for (const auto& t : log.trades) {
    const bool taker_buys = t.aggressor == matching::side::buy;
    OrderMeta& maker = order_meta(m, t.maker_id);
    OrderMeta& taker = order_meta(m, t.taker_id);
    OrderMeta& buyer = taker_buys ? taker : maker;
    OrderMeta& seller = taker_buys ? maker : taker;
    Participant& b = *find_participant(buyer.owner);
    Participant& s = *find_participant(seller.owner);
    const std::int64_t notional = t.price.v * t.qty.v;
    const std::int64_t buyer_fee = fee_of(notional, taker_buys ? m.taker_fee_bp : m.maker_fee_bp);
    const std::int64_t seller_fee = fee_of(notional, taker_buys ? m.maker_fee_bp : m.taker_fee_bp);
    std::vector<ledger::Transfer> set;
    release_hold(maker, c, set);  // the maker's hold is re-made for what is left, below
    // A replaced order trades as the taker while it still holds: its hold goes first (it is
    // re-made for what rests, from the book's accepted event).
    release_hold(taker, c, set);
    // Rule 13: units the licensor sells license its patent, so while the patent is pledged
    // the money goes to the pledgees first, each up to what remains of its claim.
    std::int64_t to_seller = notional;
    if (s.id == m.licensor) {
      std::vector<SalePledge> pledges;
      const std::vector<Claim> claims = sale_claims({m.asset_id}, pledges);
      if (!claims.empty()) {
        std::vector<std::int64_t> shares;
        to_seller = pay_claims(claims, notional, cash_account(b), ids::code_claim, m.num, c, set,
                               shares);
        record_sale_paid(pledges, shares);
        for (std::size_t i = 0; i < pledges.size(); ++i) {
          if (shares[i] > 0) touch(pledges[i].pledge->pledgee);
        }
      }
    }
    if (to_seller > 0) {
      set.push_back(cash_move(c, cash_account(b), cash_account(s), to_seller, ids::code_trade, m.num));
    }
    fee_due(b, buyer_fee);
    fee_due(s, seller_fee);
    ledger::Transfer u;
    u.id = next_transfer_id(c);
    u.debit_account_id = units_account(s, m);
    u.credit_account_id = units_account(b, m);
    u.amount = t.qty.v;
    u.ledger = led;
    u.code = ids::code_trade;
    u.ref = m.num;
    set.push_back(u);
    auto left = m.book->find(t.maker_id);
    if (left && left->leaves.v > 0) {
      make_hold(m, maker, *left, c, set);
      if (std::find(partial_makers.begin(), partial_makers.end(), t.maker_id) == partial_makers.end()) {
        partial_makers.push_back(t.maker_id);
      }
    }
    for (std::size_t i = 0; i + 1 < set.size(); ++i) set[i].flags |= ledger::transfer_flags::linked;
    auto res = submit_transfers(set, Ms{c.now});
    IPX_ASSERT(res.ok());
    ++m.trades;
    const std::string trade_id = "T-" + std::to_string(t.trade_id);
    maker.fills.push_back({t.trade_id, t.price.v, t.qty.v});
    taker.fills.push_back({t.trade_id, t.price.v, t.qty.v});
    if (quiet()) continue;  // the pushes below are dropped unseen
    const json::object fill{{"trade_id", trade_id}, {"price", t.price.v}, {"qty", t.qty.v}};
    c.pushes.push_back({"trades." + m.id, "trade", c.now,
                        {{"trade_id", trade_id}, {"price", t.price.v}, {"qty", t.qty.v},
                         {"aggressor_side", taker_buys ? "buy" : "sell"}}});
    for (OrderMeta* o : {&maker, &taker}) {
      json::object f = fill;
      f["order_id"] = o->id;
      f["client_order_id"] = o->client_order_id;
      f["side"] = o == &buyer ? "buy" : "sell";
      push_private(c, o->owner, "fill", std::move(f));
      touch(o->owner);
    }
  }
  // Makers still resting after a fill report no book event: their new state is pushed here.
  for (std::uint64_t id : partial_makers) {
    auto v = m.book->find(id);
    if (!v) continue;  // done later in the command (its event follows)
    OrderMeta& meta = order_meta(m, id);
    meta.last = *v;
    if (!quiet()) push_private_text(c, meta.owner, "order", order_text(meta));
  }
  for (const auto& [event, view] : log.orders) {
    OrderMeta& meta = order_meta(m, view.id);
    if (event != matching::order_event::accepted) {
      std::vector<ledger::Transfer> set;
      release_hold(meta, c, set);
      if (!set.empty()) IPX_ASSERT(submit_transfers(set, Ms{c.now}).ok());
    } else if (meta.hold_id == 0 || hold_of(view) != meta.hold_amount) {
      std::vector<ledger::Transfer> set;
      release_hold(meta, c, set);
      make_hold(m, meta, view, c, set);
      for (std::size_t i = 0; i + 1 < set.size(); ++i) set[i].flags |= ledger::transfer_flags::linked;
      IPX_ASSERT(submit_transfers(set, Ms{c.now}).ok());
    }
    meta.last = view;
    if (event != matching::order_event::accepted) retiring_.emplace_back(&m, view.id);
    if (!quiet()) {
      std::string text = order_text(meta);
      if (view.id == reply_id && reply_text != nullptr) *reply_text = text;
      push_private_text(c, meta.owner, "order", std::move(text));
    }
    touch(meta.owner);
  }
  for (const auto& [p, fee] : fees) {
    const std::int64_t amount = std::min(fee, cash_available(*p));
    if (amount <= 0) continue;
    ledger::Transfer t = cash_move(c, cash_account(*p), ids::kFeesCny, amount, ids::code_fee, m.num);
    IPX_ASSERT(submit_transfers(std::span(&t, 1), Ms{c.now}).ok());
  }
  for (const auto& id : touched) push_balance(c, id);
  if (before_depth != nullptr && !quiet()) {
    Depth after;
    after.read(*m.book);
    const auto& before = *static_cast<const Depth*>(before_depth);
    json::array changes;
    diff_side(before.bids.data(), before.nb, after.bids.data(), after.nb, "bid", changes);
    diff_side(before.asks.data(), before.na, after.asks.data(), after.na, "ask", changes);
    if (!changes.empty()) c.pushes.push_back({"book." + m.id, "update", c.now, {{"changes", std::move(changes)}}});
  }
  log.clear();
}

void Domain::release_hold(OrderMeta& meta, Ctx& c, std::vector<ledger::Transfer>& set) {
  if (meta.hold_id == 0) return;
  ledger::Transfer v;
  v.id = next_transfer_id(c);
  v.pending_id = meta.hold_id;
  v.flags = ledger::transfer_flags::void_pending;
  set.push_back(v);
  meta.hold_id = 0;
  meta.hold_amount = 0;
}

// A resting buy holds limit price x leaves (plus the worst-case fee); a resting sell its units.
// meta.hold_amount is exactly what is held (hold_of), so a replace can count it as available.
void Domain::make_hold(Market& m, OrderMeta& meta, const matching::order_view& v, Ctx& c,
                       std::vector<ledger::Transfer>& set) {
  Participant& owner = *find_participant(meta.owner);
  ledger::Transfer h;
  h.id = next_transfer_id(c);
  h.flags = ledger::transfer_flags::pending;
  h.code = ids::code_order_hold;
  h.ref = m.num;
  h.amount = hold_of(v);
  if (v.side_ == matching::side::buy) {
    h.debit_account_id = cash_account(owner);
    h.credit_account_id = ids::order_escrow_cash(m.num);
    h.ledger = ledger::kLedgerCny;
  } else {
    h.debit_account_id = units_account(owner, m);
    h.credit_account_id = ids::order_escrow_units(m.num);
    h.ledger = ledger::ledger_for_market(static_cast<std::uint32_t>(m.num));
  }
  meta.hold_id = h.id;
  meta.hold_amount = h.amount;
  set.push_back(h);
}

Outcome Domain::find_order(const Ctx& c, const OrderRef& p, Market*& m, std::uint64_t& id) {
  if (p.order_id.has_value() == p.client_order_id.has_value()) {
    return Outcome::error(Code::bad_request, "order_id: give exactly one of order_id or client_order_id");
  }
  // PROTOCOL.md: `market_id, order_id` or `client_order_id` (unique per participant for all
  // time, so it needs no market).
  if (p.order_id && !p.market_id) {
    return Outcome::error(Code::bad_request, "market_id: required with order_id");
  }
  m = nullptr;
  if (p.market_id) {
    auto it = markets_.find(*p.market_id);
    if (it == markets_.end()) return Outcome::error(Code::not_found, "no market " + *p.market_id);
    m = &it->second;
  }
  id = 0;
  if (p.order_id) {
    const std::string_view s = *p.order_id;
    if (s.starts_with("O-")) id = order_num(s.substr(2));
  } else {
    const std::uint64_t* known = client_order_ids_.find(pair_key(c.actor->id, *p.client_order_id));
    if (known != nullptr) id = *known;
  }
  // The order's market: the one named, else the one holding it. A done order is found too
  // (the caller's book call then says INVALID_STATE).
  if (m == nullptr && id != 0) {
    for (auto& [mid, market] : markets_) {
      if (market.orders.count(id) != 0) {
        m = &market;
        break;
      }
    }
  }
  const OrderMeta* live = nullptr;
  if (m != nullptr) {
    if (auto o = m->orders.find(id); o != m->orders.end()) live = &o->second;
  }
  bool mine = false;
  if (live != nullptr) {
    mine = live->owner == c.actor->id;
  } else if (const SealedLog::Ref* f = id == 0 ? nullptr : finished_.find(id); f != nullptr) {
    const FinishedOrder done = read_finished(finished_log_.at(*f));
    for (auto it = markets_.begin(); m == nullptr && it != markets_.end(); ++it) {
      if (it->second.num == done.market_num) m = &it->second;
    }
    mine = m != nullptr && done.market_num == m->num && done.owner == c.actor->id;
  }
  if (id == 0 || !mine) return Outcome::error(Code::not_found, "no such order");
  return Outcome::success({});
}

void Market::page_add(std::uint64_t order, const OrderMeta& meta) {
  OrderPage& page = pages[order >> kOrderPageBits];
  auto at = std::upper_bound(page.live.begin(), page.live.end(), order,
                             [](std::uint64_t x, const auto& e) { return x < e.first; });
  page.live.insert(at, {order, &meta});  // encoded later (Domain::precapture)
}

void Market::page_remove(std::uint64_t order) {
  auto it = pages.find(order >> kOrderPageBits);
  IPX_ASSERT(it != pages.end());
  auto& live = it->second.live;
  auto at = std::lower_bound(live.begin(), live.end(), order,
                             [](const auto& e, std::uint64_t x) { return e.first < x; });
  IPX_ASSERT(at != live.end() && at->first == order);
  live.erase(at);
  if (live.empty()) {
    pages.erase(it);
    return;
  }
  OrderPage& page = it->second;
  const auto end = static_cast<std::uint32_t>(page.open.bytes.size());
  page.open.entries.push_back({order, end, end});  // removed (merged with the next entry)
}

// An order is retired once it is off the book with nothing held: nothing it still needs
// changes after that, and a later command reads only what finished_log_ keeps of it.
void Domain::after_change() {
  for (const auto& [m, id] : retiring_) {
    auto o = m->orders.find(id);
    if (o == m->orders.end() || o->second.hold_id != 0 || m->book->find(id)) continue;
    const OrderMeta& meta = o->second;
    const SealedLog::Ref ref = finished_log_.append([&](snap::Writer& w) {
      write_finished(w, FinishedOrder{id, m->num, meta.owner, meta.client_order_id});
    });
    finished_.try_emplace(id, ref);
    m->orders.erase(o);
    m->page_remove(id);
  }
  retiring_.clear();
  if (ledger_.live_log().size() - transfer_coder_.encoded >= kEncodeEvery) encode_transfers();
  // Entries of retired or already encoded orders pile up while no idle time comes.
  if (unencoded_.size() > unencoded_compact_at_) {
    std::erase_if(unencoded_, [](const auto& e) {
      auto o = e.first->orders.find(e.second);
      return o == e.first->orders.end() || !o->second.dirty;
    });
    unencoded_compact_at_ = 2 * unencoded_.size() + 4096;
  }
}

Outcome Domain::order_cancel(Ctx& c, const OrderRef& p) {
  Market* m = nullptr;
  std::uint64_t id = 0;
  if (Outcome f = find_order(c, p, m, id); !f.ok()) return f;
  auto& log = static_cast<BookLog&>(*m->sink);
  log.clear();
  Depth before;
  if (!quiet()) before.read(*m->book);
  auto r = m->book->cancel(id);
  if (r.ec != matching::errc::ok) return Outcome::error(Code::invalid_state, "the order is done");
  std::string pushed;
  settle_book_events(*m, c, &before, id, &pushed);
  return Outcome::success_text(reply_order_text(m->orders.at(id), std::move(pushed)));
}

Outcome Domain::order_replace(Ctx& c, const OrderReplace& p) {
  Market* m = nullptr;
  std::uint64_t id = 0;
  if (Outcome f = find_order(c, {p.market_id, p.order_id, std::nullopt}, m, id); !f.ok()) return f;
  auto live = m->book->find(id);
  if (!live) return Outcome::error(Code::invalid_state, "the order is done");
  const std::int64_t price = p.price.value_or(live->price.v);
  const std::int64_t qty = p.qty.value_or(live->qty.v);
  if (price <= 0 || qty <= 0 || qty % m->min_qty != 0) return Outcome::error(Code::bad_request, "qty: must be a positive multiple of the lot");
  if (price % m->tick != 0) return Outcome::error(Code::bad_price, "price: not on the tick grid");
  if (qty <= live->filled.v) {
    return Outcome::error(Code::bad_request, "qty: must be above the order's filled qty " +
                                                 std::to_string(live->filled.v));
  }
  OrderMeta& meta = order_meta(*m, id);
  // The order's own hold counts as available: it is released as the order is re-made.
  const std::int64_t cash = cash_available(*c.actor) + (live->side_ == matching::side::buy ? meta.hold_amount : 0);
  auto funds = [&](Fen required) { return covers(cash, required.v); };
  if (live->side_ == matching::side::sell) {
    const ledger::Account* u = ledger_.find_account(ids::units(c.actor->num, m->num));
    if (ledger::available(*u) + meta.hold_amount < qty - live->filled.v) {
      return Outcome::error(Code::insufficient_funds, "not enough units available to sell");
    }
  }
  auto& log = static_cast<BookLog&>(*m->sink);
  log.clear();
  Depth before;
  if (!quiet()) before.read(*m->book);
  auto r = m->book->replace(id, Fen{price}, Units{qty}, Ms{c.now}, funds);
  if (r.ec != matching::errc::ok) return Outcome::error(code_of(r.ec), book_refusal_message(r.ec));
  settle_book_events(*m, c, &before);
  return Outcome::success_text(meta.last ? order_text(meta) : order_text(meta, r.order));
}

void Domain::expire_orders(std::int64_t until, Ctx& c) {
  for (auto& [id, m] : markets_) {
    auto due = m.book->next_expiry();
    if (!due || due->v > until) continue;
    Depth before;
    if (!quiet()) before.read(*m.book);
    m.book->expire(Ms{until});
    settle_book_events(m, c, &before);
  }
}

}  // namespace ipx::engine
