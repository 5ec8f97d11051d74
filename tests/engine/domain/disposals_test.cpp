// Disposal cases through Domain::apply (PROTOCOL.md disposal.*, backstop.offer,
// report.disposals, "Defaults", "Edges"; DOMAIN.md rules 1, 3-7, 9-12, 14, 17). Every call
// checks the ledger's invariants and that every ledger sums to zero; every refusal is checked
// to change nothing and push nothing.
#include "tests/engine/domain/harness.hpp"

namespace ipx::engine::test {
namespace {

constexpr std::int64_t kMinMs = 60'000;
constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kCash = 1'000'000'000;    // each bidder's and backstop's funding, fen
constexpr std::int64_t kValuation = 10'000'000;  // 100,000 CNY
constexpr std::int64_t kClaim = 10'000'000;

// A plan that runs a whole case within days: no notice, 24 h rounds (the least rule 5
// allows), a 1 h sell-off.
constexpr std::int64_t kBidMs = kDayMs;
const json::object kFast{{"notice_ms", 0},
                         {"renotice_ms", 0},
                         {"bidding_ms", kBidMs},
                         {"sell_off_ms", kHourMs},
                         {"payment_ms", kDayMs}};

json::object with(json::object p, const json::object& extra) {
  for (const auto& kv : extra) p[kv.key()] = kv.value();
  return p;
}

// An operator, two banks, a pledgor, two bidders, two backstop buyers and a risk fund.
class DomainDisposalTest : public ::testing::Test {
 protected:
  Harness h;
  std::string op, bank, bank2, pledgor, alice, bob, bs1, bs2, fund;
  std::int64_t t0 = 0;
  int assets_ = 0;

  void SetUp() override {
    op = h.participant("operator", "exchange operator");
    bank = h.participant("bank", "bank one");
    bank2 = h.participant("bank", "bank two", "deyang");
    pledgor = h.participant("enterprise", "pledgor");
    alice = h.participant("enterprise", "alice");
    bob = h.participant("individual", "bob");
    bs1 = h.participant("backstop", "backstop one");
    bs2 = h.participant("backstop", "backstop two");
    fund = h.participant("risk_fund", "risk fund");
    for (const auto& p : {alice, bob, bs1, bs2, fund}) h.fund(p, kCash);
    t0 = h.now;
  }

  // Registers an asset of the pledgor pledged to `pledgee` with the claim; returns its id.
  std::string pledged_asset(const std::string& pledgee, std::int64_t claim = kClaim,
                            const std::string& region = "chengdu",
                            const std::string& industry = "electronic_information",
                            const json::array& co_owners = {}) {
    const std::string id = "PAT-" + std::to_string(++assets_);
    json::object a{{"asset_id", id},          {"kind", "invention_patent"},
                   {"title", "a patent"},     {"owner", pledgor},
                   {"region", region},        {"industry", industry},
                   {"valuation", kValuation}, {"expires_at", h.now + 3650 * kDayMs},
                   {"co_owners", co_owners}};
    EXPECT_TRUE(h.call(op, "asset.register", json::serialize(a)).ok());
    json::object pl{{"asset_id", id},
                    {"pledgee", pledgee},
                    {"loan_outstanding", claim},
                    {"registration_no", "PLG-" + id}};
    EXPECT_TRUE(h.call(op, "pledge.register", json::serialize(pl)).ok());
    return id;
  }
  // pledge.register of `asset` to `pledgee` (called by `by`, the operator by default).
  Outcome pledge(const std::string& asset, const std::string& pledgee, std::int64_t claim,
                 const std::string& registration_no, const std::string& by = {}) {
    json::object pl{{"asset_id", asset},
                    {"pledgee", pledgee},
                    {"loan_outstanding", claim},
                    {"registration_no", registration_no}};
    return h.call(by.empty() ? op : by, "pledge.register", json::serialize(pl));
  }
  // An asset pledged to `bank` (PLG-<id>), then to `bank2` (PLG-<id>-2): two ranks (rule 14).
  std::string twice_pledged(std::int64_t first_claim, std::int64_t second_claim) {
    const std::string id = pledged_asset(bank, first_claim);
    Outcome o = pledge(id, bank2, second_claim, "PLG-" + id + "-2", bank2);
    EXPECT_TRUE(o.ok()) << o.message;
    return id;
  }
  Outcome asset_get(const std::string& who, const std::string& id) {
    std::vector<Push> ignored;
    return h.domain.apply(Method::asset_get, who, {}, Params{AssetRef{id}}, h.now, ignored);
  }
  json::array pledges_of(const std::string& id) {
    Outcome o = asset_get(op, id);
    EXPECT_TRUE(o.ok()) << o.message;
    return o.ok() ? o.result.at("pledges").as_array() : json::array{};
  }
  Outcome consent(const std::string& who, const std::string& asset) {
    return h.call(who, "pledge.consent", json::serialize(json::object{{"asset_id", asset}}));
  }
  json::object open_params(const std::string& asset, std::int64_t valuation,
                           const json::object& plan, const std::string& pledgee) {
    json::object p{{"assets", json::array{json::string(asset)}},
                   {"pledgee", pledgee},
                   {"pledgor", pledgor},
                   {"valuation", valuation}};
    if (!plan.empty()) p["plan"] = plan;
    return p;
  }
  // disposal.open as the bank; returns the case id.
  std::string open_case(std::int64_t valuation = kValuation, const json::object& plan = {},
                        std::string asset = {}, const std::string& by = {}) {
    if (asset.empty()) asset = pledged_asset(bank);
    Outcome o = h.call(by.empty() ? bank : by, "disposal.open",
                       json::serialize(open_params(asset, valuation, plan, bank)));
    EXPECT_TRUE(o.ok()) << o.message;
    if (!o.ok()) return {};
    EXPECT_TRUE(o.result.at("auction_id").is_string());
    return std::string(o.result.at("case_id").as_string());
  }

  json::object read(const std::string& who, Method m, Params p) {
    std::vector<Push> ignored;
    Outcome o = h.domain.apply(m, who, {}, p, h.now, ignored);
    EXPECT_TRUE(o.ok()) << o.message;
    return o.result;
  }
  json::object get_case(const std::string& id, const std::string& who = {}) {
    return read(who.empty() ? op : who, Method::disposal_get, CaseRef{id});
  }
  json::object get_auction(const std::string& id) {
    return read(op, Method::auction_get, AuctionGet{id});
  }
  json::object get_settlement(const std::string& id) {
    return read(op, Method::settlement_get, SettlementRef{id});
  }
  json::object round(const std::string& case_id, std::size_t i) {
    const json::array rounds = get_case(case_id).at("rounds").as_array();
    EXPECT_LT(i, rounds.size());
    return i < rounds.size() ? rounds[i].as_object() : json::object{};
  }
  std::string auction_of(const std::string& case_id) {
    const json::array rounds = get_case(case_id).at("rounds").as_array();
    return std::string(rounds.back().at("auction_id").as_string());
  }
  void advance_to(std::int64_t at) { ASSERT_TRUE(h.advance(at - h.now).ok()); }
  Outcome reg(const std::string& who, const std::string& auction) {
    return h.call(who, "auction.register", R"({"auction_id":")" + auction + R"("})");
  }
  Outcome bid(const std::string& who, const std::string& auction, std::int64_t v) {
    return h.call(who, "auction.bid",
                  json::serialize(json::object{{"auction_id", auction}, {"amount", v}}));
  }
  // Round 1 of a fast case won by `who` at the start; returns the settlement id.
  std::string win_round_1(const std::string& case_id, const std::string& who) {
    const std::string a = auction_of(case_id);
    EXPECT_TRUE(reg(who, a).ok());
    EXPECT_TRUE(bid(who, a, get_auction(a).at("start_price").as_int64()).ok());
    EXPECT_TRUE(h.advance(get_auction(a).at("closes_at").as_int64() - h.now).ok());
    json::object c = get_case(case_id);
    EXPECT_EQ(c.at("state"), "settlement");
    return std::string(c.at("settlement_id").as_string());
  }
  void pay_and_confirm(const std::string& buyer, const std::string& sid) {
    Outcome o = h.call(buyer, "settlement.pay", R"({"settlement_id":")" + sid + R"("})");
    ASSERT_TRUE(o.ok()) << o.message;
    o = h.call(op, "settlement.confirm",
               R"({"settlement_id":")" + sid + R"(","registration_no":"CNIPA-9"})");
    ASSERT_TRUE(o.ok()) << o.message;
  }
  // The pledgor's unit market on `asset` (consented) rests a sell of 10 units at 1,000 CNY; a
  // fast case is opened on the asset; then alice buys the 10 units. Returns the case id.
  std::string case_while_units_sell(const std::string& asset, const std::string& market) {
    EXPECT_TRUE(consent(bank, asset).ok());
    const std::string m = R"({"market_id":")" + market + R"(",)";
    EXPECT_TRUE(h.call(pledgor, "market.create",
                       m + R"("asset_id":")" + asset +
                           R"(","licence":{"kind":"non_exclusive","territory":["cn"],"field":"all","term_months":12},"tick":100,"min_qty":1})")
                    .ok());
    EXPECT_TRUE(h.call(pledgor, "units.issue", m + R"("qty":100})").ok());
    EXPECT_TRUE(h.call(pledgor, "order.place",
                       m + R"("side":"sell","type":"limit","price":100000,"qty":10,"tif":"gtc","client_order_id":"s1"})")
                    .ok());
    const std::string cid = open_case(kValuation, kFast, asset);
    Outcome o = h.call(alice, "order.place",
                       m + R"("side":"buy","type":"limit","price":100000,"qty":10,"tif":"ioc","client_order_id":"b1"})");
    EXPECT_TRUE(o.ok()) << o.message;
    return cid;
  }
  Outcome offer(const std::string& who, std::int64_t price_bp, std::int64_t max_amount,
                const json::object& extra = {}) {
    json::object p{{"price_bp", price_bp}, {"max_amount", max_amount}};
    return h.call(who, "backstop.offer", json::serialize(with(p, extra)));
  }
};

// ----------------------------------------------------------------------------- defaults

TEST_F(DomainDisposalTest, DefaultsRound1StartDepositIncrementAndSchedule) {
  const std::string id = open_case(12'345'678);
  json::object c = get_case(id);
  EXPECT_EQ(c.at("state"), "round_1");
  EXPECT_EQ(c.at("claim"), kClaim);
  EXPECT_TRUE(c.at("outcome").is_null());
  json::object a = get_auction(auction_of(id));
  EXPECT_EQ(a.at("purpose"), "disposal");
  EXPECT_EQ(a.at("format"), "english");
  EXPECT_EQ(a.at("state"), "scheduled");
  EXPECT_EQ(a.at("start_price"), 8'641'900);  // 70% of 12,345,678 rounded down to a yuan
  EXPECT_EQ(a.at("deposit"), 864'100);        // 10% of the start, rounded down to a yuan
  EXPECT_EQ(a.at("increment"), 172'800);      // rule 4: 2% of the start, rounded down
  EXPECT_EQ(a.at("opens_at"), t0 + 30 * kDayMs);
  EXPECT_EQ(a.at("closes_at"), t0 + 31 * kDayMs);
}

TEST_F(DomainDisposalTest, DefaultsRoundSoftClose5Min5Min) {
  const std::string id = open_case();
  const std::string a = auction_of(id);
  const std::int64_t close = t0 + 31 * kDayMs;
  ASSERT_TRUE(reg(alice, a).ok());
  Outcome r = h.call_at(close - 5 * kMinMs, alice, "auction.bid",
                        json::serialize(json::object{{"auction_id", a}, {"amount", 7'000'000}}));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("closes_at"), close);  // closes_at - t = 5 min: in the window
  EXPECT_EQ(get_auction(a).at("closes_at"), close);
  // (the extension is to t + 5 min, which here is exactly the old close)
  ASSERT_TRUE(reg(bob, a).ok());
  r = h.call_at(close - kMinMs, bob, "auction.bid",
                json::serialize(json::object{{"auction_id", a}, {"amount", 7'140'000}}));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("closes_at"), close + 4 * kMinMs);
}

TEST_F(DomainDisposalTest, Rule4IncrementTiers) {
  struct Case {
    std::int64_t valuation, start, increment;
  };
  const Case cases[] = {
      {14'285'800, 10'000'000, 200'000},    // start = 100,000 CNY: 2%
      {14'300'000, 10'010'000, 100'100},    // just above: 1%
      {100'000'000, 70'000'000, 700'000},   // 700,000 CNY: 1%
      {200'000'000, 140'000'000, 700'000},  // 1.4M CNY: 0.5%
      {123'456'789, 86'419'700, 864'100},   // 1%, rounded down to a yuan
  };
  for (const auto& k : cases) {
    const std::string id = open_case(k.valuation);
    json::object a = get_auction(auction_of(id));
    EXPECT_EQ(a.at("start_price"), k.start) << k.valuation;
    EXPECT_EQ(a.at("increment"), k.increment) << k.valuation;
  }
}

TEST_F(DomainDisposalTest, Rule9Round2StartIsCutBy20PercentOfRound1Start) {
  const std::string id = open_case(12'345'678);
  const std::int64_t close1 = t0 + 31 * kDayMs;
  advance_to(close1);
  json::object c = get_case(id);
  EXPECT_EQ(c.at("state"), "round_2");
  ASSERT_EQ(c.at("rounds").as_array().size(), 2u);
  EXPECT_EQ(round(id, 0).at("state"), "unsold");
  json::object r2 = round(id, 1);
  EXPECT_EQ(r2.at("round"), 2);
  EXPECT_EQ(r2.at("kind"), "auction");
  // 8,641,900 - 20% of 8,641,900 (1,728,380 rounded down to 1,728,300)
  EXPECT_EQ(r2.at("start_price"), 6'913'600);
  json::object a = get_auction(std::string(r2.at("auction_id").as_string()));
  EXPECT_EQ(a.at("opens_at"), close1 + 15 * kDayMs);  // announced at the close, 15 days' notice
  EXPECT_EQ(a.at("closes_at"), close1 + 16 * kDayMs);
  EXPECT_EQ(a.at("deposit"), 691'300);
  EXPECT_EQ(a.at("increment"), 138'200);
}

TEST_F(DomainDisposalTest, Rule10SellOffAtRound2StartFor60DaysFirstBidMovesTheClose) {
  const std::string id = open_case(12'345'678);
  const std::int64_t close2 = t0 + 31 * kDayMs + 16 * kDayMs;
  advance_to(close2);
  json::object c = get_case(id);
  EXPECT_EQ(c.at("state"), "sell_off");
  json::object r3 = round(id, 2);
  EXPECT_EQ(r3.at("kind"), "sell_off");
  EXPECT_EQ(r3.at("start_price"), 6'913'600);
  const std::string a = std::string(r3.at("auction_id").as_string());
  EXPECT_EQ(get_auction(a).at("state"), "open");  // at once
  EXPECT_EQ(get_auction(a).at("opens_at"), close2);
  EXPECT_EQ(get_auction(a).at("closes_at"), close2 + 60 * kDayMs);
  ASSERT_TRUE(reg(alice, a).ok());
  const std::int64_t first = close2 + 10 * kDayMs;
  Outcome r = h.call_at(first, alice, "auction.bid",
                        json::serialize(json::object{{"auction_id", a}, {"amount", 6'913'600}}));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("closes_at"), first + kDayMs);
  // The soft close applies from then on.
  ASSERT_TRUE(reg(bob, a).ok());
  r = h.call_at(first + kDayMs - 2 * kMinMs, bob, "auction.bid",
                json::serialize(json::object{{"auction_id", a}, {"amount", 6'913'600 + 138'200}}));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("closes_at"), first + kDayMs + 3 * kMinMs);
  advance_to(first + kDayMs + 3 * kMinMs);
  c = get_case(id);
  EXPECT_EQ(c.at("state"), "settlement");
  json::object s = get_settlement(std::string(c.at("settlement_id").as_string()));
  EXPECT_EQ(s.at("buyer"), json::value(bob));
  EXPECT_EQ(s.at("price"), 6'913'600 + 138'200);
  EXPECT_EQ(s.at("due_at"), first + kDayMs + 3 * kMinMs + 10 * kDayMs);  // 10 days after close
}

TEST_F(DomainDisposalTest, Rule12TraditionalRegimeRunsThreeRoundsThenA60DaySellOff) {
  const std::string id = open_case(kValuation, {{"regime", "traditional"}});
  EXPECT_EQ(get_auction(auction_of(id)).at("start_price"), kValuation);  // reserve = valuation
  std::int64_t close = t0 + 31 * kDayMs;
  advance_to(close);
  EXPECT_EQ(get_case(id).at("state"), "round_2");
  EXPECT_EQ(round(id, 1).at("start_price"), 8'000'000);
  close += 16 * kDayMs;
  advance_to(close);
  EXPECT_EQ(get_case(id).at("state"), "round_3");
  EXPECT_EQ(round(id, 2).at("start_price"), 6'400'000);  // 20% below the previous round
  close += 16 * kDayMs;
  advance_to(close);
  json::object c = get_case(id);
  EXPECT_EQ(c.at("state"), "sell_off");
  json::object so = round(id, 3);
  EXPECT_EQ(so.at("kind"), "sell_off");
  EXPECT_EQ(so.at("start_price"), 6'400'000);
  EXPECT_EQ(get_auction(std::string(so.at("auction_id").as_string())).at("closes_at"),
            close + 60 * kDayMs);
}

TEST_F(DomainDisposalTest, OnlineRegimeHasTwoRoundsThenTheSellOff) {
  const std::string id = open_case(kValuation, kFast);
  advance_to(t0 + 2 * kBidMs);
  json::object c = get_case(id);
  EXPECT_EQ(c.at("state"), "sell_off");
  EXPECT_EQ(c.at("rounds").as_array().size(), 3u);
}

TEST_F(DomainDisposalTest, PlanBelowRule1FloorIsBadRequest) {
  const std::string asset = pledged_asset(bank);
  h.expect_rejected(Code::bad_request, bank, "disposal.open",
                    json::serialize(open_params(asset, kValuation, {{"start_bp", 6999}}, bank)));
  h.expect_rejected(Code::bad_request, bank, "disposal.open",
                    json::serialize(open_params(asset, kValuation, {{"cut_bp", 2001}}, bank)));
}

// Rule 3 (deposit 5-20% of the start), rule 5 (bidding >= 24 h) and rule 9 (the next round
// within 30 days), each at its bounds.
TEST_F(DomainDisposalTest, PlanOutsideRules3And5IsBadRequest) {
  for (const auto& plan : {json::object{{"deposit_bp", 499}}, json::object{{"deposit_bp", 2001}},
                           json::object{{"bidding_ms", kDayMs - 1}},
                           json::object{{"renotice_ms", 30 * kDayMs + 1}}}) {
    h.expect_rejected(Code::bad_request, bank, "disposal.open",
                      json::serialize(open_params(pledged_asset(bank), kValuation, plan, bank)));
  }
  for (const auto& plan : {json::object{{"deposit_bp", 500}}, json::object{{"deposit_bp", 2000}},
                           json::object{{"bidding_ms", kDayMs}},
                           json::object{{"renotice_ms", 30 * kDayMs}}}) {
    EXPECT_FALSE(open_case(kValuation, plan).empty());
  }
}

// Rule 1: the starting price is public and is the reserve.
TEST_F(DomainDisposalTest, Rule1RoundsShowTheirStartAsTheReserve) {
  const std::string id = open_case();
  const json::object a = get_auction(auction_of(id));
  EXPECT_EQ(a.at("reserve"), a.at("start_price"));
  EXPECT_EQ(a.at("reserve"), 7'000'000);
}

TEST_F(DomainDisposalTest, OpenForAnotherBanksPledgeIsNotFound) {
  const std::string asset = pledged_asset(bank);
  h.expect_rejected(Code::not_found, bank2, "disposal.open",
                    json::serialize(open_params(asset, kValuation, {}, bank)));
  h.expect_rejected(Code::forbidden, alice, "disposal.open",
                    json::serialize(open_params(asset, kValuation, {}, bank)));
}

TEST_F(DomainDisposalTest, AForeclosedPledgeCannotBeOpenedTwice) {
  const std::string asset = pledged_asset(bank);
  open_case(kValuation, {}, asset);
  h.expect_rejected(Code::invalid_state, bank, "disposal.open",
                    json::serialize(open_params(asset, kValuation, {}, bank)));
}

// ------------------------------------------------------------------- sale, waterfall, fund

TEST_F(DomainDisposalTest, SoldCaseIsInSettlementUntilConfirmThenClosedSold) {
  const std::string id = open_case(kValuation, kFast);
  const std::string sid = win_round_1(id, alice);
  EXPECT_EQ(round(id, 0).at("price"), 7'000'000);
  EXPECT_TRUE(get_case(id).at("outcome").is_null());
  pay_and_confirm(alice, sid);
  json::object c = get_case(id);
  EXPECT_EQ(c.at("state"), "closed");
  EXPECT_EQ(c.at("outcome"), "sold");
  EXPECT_EQ(h.position(alice, "PAT-1").units, 1);
  EXPECT_EQ(h.position(pledgor, "PAT-1").units, 0);
}

TEST_F(DomainDisposalTest, Rule14SurplusOverTheClaimGoesToThePledgor) {
  const std::string id = open_case(kValuation, kFast, pledged_asset(bank, 5'000'000));
  pay_and_confirm(alice, win_round_1(id, alice));
  EXPECT_EQ(h.cash_available(bank), 5'000'000);
  EXPECT_EQ(h.cash_available(pledgor), 2'000'000);
  json::object rec = get_case(id).at("recovery").as_object();
  EXPECT_EQ(rec.at("net_to_bank"), 5'000'000);
  EXPECT_EQ(rec.at("recovery_rate"), 1.0);
}

TEST_F(DomainDisposalTest, Rule17RiskFundPaysItsShareOfTheShortfall) {
  json::object plan =
      with(kFast, {{"risk_fund", json::object{{"participant_id", fund}, {"share_bp", 5000}}}});
  const std::string id = open_case(kValuation, plan);
  pay_and_confirm(alice, win_round_1(id, alice));
  // claim 10,000,000; proceeds 7,000,000; shortfall 3,000,000; the fund pays half
  EXPECT_EQ(h.cash_available(bank), 7'000'000 + 1'500'000);
  EXPECT_EQ(h.cash_available(fund), kCash - 1'500'000);
  EXPECT_EQ(h.cash_available(pledgor), 0);
  json::object c = get_case(id);
  json::object rec = c.at("recovery").as_object();
  EXPECT_EQ(rec.at("hammer"), 7'000'000);
  EXPECT_EQ(rec.at("net_to_bank"), 7'000'000);
  EXPECT_EQ(rec.at("fund_share"), 1'500'000);
  EXPECT_DOUBLE_EQ(rec.at("recovery_rate").as_double(), 0.85);
}

TEST_F(DomainDisposalTest, Rule17NoFundWithoutAPlan) {
  const std::string id = open_case(kValuation, kFast);
  pay_and_confirm(alice, win_round_1(id, alice));
  EXPECT_EQ(h.cash_available(bank), 7'000'000);
  EXPECT_EQ(h.cash_available(fund), kCash);
}

// A sale whose registration failed (settlement.fail) is lost like a default: the case shows
// no hammer price until a round sells again.
TEST_F(DomainDisposalTest, AFailedSettlementLeavesNoHammerPrice) {
  const std::string id = open_case(kValuation, kFast);
  const std::string sid = win_round_1(id, alice);
  EXPECT_EQ(get_case(id).at("recovery").at("hammer"), 7'000'000);
  ASSERT_TRUE(h.call(op, "settlement.fail",
                     R"({"settlement_id":")" + sid + R"(","reason":"registry refused"})")
                  .ok());
  const json::object c = get_case(id);
  EXPECT_EQ(c.at("recovery").at("hammer"), 0);
  EXPECT_EQ(c.at("rounds").as_array()[0].at("price"), 7'000'000);  // the round as it closed
  EXPECT_EQ(read(op, Method::report_disposals, ReportDisposals{})
                .at("totals").at("hammer"), 0);
}

// The re-run after a failure opens renotice_ms after the failure, not after the payment
// deadline the refunded buyer no longer has.
TEST_F(DomainDisposalTest, AFailedSettlementReRunsTheRoundRenoticeAfterTheFailure) {
  const std::string id = open_case(kValuation, with(kFast, {{"renotice_ms", 2 * kHourMs}}));
  const std::string sid = win_round_1(id, alice);
  const std::int64_t due = get_settlement(sid).at("due_at").as_int64();
  const std::int64_t failed_at = h.now;
  ASSERT_LT(failed_at + 2 * kHourMs, due);
  ASSERT_TRUE(h.call(op, "settlement.fail",
                     R"({"settlement_id":")" + sid + R"(","reason":"registry refused"})")
                  .ok());
  json::object rerun = round(id, 1);
  EXPECT_EQ(rerun.at("round"), 1);
  EXPECT_EQ(rerun.at("start_price"), 7'000'000);
  const std::string a(rerun.at("auction_id").as_string());
  EXPECT_EQ(get_auction(a).at("opens_at"), failed_at + 2 * kHourMs);
  EXPECT_EQ(get_auction(a).at("state"), "scheduled");
  advance_to(failed_at + 2 * kHourMs);
  EXPECT_EQ(get_auction(a).at("state"), "open");
  ASSERT_TRUE(reg(alice, a).ok());  // a failure bars nobody (unlike a default)
}

// Rule 2 in a plan: round auctions need min_bidders qualified bidders (one registered bidder
// leaves round 1 unsold and the case goes on to round 2); the sell-off goes to its first bidder.
TEST_F(DomainDisposalTest, Rule2PlanMinBiddersAppliesToTheRoundsNotTheSellOff) {
  const std::string id = open_case(kValuation, with(kFast, {{"min_bidders", 2}}));
  std::string a = auction_of(id);
  EXPECT_EQ(get_auction(a).at("min_bidders"), 2);
  ASSERT_TRUE(reg(alice, a).ok());
  ASSERT_TRUE(bid(alice, a, 7'000'000).ok());
  advance_to(get_auction(a).at("closes_at").as_int64());
  EXPECT_EQ(get_auction(a).at("state"), "unsold");
  EXPECT_EQ(get_case(id).at("state"), "round_2");
  // Round 2 unsold too (nobody), then the sell-off: one bidder buys.
  a = auction_of(id);
  advance_to(get_auction(a).at("closes_at").as_int64());
  a = auction_of(id);
  EXPECT_EQ(round(id, 2).at("kind"), "sell_off");
  EXPECT_FALSE(get_auction(a).contains("min_bidders"));
  ASSERT_TRUE(reg(bob, a).ok());
  ASSERT_TRUE(bid(bob, a, get_auction(a).at("start_price").as_int64()).ok());
  advance_to(get_auction(a).at("closes_at").as_int64());
  EXPECT_EQ(get_case(id).at("state"), "settlement");
  h.expect_rejected(Code::bad_request, bank, "disposal.open",
                    json::serialize(json::object{{"assets", json::array{"PAT-1"}},
                                                 {"pledgee", bank},
                                                 {"pledgor", pledgor},
                                                 {"valuation", kValuation},
                                                 {"plan", with(kFast, {{"min_bidders", 0}})}}));
}

// Rule 12: in the traditional regime a plan may charge the buyer a commission, at most S2 art
// 29's scale on the price: 5 % up to 2M CNY, 3 % of the part up to 10M, ... (each rate on its
// bracket). The online regime charges none; the sell-off none either.
TEST_F(DomainDisposalTest, Rule12TraditionalCommissionWithinTheScale) {
  const json::object trad = with(kFast, {{"regime", "traditional"}, {"buyer_premium_bp", 500}});
  // 3M CNY: 5 % would be 150,000 CNY; the scale allows 5 % of 2M + 3 % of 1M = 130,000 CNY.
  std::string id = open_case(300'000'000, trad);
  std::string sid = win_round_1(id, alice);
  EXPECT_EQ(get_settlement(sid).at("price"), 300'000'000);
  EXPECT_EQ(get_settlement(sid).at("buyer_premium"), 13'000'000);
  // 1M CNY: within the first bracket, the plan's 5 % stands (50,000 CNY).
  id = open_case(100'000'000, trad);
  sid = win_round_1(id, bob);
  EXPECT_EQ(get_settlement(sid).at("buyer_premium"), 5'000'000);
  // 3M CNY at 3 %: 90,000 CNY, under the scale's 130,000.
  id = open_case(300'000'000, with(trad, {{"buyer_premium_bp", 300}}));
  sid = win_round_1(id, bs1);
  EXPECT_EQ(get_settlement(sid).at("buyer_premium"), 9'000'000);
  h.expect_rejected(Code::bad_request, bank, "disposal.open",
                    json::serialize(open_params(pledged_asset(bank), kValuation,
                                                with(kFast, {{"buyer_premium_bp", 100}}), bank)));
  h.expect_rejected(Code::bad_request, bank, "disposal.open",
                    json::serialize(open_params(pledged_asset(bank), kValuation,
                                                with(trad, {{"buyer_premium_bp", 501}}), bank)));
}

TEST_F(DomainDisposalTest, Rule6CoOwnerHoldsAPriorityRight) {
  const std::string asset = pledged_asset(bank, kClaim, "chengdu", "electronic_information",
                                          json::array{json::string(bob)});
  const std::string id = open_case(kValuation, kFast, asset);
  const std::string a = auction_of(id);
  ASSERT_TRUE(reg(alice, a).ok());
  Outcome r = reg(bob, a);
  ASSERT_TRUE(r.ok());
  const std::string code(r.result.at("bidder_code").as_string());
  ASSERT_TRUE(bid(alice, a, 7'000'000).ok());
  ASSERT_TRUE(bid(bob, a, 7'000'000).ok());
  EXPECT_EQ(get_auction(a).at("leader"), json::value(code));
}

// ----------------------------------------------------------------------- default (rule 7)

TEST_F(DomainDisposalTest, Rule7DefaultForfeitsBarsAndReRunsTheRoundWithTheSameStart) {
  const std::string id = open_case(kValuation, with(kFast, {{"renotice_ms", 2 * kHourMs}}));
  const std::string sid = win_round_1(id, alice);
  const std::int64_t due = get_settlement(sid).at("due_at").as_int64();
  EXPECT_EQ(due, t0 + kBidMs + kDayMs);
  advance_to(due);
  EXPECT_EQ(get_settlement(sid).at("state"), "defaulted");
  EXPECT_EQ(h.cash_available(alice), kCash - 700'000);  // the deposit is forfeited
  EXPECT_EQ(h.cash_held(alice), 0);
  EXPECT_EQ(h.cash_available(bank), 700'000);  // applied to the claim
  json::object c = get_case(id);
  EXPECT_EQ(c.at("state"), "round_1");
  EXPECT_EQ(c.at("defaults"), 1);
  // The bank's figure counts the forfeit it already has, while the case is still open; the
  // lost sale is not the case's sale (no days to sale or to cash yet).
  EXPECT_EQ(c.at("recovery").at("net_to_bank"), 700'000);
  json::object row = read(bank, Method::report_disposals, ReportDisposals{})
                         .at("rows").as_array()[0].as_object();
  EXPECT_EQ(row.at("net_to_bank"), 700'000);
  EXPECT_EQ(c.at("recovery").at("hammer"), 0);  // the lost sale's price is not the case's
  EXPECT_EQ(row.at("hammer"), 0);
  EXPECT_TRUE(row.at("days_to_sale").is_null());
  EXPECT_TRUE(row.at("days_to_cash").is_null());
  ASSERT_EQ(c.at("rounds").as_array().size(), 2u);
  json::object rerun = round(id, 1);
  EXPECT_EQ(rerun.at("round"), 1);
  EXPECT_EQ(rerun.at("start_price"), 7'000'000);
  const std::string a(rerun.at("auction_id").as_string());
  EXPECT_EQ(get_auction(a).at("opens_at"), due + 2 * kHourMs);
  h.expect_rejected(Code::not_qualified, alice, "auction.register",
                    R"({"auction_id":")" + a + R"("})");
  ASSERT_TRUE(reg(bob, a).ok());
  advance_to(due + 2 * kHourMs);
  ASSERT_TRUE(bid(bob, a, 7'000'000).ok());
  advance_to(due + 2 * kHourMs + kBidMs);
  pay_and_confirm(bob, std::string(get_case(id).at("settlement_id").as_string()));
  // The claim less the forfeited deposit is what the sale may still pay the bank.
  EXPECT_EQ(h.cash_available(bank), 7'700'000);
  c = get_case(id);
  EXPECT_EQ(c.at("outcome"), "sold");
  EXPECT_EQ(c.at("recovery").at("net_to_bank"), 7'700'000);
  EXPECT_EQ(c.at("recovery").at("forfeited"), 700'000);
  const json::object report = read(bank, Method::report_disposals, ReportDisposals{});
  EXPECT_EQ(report.at("totals").at("forfeited"), 700'000);  // totals: the rows' sums
  row = report.at("rows").as_array()[0].as_object();
  const std::int64_t opened = c.at("opened_at").as_int64();
  EXPECT_DOUBLE_EQ(row.at("days_to_sale").as_double(),
                   static_cast<double>(due + 2 * kHourMs + kBidMs - opened) / kDayMs);
}

TEST_F(DomainDisposalTest, Rule7ForfeitedDepositNeverPaysTheBankBeyondItsClaim) {
  // A claim smaller than the deposit: the bank gets the claim, the rest goes to the pledgor.
  const std::string id = open_case(kValuation, kFast, pledged_asset(bank, 500'000));
  const std::string sid = win_round_1(id, alice);
  advance_to(get_settlement(sid).at("due_at").as_int64());
  EXPECT_EQ(get_settlement(sid).at("state"), "defaulted");
  EXPECT_EQ(h.cash_available(bank), 500'000);
  EXPECT_EQ(h.cash_available(pledgor), 200'000);
}

// ------------------------------------------------------------------ sell-off end (rule 11)

TEST_F(DomainDisposalTest, Rule11BackstopOfferWithTheHighestPriceBuys) {
  ASSERT_TRUE(offer(bs1, 3000, kCash).ok());
  Outcome o = offer(bs2, 4000, kCash);
  ASSERT_TRUE(o.ok()) << o.message;
  const std::string id = open_case(kValuation, kFast);
  advance_to(t0 + 2 * kBidMs + kHourMs);
  json::object c = get_case(id);
  EXPECT_EQ(c.at("state"), "settlement");
  json::object s = get_settlement(std::string(c.at("settlement_id").as_string()));
  EXPECT_EQ(s.at("buyer"), json::value(bs2));
  EXPECT_EQ(s.at("price"), 4'000'000);  // the offer's own price: 40% of the valuation
  EXPECT_EQ(s.at("state"), "paid");
  EXPECT_EQ(h.cash_held(bs2), 4'000'000);
  o = h.call(op, "settlement.confirm",
             R"({"settlement_id":")" + std::string(c.at("settlement_id").as_string()) +
                 R"(","registration_no":"CNIPA-9"})");
  ASSERT_TRUE(o.ok()) << o.message;
  c = get_case(id);
  EXPECT_EQ(c.at("state"), "closed");
  EXPECT_EQ(c.at("outcome"), "backstop");
  EXPECT_EQ(h.position(bs2, "PAT-1").units, 1);
  EXPECT_EQ(h.cash_available(bank), 4'000'000);
}

TEST_F(DomainDisposalTest, Rule11EarliestOfferWinsATie) {
  ASSERT_TRUE(offer(bs2, 4000, kCash).ok());
  ASSERT_TRUE(offer(bs1, 4000, kCash).ok());
  const std::string id = open_case(kValuation, kFast);
  advance_to(t0 + 2 * kBidMs + kHourMs);
  EXPECT_EQ(get_settlement(std::string(get_case(id).at("settlement_id").as_string())).at("buyer"),
            json::value(bs2));
}

TEST_F(DomainDisposalTest, Rule11OfferWhoseBuyerLacksTheCashIsSkipped) {
  const std::string poor = h.participant("backstop", "poor backstop");
  h.fund(poor, 3'999'999);
  ASSERT_TRUE(offer(poor, 4000, kCash).ok());
  ASSERT_TRUE(offer(bs1, 3000, kCash).ok());
  const std::string id = open_case(kValuation, kFast);
  advance_to(t0 + 2 * kBidMs + kHourMs);
  json::object s = get_settlement(std::string(get_case(id).at("settlement_id").as_string()));
  EXPECT_EQ(s.at("buyer"), json::value(bs1));
  EXPECT_EQ(s.at("price"), 3'000'000);
  EXPECT_EQ(h.cash_available(poor), 3'999'999);
}

TEST_F(DomainDisposalTest, Rule11OfferWhoseMaxAmountIsUsedUpIsSkipped) {
  ASSERT_TRUE(offer(bs2, 4000, 6'000'000).ok());
  ASSERT_TRUE(offer(bs1, 3000, kCash).ok());
  const std::string first = open_case(kValuation, kFast);
  const std::string second = open_case(kValuation, kFast);
  advance_to(t0 + 2 * kBidMs + kHourMs);
  // The first case uses 4,000,000 of bs2's 6,000,000; the second would exceed it.
  EXPECT_EQ(
      get_settlement(std::string(get_case(first).at("settlement_id").as_string())).at("buyer"),
      json::value(bs2));
  EXPECT_EQ(
      get_settlement(std::string(get_case(second).at("settlement_id").as_string())).at("buyer"),
      json::value(bs1));
}

TEST_F(DomainDisposalTest, Rule11OfferOutsideItsRegionsOrIndustriesIsSkipped) {
  ASSERT_TRUE(offer(bs2, 5000, kCash, {{"regions", json::array{"deyang"}}}).ok());
  ASSERT_TRUE(offer(bs2, 4500, kCash, {{"industries", json::array{"medicine_health"}}}).ok());
  ASSERT_TRUE(offer(bs1, 3000, kCash,
                    {{"regions", json::array{"chengdu"}},
                     {"industries", json::array{"electronic_information"}}})
                  .ok());
  const std::string id = open_case(kValuation, kFast);
  advance_to(t0 + 2 * kBidMs + kHourMs);
  EXPECT_EQ(get_settlement(std::string(get_case(id).at("settlement_id").as_string())).at("buyer"),
            json::value(bs1));
}

// Rule 11 with a pledgor that is itself a backstop buyer: its own offer is passed over (it may
// not buy its own asset, as it may not bid for it; the purchase could never be confirmed), so
// the next offer buys, or without one the asset goes in lieu.
TEST_F(DomainDisposalTest, Rule11ThePledgorsOwnBackstopOfferIsPassedOver) {
  const std::string owner = h.participant("backstop", "a backstop that pledged its patent");
  h.fund(owner, kCash);
  json::object a{{"asset_id", "PAT-OWN"},   {"kind", "invention_patent"},
                 {"title", "a patent"},     {"owner", owner},
                 {"region", "chengdu"},     {"industry", "electronic_information"},
                 {"valuation", kValuation}, {"expires_at", h.now + 3650 * kDayMs}};
  ASSERT_TRUE(h.call(op, "asset.register", json::serialize(a)).ok());
  ASSERT_TRUE(pledge("PAT-OWN", bank, kClaim, "PLG-OWN").ok());
  ASSERT_TRUE(offer(owner, 9000, kCash).ok());  // the best price, and the earliest
  json::object p = open_params("PAT-OWN", kValuation, kFast, bank);
  p["pledgor"] = owner;
  Outcome o = h.call(bank, "disposal.open", json::serialize(p));
  ASSERT_TRUE(o.ok()) << o.message;
  const std::string id(o.result.at("case_id").as_string());
  advance_to(t0 + 2 * kBidMs + kHourMs);
  const json::object c = get_case(id);
  EXPECT_EQ(c.at("state"), "closed");
  EXPECT_EQ(c.at("outcome"), "in_lieu");
  EXPECT_EQ(h.cash_available(owner), kCash);
  EXPECT_EQ(h.cash_held(owner), 0);
  EXPECT_EQ(h.position(bank, "PAT-OWN").units, 1);
  // The bank now owns it: it cannot pledge it to itself.
  h.expect_rejected(Code::invalid_state, bank, "pledge.register",
                    R"({"asset_id":"PAT-OWN","pledgee":")" + bank +
                        R"(","loan_outstanding":1000,"registration_no":"PLG-SELF"})");
}

TEST_F(DomainDisposalTest, Rule11WithoutAnOfferTheAssetGoesToThePledgeeInLieu) {
  const std::string id = open_case(kValuation, kFast);
  advance_to(t0 + 2 * kBidMs + kHourMs);
  json::object c = get_case(id);
  EXPECT_EQ(c.at("state"), "closed");
  EXPECT_EQ(c.at("outcome"), "in_lieu");
  EXPECT_EQ(c.at("recovery").at("hammer"), 0);  // not a sale: no hammer price
  EXPECT_EQ(c.at("recovery").at("net_to_bank"), std::min<std::int64_t>(5'600'000, kClaim));
  EXPECT_EQ(h.position(bank, "PAT-1").units, 1);
  EXPECT_EQ(h.position(pledgor, "PAT-1").units, 0);
}

TEST_F(DomainDisposalTest, Rule11ReleasePlanReleasesTheSeizure) {
  const std::string id = open_case(kValuation, with(kFast, {{"after_sell_off", "release"}}));
  advance_to(t0 + 2 * kBidMs + kHourMs);
  json::object c = get_case(id);
  EXPECT_EQ(c.at("state"), "closed");
  EXPECT_EQ(c.at("outcome"), "released");
  EXPECT_EQ(h.position(pledgor, "PAT-1").units, 1);
}

TEST_F(DomainDisposalTest, BackstopOfferIsForBackstopBuyersOnly) {
  h.expect_rejected(Code::forbidden, alice, "backstop.offer",
                    R"({"price_bp":4000,"max_amount":1000})");
}

// Regions are checked as everywhere else ([a-z0-9_]{1,64}): a bad one is refused, not kept
// as a region no case will ever match.
TEST_F(DomainDisposalTest, BackstopOfferRegionsAreRegions) {
  for (const char* bad : {"", "Chengdu", "bad!", "x y"}) {
    h.expect_rejected(Code::bad_request, bs1, "backstop.offer",
                      R"({"price_bp":4000,"max_amount":1000,"regions":["chengdu",")" +
                          std::string(bad) + R"("]})");
  }
  h.expect_rejected(Code::bad_request, bs1, "backstop.offer",
                    R"({"price_bp":4000,"max_amount":1000,"regions":[")" + std::string(65, 'a') +
                        R"("]})");
  EXPECT_TRUE(h.call(bs1, "backstop.offer",
                     R"({"price_bp":4000,"max_amount":1000,"regions":["chengdu",")" +
                         std::string(64, 'a') + R"("]})")
                  .ok());
}

// An offer that has already expired would never buy: refused; one expiring later is taken.
TEST_F(DomainDisposalTest, BackstopOfferExpiringNowOrBeforeIsBadRequest) {
  for (const std::int64_t at : {h.now - 1, h.now}) {
    h.expect_rejected(Code::bad_request, bs1, "backstop.offer",
                      R"({"price_bp":4000,"max_amount":1000,"expires_at":)" + std::to_string(at) + "}");
  }
  EXPECT_TRUE(h.call(bs1, "backstop.offer",
                     R"({"price_bp":4000,"max_amount":1000,"expires_at":)" + std::to_string(h.now + 1) + "}")
                  .ok());
}

// ------------------------------------------------------------------ reads and the report

TEST_F(DomainDisposalTest, GetIsForTheOperatorAndTheCasesBankOnly) {
  const std::string id = open_case();
  EXPECT_EQ(get_case(id, bank).at("case_id"), json::value(id));
  EXPECT_EQ(get_case(id, op).at("case_id"), json::value(id));
  std::vector<Push> ignored;
  Outcome o = h.domain.apply(Method::disposal_get, bank2, {}, Params{CaseRef{id}}, h.now, ignored);
  EXPECT_EQ(o.code, Code::not_found);  // another bank's case: existence is not revealed
  o = h.domain.apply(Method::disposal_get, alice, {}, Params{CaseRef{id}}, h.now, ignored);
  EXPECT_EQ(o.code, Code::forbidden);
  json::object list = read(bank2, Method::disposal_list, DisposalList{});
  EXPECT_TRUE(list.at("cases").as_array().empty());
}

TEST_F(DomainDisposalTest, ReportShowsABankOnlyItsOwnCasesWithTotalsByBankRegionIndustryMonth) {
  const std::string c1 = open_case(kValuation, kFast);
  pay_and_confirm(alice, win_round_1(c1, alice));
  advance_to(t0 + 40 * kDayMs);  // another month
  const std::string asset2 = pledged_asset(bank2, kClaim, "deyang", "medicine_health");
  Outcome o = h.call(bank2, "disposal.open",
                     json::serialize(open_params(asset2, kValuation, kFast, bank2)));
  ASSERT_TRUE(o.ok()) << o.message;

  json::object mine = read(bank, Method::report_disposals, ReportDisposals{});
  ASSERT_EQ(mine.at("rows").as_array().size(), 1u);
  json::object row = mine.at("rows").as_array()[0].as_object();
  EXPECT_EQ(row.at("case_id"), json::value(c1));
  EXPECT_EQ(row.at("outcome"), "sold");
  EXPECT_EQ(row.at("hammer"), 7'000'000);
  EXPECT_EQ(row.at("net_to_bank"), 7'000'000);
  EXPECT_DOUBLE_EQ(row.at("recovery_rate").as_double(), 0.7);
  EXPECT_EQ(mine.at("totals").at("cases"), 1);
  EXPECT_EQ(mine.at("totals").at("by_bank").as_array().size(), 1u);

  json::object all = read(op, Method::report_disposals, ReportDisposals{});
  const json::object& totals = all.at("totals").as_object();
  EXPECT_EQ(all.at("rows").as_array().size(), 2u);
  EXPECT_EQ(totals.at("cases"), 2);
  EXPECT_EQ(totals.at("sold"), 1);
  EXPECT_EQ(totals.at("claim"), 2 * kClaim);
  for (const char* key : {"by_bank", "by_region", "by_industry", "by_month"}) {
    EXPECT_EQ(totals.at(key).as_array().size(), 2u) << key;
  }
  EXPECT_EQ(totals.at("by_region").as_array()[0].at("region"), "chengdu");
  EXPECT_EQ(totals.at("by_industry").as_array()[1].at("industry"), "medicine_health");
  EXPECT_EQ(totals.at("by_month").as_array()[0].at("month"), "2025-11");
  EXPECT_EQ(totals.at("by_month").as_array()[1].at("month"), "2026-01");

  ReportDisposals deyang;
  deyang.region = "deyang";
  EXPECT_EQ(read(op, Method::report_disposals, deyang).at("rows").as_array().size(), 1u);
  // A region filter is a region: a malformed one is BAD_REQUEST, not an empty report.
  h.expect_rejected(Code::bad_request, op, "report.disposals", R"({"region":"Bad!"})");
  h.expect_rejected(Code::bad_request, op, "report.disposals",
                    R"({"region":")" + std::string(65, 'a') + R"("})");
  EXPECT_TRUE(h.call(op, "report.disposals", R"({"region":")" + std::string(64, 'a') + R"("})")
                  .result.at("rows").as_array().empty());
}

TEST_F(DomainDisposalTest, AnAssetUnderDisposalCannotBeListedOrLicensed) {
  const std::string asset = pledged_asset(bank);
  ASSERT_TRUE(
      h.call(bank, "pledge.consent", json::serialize(json::object{{"asset_id", asset}})).ok());
  open_case(kValuation, {}, asset);
  json::object p{{"lot", json::array{json::string(asset)}},
                 {"purpose", "transfer"},
                 {"format", "english"},
                 {"start_price", 1'000'000},
                 {"increment", 10'000},
                 {"deposit", 0},
                 {"opens_at", h.now},
                 {"closes_at", h.now + kDayMs}};
  h.expect_rejected(Code::invalid_state, pledgor, "auction.create", json::serialize(p));
  h.expect_rejected(Code::invalid_state, op, "auction.create", json::serialize(p));
}

TEST_F(DomainDisposalTest, ACancelledRoundIsAnnouncedAgainWithTheSameStart) {
  const std::string id = open_case(kValuation, with(kFast, {{"renotice_ms", kHourMs}}));
  const std::string a = auction_of(id);
  ASSERT_TRUE(reg(alice, a).ok());
  Outcome o =
      h.call(op, "auction.cancel", R"({"auction_id":")" + a + R"(","reason":"court order"})");
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(h.cash_held(alice), 0);
  json::object c = get_case(id);
  EXPECT_EQ(c.at("state"), "round_1");
  ASSERT_EQ(c.at("rounds").as_array().size(), 2u);
  EXPECT_EQ(round(id, 1).at("start_price"), 7'000'000);  // no cut (rule 9 is for unsold rounds)
  EXPECT_EQ(get_auction(auction_of(id)).at("opens_at"), t0 + kHourMs);
}

}  // namespace
}  // namespace ipx::engine::test

namespace ipx::engine::test {
namespace {

// ------------------------------------------- several pledges on one asset (rules 13, 14, 17)

TEST_F(DomainDisposalTest, Rule14ASecondPledgeRanksAfterTheFirstInRegistrationOrder) {
  const std::string id = pledged_asset(bank, 3'000'000);
  Outcome o = pledge(id, bank2, 2'000'000, "PLG-B2", bank2);
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(o.result.at("pledgee"), json::value(bank2));  // the new pledge, not the first
  EXPECT_EQ(o.result.at("rank"), 2);
  EXPECT_EQ(o.result.at("claim"), 2'000'000);
  EXPECT_EQ(o.result.at("asset_id"), json::value(id));
  // The same bank for another loan: a third rank.
  o = pledge(id, bank, 1'000'000, "PLG-B1-2", bank);
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(o.result.at("rank"), 3);
  Outcome a = asset_get(op, id);
  ASSERT_TRUE(a.ok()) << a.message;
  // PROTOCOL's `pledge`: the first-ranked; `pledges`: all of them, in registration order.
  EXPECT_EQ(a.result.at("pledge").at("pledgee"), json::value(bank));
  EXPECT_EQ(a.result.at("pledge").at("rank"), 1);
  const json::array all = a.result.at("pledges").as_array();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].at("registration_no"), json::value("PLG-" + id));
  EXPECT_EQ(all[1].at("registration_no"), "PLG-B2");
  EXPECT_EQ(all[2].at("registration_no"), "PLG-B1-2");
  EXPECT_EQ(all[1].at("pledgee"), json::value(bank2));
  EXPECT_EQ(all[1].at("status"), "active");
  EXPECT_EQ(all[1].at("consented"), false);
}

TEST_F(DomainDisposalTest, AssetGetIsForTheOperatorTheOwnerAndItsPledgees) {
  const std::string id = twice_pledged(3'000'000, 2'000'000);
  EXPECT_TRUE(asset_get(op, id).ok());
  EXPECT_TRUE(asset_get(pledgor, id).ok());
  EXPECT_TRUE(asset_get(bank, id).ok());
  EXPECT_TRUE(asset_get(bank2, id).ok());
  EXPECT_EQ(asset_get(alice, id).code, Code::not_found);
  EXPECT_EQ(asset_get(bs1, id).code, Code::not_found);
  EXPECT_EQ(asset_get(op, "NOPE").code, Code::not_found);
  // An asset without pledges: `pledge` null, `pledges` empty.
  json::object a{{"asset_id", "FREE-1"},
                 {"kind", "utility_model"},
                 {"title", "t"},
                 {"owner", alice},
                 {"region", "chengdu"},
                 {"industry", "other"},
                 {"valuation", kValuation},
                 {"expires_at", h.now + 365 * kDayMs}};
  Outcome r = h.call(alice, "asset.register", json::serialize(a));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_TRUE(r.result.at("pledge").is_null());
  EXPECT_TRUE(r.result.at("pledges").as_array().empty());
}

TEST_F(DomainDisposalTest, Rule14TheSameRegistrationNoTwiceOnAnAssetIsDuplicateAndChangesNothing) {
  const std::string id = pledged_asset(bank, 3'000'000);
  const std::string before = json::serialize(asset_get(op, id).result);
  json::object pl{{"asset_id", id},
                  {"pledgee", bank2},
                  {"loan_outstanding", 1'000'000},
                  {"registration_no", "PLG-" + id}};
  h.expect_rejected(Code::duplicate, bank2, "pledge.register", json::serialize(pl));
  pl["pledgee"] = bank;
  h.expect_rejected(Code::duplicate, bank, "pledge.register", json::serialize(pl));
  EXPECT_EQ(json::serialize(asset_get(op, id).result), before);
  // The number is checked per asset: another asset may carry it.
  const std::string other = pledged_asset(bank, 1'000'000);
  EXPECT_TRUE(pledge(other, bank2, 1'000'000, "PLG-" + id).ok());
}

TEST_F(DomainDisposalTest, AnAssetTakesAtMostKPledgesPerAssetMaxLivePledges) {
  const std::string id = pledged_asset(bank, 1'000'000);
  for (std::size_t i = 1; i < kPledgesPerAssetMax; ++i) {
    ASSERT_TRUE(pledge(id, i % 2 ? bank2 : bank, 1'000'000, "N-" + std::to_string(i)).ok()) << i;
  }
  ASSERT_EQ(pledges_of(id).size(), kPledgesPerAssetMax);
  const std::string before = json::serialize(asset_get(op, id).result);
  json::object pl{{"asset_id", id},
                  {"pledgee", bank2},
                  {"loan_outstanding", 1'000'000},
                  {"registration_no", "ONE-TOO-MANY"}};
  h.expect_rejected(Code::invalid_state, op, "pledge.register", json::serialize(pl));
  EXPECT_EQ(json::serialize(asset_get(op, id).result), before);
}

TEST_F(DomainDisposalTest, APledgeOnAnAssetUnderDisposalIsInvalidState) {
  const std::string id = pledged_asset(bank);
  open_case(kValuation, {}, id);
  json::object pl{{"asset_id", id},
                  {"pledgee", bank2},
                  {"loan_outstanding", 1'000'000},
                  {"registration_no", "LATE"}};
  h.expect_rejected(Code::invalid_state, bank2, "pledge.register", json::serialize(pl));
  EXPECT_EQ(pledges_of(id).size(), 1u);
}

TEST_F(DomainDisposalTest, Rule13EveryPledgeeMustConsentBeforeATraderListing) {
  const std::string id = twice_pledged(3'000'000, 2'000'000);
  const json::object listing{{"lot", json::array{json::string(id)}},
                             {"purpose", "transfer"},
                             {"format", "english"},
                             {"start_price", 1'000'000},
                             {"increment", 10'000},
                             {"deposit", 0},
                             {"opens_at", h.now},
                             {"closes_at", h.now + kDayMs}};
  h.expect_rejected(Code::invalid_state, pledgor, "auction.create", json::serialize(listing));
  // A bank without a pledge on the asset: NOT_FOUND; a trader: FORBIDDEN (as with one pledge).
  const std::string bank3 = h.participant("bank", "bank three");
  h.expect_rejected(Code::not_found, bank3, "pledge.consent",
                    json::serialize(json::object{{"asset_id", id}}));
  h.expect_rejected(Code::forbidden, pledgor, "pledge.consent",
                    json::serialize(json::object{{"asset_id", id}}));
  Outcome c1 = consent(bank, id);
  ASSERT_TRUE(c1.ok()) << c1.message;
  EXPECT_EQ(c1.result.at("pledgee"), json::value(bank));
  EXPECT_EQ(c1.result.at("consented"), true);
  // The first pledgee's consent is not enough: the second's is missing.
  h.expect_rejected(Code::invalid_state, pledgor, "auction.create", json::serialize(listing));
  Outcome c2 = consent(bank2, id);
  ASSERT_TRUE(c2.ok()) << c2.message;
  EXPECT_EQ(c2.result.at("pledgee"), json::value(bank2));
  EXPECT_EQ(c2.result.at("rank"), 2);
  for (const auto& pl : pledges_of(id)) EXPECT_EQ(pl.at("consented"), true);
  Outcome a = h.call(pledgor, "auction.create", json::serialize(listing));
  EXPECT_TRUE(a.ok()) << a.message;
}

TEST_F(DomainDisposalTest, Rule13AConsentCoversEveryPledgeOfThatBankOnTheAsset) {
  const std::string id = pledged_asset(bank, 1'000'000);
  ASSERT_TRUE(pledge(id, bank2, 1'000'000, "SECOND").ok());
  ASSERT_TRUE(pledge(id, bank, 1'000'000, "THIRD").ok());
  Outcome c = consent(bank, id);
  ASSERT_TRUE(c.ok()) << c.message;
  EXPECT_EQ(c.result.at("rank"), 1);  // the caller's first-ranked pledge
  const json::array all = pledges_of(id);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].at("consented"), true);
  EXPECT_EQ(all[1].at("consented"), false);  // bank2's own
  EXPECT_EQ(all[2].at("consented"), true);
}

// Rule 13 while a case runs: units the pledgor's market sells during the case still pay the
// pledgee first (its pledge is held by the case, not gone), and count toward the case: the
// round's sale then pays the bank only what is left of its claim, the pledgor the rest.
TEST_F(DomainDisposalTest, Rule13UnitsSoldDuringACasePayThePledgeeFirstAndCountTowardTheCase) {
  const std::string asset = pledged_asset(bank);  // claim 10,000,000
  const std::string cid = case_while_units_sell(asset, "M-P");
  EXPECT_EQ(h.cash_available(bank), 1'000'000);  // 10 units at 1,000 CNY: to the pledgee
  EXPECT_EQ(h.cash_available(pledgor), 0);
  json::object c = get_case(cid);
  EXPECT_EQ(c.at("pledges").as_array()[0].at("paid"), 1'000'000);
  EXPECT_EQ(c.at("recovery").at("net_to_bank"), 1'000'000);
  // The round sells at its start, 7,000,000: 9,000,000 remain of the claim, so all of it
  // goes to the bank, which has 8,000,000 in all, and the pledgor nothing.
  pay_and_confirm(bob, win_round_1(cid, bob));
  EXPECT_EQ(h.cash_available(bank), 8'000'000);
  EXPECT_EQ(h.cash_available(pledgor), 0);
  c = get_case(cid);
  EXPECT_EQ(c.at("pledges").as_array()[0].at("paid"), 8'000'000);
  EXPECT_EQ(c.at("recovery").at("net_to_bank"), 8'000'000);
}

// The same with a claim the units cover in part before the case's sale: the sale pays the
// bank only what remains, and the pledgor the rest.
TEST_F(DomainDisposalTest, Rule13AClaimPaidInPartByUnitsDuringACaseCapsTheCasesPayout) {
  const std::string asset = pledged_asset(bank, 7'500'000);
  const std::string cid = case_while_units_sell(asset, "M-Q");
  EXPECT_EQ(h.cash_available(bank), 1'000'000);
  pay_and_confirm(bob, win_round_1(cid, bob));  // 7,000,000: 6,500,000 to the bank
  EXPECT_EQ(h.cash_available(bank), 7'500'000);
  EXPECT_EQ(h.cash_available(pledgor), 500'000);
  EXPECT_EQ(get_case(cid).at("recovery").at("net_to_bank"), 7'500'000);
}

TEST_F(DomainDisposalTest, Rule14SoldAboveBothClaimsPaysEachInFullThenThePledgor) {
  const std::string id = twice_pledged(3'000'000, 2'000'000);
  const std::string cid = open_case(kValuation, kFast, id);
  EXPECT_EQ(get_case(cid).at("claim"), 3'000'000);  // the case's bank's claim
  pay_and_confirm(alice, win_round_1(cid, alice));  // 7,000,000
  EXPECT_EQ(h.cash_available(bank), 3'000'000);
  EXPECT_EQ(h.cash_available(bank2), 2'000'000);
  EXPECT_EQ(h.cash_available(pledgor), 2'000'000);
  json::object c = get_case(cid);
  EXPECT_EQ(c.at("outcome"), "sold");
  EXPECT_EQ(c.at("recovery").at("net_to_bank"), 3'000'000);
  EXPECT_EQ(c.at("recovery").at("recovery_rate"), 1.0);
  const json::array paid = c.at("pledges").as_array();
  ASSERT_EQ(paid.size(), 2u);
  EXPECT_EQ(paid[0].at("pledgee"), json::value(bank));
  EXPECT_EQ(paid[0].at("paid"), 3'000'000);
  EXPECT_EQ(paid[1].at("pledgee"), json::value(bank2));
  EXPECT_EQ(paid[1].at("claim"), 2'000'000);
  EXPECT_EQ(paid[1].at("paid"), 2'000'000);
  // Every payout is a transfer of the settlement: two claims (code 105) and the proceeds (103).
  int claims = 0, proceeds = 0;
  const json::object settled = get_settlement(std::string(c.at("settlement_id").as_string()));
  for (const auto& t : settled.at("transfers").as_array()) {
    claims += t.at("code") == 105;
    proceeds += t.at("code") == 103;
  }
  EXPECT_EQ(claims, 2);
  EXPECT_EQ(proceeds, 1);
  // The sale releases every pledge: the buyer's asset carries none.
  Outcome a = asset_get(op, id);
  EXPECT_EQ(a.result.at("owner"), json::value(alice));
  EXPECT_TRUE(a.result.at("pledge").is_null());
  EXPECT_TRUE(a.result.at("pledges").as_array().empty());
}

TEST_F(DomainDisposalTest, Rule14SoldBelowBothClaimsTheSecondGetsTheRestThePledgorNothing) {
  const std::string id = twice_pledged(5'000'000, 4'000'000);
  const std::string cid = open_case(kValuation, kFast, id);
  pay_and_confirm(alice, win_round_1(cid, alice));  // 7,000,000
  EXPECT_EQ(h.cash_available(bank), 5'000'000);
  EXPECT_EQ(h.cash_available(bank2), 2'000'000);
  EXPECT_EQ(h.cash_available(pledgor), 0);  // the shortfall stays a debt (rule 14)
  json::object c = get_case(cid);
  EXPECT_EQ(c.at("recovery").at("net_to_bank"), 5'000'000);
  EXPECT_EQ(c.at("pledges").as_array()[1].at("paid"), 2'000'000);
}

TEST_F(DomainDisposalTest, Rule14ExactlyTheFirstClaimPaysTheSecondNothing) {
  const std::string id = twice_pledged(7'000'000, 1'000'000);
  const std::string cid = open_case(kValuation, kFast, id);
  pay_and_confirm(alice, win_round_1(cid, alice));  // 7,000,000
  EXPECT_EQ(h.cash_available(bank), 7'000'000);
  EXPECT_EQ(h.cash_available(bank2), 0);
  EXPECT_EQ(h.cash_available(pledgor), 0);
  EXPECT_EQ(get_case(cid).at("pledges").as_array()[1].at("paid"), 0);
}

TEST_F(DomainDisposalTest, Rule14And17ACaseOfTheSecondRankedBankPaysTheFirstRankedFirst) {
  const std::string id = twice_pledged(5'000'000, 4'000'000);
  // bank2 (second rank) forecloses, with a risk fund sharing its own shortfall.
  json::object plan =
      with(kFast, {{"risk_fund", json::object{{"participant_id", fund}, {"share_bp", 5000}}}});
  Outcome o =
      h.call(bank2, "disposal.open", json::serialize(open_params(id, kValuation, plan, bank2)));
  ASSERT_TRUE(o.ok()) << o.message;
  const std::string cid(o.result.at("case_id").as_string());
  EXPECT_EQ(o.result.at("pledgee"), json::value(bank2));
  EXPECT_EQ(o.result.at("claim"), 4'000'000);  // bank2's claim
  // The first-ranked bank cannot see bank2's case, nor open one of its own on the asset now.
  h.expect_rejected(Code::not_found, bank, "disposal.get",
                    json::serialize(json::object{{"case_id", cid}}));
  h.expect_rejected(Code::invalid_state, bank, "disposal.open",
                    json::serialize(open_params(id, kValuation, kFast, bank)));
  for (const auto& pl : pledges_of(id)) EXPECT_EQ(pl.at("status"), "foreclosed");
  const std::string sid = win_round_1(cid, alice);
  pay_and_confirm(alice, sid);  // 7,000,000
  // bank (first) 5,000,000 in full; bank2 the rest, 2,000,000, and the fund half of its
  // 2,000,000 shortfall; the pledgor nothing.
  EXPECT_EQ(h.cash_available(bank), 5'000'000);
  EXPECT_EQ(h.cash_available(bank2), 2'000'000 + 1'000'000);
  EXPECT_EQ(h.cash_available(fund), kCash - 1'000'000);
  EXPECT_EQ(h.cash_available(pledgor), 0);
  json::object rec = get_case(cid, bank2).at("recovery").as_object();
  EXPECT_EQ(rec.at("net_to_bank"), 2'000'000);
  EXPECT_EQ(rec.at("fund_share"), 1'000'000);
  EXPECT_DOUBLE_EQ(rec.at("recovery_rate").as_double(), 0.75);
}

TEST_F(DomainDisposalTest, TheOperatorOpensACaseForAnyPledgeeOfTheAssetOnly) {
  const std::string id = twice_pledged(5'000'000, 4'000'000);
  const std::string bank3 = h.participant("bank", "bank three");
  h.expect_rejected(Code::not_found, op, "disposal.open",
                    json::serialize(open_params(id, kValuation, kFast, bank3)));
  // A bank opens only for itself (as with one pledge).
  h.expect_rejected(Code::not_found, bank, "disposal.open",
                    json::serialize(open_params(id, kValuation, kFast, bank2)));
  Outcome o =
      h.call(op, "disposal.open", json::serialize(open_params(id, kValuation, kFast, bank2)));
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(o.result.at("pledgee"), json::value(bank2));
  const json::array paid = o.result.at("pledges").as_array();
  ASSERT_EQ(paid.size(), 2u);
  EXPECT_EQ(paid[0].at("pledgee"), json::value(bank));  // registration order, not the case's bank
  EXPECT_EQ(paid[0].at("paid"), 0);
}

TEST_F(DomainDisposalTest, DisposalOpenNamingAnAssetTwiceIsBadRequest) {
  const std::string id = pledged_asset(bank);
  json::object p = open_params(id, kValuation, {}, bank);
  p["assets"] = json::array{json::string(id), json::string(id)};
  h.expect_rejected(Code::bad_request, bank, "disposal.open", json::serialize(p));
  // Shape before NOT_FOUND: an unknown asset named twice is BAD_REQUEST too.
  p["assets"] = json::array{"PAT-nope", "PAT-nope"};
  h.expect_rejected(Code::bad_request, bank, "disposal.open", json::serialize(p));
}

TEST_F(DomainDisposalTest, Rule14ACaseOverTwoAssetsPaysTheirPledgesInRegistrationOrder) {
  // PAT-1 pledged to bank (3,000,000), PAT-2 to bank (2,000,000); then bank2 on PAT-1
  // (4,000,000): the order is bank/PAT-1, bank/PAT-2, bank2/PAT-1.
  const std::string a1 = pledged_asset(bank, 3'000'000);
  const std::string a2 = pledged_asset(bank, 2'000'000);
  ASSERT_TRUE(pledge(a1, bank2, 4'000'000, "B2-ON-1").ok());
  json::object p = open_params(a1, kValuation, kFast, bank);
  p["assets"] = json::array{json::string(a2), json::string(a1)};
  Outcome o = h.call(bank, "disposal.open", json::serialize(p));
  ASSERT_TRUE(o.ok()) << o.message;
  const std::string cid(o.result.at("case_id").as_string());
  EXPECT_EQ(o.result.at("claim"), 5'000'000);
  const json::array order = o.result.at("pledges").as_array();
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0].at("asset_id"), json::value(a1));
  EXPECT_EQ(order[1].at("asset_id"), json::value(a2));
  EXPECT_EQ(order[2].at("pledgee"), json::value(bank2));
  pay_and_confirm(alice, win_round_1(cid, alice));  // 7,000,000
  EXPECT_EQ(h.cash_available(bank), 5'000'000);
  EXPECT_EQ(h.cash_available(bank2), 2'000'000);
  EXPECT_EQ(h.cash_available(pledgor), 0);
}

TEST_F(DomainDisposalTest, Rule7AForfeitedDepositIsPaidDownThePledgesInRegistrationOrder) {
  // Deposit 700,000: the first claim (500,000) in full, 200,000 to the second; the re-run's
  // 7,000,000 then pays the second's remaining 3,800,000 and 3,200,000 to the pledgor.
  const std::string id = twice_pledged(500'000, 4'000'000);
  const std::string cid = open_case(kValuation, kFast, id);
  const std::string sid = win_round_1(cid, alice);
  const std::int64_t due = get_settlement(sid).at("due_at").as_int64();
  advance_to(due);
  EXPECT_EQ(get_settlement(sid).at("state"), "defaulted");
  EXPECT_EQ(h.cash_available(bank), 500'000);
  EXPECT_EQ(h.cash_available(bank2), 200'000);
  EXPECT_EQ(h.cash_available(pledgor), 0);
  const std::string a = auction_of(cid);
  ASSERT_TRUE(reg(bob, a).ok());
  EXPECT_EQ(get_auction(a).at("opens_at"), due);  // at once: no renotice in the fast plan
  ASSERT_TRUE(bid(bob, a, 7'000'000).ok());
  advance_to(get_auction(a).at("closes_at").as_int64());
  pay_and_confirm(bob, std::string(get_case(cid).at("settlement_id").as_string()));
  EXPECT_EQ(h.cash_available(bank), 500'000);
  EXPECT_EQ(h.cash_available(bank2), 4'000'000);
  EXPECT_EQ(h.cash_available(pledgor), 3'200'000);
  json::object c = get_case(cid);
  EXPECT_EQ(c.at("recovery").at("net_to_bank"), 500'000);
  EXPECT_EQ(c.at("recovery").at("forfeited"), 700'000);
}

TEST_F(DomainDisposalTest, Rule11InLieuNeedsTheCasesBankToBeTheOnlyPledgeeElseItIsReleased) {
  const std::string id = twice_pledged(5'000'000, 4'000'000);
  ASSERT_TRUE(consent(bank2, id).ok());
  const std::string cid = open_case(kValuation, kFast, id);
  advance_to(t0 + 2 * kBidMs + kHourMs);
  json::object c = get_case(cid);
  EXPECT_EQ(c.at("state"), "closed");
  EXPECT_EQ(c.at("outcome"), "released");
  bool refused = false;
  for (const auto& e : c.at("timeline").as_array())
    refused = refused || e.at("event") == "in_lieu_refused";
  EXPECT_TRUE(refused);
  EXPECT_EQ(h.position(pledgor, id).units, 1);
  EXPECT_EQ(h.position(bank, id).units, 0);
  // The case's bank's pledge is released (as with one pledge); bank2's stands again, first now,
  // with its consent kept; the asset takes new pledges again.
  const json::array left = pledges_of(id);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].at("pledgee"), json::value(bank2));
  EXPECT_EQ(left[0].at("status"), "active");
  EXPECT_EQ(left[0].at("rank"), 1);
  EXPECT_EQ(left[0].at("consented"), true);
  EXPECT_TRUE(pledge(id, bank, 1'000'000, "AGAIN").ok());
}

TEST_F(DomainDisposalTest, Rule11InLieuWithSeveralPledgesOfTheCasesBankOnly) {
  const std::string id = pledged_asset(bank, 2'000'000);
  ASSERT_TRUE(pledge(id, bank, 3'000'000, "SECOND-LOAN").ok());
  const std::string cid = open_case(kValuation, kFast, id);
  EXPECT_EQ(get_case(cid).at("claim"), 5'000'000);
  advance_to(t0 + 2 * kBidMs + kHourMs);
  json::object c = get_case(cid);
  EXPECT_EQ(c.at("outcome"), "in_lieu");
  EXPECT_EQ(c.at("recovery").at("net_to_bank"), 5'000'000);  // min(5,600,000, claim)
  EXPECT_EQ(h.position(bank, id).units, 1);
  EXPECT_TRUE(pledges_of(id).empty());
}

}  // namespace
}  // namespace ipx::engine::test
