// Domain: disposal cases (DOMAIN.md rules 1, 3, 5, 7, 9–12, 14, 17), backstop offers and the
// bank's disposal report. A case runs itself from its plan: round 1 -> round 2 (-> round 3
// in the traditional regime) -> sell-off -> backstop / in lieu / released, re-running a round
// after a winner's default. Every transition is a timeline entry with its reason.
#include <algorithm>

#include "engine/domain.hpp"
#include "engine/ids.hpp"
#include "matching/assert.hpp"
#include "matching/increments.hpp"

namespace ipx::engine {

namespace {

std::int64_t floor_yuan_bp(std::int64_t amount, std::int64_t bp) {
  auto r = bp_of_floor_yuan(Fen{amount}, bp);
  IPX_ASSERT(r.has_value());
  return r->v;
}

int max_rounds(const CasePlan& p) {
  return p.regime == "traditional" ? 3 : 2;
}

// Rule 10: the first bid at the sell-off price moves the close to 24 h after it.
void set_sell_off(matching::AuctionConfig& cfg) {
  cfg.first_bid_close_ms = Ms{kDayMs};
}

// Days (fractional) from `from` to `to`; null while `to` has not happened (0).
json::value days_between(std::int64_t from, std::int64_t to) {
  if (to <= 0) return nullptr;
  return static_cast<double>(to - from) / static_cast<double>(kDayMs);
}

}  // namespace

Outcome Domain::plan_shape(const DisposalOpen& p, CasePlan& plan) {
  const DisposalPlan in = p.plan.value_or(DisposalPlan{});
  if (in.regime && *in.regime != "online" && *in.regime != "traditional") {
    return Outcome::error(Code::bad_request, "plan.regime: must be online or traditional");
  }
  plan.regime = in.regime.value_or("online");
  if (plan.regime == "traditional") {
    plan.start_bp = 10'000;  // rule 12: the reserve is the valuation
    plan.sell_off_ms = 60 * kDayMs;
  }
  plan.start_bp = in.start_bp.value_or(plan.start_bp);
  plan.deposit_bp = in.deposit_bp.value_or(plan.deposit_bp);
  plan.cut_bp = in.cut_bp.value_or(plan.cut_bp);
  plan.notice_ms = in.notice_ms.value_or(plan.notice_ms);
  plan.renotice_ms = in.renotice_ms.value_or(plan.renotice_ms);
  plan.bidding_ms = in.bidding_ms.value_or(plan.bidding_ms);
  plan.sell_off_ms = in.sell_off_ms.value_or(plan.sell_off_ms);
  plan.payment_ms = in.payment_ms.value_or(plan.payment_ms);
  plan.extend_window_ms = in.extend_window_ms.value_or(plan.extend_window_ms);
  plan.extend_by_ms = in.extend_by_ms.value_or(plan.extend_window_ms > 0 ? plan.extend_by_ms : 0);
  plan.after_sell_off = in.after_sell_off.value_or("in_lieu");
  plan.min_bidders = in.min_bidders.value_or(1);
  plan.buyer_premium_bp = in.buyer_premium_bp.value_or(0);
  if (plan.buyer_premium_bp > 0 && plan.regime != "traditional") {
    return Outcome::error(Code::bad_request,
                          "plan.buyer_premium_bp: a buyer's commission is for the traditional "
                          "regime only (rule 12)");
  }
  if (plan.buyer_premium_bp > 500) {
    return Outcome::error(Code::bad_request,
                          "plan.buyer_premium_bp: at most 500 (5%, the top of rule 12's scale)");
  }
  if (plan.min_bidders < 1 || plan.min_bidders > kMinBiddersMax) {
    return Outcome::error(Code::bad_request, "plan.min_bidders: must be between 1 and 100");
  }
  if (plan.after_sell_off != "in_lieu" && plan.after_sell_off != "release") {
    return Outcome::error(Code::bad_request, "plan.after_sell_off: must be in_lieu or release");
  }
  if (plan.regime == "online" && plan.start_bp < 7'000) {
    return Outcome::error(
        Code::bad_request,
        "plan.start_bp: the first start is >= 70% of the valuation online (rule 1)");
  }
  if (plan.regime == "traditional" && plan.start_bp != 10'000) {
    return Outcome::error(Code::bad_request,
                          "plan.start_bp: the traditional regime's reserve is the valuation "
                          "(10000, rule 12)");
  }
  if (plan.cut_bp > 2'000) {
    return Outcome::error(Code::bad_request,
                          "plan.cut_bp: a round is cut by at most 20% (rules 9, 12)");
  }
  if (plan.start_bp == 0 || plan.start_bp > 10'000) {
    return Outcome::error(Code::bad_request, "plan.start_bp: must be between 1 and 10000");
  }
  if (plan.extend_window_ms > 0 && plan.extend_by_ms == 0) {
    return Outcome::error(Code::bad_request, "plan.extend_by_ms: must be > 0 with a window");
  }
  if (plan.deposit_bp < 500 || plan.deposit_bp > 2'000) {
    return Outcome::error(Code::bad_request,
                          "plan.deposit_bp: the deposit is 5-20% of the starting price (rule 3)");
  }
  if (plan.renotice_ms > 30 * kDayMs) {
    return Outcome::error(Code::bad_request,
                          "plan.renotice_ms: the next round opens within 30 days (rule 9)");
  }
  if (plan.bidding_ms < kDayMs) {
    return Outcome::error(Code::bad_request, "plan.bidding_ms: bidding lasts >= 24 h (rule 5)");
  }
  return Outcome::success({});
}

// After plan_shape: the risk fund the plan names.
Outcome Domain::plan_fund(const DisposalOpen& p, CasePlan& plan) const {
  if (p.plan && p.plan->risk_fund) {
    const RiskFund& in = *p.plan->risk_fund;
    const Participant* fund = participant(in.participant_id);
    if (fund == nullptr || fund->kind != "risk_fund") {
      return Outcome::error(Code::not_found, "plan.risk_fund.participant_id: no risk fund " +
                                                 in.participant_id);
    }
    plan.risk_fund = fund->id;
    plan.risk_share_bp = in.share_bp;
  }
  return Outcome::success({});
}

Outcome Domain::disposal_shape(const DisposalOpen& p, CasePlan& plan) {
  if (p.assets.empty())
    return Outcome::error(Code::bad_request, "assets: must name at least one asset");
  // Shape before NOT_FOUND (PROTOCOL "Edges"): an asset named twice is BAD_REQUEST whether or
  // not it exists.
  for (auto it = p.assets.begin(); it != p.assets.end(); ++it) {
    if (std::find(p.assets.begin(), it, *it) != it) {
      return Outcome::error(Code::bad_request, "assets: " + *it + " is named twice");
    }
  }
  return plan_shape(p, plan);
}

Outcome Domain::disposal_open(Ctx& c, const DisposalOpen& p) {
  CasePlan plan;
  if (Outcome s = disposal_shape(p, plan); !s.ok()) return s;
  if (Outcome po = plan_fund(p, plan); !po.ok()) return po;
  const bool is_operator = (c.actor->roles & role_operator) != 0;
  if (!is_operator && p.pledgee != c.actor->id) {
    return Outcome::error(Code::not_found, "no pledge of yours to " + p.pledgee);
  }
  const Participant* bank = participant(p.pledgee);
  if (bank == nullptr || bank->kind != "bank")
    return Outcome::error(Code::not_found, "pledgee: no bank " + p.pledgee);
  if (participant(p.pledgor) == nullptr)
    return Outcome::error(Code::not_found, "pledgor: no participant " + p.pledgor);
  // The case's bank needs a live pledge on every asset (the operator may open for any of the
  // asset's pledgees); the case pays every live pledge on them, in registration order (rule 14).
  std::int64_t claim = 0;
  std::vector<CasePledge> pledges;
  for (std::size_t i = 0; i < p.assets.size(); ++i) {
    const std::string& id = p.assets[i];
    auto it = assets_.find(id);
    if (it == assets_.end()) return Outcome::error(Code::not_found, "no asset " + id);
    const Asset& a = it->second;
    const bool mine = std::any_of(a.pledges.begin(), a.pledges.end(),
                                  [&](const Pledge& pl) { return pl.pledgee == p.pledgee; });
    if (!mine)
      return Outcome::error(Code::not_found, "asset " + id + " is not pledged to " + p.pledgee);
    for (const auto& pl : a.pledges) {
      if (pl.status != "active") {
        return Outcome::error(Code::invalid_state, "the pledge of " + id + " is " + pl.status);
      }
    }
    if (a.owner != p.pledgor)
      return Outcome::error(Code::invalid_state, "pledgor: " + id + " belongs to " + a.owner);
    if (in_live_sale(id))
      return Outcome::error(Code::invalid_state, "asset " + id + " is already for sale");
    for (const auto& pl : a.pledges) {
      if (pl.pledgee == p.pledgee) claim += pl.remaining();
      pledges.push_back({id, pl.registration_no, pl.pledgee, pl.seq, pl.remaining(), 0});
    }
  }
  std::stable_sort(pledges.begin(), pledges.end(),
                   [](const CasePledge& x, const CasePledge& y) { return x.seq < y.seq; });
  DisposalCase dc;
  dc.num = ++cases_n_;
  dc.id = "C-" + std::to_string(dc.num);
  dc.assets = p.assets;
  dc.pledgee = p.pledgee;
  dc.pledgor = p.pledgor;
  dc.valuation = p.valuation;
  dc.claim = claim;
  dc.pledges = std::move(pledges);
  dc.opened_at = c.now;
  dc.plan = plan;
  const Asset& first = assets_.at(p.assets.front());
  dc.region = first.region;
  dc.industry = first.industry;
  for (const auto& id : p.assets) {
    for (auto& pl : assets_.at(id).pledges) pl.status = "foreclosed";
  }
  DisposalCase& stored = cases_.emplace(dc.id, std::move(dc)).first->second;
  const std::int64_t start = floor_yuan_bp(stored.valuation, plan.start_bp);
  note(stored, c, "opened", "claim " + std::to_string(claim) + " fen");
  start_round(stored, 1, "auction", start, c.now + plan.notice_ms, c);
  json::object r = case_json(stored);
  r["auction_id"] = stored.rounds.back().auction_id;
  return Outcome::success(std::move(r));
}

// Opens a round (an auction, or the sell-off) of the case.
void Domain::start_round(DisposalCase& dc, int round, const std::string& kind, std::int64_t start,
                         std::int64_t opens_at, Ctx& c) {
  const CasePlan& plan = dc.plan;
  AuctionCreate ac;
  ac.lot = dc.assets;
  ac.purpose = "disposal";
  ac.format = "english";
  ac.start_price = std::max<std::int64_t>(start, 100);
  ac.increment = matching::default_increment(Fen{ac.start_price}).v;
  ac.deposit = floor_yuan_bp(ac.start_price, plan.deposit_bp);
  ac.opens_at = opens_at;
  ac.closes_at = opens_at + (kind == "sell_off" ? plan.sell_off_ms : plan.bidding_ms);
  ac.payment_ms = plan.payment_ms;
  // Rule 2 for the auction rounds; a sell-off goes to its first bidder (rule 10).
  if (kind != "sell_off" && plan.min_bidders > 1) ac.min_bidders = plan.min_bidders;
  // Rule 12: a traditional round's buyer pays the plan's commission, within S2 art 29's scale
  // (a sell-off is not an auction: no commission).
  if (kind != "sell_off" && plan.buyer_premium_bp > 0) ac.buyer_premium_bp = plan.buyer_premium_bp;
  ac.reserve = ac.start_price;  // rule 1: the starting price is public and is the reserve
  matching::AuctionConfig cfg;
  cfg.format = matching::Format::english;
  cfg.start_price = Fen{ac.start_price};
  cfg.increment = Fen{ac.increment};
  cfg.opens_at = Ms{ac.opens_at};
  cfg.closes_at = Ms{ac.closes_at};
  cfg.reserve = Fen{ac.start_price};
  cfg.extend_window_ms = Ms{plan.extend_window_ms};
  cfg.extend_by_ms = Ms{plan.extend_by_ms};
  if (kind == "sell_off") set_sell_off(cfg);  // rule 10
  // Rule 6: co-owners hold priority purchase rights, in the order they were registered.
  ac.priority_holders = co_owner_holders({dc.assets.front()}, dc.pledgor);
  for (const auto& h : ac.priority_holders) {
    cfg.priority_holders.push_back({participant(h.participant_id)->num,
                                    static_cast<std::uint32_t>(h.rank)});
  }
  IPX_ASSERT(matching::validate(cfg) == matching::errc::ok);
  json::object view = create_auction(c, ac, cfg, dc.pledgor, dc.id);
  Round r;
  r.round = round;
  r.kind = kind;
  r.auction_id = std::string(view["auction_id"].as_string());
  r.start_price = ac.start_price;
  r.state = std::string(view["state"].as_string());
  dc.rounds.push_back(r);
  dc.state = kind == "sell_off" ? "sell_off" : "round_" + std::to_string(round);
  note(dc, c, dc.state,
       "auction " + r.auction_id + " start " + std::to_string(ac.start_price) + " fen, opens at " +
           std::to_string(opens_at));
}

void Domain::note(DisposalCase& dc, const Ctx& c, const std::string& event,
                  const std::string& reason) {
  json::object e{{"ts", c.now}, {"event", event}, {"state", dc.state}, {"reason", reason}};
  dc.timeline.push_back(e);
  c.pushes.push_back({"disposal." + dc.id, event, c.now, std::move(e)});
}

void Domain::on_round_closed(DisposalCase& dc, Auction& a, Ctx& c) {
  Round& r = dc.rounds.back();
  IPX_ASSERT(r.auction_id == a.id);
  r.state = a.state;
  r.bidders = static_cast<std::int64_t>(a.registrations.size());
  if (a.state == "sold") {
    r.price = auctions_.at(a.id).mech->view().clearing_price.value_or(Fen{0}).v;
    dc.state = "settlement";
    dc.hammer = *r.price;
    dc.sold_at = a.closed_at;
    dc.settlement_id = a.settlement_id;
    note(dc, c, "sold",
         "round " + std::to_string(r.round) + " sold at " + std::to_string(*r.price) + " fen");
    return;
  }
  const std::int64_t closed_at = a.closed_at;
  if (a.state == "cancelled") {
    // A cancelled round did not go unsold: no price cut; it is announced again as it was.
    note(dc, c, "cancelled", "round " + std::to_string(r.round) + " cancelled; announced again");
    start_round(dc, r.round, r.kind, r.start_price, closed_at + dc.plan.renotice_ms, c);
    return;
  }
  if (r.kind == "auction" && r.round < max_rounds(dc.plan)) {
    // Rule 9: the next round's start is cut from the previous round's start, not the valuation.
    const std::int64_t start = r.start_price - floor_yuan_bp(r.start_price, dc.plan.cut_bp);
    note(dc, c, "unsold", "round " + std::to_string(r.round) + " unsold");
    start_round(dc, r.round + 1, "auction", start, closed_at + dc.plan.renotice_ms, c);
    return;
  }
  if (r.kind == "auction") {
    // Rule 10: the sell-off opens at once at the last round's start.
    note(dc, c, "unsold", "round " + std::to_string(r.round) + " unsold; sell-off follows");
    start_round(dc, r.round + 1, "sell_off", r.start_price, closed_at, c);
    return;
  }
  after_sell_off(dc, r, c);
}

// Rule 11: a backstop offer buys, else in lieu of payment, else the seizure is released.
void Domain::after_sell_off(DisposalCase& dc, const Round& r, Ctx& c) {
  BackstopOfferRec* best = nullptr;
  std::int64_t best_price = 0;
  for (auto& [id, o] : offers_) {
    if (o.expires_at && *o.expires_at <= c.now) continue;
    if (!o.regions.empty() &&
        std::find(o.regions.begin(), o.regions.end(), dc.region) == o.regions.end())
      continue;
    if (!o.industries.empty() &&
        std::find(o.industries.begin(), o.industries.end(), dc.industry) == o.industries.end())
      continue;
    // The pledgor does not buy its own assets (as it may not bid for them).
    if (o.participant_id == dc.pledgor) continue;
    const std::int64_t price = floor_yuan_bp(dc.valuation, o.price_bp);
    if (price <= 0 || o.used + price > o.max_amount) continue;
    if (cash_available(*find_participant(o.participant_id)) < price) continue;
    if (best == nullptr || o.price_bp > best->price_bp ||
        (o.price_bp == best->price_bp && o.num < best->num)) {  // earliest on ties
      best = &o;
      best_price = price;
    }
  }
  if (best != nullptr && backstop_purchase(dc, *best, best_price, r, c)) return;
  if (dc.plan.after_sell_off == "in_lieu") {
    // In lieu of payment takes the assets out of every pledge on them: only when the case's
    // bank is their only pledgee (another's pledge would be lost unpaid, rule 14).
    const bool sole = std::all_of(dc.pledges.begin(), dc.pledges.end(),
                                  [&](const CasePledge& cp) { return cp.pledgee == dc.pledgee; });
    if (sole) {
      transfer_in_lieu(dc, r.start_price, c);
      return;
    }
    note(dc, c, "in_lieu_refused",
         "other pledgees hold pledges on the assets: no transfer in lieu (rule 14); the seizure "
         "is released");
  }
  release_case_pledges(dc);
  close_case(dc, "released", c);
}

bool Domain::backstop_purchase(DisposalCase& dc, BackstopOfferRec& o, std::int64_t price,
                               const Round& r, Ctx& c) {
  Auction& a = auctions_.at(r.auction_id);
  Participant* buyer = find_participant(o.participant_id);
  ledger::Transfer t =
      cash_move(c, cash_account(*buyer), ids::escrow(a.num), price, ids::code_payment, a.num);
  t.flags = ledger::transfer_flags::pending;
  if (!submit_transfers(std::span(&t, 1), Ms{c.now}).ok()) return false;
  o.used += price;
  SettlementRec s;
  s.id = "S-" + std::to_string(++settlements_n_);
  s.auction_id = a.id;
  s.buyer = buyer->id;
  s.seller = dc.pledgor;
  s.case_id = dc.id;
  s.price = price;
  s.state = "paid";
  s.payment_hold = t.id;
  s.paid_at = c.now;
  s.due_at = c.now;
  s.transfers.push_back(t.id);
  dc.settlement_id = s.id;
  dc.outcome = "backstop";
  dc.state = "settlement";
  dc.hammer = price;
  dc.sold_at = c.now;
  dc.cash_at = c.now;
  a.settlement_id = s.id;
  push_settlement(c, s);
  push_balance(c, buyer->id);
  settlements_.emplace(s.id, std::move(s));
  note(dc, c, "backstop", "offer " + o.id + " buys at " + std::to_string(price) + " fen (rule 11)");
  return true;
}

// Rule 11: the asset goes to the pledgee in lieu of payment at the sell-off price.
void Domain::transfer_in_lieu(DisposalCase& dc, std::int64_t price, Ctx& c) {
  Participant* pledgor = find_participant(dc.pledgor);
  Participant* pledgee = find_participant(dc.pledgee);
  std::vector<ledger::Transfer> set;
  for (const auto& id : dc.assets) {
    Asset& as = assets_.at(id);
    ledger::Transfer t;
    t.id = next_transfer_id(c);
    t.debit_account_id = title_account(*pledgor, as);
    t.credit_account_id = title_account(*pledgee, as);
    t.amount = 1;
    t.ledger = ledger::kLedgerTitles;
    t.code = ids::code_title;
    t.ref = as.num;
    t.flags = ledger::transfer_flags::linked;
    set.push_back(t);
  }
  set.back().flags = 0;
  if (submit_transfers(set, Ms{c.now}).ok()) {
    for (const auto& id : dc.assets) {
      assets_.at(id).owner = dc.pledgee;
      assets_.at(id).pledges.clear();  // the bank's own pledges (it is their only pledgee)
    }
    push_balance(c, dc.pledgor);  // the titles moved between their positions
    push_balance(c, dc.pledgee);
  }
  // No sale, so no hammer price (the case's hammer stays 0, and it has no discount); the asset
  // counts at the sell-off price toward what remains of the claim (rule 14).
  const std::int64_t forfeited = paid_to_case_bank(dc);
  dc.net_to_bank = forfeited + std::min(price, dc.claim - forfeited);
  close_case(dc, "in_lieu", c);
}

void Domain::close_case(DisposalCase& dc, const std::string& outcome, Ctx& c) {
  dc.state = "closed";
  dc.outcome = outcome;
  dc.closed_at = c.now;
  note(dc, c, "closed", "outcome " + outcome);
}

void Domain::on_settlement_lost(DisposalCase& dc, SettlementRec& s, Ctx& c) {
  // Rule 7: the defaulter is barred and the round re-runs with the same start.
  const Round last = dc.rounds.back();
  if (s.state == "defaulted") {
    dc.barred.insert(s.buyer);
    ++dc.defaults;
    dc.forfeited += s.deposit;
    note(dc, c, "default",
         s.buyer + " did not pay by " + std::to_string(s.due_at) + "; deposit " +
             std::to_string(s.deposit) + " fen forfeited (rule 7)");
  } else {
    note(dc, c, "settlement_failed", s.reason);
  }
  dc.settlement_id.clear();
  dc.outcome.clear();
  // The lost sale is not the case's sale: its hammer price goes, and its days to sale and to
  // cash count again from the round that sells (the round keeps the price it closed at).
  dc.hammer = 0;
  dc.sold_at = 0;
  dc.cash_at = 0;
  // Announced now, opening renotice_ms from now: a default is seen at its due_at, a failure
  // whenever the operator fails the settlement (the buyer is refunded; nothing waits for the
  // payment deadline it no longer has).
  start_round(dc, last.round, last.kind, last.start_price, c.now + dc.plan.renotice_ms, c);
}

// Rule 14 with several pledgees: the case's pledges in registration order, each owed what
// remains of its claim (claim − paid so far).
std::vector<Domain::Claim> Domain::case_claims(const DisposalCase& dc) {
  std::vector<Claim> out;
  out.reserve(dc.pledges.size());
  for (const auto& cp : dc.pledges) {
    IPX_ASSERT(cp.paid >= 0 && cp.paid <= cp.claim);
    out.push_back({cp.pledgee, cp.claim - cp.paid});
  }
  return out;
}

std::int64_t Domain::pay_claims(const std::vector<Claim>& claims, std::int64_t amount,
                                std::uint64_t escrow, std::uint16_t code, std::uint64_t ref, Ctx& c,
                                std::vector<ledger::Transfer>& set,
                                std::vector<std::int64_t>& shares) {
  IPX_ASSERT(amount >= 0);
  shares.assign(claims.size(), 0);
  for (std::size_t i = 0; i < claims.size() && amount > 0; ++i) {
    IPX_ASSERT(claims[i].remaining >= 0);
    shares[i] = std::min(amount, claims[i].remaining);
    if (shares[i] == 0) continue;
    set.push_back(cash_move(c, escrow, cash_account(*find_participant(claims[i].pledgee)),
                            shares[i], code, ref));
    amount -= shares[i];
  }
  return amount;
}

void Domain::commit_waterfall(DisposalCase& dc, const std::vector<std::int64_t>& shares) {
  IPX_ASSERT(shares.size() == dc.pledges.size());
  for (std::size_t i = 0; i < shares.size(); ++i) {
    dc.pledges[i].paid += shares[i];
    IPX_ASSERT(dc.pledges[i].paid <= dc.pledges[i].claim);
  }
  // The bank's figure is what it has been paid so far, open case or closed (a forfeited
  // deposit reaches it before the case ends, and stays with it if the case is released).
  dc.net_to_bank = paid_to_case_bank(dc);
}

// What the case's bank has had from the case so far (its pledges' shares of the waterfall).
std::int64_t Domain::paid_to_case_bank(const DisposalCase& dc) {
  std::int64_t sum = 0;
  for (const auto& cp : dc.pledges) {
    if (cp.pledgee == dc.pledgee) sum += cp.paid;
  }
  IPX_ASSERT(sum <= dc.claim);
  return sum;
}

// The seizure ends without a sale (rule 11 `release`): the case's bank's pledges are released,
// as with one pledgee; other pledgees' pledges stand again (active, their consents kept).
void Domain::release_case_pledges(DisposalCase& dc) {
  for (const auto& id : dc.assets) {
    auto& pledges = assets_.at(id).pledges;
    std::erase_if(pledges, [&](const Pledge& pl) { return pl.pledgee == dc.pledgee; });
    for (auto& pl : pledges) pl.status = "active";
  }
}

// Rules 14 and 17: the pledgee's net cash, and the risk fund's share of a shortfall.
void Domain::on_case_settled(DisposalCase& dc, SettlementRec& s, Ctx& c) {
  // What the waterfall paid the case's bank: forfeited deposits (rule 7; see forfeit_deposit)
  // and the sale's proceeds, up to its claim.
  dc.net_to_bank = paid_to_case_bank(dc);
  dc.registered_at = c.now;
  const std::int64_t shortfall = dc.claim - dc.net_to_bank;
  if (shortfall > 0 && !dc.plan.risk_fund.empty() && dc.plan.risk_share_bp > 0) {
    Participant* fund = find_participant(dc.plan.risk_fund);
    const std::int64_t share =
        std::min(*bp_of_floor(shortfall, dc.plan.risk_share_bp), cash_available(*fund));
    if (share > 0) {
      ledger::Transfer t =
          cash_move(c, cash_account(*fund), cash_account(*find_participant(dc.pledgee)), share,
                    ids::code_risk_share, dc.num);
      if (submit_transfers(std::span(&t, 1), Ms{c.now}).ok()) {
        dc.fund_share = share;
        s.transfers.push_back(t.id);
        push_balance(c, fund->id);
        push_balance(c, dc.pledgee);
        note(dc, c, "risk_share",
             "fund pays " + std::to_string(share) + " fen of a " + std::to_string(shortfall) +
                 " fen shortfall (rule 17)");
      }
    }
  }
  close_case(dc, dc.outcome.empty() ? "sold" : dc.outcome, c);
}

void Domain::advance_cases(std::int64_t, Ctx&) {}  // rounds are auctions with their own timers
std::optional<std::int64_t> Domain::next_case_due() const {
  return std::nullopt;
}

json::object Domain::case_json(const DisposalCase& dc) const {
  json::object o{
      {"case_id", dc.id},         {"state", dc.state},         {"pledgee", dc.pledgee},
      {"pledgor", dc.pledgor},    {"valuation", dc.valuation}, {"claim", dc.claim},
      {"region", dc.region},      {"industry", dc.industry},   {"opened_at", dc.opened_at},
      {"regime", dc.plan.regime}, {"defaults", dc.defaults}};
  o["outcome"] =
      dc.outcome.empty() || dc.state != "closed" ? json::value(nullptr) : json::value(dc.outcome);
  json::array assets;
  for (const auto& a : dc.assets) assets.push_back(json::string(a));
  o["assets"] = std::move(assets);
  json::array rounds;
  for (const auto& r : dc.rounds) {
    json::object ro{{"round", r.round},
                    {"kind", r.kind},
                    {"auction_id", r.auction_id},
                    {"start_price", r.start_price},
                    {"state", auctions_.at(r.auction_id).state},
                    {"bidders", r.bidders}};
    ro["price"] = r.price ? json::value(*r.price) : json::value(nullptr);
    ro["discount"] =
        r.price ? json::value(static_cast<double>(*r.price) / static_cast<double>(dc.valuation))
                : json::value(nullptr);
    rounds.push_back(std::move(ro));
  }
  o["rounds"] = std::move(rounds);
  o["settlement_id"] =
      dc.settlement_id.empty() ? json::value(nullptr) : json::value(dc.settlement_id);
  // Extension: every pledge the case pays, in registration order, with what it has had.
  json::array pledges;
  for (const auto& cp : dc.pledges) {
    pledges.push_back(json::object{{"asset_id", cp.asset_id},
                                   {"registration_no", cp.registration_no},
                                   {"pledgee", cp.pledgee},
                                   {"claim", cp.claim},
                                   {"paid", cp.paid}});
  }
  o["pledges"] = std::move(pledges);
  const double recovery = dc.claim > 0 ? static_cast<double>(dc.net_to_bank + dc.fund_share) /
                                             static_cast<double>(dc.claim)
                                       : 0.0;
  // DOMAIN "What a bank asset manager reads per case": the days from the case's opening to
  // the sale, the cash and the registration (null until each happens), as report rows have.
  o["recovery"] = json::object{{"hammer", dc.hammer},
                               {"net_to_bank", dc.net_to_bank},
                               {"fund_share", dc.fund_share},
                               {"forfeited", dc.forfeited},
                               {"recovery_rate", recovery},
                               {"days_to_sale", days_between(dc.opened_at, dc.sold_at)},
                               {"days_to_cash", days_between(dc.opened_at, dc.cash_at)},
                               {"days_to_registration", days_between(dc.opened_at, dc.registered_at)}};
  json::array timeline;
  for (const auto& e : dc.timeline) timeline.push_back(e);
  o["timeline"] = std::move(timeline);
  return o;
}

Outcome Domain::disposal_get(Ctx& c, const CaseRef& p) {
  auto it = cases_.find(p.case_id);
  const bool staff = (c.actor->roles & role_operator) != 0;
  if (it == cases_.end() || (!staff && it->second.pledgee != c.actor->id)) {
    return Outcome::error(Code::not_found, "no case " + p.case_id);
  }
  return Outcome::success(case_json(it->second));
}

Outcome Domain::disposal_list(Ctx& c, const DisposalList& p) {
  const bool staff = (c.actor->roles & role_operator) != 0;
  json::array rows;
  for (const auto& [id, dc] : cases_) {
    if (!staff && dc.pledgee != c.actor->id) continue;
    if (p.state && dc.state != *p.state) continue;
    json::object row = case_json(dc);
    row.erase("timeline");
    rows.push_back(std::move(row));
  }
  return Outcome::success({{"cases", std::move(rows)}});
}

Outcome Domain::offer_shape(const BackstopOffer& p) {
  for (const auto& r : p.regions) {
    if (!valid_region(r)) return Outcome::error(Code::bad_request, "regions: bad region " + r);
  }
  for (const auto& i : p.industries) {
    if (!valid_industry(i))
      return Outcome::error(Code::bad_request, "industries: unknown industry " + i);
  }
  if (p.price_bp > 10'000) return Outcome::error(Code::bad_request, "price_bp: at most 10000");
  return Outcome::success({});
}

Outcome Domain::backstop_offer(Ctx& c, const BackstopOffer& p) {
  if (Outcome s = offer_shape(p); !s.ok()) return s;
  if (p.expires_at && *p.expires_at <= c.now) {
    return Outcome::error(Code::bad_request, "expires_at: must be in the future");
  }
  BackstopOfferRec o;
  o.num = ++offers_n_;
  o.id = "BO-" + std::to_string(o.num);
  o.participant_id = c.actor->id;
  o.price_bp = p.price_bp;
  o.max_amount = p.max_amount;
  o.regions = p.regions;
  o.industries = p.industries;
  o.expires_at = p.expires_at;
  const std::string id = o.id;
  offers_.emplace(id, std::move(o));
  return Outcome::success(
      {{"offer_id", id}, {"price_bp", p.price_bp}, {"max_amount", p.max_amount}});
}

}  // namespace ipx::engine

namespace ipx::engine {

namespace {

std::string month_of(std::int64_t ms) {
  const calendar::Date t = calendar::date_of(ms);  // UTC
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02d", static_cast<long long>(t.y), t.m);
  return buf;
}

struct Agg {
  std::int64_t cases = 0, sold = 0, claim = 0, hammer = 0, net = 0, fund = 0, forfeited = 0,
               valuation = 0, rounds = 0, defaults = 0;
  // The ratios read only what they can: recovery over closed cases (an open case has
  // recovered nothing yet), discount over cases with a hammer price.
  std::int64_t closed_claim = 0, closed_recovered = 0, hammered_valuation = 0;
  void add(const DisposalCase& dc) {
    ++cases;
    if (dc.state == "closed" && dc.outcome != "released") sold += dc.outcome == "in_lieu" ? 0 : 1;
    claim += dc.claim;
    hammer += dc.hammer;
    net += dc.net_to_bank;
    fund += dc.fund_share;
    forfeited += dc.forfeited;
    valuation += dc.valuation;
    rounds += static_cast<std::int64_t>(dc.rounds.size());
    defaults += dc.defaults;
    if (dc.state == "closed") {
      closed_claim += dc.claim;
      closed_recovered += dc.net_to_bank + dc.fund_share;
    }
    if (dc.hammer > 0) hammered_valuation += dc.valuation;
  }
  json::object to_json() const {
    auto ratio = [](std::int64_t a, std::int64_t b) {
      return b > 0 ? json::value(static_cast<double>(a) / static_cast<double>(b))
                   : json::value(nullptr);
    };
    return {{"cases", cases},
            {"sold", sold},
            {"claim", claim},
            {"hammer", hammer},
            {"net_to_bank", net},
            {"fund_share", fund},
            {"forfeited", forfeited},
            {"valuation", valuation},
            {"rounds", rounds},
            {"defaults", defaults},
            {"closed_claim", closed_claim},
            {"recovery_rate", ratio(closed_recovered, closed_claim)},
            {"discount", ratio(hammer, hammered_valuation)}};
  }
};

}  // namespace

json::object Domain::report_row(const DisposalCase& dc) const {
  json::object row{{"case_id", dc.id},
                   {"bank", dc.pledgee},
                   {"region", dc.region},
                   {"industry", dc.industry},
                   {"month", month_of(dc.opened_at)},
                   {"state", dc.state},
                   {"claim", dc.claim},
                   {"valuation", dc.valuation},
                   {"hammer", dc.hammer},
                   {"net_to_bank", dc.net_to_bank},
                   {"fund_share", dc.fund_share},
                   {"forfeited", dc.forfeited},
                   {"rounds", static_cast<std::int64_t>(dc.rounds.size())},
                   {"defaults", dc.defaults}};
  row["outcome"] = dc.state == "closed" ? json::value(dc.outcome) : json::value(nullptr);
  row["recovery_rate"] = dc.claim > 0
                             ? json::value(static_cast<double>(dc.net_to_bank + dc.fund_share) /
                                           static_cast<double>(dc.claim))
                             : json::value(nullptr);
  json::array discounts, bidders;
  for (const auto& r : dc.rounds) {
    discounts.push_back(
        r.price ? json::value(static_cast<double>(*r.price) / static_cast<double>(dc.valuation))
                : json::value(nullptr));
    bidders.push_back(r.bidders);
  }
  row["discount_by_round"] = std::move(discounts);
  row["bidders_by_round"] = std::move(bidders);
  row["days_to_sale"] = days_between(dc.opened_at, dc.sold_at);
  row["days_to_cash"] = days_between(dc.opened_at, dc.cash_at);
  row["days_to_registration"] = days_between(dc.opened_at, dc.registered_at);
  return row;
}

// Filters are checked like the values they match (a bad one is an error, not an empty report),
// before the role (Domain::shape).
Outcome Domain::report_shape(const ReportDisposals& p) {
  if (p.region && !valid_region(*p.region)) return Outcome::error(Code::bad_request, "region: bad region");
  return Outcome::success({});
}

Outcome Domain::report_disposals(Ctx& c, const ReportDisposals& p) {
  if (Outcome s = report_shape(p); !s.ok()) return s;
  const bool staff = (c.actor->roles & role_operator) != 0;
  json::array rows;
  Agg total;
  std::map<std::string, Agg> by_bank, by_region, by_industry, by_month;
  for (const auto& [id, dc] : cases_) {
    if (!staff && dc.pledgee != c.actor->id) continue;
    if (p.bank && dc.pledgee != *p.bank) continue;
    if (p.region && dc.region != *p.region) continue;
    if (p.from && dc.opened_at < *p.from) continue;
    if (p.to && dc.opened_at >= *p.to) continue;
    rows.push_back(report_row(dc));
    total.add(dc);
    by_bank[dc.pledgee].add(dc);
    by_region[dc.region].add(dc);
    by_industry[dc.industry].add(dc);
    by_month[month_of(dc.opened_at)].add(dc);
  }
  auto group = [](const std::map<std::string, Agg>& m, const char* key) {
    json::array out;
    for (const auto& [k, a] : m) {
      json::object o = a.to_json();
      o[key] = k;
      out.push_back(std::move(o));
    }
    return out;
  };
  json::object totals = total.to_json();
  totals["by_bank"] = group(by_bank, "bank");
  totals["by_region"] = group(by_region, "region");
  totals["by_industry"] = group(by_industry, "industry");
  totals["by_month"] = group(by_month, "month");
  return Outcome::success({{"rows", std::move(rows)}, {"totals", std::move(totals)}});
}

}  // namespace ipx::engine
