// Settlements through Domain::apply (PROTOCOL.md settlement.*, "Money flows", "Edges";
// DOMAIN.md rules 7, 8, 13, 14): delivery versus payment through escrow. Every call checks
// the ledger's invariants and that every ledger sums to zero; every refusal changes nothing.
#include "engine/ids.hpp"
#include <set>

#include "tests/engine/domain/harness.hpp"

namespace ipx::engine::test {
namespace {

constexpr std::int64_t kCash = 100'000'000;  // each buyer's funding, fen
constexpr std::int64_t kPrice = 1'000'000;   // the start: a single bid at it wins
constexpr std::int64_t kDeposit = 100'000;

json::object with(json::object p, const json::object& extra) {
  for (const auto& kv : extra) p[kv.key()] = kv.value();
  return p;
}

// An operator, a bank, a seller owning PAT-1, buyers alice and bob (funded), carol (not).
class DomainSettlementTest : public ::testing::Test {
 protected:
  Harness h;
  std::string op, bank, seller, alice, bob, carol;
  std::int64_t close_ms = 0;

  void SetUp() override {
    op = h.participant("operator", "exchange operator");
    bank = h.participant("bank", "bank");
    seller = h.participant("enterprise", "seller");
    alice = h.participant("enterprise", "alice");
    bob = h.participant("individual", "bob");
    carol = h.participant("individual", "carol");
    h.fund(alice, kCash);
    h.fund(bob, kCash);
    json::object a{{"asset_id", "PAT-1"},    {"kind", "invention_patent"},
                   {"title", "a patent"},    {"owner", seller},
                   {"region", "chengdu"},    {"industry", "other"},
                   {"valuation", 5'000'000}, {"expires_at", h.now + 3650 * kDayMs}};
    ASSERT_TRUE(h.call(op, "asset.register", json::serialize(a)).ok());
  }

  // An English auction of PAT-1 won by `buyer` at kPrice; returns the settlement id.
  std::string sold_to(const std::string& buyer, const json::object& extra = {}) {
    json::object p{{"lot", json::array{"PAT-1"}}, {"purpose", "transfer"},
                   {"format", "english"},         {"start_price", kPrice},
                   {"increment", 10'000},         {"deposit", kDeposit},
                   {"opens_at", h.now},           {"closes_at", h.now + kDayMs}};
    Outcome o = h.call(op, "auction.create", json::serialize(with(p, extra)));
    EXPECT_TRUE(o.ok()) << o.message;
    const std::string id(o.result.at("auction_id").as_string());
    close_ms = h.now + kDayMs;
    const std::string ref = R"({"auction_id":")" + id + R"("})";
    o = h.call(buyer, "auction.register", ref);
    EXPECT_TRUE(o.ok()) << o.message;
    o = h.call(buyer, "auction.bid",
               json::serialize(json::object{{"auction_id", id}, {"amount", kPrice}}));
    EXPECT_TRUE(o.ok()) << o.message;
    EXPECT_TRUE(h.advance(close_ms - h.now).ok());
    std::vector<Push> ignored;
    o = h.domain.apply(Method::auction_get, op, {}, Params{AuctionGet{id}}, h.now, ignored);
    EXPECT_EQ(o.result.at("state"), "sold");
    return std::string(o.result.at("settlement_id").as_string());
  }
  static std::string sref(const std::string& sid) {
    return R"({"settlement_id":")" + sid + R"("})";
  }
  Outcome pay(const std::string& who, const std::string& sid) {
    return h.call(who, "settlement.pay", sref(sid));
  }
  Outcome confirm(const std::string& sid) {
    return h.call(op, "settlement.confirm",
                  R"({"settlement_id":")" + sid + R"(","registration_no":"CNIPA-1"})");
  }
  json::object get(const std::string& who, const std::string& sid) {
    std::vector<Push> ignored;
    Outcome o =
        h.domain.apply(Method::settlement_get, who, {}, Params{SettlementRef{sid}}, h.now, ignored);
    EXPECT_TRUE(o.ok()) << o.message;
    return o.result;
  }
  std::int64_t fees() {
    const ledger::Account* a = h.domain.ledger().find_account(ids::kFeesCny);
    return a == nullptr ? 0 : ledger::posted_balance(*a);
  }
  void pledge(std::int64_t loan, const std::string& extra = "") {
    ASSERT_TRUE(h.call(op, "pledge.register",
                       R"({"asset_id":"PAT-1","pledgee":")" + bank + R"(","loan_outstanding":)" +
                           std::to_string(loan) + R"(,"registration_no":"PLG-1")" + extra + "}")
                    .ok());
    ASSERT_TRUE(h.call(bank, "pledge.consent", R"({"asset_id":"PAT-1"})").ok());
  }
};

TEST_F(DomainSettlementTest, OpensAwaitingPaymentWithTheWinnersDepositTowardThePrice) {
  const std::string sid = sold_to(alice, {{"buyer_premium_bp", 1000}});
  json::object s = get(alice, sid);
  EXPECT_EQ(s.at("state"), "awaiting_payment");
  EXPECT_EQ(s.at("buyer"), json::value(alice));
  EXPECT_EQ(s.at("price"), kPrice);
  EXPECT_EQ(s.at("buyer_premium"), kPrice / 10);
  EXPECT_EQ(s.at("due_at"), close_ms + 10 * kDayMs);  // the default payment deadline
  EXPECT_EQ(s.at("amount_due"), kPrice + kPrice / 10 - kDeposit);
  EXPECT_EQ(h.cash_held(alice), kDeposit);
}

TEST_F(DomainSettlementTest, PaymentMsOverridesTheDeadline) {
  const std::string sid = sold_to(alice, {{"payment_ms", 3 * kDayMs}});
  EXPECT_EQ(get(alice, sid).at("due_at"), close_ms + 3 * kDayMs);
}

// Every party sees its settlement move on its private channel: the buyer and the seller (the
// parties settlement.get answers), at each step.
TEST_F(DomainSettlementTest, BuyerAndSellerEachGetTheSettlementPushes) {
  const std::string sid = sold_to(alice);
  for (const auto& [step, state] : {std::pair<int, const char*>{0, "paid"}, {1, "confirmed"}}) {
    ASSERT_TRUE((step == 0 ? pay(alice, sid) : confirm(sid)).ok());
    for (const auto& who : {alice, seller}) {
      const auto s = h.on("private." + who, "settlement");
      ASSERT_EQ(s.size(), 1u) << who << " " << state;
      EXPECT_EQ(s[0].data.at("settlement_id"), json::value(sid));
      EXPECT_EQ(s[0].data.at("state"), state);
    }
    EXPECT_TRUE(h.on("private." + bob, "settlement").empty());
  }
}

TEST_F(DomainSettlementTest, PayMovesPricePlusPremiumLessDepositIntoCashHeld) {
  const std::string sid = sold_to(alice, {{"buyer_premium_bp", 1000}});
  Outcome r = pay(alice, sid);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("state"), "paid");
  const std::int64_t premium = kPrice / 10;
  EXPECT_EQ(h.cash_held(alice), kPrice + premium);  // deposit + payment, both in escrow
  EXPECT_EQ(h.cash_available(alice), kCash - kPrice - premium);
  EXPECT_EQ(h.cash_available(seller), 0);  // nothing paid out before confirmation (rule 8)
}

TEST_F(DomainSettlementTest, PayBeyondCashAvailableIsInsufficientFunds) {
  h.fund(carol, kDeposit + 1);
  const std::string sid = sold_to(carol);
  h.expect_rejected(Code::insufficient_funds, carol, "settlement.pay", sref(sid));
}

TEST_F(DomainSettlementTest, PayByAnotherParticipantIsNotFound) {
  const std::string sid = sold_to(alice);
  h.expect_rejected(Code::not_found, bob, "settlement.pay", sref(sid));
  std::vector<Push> ignored;
  Outcome o =
      h.domain.apply(Method::settlement_get, bob, {}, Params{SettlementRef{sid}}, h.now, ignored);
  EXPECT_EQ(o.code, Code::not_found);  // existence is not revealed
}

TEST_F(DomainSettlementTest, PayTwiceIsInvalidState) {
  const std::string sid = sold_to(alice);
  ASSERT_TRUE(pay(alice, sid).ok());
  h.expect_rejected(Code::invalid_state, alice, "settlement.pay", sref(sid));
}

TEST_F(DomainSettlementTest, PayRetriedWithTheSameRequestIdAppliesOnce) {
  const std::string sid = sold_to(alice);
  const std::string params = R"({"settlement_id":")" + sid + R"(","request_id":"pay-1"})";
  Outcome first = h.call(alice, "settlement.pay", params);
  ASSERT_TRUE(first.ok()) << first.message;
  const std::int64_t held = h.cash_held(alice);
  Outcome again = h.call(alice, "settlement.pay", params);
  EXPECT_TRUE(again.ok()) << again.message;
  EXPECT_EQ(json::serialize(again.result), json::serialize(first.result));
  EXPECT_EQ(h.cash_held(alice), held);
}

TEST_F(DomainSettlementTest, ConfirmBeforePaymentIsInvalidState) {
  const std::string sid = sold_to(alice);
  h.expect_rejected(Code::invalid_state, op, "settlement.confirm",
                    R"({"settlement_id":")" + sid + R"(","registration_no":"CNIPA-1"})");
}

TEST_F(DomainSettlementTest, ConfirmIsForOperatorsOnly) {
  const std::string sid = sold_to(alice);
  ASSERT_TRUE(pay(alice, sid).ok());
  h.expect_rejected(Code::forbidden, seller, "settlement.confirm",
                    R"({"settlement_id":")" + sid + R"(","registration_no":"CNIPA-1"})");
}

TEST_F(DomainSettlementTest, Rule8ConfirmPaysFeesAndSellerAndMovesTheTitle) {
  const std::string sid =
      sold_to(alice, {{"buyer_premium_bp", 1000}, {"seller_commission_bp", 1500}});
  EXPECT_EQ(h.position(seller, "PAT-1").units, 1);
  ASSERT_TRUE(pay(alice, sid).ok());
  Outcome r = confirm(sid);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("state"), "confirmed");
  EXPECT_EQ(r.result.at("registration_no"), "CNIPA-1");
  const std::int64_t premium = kPrice / 10, commission = kPrice * 15 / 100;
  EXPECT_EQ(fees(), premium + commission);
  EXPECT_EQ(h.cash_available(seller), kPrice - commission);
  EXPECT_EQ(h.cash_held(alice), 0);
  EXPECT_EQ(h.cash_available(alice), kCash - kPrice - premium);
  EXPECT_EQ(h.position(alice, "PAT-1"), (Harness::Position{1, 0}));
  EXPECT_EQ(h.position(seller, "PAT-1"), (Harness::Position{0, 0}));
  // Each movement once: the deposit and payment holds shown posted, not again as their
  // postings, so the buyer's cash movements sum to what it paid.
  std::int64_t held_codes = 0;
  std::set<std::string> ids;
  for (const auto& t : r.result.at("transfers").as_array()) {
    EXPECT_NE(t.at("state"), "held") << json::serialize(t);
    EXPECT_TRUE(ids.insert(std::string(t.at("id").as_string())).second) << "listed twice";
    const auto code = t.at("code").to_number<std::int64_t>();
    if (code == ids::code_deposit || code == ids::code_payment) held_codes += t.at("amount").to_number<std::int64_t>();
  }
  EXPECT_EQ(held_codes, kPrice + premium) << json::serialize(r.result.at("transfers"));
}

// PROTOCOL "Money flows": pay moves price + premium - deposit into escrow; below zero, the
// excess of the deposit comes back at pay (a failed settlement then returns the rest).
TEST_F(DomainSettlementTest, DepositAboveThePriceIsReturnedAtPay) {
  const std::string failed = sold_to(bob, {{"deposit", kPrice + 300'000}});
  ASSERT_TRUE(pay(bob, failed).ok());
  EXPECT_EQ(h.cash_held(bob), kPrice);
  EXPECT_EQ(h.cash_available(bob), kCash - kPrice);
  ASSERT_TRUE(h.call(op, "settlement.fail",
                     R"({"settlement_id":")" + failed + R"(","reason":"registry refused"})")
                  .ok());
  EXPECT_EQ(h.cash_held(bob), 0);
  EXPECT_EQ(h.cash_available(bob), kCash);
  const std::string sid = sold_to(alice, {{"deposit", kPrice + 500'000}, {"buyer_premium_bp", 1000}});
  EXPECT_EQ(get(alice, sid).at("amount_due"), 0);
  EXPECT_EQ(h.cash_held(alice), kPrice + 500'000);
  ASSERT_TRUE(pay(alice, sid).ok());
  EXPECT_EQ(h.cash_held(alice), kPrice + 100'000);  // price + premium, in escrow
  EXPECT_EQ(h.cash_available(alice), kCash - kPrice - 100'000);
  EXPECT_EQ(get(alice, sid).at("state"), "paid");
  ASSERT_TRUE(confirm(sid).ok());
  EXPECT_EQ(fees(), 100'000);
  EXPECT_EQ(h.cash_available(alice), kCash - kPrice - 100'000);
  EXPECT_EQ(h.cash_held(alice), 0);
  EXPECT_EQ(h.cash_available(seller), kPrice);
}

TEST_F(DomainSettlementTest, DepositAboveThePriceWithoutAPremiumIsRefundedAtPay) {
  const std::string sid = sold_to(alice, {{"deposit", kPrice + 500'000}});
  EXPECT_EQ(get(alice, sid).at("amount_due"), 0);
  ASSERT_TRUE(pay(alice, sid).ok());
  EXPECT_EQ(h.cash_held(alice), kPrice);
  ASSERT_TRUE(confirm(sid).ok());
  EXPECT_EQ(h.cash_available(alice), kCash - kPrice);
  EXPECT_EQ(h.cash_held(alice), 0);
  EXPECT_EQ(h.cash_available(seller), kPrice);
}

TEST_F(DomainSettlementTest, Rule14PledgeeIsPaidFirstUpToItsClaim) {
  // claim = principal + interest + penalties + costs = 400,000 fen
  pledge(300'000, R"(,"interest":50000,"penalties":20000,"costs":30000)");
  const std::string sid = sold_to(alice);
  ASSERT_TRUE(pay(alice, sid).ok());
  ASSERT_TRUE(confirm(sid).ok());
  EXPECT_EQ(h.cash_available(bank), 400'000);
  EXPECT_EQ(h.cash_available(seller), kPrice - 400'000);  // the surplus to the pledgor
  EXPECT_EQ(h.position(alice, "PAT-1").units, 1);
}

TEST_F(DomainSettlementTest, Rule14PledgeeTakesEverythingBelowItsClaim) {
  pledge(2'000'000);
  const std::string sid = sold_to(alice);
  ASSERT_TRUE(pay(alice, sid).ok());
  ASSERT_TRUE(confirm(sid).ok());
  EXPECT_EQ(h.cash_available(bank), kPrice);
  EXPECT_EQ(h.cash_available(seller), 0);
}

TEST_F(DomainSettlementTest, Rule14AVoluntarySalePaysSeveralPledgeesInRegistrationOrder) {
  pledge(300'000);  // bank, first
  const std::string bank2 = h.participant("bank", "bank two");
  ASSERT_TRUE(h.call(bank2, "pledge.register",
                     R"({"asset_id":"PAT-1","pledgee":")" + bank2 +
                         R"(","loan_outstanding":500000,"registration_no":"PLG-2"})")
                  .ok());
  ASSERT_TRUE(h.call(bank2, "pledge.consent", R"({"asset_id":"PAT-1"})").ok());
  const std::string sid = sold_to(alice);
  ASSERT_TRUE(pay(alice, sid).ok());
  ASSERT_TRUE(confirm(sid).ok());
  EXPECT_EQ(h.cash_available(bank), 300'000);
  EXPECT_EQ(h.cash_available(bank2), 500'000);
  EXPECT_EQ(h.cash_available(seller), kPrice - 800'000);
  std::vector<Push> ignored;
  Outcome a = h.domain.apply(Method::asset_get, op, {}, Params{AssetRef{"PAT-1"}}, h.now, ignored);
  ASSERT_TRUE(a.ok()) << a.message;
  EXPECT_TRUE(a.result.at("pledges").as_array().empty());  // every pledge released by the sale
}

TEST_F(DomainSettlementTest, Rule14AVoluntarySaleShortOfTheClaimsPaysTheFirstPledgeeFirst) {
  pledge(800'000);  // bank, first
  const std::string bank2 = h.participant("bank", "bank two");
  ASSERT_TRUE(h.call(bank2, "pledge.register",
                     R"({"asset_id":"PAT-1","pledgee":")" + bank2 +
                         R"(","loan_outstanding":500000,"registration_no":"PLG-2"})")
                  .ok());
  ASSERT_TRUE(h.call(bank2, "pledge.consent", R"({"asset_id":"PAT-1"})").ok());
  const std::string sid = sold_to(alice);
  ASSERT_TRUE(pay(alice, sid).ok());
  ASSERT_TRUE(confirm(sid).ok());
  EXPECT_EQ(h.cash_available(bank), 800'000);
  EXPECT_EQ(h.cash_available(bank2), kPrice - 800'000);
  EXPECT_EQ(h.cash_available(seller), 0);
}

// Rule 13 over several sales: licences leave the patent pledged, and each licence sold pays the
// pledgees first, but only what remains of their claims: over all of them a pledgee is paid
// its claim at most; a sale of the patent then pays the pledgee nothing more.
TEST_F(DomainSettlementTest, Rule13LicenceSalesPayAPledgeeItsClaimAtMostOverAll) {
  pledge(1'500'000);
  auto licence = [](const char* region) {
    return json::object{{"kind", "exclusive"}, {"territory", json::array{region}}, {"field", "x"},
                        {"term_months", 12},   {"royalty_bp", 300}};
  };
  for (const char* region : {"chengdu", "mianyang", "deyang"}) {
    const std::string sid =
        sold_to(alice, {{"purpose", "exclusive_licence"}, {"licence", licence(region)}});
    ASSERT_TRUE(pay(alice, sid).ok());
    ASSERT_TRUE(confirm(sid).ok());
  }
  EXPECT_EQ(h.cash_available(bank), 1'500'000);           // 1,000,000 + 500,000 + 0
  EXPECT_EQ(h.cash_available(seller), 3 * kPrice - 1'500'000);
  std::vector<Push> ignored;
  Outcome a = h.domain.apply(Method::asset_get, op, {}, Params{AssetRef{"PAT-1"}}, h.now, ignored);
  ASSERT_TRUE(a.ok()) << a.message;
  const json::object& pl = a.result.at("pledges").as_array().at(0).as_object();
  EXPECT_EQ(pl.at("status"), "active");  // still registered: its release is the registry's act
  EXPECT_EQ(pl.at("paid"), 1'500'000);
  // A sale of the patent itself pays the pledgee nothing more.
  const std::string sid = sold_to(bob);
  ASSERT_TRUE(pay(bob, sid).ok());
  ASSERT_TRUE(confirm(sid).ok());
  EXPECT_EQ(h.cash_available(bank), 1'500'000);
  EXPECT_EQ(h.cash_available(seller), 4 * kPrice - 1'500'000);
}

// A title is sold once: while PAT-1 is in a live auction, a case may not open on it (its
// round would sell it again) and no pledge may be registered on it (rule 13: it would be
// assigned without its pledgee's consent); a lot naming it twice is BAD_REQUEST. Each
// refusal changes nothing; once the sale is settled the asset belongs to the buyer.
TEST_F(DomainSettlementTest, AnAssetInALiveSaleTakesNoCaseNoPledgeAndNoLotTwice) {
  pledge(300'000);
  json::object p{{"lot", json::array{"PAT-1", "PAT-1"}}, {"purpose", "transfer"},
                 {"format", "english"},                   {"start_price", kPrice},
                 {"increment", 10'000},                   {"deposit", kDeposit},
                 {"opens_at", h.now},                     {"closes_at", h.now + kDayMs}};
  h.expect_rejected(Code::bad_request, op, "auction.create", json::serialize(p));
  p["lot"] = json::array{"PAT-1"};
  Outcome o = h.call(op, "auction.create", json::serialize(p));
  ASSERT_TRUE(o.ok()) << o.message;
  h.expect_rejected(Code::invalid_state, bank, "disposal.open",
                    R"({"assets":["PAT-1"],"pledgee":")" + bank + R"(","pledgor":")" + seller +
                        R"(","valuation":5000000})");
  const std::string bank2 = h.participant("bank", "bank two");
  h.expect_rejected(Code::invalid_state, bank2, "pledge.register",
                    R"({"asset_id":"PAT-1","pledgee":")" + bank2 +
                        R"(","loan_outstanding":500000,"registration_no":"PLG-2"})");
}

TEST_F(DomainSettlementTest, FailReturnsEverythingAndTheTitleStays) {
  const std::string sid = sold_to(alice, {{"buyer_premium_bp", 1000}});
  ASSERT_TRUE(pay(alice, sid).ok());
  Outcome r = h.call(op, "settlement.fail",
                     R"({"settlement_id":")" + sid + R"(","reason":"registry refused"})");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("state"), "failed");
  EXPECT_EQ(h.cash_available(alice), kCash);
  EXPECT_EQ(h.cash_held(alice), 0);
  EXPECT_EQ(h.cash_available(seller), 0);
  EXPECT_EQ(fees(), 0);
  EXPECT_EQ(h.position(seller, "PAT-1").units, 1);
  EXPECT_EQ(h.position(alice, "PAT-1").units, 0);
  h.expect_rejected(Code::invalid_state, op, "settlement.confirm",
                    R"({"settlement_id":")" + sid + R"(","registration_no":"CNIPA-1"})");
}

// Rule 15: overlapping exclusive and sole licences cannot coexist. Two overlapping licence
// listings may both be made and sold while neither is confirmed (the listing checks confirmed
// licences); the second confirmation is refused and changes nothing; the operator fails it and
// the buyer's money goes back. A licence that does not overlap (another region) is confirmed.
TEST_F(DomainSettlementTest, Rule15TheSecondOfTwoOverlappingLicenceSalesIsNotConfirmed) {
  auto licence = [](const char* kind, const char* region) {
    return json::object{{"kind", kind},     {"territory", json::array{region}}, {"field", "x"},
                        {"term_months", 12}, {"royalty_bp", 300}};
  };
  const std::string first = sold_to(
      alice, {{"purpose", "exclusive_licence"}, {"licence", licence("exclusive", "chengdu")}});
  const std::string second =
      sold_to(bob, {{"purpose", "sole_licence"}, {"licence", licence("sole", "chengdu")}});
  const std::string elsewhere =
      sold_to(bob, {{"purpose", "sole_licence"}, {"licence", licence("sole", "mianyang")}});
  for (const auto& [who, sid] : {std::pair{alice, first}, {bob, second}, {bob, elsewhere}}) {
    ASSERT_TRUE(pay(who, sid).ok());
  }
  Outcome r = confirm(first);
  ASSERT_TRUE(r.ok()) << r.message;
  const std::int64_t bob_held = h.cash_held(bob);
  h.expect_rejected(Code::invalid_state, op, "settlement.confirm",
                    R"({"settlement_id":")" + second + R"(","registration_no":"CNIPA-1"})");
  EXPECT_NE(h.call(op, "settlement.confirm",
                   R"({"settlement_id":")" + second + R"(","registration_no":"CNIPA-1"})")
                .message.find("overlaps a confirmed exclusive licence"),
            std::string::npos);
  EXPECT_EQ(get(op, second).at("state"), "paid");
  EXPECT_EQ(h.cash_held(bob), bob_held);
  r = confirm(elsewhere);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(h.cash_held(bob), bob_held - kPrice);
  r = h.call(op, "settlement.fail",
             R"({"settlement_id":")" + second + R"(","reason":"overlaps a confirmed licence"})");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(h.cash_held(bob), 0);
  EXPECT_EQ(h.cash_available(bob), kCash - kPrice);
  // The title never moved: licences are not sales of the patent.
  EXPECT_EQ(h.position(seller, "PAT-1").units, 1);
}

// Rule 15: a licence runs from its confirmation for its term, which may not run past the
// patent's expiry. The listing was checked at its creation; a confirmation late enough to
// push the end past the expiry is refused and changes nothing (the operator may fail it).
TEST_F(DomainSettlementTest, Rule15ALicenceConfirmedTooLateToEndByTheExpiryIsNotConfirmed) {
  const json::object licence{{"kind", "exclusive"}, {"territory", json::array{"chengdu"}},
                             {"field", "x"}, {"term_months", 119}, {"royalty_bp", 300}};
  const std::string late = sold_to(alice, {{"purpose", "exclusive_licence"}, {"licence", licence}});
  ASSERT_TRUE(pay(alice, late).ok());
  // 119 calendar months end ~3,622 days after the confirmation; the patent expires 3,650 days
  // after the start, and the sale closed a day after it: confirmed 61 days in, it runs past.
  ASSERT_TRUE(h.advance(60 * kDayMs).ok());
  const std::int64_t held = h.cash_held(alice);
  Outcome r = h.call(op, "settlement.confirm",
                     R"({"settlement_id":")" + late + R"(","registration_no":"CNIPA-1"})");
  EXPECT_EQ(r.code, Code::invalid_state);
  EXPECT_NE(r.message.find("runs past the expiry"), std::string::npos) << r.message;
  EXPECT_EQ(get(op, late).at("state"), "paid");
  EXPECT_EQ(h.cash_held(alice), held);
  EXPECT_EQ(h.cash_available(seller), 0);
  // Confirmed in time (an earlier sale of the same kind): accepted.
  const std::string early = sold_to(bob, {{"purpose", "exclusive_licence"},
                                         {"licence", json::object{{"kind", "exclusive"},
                                                                  {"territory", json::array{"deyang"}},
                                                                  {"field", "x"},
                                                                  {"term_months", 116},
                                                                  {"royalty_bp", 300}}}});
  ASSERT_TRUE(pay(bob, early).ok());
  r = confirm(early);
  EXPECT_TRUE(r.ok()) << r.message;
}

TEST_F(DomainSettlementTest, FailBeforePaymentReturnsTheDeposit) {
  const std::string sid = sold_to(alice);
  ASSERT_TRUE(
      h.call(op, "settlement.fail", R"({"settlement_id":")" + sid + R"(","reason":"x"})").ok());
  EXPECT_EQ(h.cash_available(alice), kCash);
  EXPECT_EQ(h.cash_held(alice), 0);
}

TEST_F(DomainSettlementTest, Rule7UnpaidAtDueAtDefaultsAndTheDepositIsForfeited) {
  const std::string sid = sold_to(alice);
  ASSERT_TRUE(h.advance(close_ms + 10 * kDayMs - 1 - h.now).ok());
  EXPECT_EQ(get(alice, sid).at("state"), "awaiting_payment");
  ASSERT_TRUE(h.advance(1).ok());
  EXPECT_EQ(get(alice, sid).at("state"), "defaulted");
  EXPECT_EQ(h.cash_held(alice), 0);
  EXPECT_EQ(h.cash_available(alice), kCash - kDeposit);
  EXPECT_EQ(h.cash_available(seller), kDeposit);  // no case: the deposit goes to the seller
  EXPECT_EQ(h.position(seller, "PAT-1").units, 1);
  h.expect_rejected(Code::invalid_state, alice, "settlement.pay", sref(sid));
}

TEST_F(DomainSettlementTest, Rule7DueAtCountsFromClosesAtHoweverFarTimeJumps) {
  json::object p{{"lot", json::array{"PAT-1"}}, {"purpose", "transfer"},      {"format", "english"},
                 {"start_price", kPrice},       {"increment", 10'000},        {"deposit", kDeposit},
                 {"opens_at", h.now},           {"closes_at", h.now + kDayMs}};
  Outcome o = h.call(op, "auction.create", json::serialize(p));
  const std::string id(o.result.at("auction_id").as_string());
  const std::int64_t close = h.now + kDayMs;
  ASSERT_TRUE(h.call(alice, "auction.register", R"({"auction_id":")" + id + R"("})").ok());
  ASSERT_TRUE(
      h.call(alice, "auction.bid", R"({"auction_id":")" + id + R"(","amount":1000000})").ok());
  ASSERT_TRUE(h.advance(30 * kDayMs).ok());  // one jump past the close and the deadline
  std::vector<Push> ignored;
  o = h.domain.apply(Method::auction_get, op, {}, Params{AuctionGet{id}}, h.now, ignored);
  json::object s = get(op, std::string(o.result.at("settlement_id").as_string()));
  EXPECT_EQ(s.at("due_at"), close + 10 * kDayMs);
  EXPECT_EQ(s.at("state"), "defaulted");
}

TEST_F(DomainSettlementTest, PartiesAndOperatorReadTheSettlement) {
  const std::string sid = sold_to(alice);
  EXPECT_EQ(get(seller, sid).at("settlement_id"), json::value(sid));
  EXPECT_EQ(get(op, sid).at("settlement_id"), json::value(sid));
  EXPECT_EQ(get(alice, sid).at("settlement_id"), json::value(sid));
}

}  // namespace
}  // namespace ipx::engine::test
