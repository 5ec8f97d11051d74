// Domain: settlements — delivery versus payment through escrow (DOMAIN.md rules 7, 8, 13, 14).
// The winner's deposit stays held toward the price; settlement.pay holds the balance; on
// settlement.confirm one linked set posts both holds, pays fees, the pledgee (up to its
// claim) and the seller, and moves the title; settlement.fail voids everything; an unpaid
// settlement at due_at defaults: the deposit is forfeited and the case re-runs the round.
#include <algorithm>
#include <limits>

#include "engine/domain.hpp"
#include "engine/ids.hpp"
#include "matching/assert.hpp"

namespace ipx::engine {

namespace {
std::int64_t bp_amount(std::int64_t amount, std::int64_t bp) {
  auto r = bp_of_floor_yuan(Fen{amount}, bp);
  IPX_ASSERT(r.has_value());
  return r->v;
}

// Rule 12 (S2 art 29): the buyer's commission on a price is at most 5 % of the part up to
// 2M CNY, 3 % of the part over 2M up to 10M, 2 % over 10M up to 50M, 1 % over 50M up to
// 100M, 0.5 % over 100M ("超过...的部分": each rate on its bracket), rounded down to a yuan.
std::int64_t commission_cap(std::int64_t price) {
  struct Bracket {
    std::int64_t upto_fen, bp;
  };
  static constexpr Bracket kScale[] = {{200'000'000, 500},
                                       {1'000'000'000, 300},
                                       {5'000'000'000, 200},
                                       {10'000'000'000, 100},
                                       {std::numeric_limits<std::int64_t>::max(), 50}};
  std::int64_t cap = 0, below = 0;
  for (const Bracket& b : kScale) {
    if (price <= below) break;
    cap += *bp_of_floor(std::min(price, b.upto_fen) - below, b.bp);
    below = b.upto_fen;
  }
  return cap - cap % 100;
}
}  // namespace

ledger::Transfer Domain::cash_move(Ctx& c, std::uint64_t from, std::uint64_t to,
                                   std::int64_t amount, std::uint16_t code, std::uint64_t ref) {
  ledger::Transfer t;
  t.id = next_transfer_id(c);
  t.debit_account_id = from;
  t.credit_account_id = to;
  t.amount = amount;
  t.ledger = ledger::kLedgerCny;
  t.code = code;
  t.ref = ref;
  return t;
}

// Rule 13: a voluntary sale of pledged assets pays their live pledges first, in registration
// order across the lot, each up to what remains of its claim (licences sold before may have
// paid part of it). A pledge a live disposal case holds (foreclosed) is still owed what the
// case has not paid it: a licence sold, or units traded, while the case runs pay it first too.
// `which`: the pledges, in the claims' order (to record what they are paid).
std::vector<Domain::Claim> Domain::sale_claims(const std::vector<std::string>& lot,
                                               std::vector<SalePledge>& which) {
  std::vector<SalePledge> live;
  for (const auto& asset_id : lot) {
    for (auto& pl : assets_.at(asset_id).pledges) {
      if (pl.status == "active") {
        live.push_back({&pl, nullptr, nullptr});
      } else if (SalePledge held = held_by_case(asset_id, pl); held.in_case != nullptr) {
        live.push_back(held);
      }
    }
  }
  std::stable_sort(live.begin(), live.end(), [](const SalePledge& x, const SalePledge& y) {
    return x.pledge->seq < y.pledge->seq;
  });
  std::vector<Claim> out;
  out.reserve(live.size());
  for (const SalePledge& sp : live) {
    out.push_back(Claim{sp.pledge->pledgee, sp.in_case != nullptr
                                                ? sp.in_case->claim - sp.in_case->paid
                                                : sp.pledge->remaining()});
  }
  which = std::move(live);
  return out;
}

// A foreclosed pledge as the live case that holds it records it (in_case null if none does).
Domain::SalePledge Domain::held_by_case(const std::string& asset_id, Pledge& pl) {
  for (auto& [id, dc] : cases_) {
    if (dc.state == "closed") continue;
    for (auto& cp : dc.pledges) {
      if (cp.asset_id == asset_id && cp.seq == pl.seq) return {&pl, &cp, &dc};
    }
  }
  return {&pl, nullptr, nullptr};
}

void Domain::record_sale_paid(const std::vector<SalePledge>& which,
                              const std::vector<std::int64_t>& shares) {
  IPX_ASSERT(which.size() == shares.size());
  for (std::size_t i = 0; i < which.size(); ++i) {
    which[i].pledge->paid += shares[i];
    if (which[i].in_case == nullptr) continue;
    which[i].in_case->paid += shares[i];
    IPX_ASSERT(which[i].in_case->paid <= which[i].in_case->claim);
    which[i].dc->net_to_bank = paid_to_case_bank(*which[i].dc);
  }
}

// One balance push per pledgee paid (a bank may hold several of the claims).
void Domain::push_paid(Ctx& c, const std::vector<Claim>& claims,
                       const std::vector<std::int64_t>& shares) {
  IPX_ASSERT(claims.size() == shares.size());
  for (std::size_t i = 0; i < claims.size(); ++i) {
    bool first = shares[i] > 0;
    for (std::size_t j = 0; j < i && first; ++j) {
      first = !(shares[j] > 0 && claims[j].pledgee == claims[i].pledgee);
    }
    if (first) push_balance(c, claims[i].pledgee);
  }
}

void Domain::open_settlement(Auction& a, const std::string& buyer, std::int64_t price,
                             std::int64_t closed_at, Ctx& c) {
  SettlementRec s;
  s.id = "S-" + std::to_string(++settlements_n_);
  s.auction_id = a.id;
  s.buyer = buyer;
  s.seller = a.seller;
  s.case_id = a.case_id;
  s.price = price;
  s.buyer_premium = bp_amount(price, a.buyer_premium_bp);
  // Rule 12: a traditional case's rounds charge at most S2 art 29's scale.
  if (!a.case_id.empty() && cases_.at(a.case_id).plan.regime == "traditional") {
    s.buyer_premium = std::min(s.buyer_premium, commission_cap(price));
  }
  s.seller_commission = bp_amount(price, a.seller_commission_bp);
  const Registration& r = a.registrations.at(buyer);
  s.deposit = r.hold_id != 0 ? a.deposit : 0;
  s.deposit_hold = r.hold_id;
  // PROTOCOL "Edges": what follows a close counts from closes_at.
  s.due_at = closed_at + a.payment_ms;
  if (r.hold_id) s.transfers.push_back(r.hold_id);
  a.settlement_id = s.id;
  push_settlement(c, s);
  payment_due_.insert({s.due_at, s.id});
  settlements_.emplace(s.id, std::move(s));
}

void Domain::push_settlement(Ctx& c, const SettlementRec& s) {
  if (quiet()) return;
  const json::object data = settlement_json(s);
  push_private(c, s.buyer, "settlement", data);
  if (!s.seller.empty() && s.seller != s.buyer) push_private(c, s.seller, "settlement", data);
  if (!s.case_id.empty()) {
    const std::string& bank = cases_.at(s.case_id).pledgee;
    if (bank != s.buyer && bank != s.seller) push_private(c, bank, "settlement", data);
  }
}

json::object Domain::settlement_json(const SettlementRec& s) const {
  json::object o{{"settlement_id", s.id},
                 {"auction_id", s.auction_id},
                 {"buyer", s.buyer},
                 {"seller", s.seller},
                 {"state", s.state},
                 {"price", s.price},
                 {"buyer_premium", s.buyer_premium},
                 {"seller_commission", s.seller_commission},
                 {"deposit", s.deposit},
                 {"amount_due", std::max<std::int64_t>(0, s.price + s.buyer_premium - s.deposit)},
                 {"due_at", s.due_at}};
  o["case_id"] = s.case_id.empty() ? json::value(nullptr) : json::value(s.case_id);
  o["registration_no"] =
      s.registration_no.empty() ? json::value(nullptr) : json::value(s.registration_no);
  if (!s.reason.empty()) o["reason"] = s.reason;
  // Each movement once: a hold is listed with its fate (held, posted, voided), and the
  // transfer that posted or voided it is not listed again (its amount would count twice).
  json::array transfers;
  for (std::uint64_t id : s.transfers) {
    const ledger::Transfer* t = ledger_.find_transfer(id);
    if (t == nullptr) continue;
    if (t->pending_id != 0 &&
        std::find(s.transfers.begin(), s.transfers.end(), t->pending_id) != s.transfers.end()) {
      continue;
    }
    json::object row{{"id", std::to_string(t->id)}, {"amount", t->amount}, {"code", t->code}};
    const auto st = ledger_.pending_state(id);
    row["state"] = st == ledger::Ledger::PendingState::open     ? "held"
                   : st == ledger::Ledger::PendingState::posted ? "posted"
                   : st == ledger::Ledger::PendingState::none   ? "posted"
                                                                : "voided";
    transfers.push_back(std::move(row));
  }
  o["transfers"] = std::move(transfers);
  return o;
}

Outcome Domain::find_settlement(const Ctx& c, const std::string& id, SettlementRec*& out) {
  auto it = settlements_.find(id);
  const bool staff = (c.actor->roles & (role_operator | role_admin)) != 0;
  if (it == settlements_.end()) return Outcome::error(Code::not_found, "no settlement " + id);
  SettlementRec& s = it->second;
  bool party = s.buyer == c.actor->id || s.seller == c.actor->id;
  if (!s.case_id.empty()) party = party || cases_.at(s.case_id).pledgee == c.actor->id;
  if (!staff && !party) return Outcome::error(Code::not_found, "no settlement " + id);
  out = &s;
  return Outcome::success({});
}

Outcome Domain::settlement_get(Ctx& c, const SettlementRef& p) {
  SettlementRec* s = nullptr;
  Outcome f = find_settlement(c, p.settlement_id, s);
  if (!f.ok()) return f;
  return Outcome::success(settlement_json(*s));
}

Outcome Domain::settlement_pay(Ctx& c, const SettlementRef& p) {
  SettlementRec* s = nullptr;
  Outcome f = find_settlement(c, p.settlement_id, s);
  if (!f.ok()) return f;
  if (s->buyer != c.actor->id)
    return Outcome::error(Code::not_found, "no settlement " + p.settlement_id);
  if (s->state != "awaiting_payment")
    return Outcome::error(Code::invalid_state, "the settlement is " + s->state);
  const std::int64_t due = std::max<std::int64_t>(0, s->price + s->buyer_premium - s->deposit);
  if (due > cash_available(*c.actor)) {
    return Outcome::error(Code::insufficient_funds,
                          "payment of " + std::to_string(due) + " fen exceeds cash available");
  }
  // PROTOCOL "Money flows": pay moves price + premium - deposit into escrow; below zero, the
  // deposit's excess comes back now: its hold is made again for price + premium only.
  const std::int64_t owed = s->price + s->buyer_premium;
  if (s->deposit_hold != 0 && s->deposit > owed) {
    const Auction& a = auctions_.at(s->auction_id);
    std::vector<ledger::Transfer> set;
    ledger::Transfer v;
    v.id = next_transfer_id(c);
    v.pending_id = s->deposit_hold;
    v.flags = ledger::transfer_flags::void_pending;
    set.push_back(v);
    if (owed > 0) {
      ledger::Transfer h =
          cash_move(c, cash_account(*c.actor), ids::escrow(a.num), owed, ids::code_deposit, a.num);
      h.flags = ledger::transfer_flags::pending;
      set.front().flags |= ledger::transfer_flags::linked;
      set.push_back(h);
    }
    auto r = submit_transfers(set, Ms{c.now});
    IPX_ASSERT(r.ok());
    s->deposit_hold = owed > 0 ? set.back().id : 0;
    for (const auto& t : set) s->transfers.push_back(t.id);
  }
  if (due > 0) {
    const Auction& a = auctions_.at(s->auction_id);
    ledger::Transfer t =
        cash_move(c, cash_account(*c.actor), ids::escrow(a.num), due, ids::code_payment, a.num);
    t.flags = ledger::transfer_flags::pending;
    auto r = submit_transfers(std::span(&t, 1), Ms{c.now});
    if (!r.ok()) return Outcome::error(Code::insufficient_funds, "payment cannot be held");
    s->payment_hold = t.id;
    s->transfers.push_back(t.id);
  }
  payment_due_.erase({s->due_at, s->id});
  s->state = "paid";
  s->paid_at = c.now;
  if (!s->case_id.empty()) cases_.at(s->case_id).cash_at = c.now;
  push_settlement(c, *s);
  push_balance(c, s->buyer);
  return Outcome::success(settlement_json(*s));
}

// Builds the linked set of a confirmation: post the holds, then pay out of escrow.
Outcome Domain::settlement_confirm(Ctx& c, const SettlementConfirm& p) {
  SettlementRec* s = nullptr;
  Outcome f = find_settlement(c, p.settlement_id, s);
  if (!f.ok()) return f;
  if (s->state != "paid")
    return Outcome::error(Code::invalid_state, "the settlement is " + s->state);
  Auction& a = auctions_.at(s->auction_id);
  const bool licence = a.purpose == "exclusive_licence" || a.purpose == "sole_licence";
  if (licence && a.licence) {
    // Rule 15: the licence runs from now for its term, which must end by the expiry, and
    // overlapping exclusive and sole licences cannot coexist. The listing was checked when it
    // was made, against the licences confirmed then; time has passed and another overlapping
    // listing may have been confirmed since. The settlement stays paid: the operator may fail
    // it (the buyer's money goes back).
    for (const auto& asset_id : a.lot) {
      const Asset& as = assets_.at(asset_id);
      if (Outcome o = check_licence_term(as, *a.licence, c.now); !o.ok()) return o;
      if (Outcome o = check_licence_overlap(as, *a.licence, c.now); !o.ok()) return o;
    }
  }
  Participant* seller = find_participant(s->seller);
  Participant* buyer = find_participant(s->buyer);
  std::vector<ledger::Transfer> set;
  for (std::uint64_t hold : {s->deposit_hold, s->payment_hold}) {
    if (hold == 0) continue;
    ledger::Transfer t;
    t.id = next_transfer_id(c);
    t.pending_id = hold;
    t.flags = ledger::transfer_flags::post_pending;
    t.amount = ledger_.find_transfer(hold)->amount;
    set.push_back(t);
  }
  const std::uint64_t escrow = ids::escrow(a.num);
  // What the holds bring into escrow is at least price + premium (pay made sure); any excess
  // goes back to the buyer.
  std::int64_t collected = 0;
  for (const auto& t : set) collected += t.amount;
  const std::int64_t refund = collected - s->price - s->buyer_premium;
  IPX_ASSERT(refund >= 0);
  if (refund > 0)
    set.push_back(cash_move(c, escrow, cash_account(*buyer), refund, ids::code_refund, a.num));
  if (s->buyer_premium > 0)
    set.push_back(cash_move(c, escrow, ids::kFeesCny, s->buyer_premium, ids::code_fee, a.num));
  if (s->seller_commission > 0)
    set.push_back(cash_move(c, escrow, ids::kFeesCny, s->seller_commission, ids::code_fee, a.num));
  std::int64_t net = s->price - s->seller_commission;
  // Rules 13/14: the pledgees are paid first, in registration order, each up to its
  // (remaining) claim; the rest to the pledgor.
  std::vector<SalePledge> sale_pledges;
  const std::vector<Claim> claims = s->case_id.empty() ? sale_claims(a.lot, sale_pledges)
                                                       : case_claims(cases_.at(s->case_id));
  std::vector<std::int64_t> shares;
  const std::int64_t rest = pay_claims(claims, net, escrow, ids::code_claim, a.num, c, set, shares);
  if (rest > 0) {
    set.push_back(cash_move(c, escrow, cash_account(*seller), rest, ids::code_proceeds, a.num));
  }
  if (!licence) {
    for (const auto& asset_id : a.lot) {
      const Asset& as = assets_.at(asset_id);
      ledger::Transfer t;
      t.id = next_transfer_id(c);
      t.debit_account_id = title_account(*seller, as);
      t.credit_account_id = title_account(*buyer, as);
      t.amount = 1;
      t.ledger = ledger::kLedgerTitles;
      t.code = ids::code_title;
      t.ref = as.num;
      set.push_back(t);
    }
  }
  for (std::size_t i = 0; i + 1 < set.size(); ++i) set[i].flags |= ledger::transfer_flags::linked;
  auto r = submit_transfers(set, Ms{c.now});
  if (!r.ok()) {
    return Outcome::error(
        Code::invalid_state,
        "settlement cannot complete: " + std::string(ledger::make_error_code(r.ec).message()));
  }
  for (const auto& t : set) s->transfers.push_back(t.id);
  s->state = "confirmed";
  s->registration_no = p.registration_no;
  s->confirmed_at = c.now;
  if (s->case_id.empty()) record_sale_paid(sale_pledges, shares);
  for (const auto& asset_id : a.lot) {
    Asset& as = assets_.at(asset_id);
    if (licence && a.licence) {
      as.licences.push_back({a.licence->kind, a.licence->field, a.licence->territory, c.now,
                             licence_end(c.now, *a.licence)});
    } else {
      as.owner = s->buyer;
      as.pledges.clear();  // every pledge on a sold asset is released (rule 14: paid from it)
    }
  }
  if (!s->case_id.empty()) {
    DisposalCase& dc = cases_.at(s->case_id);
    commit_waterfall(dc, shares);
    on_case_settled(dc, *s, c);
  }
  for (const auto& who : {s->buyer, s->seller}) push_balance(c, who);
  push_paid(c, claims, shares);
  push_settlement(c, *s);
  return Outcome::success(settlement_json(*s));
}

Outcome Domain::settlement_fail(Ctx& c, const SettlementFail& p) {
  SettlementRec* s = nullptr;
  Outcome f = find_settlement(c, p.settlement_id, s);
  if (!f.ok()) return f;
  if (s->state != "paid" && s->state != "awaiting_payment") {
    return Outcome::error(Code::invalid_state, "the settlement is " + s->state);
  }
  std::vector<ledger::Transfer> set;
  for (std::uint64_t hold : {s->deposit_hold, s->payment_hold}) {
    if (hold == 0 || ledger_.pending_state(hold) != ledger::Ledger::PendingState::open) continue;
    ledger::Transfer t;
    t.id = next_transfer_id(c);
    t.pending_id = hold;
    t.flags = ledger::transfer_flags::void_pending;
    set.push_back(t);
  }
  for (std::size_t i = 0; i + 1 < set.size(); ++i) set[i].flags |= ledger::transfer_flags::linked;
  if (!set.empty()) {
    auto r = submit_transfers(set, Ms{c.now});
    IPX_ASSERT(r.ok());
    for (const auto& t : set) s->transfers.push_back(t.id);
  }
  payment_due_.erase({s->due_at, s->id});
  s->state = "failed";
  s->reason = p.reason;
  push_balance(c, s->buyer);
  push_settlement(c, *s);
  if (!s->case_id.empty()) on_settlement_lost(cases_.at(s->case_id), *s, c);
  return Outcome::success(settlement_json(*s));
}

// Rule 7: an unpaid settlement at due_at defaults; the deposit is forfeited and applied to
// costs, then the claim: for a case, to the pledgee up to what remains of its claim (the
// payout is capped at the claim, PROTOCOL "Edges"), the rest to the pledgor; otherwise to
// the seller.
void Domain::check_payment_deadlines(std::int64_t until, Ctx& c) {
  while (!payment_due_.empty() && payment_due_.begin()->first <= until) {
    SettlementRec& s = settlements_.at(payment_due_.begin()->second);
    payment_due_.erase(payment_due_.begin());
    IPX_ASSERT(s.state == "awaiting_payment");
    forfeit_deposit(s, c);
    s.state = "defaulted";
    push_settlement(c, s);
    push_balance(c, s.buyer);
    if (!s.case_id.empty()) on_settlement_lost(cases_.at(s.case_id), s, c);
  }
}

void Domain::forfeit_deposit(SettlementRec& s, Ctx& c) {
  if (s.deposit_hold == 0 ||
      ledger_.pending_state(s.deposit_hold) != ledger::Ledger::PendingState::open) {
    return;
  }
  const Auction& a = auctions_.at(s.auction_id);
  std::vector<ledger::Transfer> set;
  ledger::Transfer post;
  post.id = next_transfer_id(c);
  post.pending_id = s.deposit_hold;
  post.flags = ledger::transfer_flags::post_pending;
  post.amount = s.deposit;
  set.push_back(post);
  const std::uint64_t escrow = ids::escrow(a.num);
  // A case's pledgees in registration order (rule 14), each up to what remains of its claim.
  const std::vector<Claim> claims =
      s.case_id.empty() ? std::vector<Claim>{} : case_claims(cases_.at(s.case_id));
  std::vector<std::int64_t> shares;
  const std::int64_t rest =
      pay_claims(claims, s.deposit, escrow, ids::code_forfeit, a.num, c, set, shares);
  if (rest > 0) {
    set.push_back(cash_move(c, escrow, cash_account(*find_participant(s.seller)), rest,
                            ids::code_forfeit, a.num));
  }
  for (std::size_t i = 0; i + 1 < set.size(); ++i) set[i].flags |= ledger::transfer_flags::linked;
  auto r = submit_transfers(set, Ms{c.now});
  IPX_ASSERT(r.ok());
  for (const auto& t : set) s.transfers.push_back(t.id);
  if (!s.case_id.empty()) commit_waterfall(cases_.at(s.case_id), shares);
  push_paid(c, claims, shares);
  push_balance(c, s.seller);
}

}  // namespace ipx::engine
