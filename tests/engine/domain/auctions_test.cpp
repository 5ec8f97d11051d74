// Auctions through Domain::apply, as a client drives them (PROTOCOL.md auction.*, "Money
// flows", "Defaults", "Edges and precedence"; DOMAIN.md rules 3-6, 16). Every call checks the
// ledger's invariants and that every ledger sums to zero (Harness::check_ledger_each_call);
// every refusal is checked to change nothing and push nothing (Harness::expect_rejected).
#include "tests/engine/domain/harness.hpp"

namespace ipx::engine::test {
namespace {

constexpr std::int64_t kMinMs = 60'000;
constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kCash = 100'000'000;  // each bidder's funding, fen (1M CNY)
constexpr std::int64_t kStart = 1'000'000;   // fen
constexpr std::int64_t kStep = 10'000;
constexpr std::int64_t kDeposit = 100'000;

json::object with(json::object p, const json::object& extra) {
  for (const auto& kv : extra) p[kv.key()] = kv.value();
  return p;
}

// An operator, a seller owning PAT-1, and bidders alice, bob and carol, funded.
class DomainAuctionTest : public ::testing::Test {
 protected:
  Harness h;
  std::string op, seller, alice, bob, carol;
  std::int64_t t0 = 0;

  void SetUp() override {
    op = h.participant("operator", "exchange operator");
    seller = h.participant("enterprise", "seller");
    alice = h.participant("enterprise", "alice");
    bob = h.participant("individual", "bob");
    carol = h.participant("individual", "carol");
    for (const auto& p : {alice, bob, carol}) h.fund(p, kCash);
    json::object a{{"asset_id", "PAT-1"},    {"kind", "invention_patent"},
                   {"title", "a patent"},    {"owner", seller},
                   {"region", "chengdu"},    {"industry", "other"},
                   {"valuation", 5'000'000}, {"expires_at", h.now + 3650 * kDayMs}};
    ASSERT_TRUE(h.call(op, "asset.register", json::serialize(a)).ok());
    t0 = h.now;
  }

  // An English auction of PAT-1 open now for a day, unless `extra` says otherwise.
  std::string create(const json::object& extra = {}) {
    json::object p{{"lot", json::array{"PAT-1"}}, {"purpose", "transfer"},
                   {"format", "english"},         {"start_price", kStart},
                   {"increment", kStep},          {"deposit", kDeposit},
                   {"opens_at", h.now},           {"closes_at", h.now + kDayMs}};
    Outcome o = h.call(op, "auction.create", json::serialize(with(p, extra)));
    EXPECT_TRUE(o.ok()) << o.message;
    return o.ok() ? std::string(o.result.at("auction_id").as_string()) : std::string();
  }
  std::int64_t closes_at(const std::string& id) { return get(op, id).at("closes_at").as_int64(); }
  bool get_asset_open_licence(const std::string& id) {
    Outcome o = h.call(op, "asset.get", R"({"asset_id":")" + id + R"("})");
    return o.ok() && o.result.at("open_licence").as_bool();
  }

  static std::string ref(const std::string& id) { return R"({"auction_id":")" + id + R"("})"; }
  static std::string amount(const std::string& id, std::int64_t v, const char* field = "amount") {
    return json::serialize(json::object{{"auction_id", id}, {field, v}});
  }
  std::string reg(const std::string& who, const std::string& id) {
    Outcome o = h.call(who, "auction.register", ref(id));
    EXPECT_TRUE(o.ok()) << o.message;
    return o.ok() ? std::string(o.result.at("bidder_code").as_string()) : std::string();
  }
  Outcome bid(const std::string& who, const std::string& id, std::int64_t v) {
    return h.call(who, "auction.bid", amount(id, v));
  }
  json::object get(const std::string& who, const std::string& id) {
    std::vector<Push> ignored;
    Outcome o =
        h.domain.apply(Method::auction_get, who, {}, Params{AuctionGet{id}}, h.now, ignored);
    EXPECT_TRUE(o.ok()) << o.message;
    return o.result;
  }
  json::object settlement(const std::string& who, const std::string& sid) {
    std::vector<Push> ignored;
    Outcome o =
        h.domain.apply(Method::settlement_get, who, {}, Params{SettlementRef{sid}}, h.now, ignored);
    EXPECT_TRUE(o.ok()) << o.message;
    return o.result;
  }
  void advance_to(std::int64_t at) { ASSERT_TRUE(h.advance(at - h.now).ok()); }
};

// ------------------------------------------------------------------------------- english

TEST_F(DomainAuctionTest, EnglishSoldToTheHighestBidderAtClose) {
  const std::string id = create();
  EXPECT_EQ(get(op, id).at("state"), "open");
  const std::string a = reg(alice, id), b = reg(bob, id);
  ASSERT_TRUE(bid(alice, id, kStart).ok());
  Outcome r = bid(bob, id, kStart + kStep);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("leader"), json::value(b));
  EXPECT_EQ(r.result.at("min_next_bid"), kStart + 2 * kStep);
  EXPECT_EQ(r.result.at("closes_at"), t0 + kDayMs);
  ASSERT_TRUE(bid(alice, id, kStart + 3 * kStep).ok());
  json::object g = get(bob, id);
  EXPECT_EQ(g.at("price"), kStart + 3 * kStep);
  EXPECT_EQ(g.at("leader"), json::value(a));
  EXPECT_EQ(g.at("bids"), 3);
  advance_to(t0 + kDayMs);
  g = get(bob, id);
  EXPECT_EQ(g.at("state"), "sold");
  EXPECT_EQ(g.at("winner"), json::value(a));
  EXPECT_EQ(g.at("price"), kStart + 3 * kStep);
  ASSERT_TRUE(g.at("settlement_id").is_string());
  json::object s = settlement(alice, std::string(g.at("settlement_id").as_string()));
  EXPECT_EQ(s.at("state"), "awaiting_payment");
  EXPECT_EQ(s.at("buyer"), json::value(alice));
  EXPECT_EQ(s.at("price"), kStart + 3 * kStep);
}

TEST_F(DomainAuctionTest, Rule4FirstBidBelowStartIsBidTooLow) {
  const std::string id = create();
  reg(alice, id);
  h.expect_rejected(Code::bid_too_low, alice, "auction.bid", amount(id, kStart - kStep));
}

TEST_F(DomainAuctionTest, Rule4OffGridBidIsBadPrice) {
  const std::string id = create();
  reg(alice, id);
  reg(bob, id);
  ASSERT_TRUE(bid(alice, id, kStart).ok());
  h.expect_rejected(Code::bad_price, bob, "auction.bid", amount(id, kStart + kStep + 1));
  // BID_TOO_LOW comes before BAD_PRICE (PROTOCOL "Edges").
  h.expect_rejected(Code::bid_too_low, bob, "auction.bid", amount(id, kStart + 1));
}

TEST_F(DomainAuctionTest, Rule4LeaderMayNotRaiseItsOwnBid) {
  const std::string id = create();
  reg(alice, id);
  ASSERT_TRUE(bid(alice, id, kStart).ok());
  h.expect_rejected(Code::already_leading, alice, "auction.bid", amount(id, kStart + kStep));
}

TEST_F(DomainAuctionTest, Rule5SoftCloseExtendsRepeatedly) {
  const std::string id = create({{"extend_window_ms", 5 * kMinMs}, {"extend_by_ms", 5 * kMinMs}});
  const std::int64_t close = t0 + kDayMs;
  reg(alice, id);
  const std::string b = reg(bob, id);
  Outcome r = h.call_at(close - 4 * kMinMs, alice, "auction.bid", amount(id, kStart));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("closes_at"), close + kMinMs);
  EXPECT_EQ(h.on("auction." + id, "extension").size(), 1u);
  r = h.call_at(close + 30'000, bob, "auction.bid", amount(id, kStart + kStep));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("closes_at"), close + 30'000 + 5 * kMinMs);
  advance_to(close + 5 * kMinMs);
  EXPECT_EQ(get(op, id).at("state"), "open");
  advance_to(close + 30'000 + 5 * kMinMs);
  EXPECT_EQ(get(op, id).at("state"), "sold");
  EXPECT_EQ(get(op, id).at("winner"), json::value(b));
}

// PROTOCOL: ids are 1-64 characters and texts up to 256: characters, not UTF-8 bytes.
TEST_F(DomainAuctionTest, LengthLimitsCountCharactersNotBytes) {
  auto asset = [&](const std::string& id, const std::string& title) {
    json::object a{{"asset_id", id},          {"kind", "invention_patent"},
                   {"title", title},          {"owner", seller},
                   {"region", "chengdu"},     {"industry", "other"},
                   {"valuation", 5'000'000}, {"expires_at", h.now + 3650 * kDayMs}};
    return json::serialize(a);
  };
  auto cjk = [](std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += "\xe4\xb8\x93";  // one 3-byte character
    return s;
  };
  EXPECT_TRUE(h.call(op, "asset.register", asset(cjk(64), cjk(256))).ok());
  h.expect_rejected(Code::bad_request, op, "asset.register", asset(cjk(65), "t"));
  h.expect_rejected(Code::bad_request, op, "asset.register", asset("X-65", cjk(257)));
}

// A window without extend_by_ms extends by rule 5's 5 minutes.
TEST_F(DomainAuctionTest, Rule5WindowWithoutExtendByExtendsByFiveMinutes) {
  const std::string id = create({{"extend_window_ms", 2 * kMinMs}});
  reg(alice, id);
  Outcome r = h.call_at(t0 + kDayMs - kMinMs, alice, "auction.bid", amount(id, kStart));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("closes_at"), t0 + kDayMs - kMinMs + 5 * kMinMs);
}

TEST_F(DomainAuctionTest, Rule5BidBeforeTheWindowDoesNotExtend) {
  const std::string id = create({{"extend_window_ms", 5 * kMinMs}, {"extend_by_ms", 5 * kMinMs}});
  reg(alice, id);
  Outcome r = h.call_at(t0 + kDayMs - 5 * kMinMs - 1, alice, "auction.bid", amount(id, kStart));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("closes_at"), t0 + kDayMs);
  EXPECT_TRUE(h.on("auction." + id, "extension").empty());
}

TEST_F(DomainAuctionTest, WithoutExtendWindowHasNoSoftClose) {
  const std::string id = create();
  reg(alice, id);
  Outcome r = h.call_at(t0 + kDayMs - 1, alice, "auction.bid", amount(id, kStart));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("closes_at"), t0 + kDayMs);
}

TEST_F(DomainAuctionTest, ClosesAtExactlyClosesAt) {
  const std::string id = create();
  reg(alice, id);
  reg(bob, id);
  ASSERT_TRUE(h.call_at(t0 + kDayMs - 1, alice, "auction.bid", amount(id, kStart)).ok());
  Outcome r = h.call_at(t0 + kDayMs, bob, "auction.bid", amount(id, kStart + kStep));
  EXPECT_EQ(r.code, Code::auction_closed) << r.message;
  json::object g = get(op, id);
  EXPECT_EQ(g.at("state"), "sold");
  EXPECT_EQ(g.at("price"), kStart);
  const std::string sid(g.at("settlement_id").as_string());
  // What follows a close counts from closes_at: payment due 10 days after it.
  EXPECT_EQ(settlement(op, sid).at("due_at"), t0 + kDayMs + 10 * kDayMs);
}

TEST_F(DomainAuctionTest, BidBeforeOpensAtIsAuctionNotOpen) {
  const std::string id = create({{"opens_at", t0 + kHourMs}, {"closes_at", t0 + kDayMs}});
  EXPECT_EQ(get(op, id).at("state"), "scheduled");
  reg(alice, id);  // registering ahead of the opening is allowed (deposit first, rule 3)
  h.expect_rejected(Code::auction_not_open, alice, "auction.bid", amount(id, kStart));
  advance_to(t0 + kHourMs);
  EXPECT_EQ(get(op, id).at("state"), "open");
  EXPECT_TRUE(bid(alice, id, kStart).ok());
}

TEST_F(DomainAuctionTest, ProxyBidsTheMinimumNeeded) {
  const std::string id = create();
  const std::string a = reg(alice, id);
  reg(bob, id);
  Outcome r = h.call(alice, "auction.proxy", amount(id, kStart + 5 * kStep, "max_amount"));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("amount"), kStart);  // the first bid is the start
  EXPECT_EQ(r.result.at("leader"), json::value(a));
  ASSERT_TRUE(bid(bob, id, kStart + kStep).ok());
  // Two bid pushes, each with the auction as that bid left it: bob's, then the proxy's answer.
  const auto pushes = h.on("auction." + id, "bid");
  ASSERT_EQ(pushes.size(), 2u);
  const json::object& first = pushes[0].data;
  EXPECT_EQ(first.at("amount"), kStart + kStep);
  EXPECT_EQ(first.at("proxy"), false);
  EXPECT_EQ(first.at("bids"), 2);
  EXPECT_EQ(first.at("price"), kStart + kStep);
  EXPECT_NE(first.at("leader"), json::value(a));
  EXPECT_EQ(first.at("min_next_bid"), kStart + 2 * kStep);
  const json::object& second = pushes[1].data;
  EXPECT_EQ(second.at("amount"), kStart + 2 * kStep);
  EXPECT_EQ(second.at("proxy"), true);
  EXPECT_EQ(second.at("bids"), 3);
  EXPECT_EQ(second.at("price"), kStart + 2 * kStep);
  EXPECT_EQ(second.at("leader"), json::value(a));
  EXPECT_EQ(second.at("min_next_bid"), kStart + 3 * kStep);
  json::object g = get(op, id);
  EXPECT_EQ(g.at("price"), kStart + 2 * kStep);  // the proxy answered with one step
  EXPECT_EQ(g.at("leader"), json::value(a));
  EXPECT_EQ(g.at("bids"), 3);
  // Beyond the proxy's maximum: bob leads.
  ASSERT_TRUE(bid(bob, id, kStart + 6 * kStep).ok());
  EXPECT_NE(get(op, id).at("leader"), json::value(a));
  advance_to(t0 + kDayMs);
  EXPECT_EQ(get(op, id).at("price"), kStart + 6 * kStep);
}

TEST_F(DomainAuctionTest, Rule6PriorityHolderWinsATie) {
  const std::string id = create(
      {{"priority_holders", json::array{json::object{{"participant_id", carol}, {"rank", 1}}}}});
  reg(alice, id);
  const std::string c = reg(carol, id);
  ASSERT_TRUE(bid(alice, id, kStart).ok());
  Outcome r = bid(carol, id, kStart);  // the same amount as the standing high bid
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("leader"), json::value(c));
  // Alice must go higher; carol may match again.
  ASSERT_TRUE(bid(alice, id, kStart + kStep).ok());
  ASSERT_TRUE(bid(carol, id, kStart + kStep).ok());
  advance_to(t0 + kDayMs);
  json::object g = get(op, id);
  EXPECT_EQ(g.at("winner"), json::value(c));
  EXPECT_EQ(g.at("price"), kStart + kStep);
}

TEST_F(DomainAuctionTest, Rule6HigherRankedHolderBeatsLower) {
  const std::string id = create(
      {{"priority_holders", json::array{json::object{{"participant_id", carol}, {"rank", 1}},
                                        json::object{{"participant_id", bob}, {"rank", 2}}}}});
  reg(bob, id);
  const std::string c = reg(carol, id);
  ASSERT_TRUE(bid(bob, id, kStart).ok());
  ASSERT_TRUE(bid(carol, id, kStart).ok());
  EXPECT_EQ(get(op, id).at("leader"), json::value(c));
  // The lower-ranked holder may not take the lead back at the same amount.
  h.expect_rejected(Code::bid_too_low, bob, "auction.bid", amount(id, kStart));
}

// Rule 6 names co-owners as the holders of priority purchase rights: in a sale of a co-owned
// patent's title they hold them without the listing saying so (as in a disposal round); a
// listing that names its holders keeps its own list; a licence sale has none.
TEST_F(DomainAuctionTest, Rule6CoOwnersHoldPriorityInASaleOfTheTitle) {
  json::object a{{"asset_id", "PAT-CO"},   {"kind", "invention_patent"},
                 {"title", "co-owned"},    {"owner", seller},
                 {"co_owners", json::array{carol, bob}},
                 {"region", "chengdu"},    {"industry", "other"},
                 {"valuation", 5'000'000}, {"expires_at", h.now + 3650 * kDayMs}};
  ASSERT_TRUE(h.call(op, "asset.register", json::serialize(a)).ok());
  const json::array lot{"PAT-CO"};
  const std::string sale = create({{"lot", lot}});
  reg(alice, sale);
  reg(bob, sale);
  const std::string c = reg(carol, sale);
  ASSERT_TRUE(bid(alice, sale, kStart).ok());
  Outcome r = bid(carol, sale, kStart);  // a co-owner matches the standing bid
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("leader"), json::value(c));
  h.expect_rejected(Code::bid_too_low, bob, "auction.bid", amount(sale, kStart));  // rank 2
  // Named holders replace the default; a licence listing has none.
  const std::string named = create(
      {{"lot", lot}, {"purpose", "exclusive_licence"},
       {"licence", json::object{{"kind", "exclusive"}, {"territory", json::array{"chengdu"}},
                                {"field", "x"}, {"term_months", 12}}},
       {"priority_holders", json::array{json::object{{"participant_id", alice}, {"rank", 1}}}}});
  reg(bob, named);
  reg(carol, named);
  const std::string al = reg(alice, named);
  ASSERT_TRUE(bid(bob, named, kStart).ok());
  h.expect_rejected(Code::bid_too_low, carol, "auction.bid", amount(named, kStart));
  r = bid(alice, named, kStart);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("leader"), json::value(al));
  const std::string licence = create(
      {{"lot", lot}, {"purpose", "sole_licence"},
       {"licence", json::object{{"kind", "sole"}, {"territory", json::array{"deyang"}},
                                {"field", "x"}, {"term_months", 12}}}});
  reg(alice, licence);
  reg(carol, licence);
  ASSERT_TRUE(bid(alice, licence, kStart).ok());
  h.expect_rejected(Code::bid_too_low, carol, "auction.bid", amount(licence, kStart));
}

TEST_F(DomainAuctionTest, NonHolderMayNotMatchTheHighBid) {
  const std::string id = create();
  reg(alice, id);
  reg(bob, id);
  ASSERT_TRUE(bid(alice, id, kStart).ok());
  h.expect_rejected(Code::bid_too_low, bob, "auction.bid", amount(id, kStart));
}

// --------------------------------------------------------------------------------- dutch

TEST_F(DomainAuctionTest, DutchAcceptBuysAtTheClockPrice) {
  const std::string id = create(
      {{"format", "dutch"},
       {"dutch",
        json::object{{"decrement", 100'000}, {"interval_ms", kHourMs}, {"floor", 500'000}}}});
  const std::string a = reg(alice, id);
  EXPECT_EQ(get(op, id).at("price"), kStart);
  advance_to(t0 + 2 * kHourMs + kMinMs);
  EXPECT_EQ(get(op, id).at("price"), 800'000);
  Outcome r = h.call(alice, "auction.accept", ref(id));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("price"), 800'000);
  json::object g = get(op, id);
  EXPECT_EQ(g.at("state"), "sold");
  EXPECT_EQ(g.at("winner"), json::value(a));
  json::object s = settlement(alice, std::string(g.at("settlement_id").as_string()));
  EXPECT_EQ(s.at("price"), 800'000);
  EXPECT_EQ(s.at("due_at"), t0 + 2 * kHourMs + kMinMs + 10 * kDayMs);
  // It closed at the accept, a day before its scheduled close: closes_at says so, and the
  // payment deadline counts from it (PROTOCOL "Edges").
  EXPECT_EQ(g.at("closes_at"), t0 + 2 * kHourMs + kMinMs);
  EXPECT_EQ(s.at("due_at").as_int64() - g.at("closes_at").as_int64(), 10 * kDayMs);
}

TEST_F(DomainAuctionTest, DutchUnsoldWhenTheFloorStandsOneInterval) {
  const std::string id = create(
      {{"format", "dutch"},
       {"dutch",
        json::object{{"decrement", 100'000}, {"interval_ms", kHourMs}, {"floor", 500'000}}}});
  reg(alice, id);
  advance_to(t0 + 5 * kHourMs);
  EXPECT_EQ(get(op, id).at("price"), 500'000);
  EXPECT_EQ(get(op, id).at("state"), "open");
  advance_to(t0 + 6 * kHourMs);
  EXPECT_EQ(get(op, id).at("state"), "unsold");
  EXPECT_EQ(get(op, id).at("closes_at"), t0 + 6 * kHourMs);  // when it closed, not the day's end
  EXPECT_EQ(h.cash_held(alice), 0);  // the deposit went back at close
}

// -------------------------------------------------------------------------------- sealed

TEST_F(DomainAuctionTest, SealedHidesPriceLeaderAndMinNextBidUntilClose) {
  const std::string id = create({{"format", "sealed_first"}});
  reg(alice, id);
  reg(bob, id);
  Outcome r = bid(alice, id, 1'234'567);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.size(), 3u);  // auction_id, amount, ts only
  EXPECT_FALSE(r.result.contains("leader"));
  for (const auto& push : h.on("auction." + id, "bid")) {
    EXPECT_FALSE(push.data.contains("amount"));
    EXPECT_FALSE(push.data.contains("leader"));
  }
  ASSERT_TRUE(bid(bob, id, 1'100'000).ok());
  for (const auto& who : {op, alice, bob, carol, std::string("admin")}) {
    json::object g = get(who, id);
    EXPECT_TRUE(g.at("price").is_null()) << who;
    EXPECT_TRUE(g.at("leader").is_null()) << who;
    EXPECT_TRUE(g.at("min_next_bid").is_null()) << who;
    EXPECT_EQ(g.at("bids"), 2) << who;
  }
}

TEST_F(DomainAuctionTest, SealedFirstPricePaysItsBid) {
  const std::string id = create({{"format", "sealed_first"}});
  const std::string a = reg(alice, id);
  reg(bob, id);
  ASSERT_TRUE(bid(alice, id, 1'234'567).ok());
  ASSERT_TRUE(bid(bob, id, 1'100'000).ok());
  advance_to(t0 + kDayMs);
  json::object g = get(bob, id);
  EXPECT_EQ(g.at("state"), "sold");
  EXPECT_EQ(g.at("winner"), json::value(a));
  EXPECT_EQ(g.at("price"), 1'234'567);
}

TEST_F(DomainAuctionTest, SealedSecondPricePaysTheSecondHighestBid) {
  const std::string id = create({{"format", "sealed_second"}});
  reg(alice, id);
  const std::string b = reg(bob, id);
  reg(carol, id);
  ASSERT_TRUE(bid(alice, id, 1'200'000).ok());
  ASSERT_TRUE(bid(bob, id, 1'500'000).ok());
  ASSERT_TRUE(bid(carol, id, 1'050'000).ok());
  advance_to(t0 + kDayMs);
  json::object g = get(op, id);
  EXPECT_EQ(g.at("winner"), json::value(b));
  EXPECT_EQ(g.at("price"), 1'200'000);
  json::object s = settlement(bob, std::string(g.at("settlement_id").as_string()));
  EXPECT_EQ(s.at("price"), 1'200'000);
}

// A close below the reserve is unsold: no winner, and no clearing price (PROTOCOL: `price`
// after close is the clearing price), whether the reserve was shown or hidden. Before the
// close, `price` is the standing high bid as usual.
TEST_F(DomainAuctionTest, AnUnsoldCloseHasNoPrice) {
  for (const bool hidden : {false, true}) {
    json::object extra{{"reserve", kStart + 10 * kStep}};
    if (hidden) extra["hidden_reserve"] = true;
    const std::string id = create(extra);
    reg(alice, id);
    ASSERT_TRUE(bid(alice, id, kStart).ok());
    EXPECT_EQ(get(op, id).at("price"), kStart) << hidden;
    advance_to(closes_at(id));
    const json::object g = get(op, id);
    EXPECT_EQ(g.at("state"), "unsold") << hidden;
    EXPECT_TRUE(g.at("price").is_null()) << hidden;
    EXPECT_TRUE(g.at("winner").is_null()) << hidden;
    EXPECT_TRUE(g.at("settlement_id").is_null()) << hidden;
  }
}

TEST_F(DomainAuctionTest, SealedSecondPriceSingleBidPaysTheReserve) {
  const std::string id = create({{"format", "sealed_second"}, {"reserve", 1'100'000}});
  reg(alice, id);
  ASSERT_TRUE(bid(alice, id, 1'300'000).ok());
  advance_to(t0 + kDayMs);
  EXPECT_EQ(get(op, id).at("price"), 1'100'000);  // max(second, reserve, start)
}

// Rule 2: one qualified bidder is enough by default; an auction may require more
// (min_bidders). With fewer registered at the close it is unsold, whatever was bid: no winner,
// no settlement, every deposit released. Bounds and formats are checked.
TEST_F(DomainAuctionTest, Rule2MinBiddersUnmetClosesUnsold) {
  const std::string a = create({{"min_bidders", 2}});
  EXPECT_EQ(get(op, a).at("min_bidders"), 2);
  reg(alice, a);
  ASSERT_TRUE(bid(alice, a, kStart).ok());
  advance_to(closes_at(a));
  json::object v = get(op, a);
  EXPECT_EQ(v.at("state"), "unsold");
  EXPECT_TRUE(v.at("winner").is_null());
  EXPECT_TRUE(v.at("price").is_null());
  EXPECT_TRUE(v.at("settlement_id").is_null());
  EXPECT_EQ(h.cash_available(alice), kCash);  // the deposit is released
  EXPECT_EQ(h.cash_held(alice), 0);
  // Two registered: sold, though only one bid.
  const std::string b = create({{"min_bidders", 2}});
  reg(alice, b);
  reg(bob, b);
  ASSERT_TRUE(bid(alice, b, kStart).ok());
  advance_to(closes_at(b));
  EXPECT_EQ(get(op, b).at("state"), "sold");
  // (The default, one, sells to a single bidder: the English tests above.)
  // Bounds: 1 to 100; more than 1 only where bids compete (not dutch, not fixed price).
  for (const json::value& bad : {json::value(0), json::value(101), json::value("2")}) {
    json::object p{{"lot", json::array{"PAT-1"}}, {"purpose", "transfer"},
                   {"format", "english"},         {"start_price", kStart},
                   {"increment", kStep},          {"deposit", kDeposit},
                   {"opens_at", h.now},           {"closes_at", h.now + kDayMs},
                   {"min_bidders", bad}};
    h.expect_rejected(Code::bad_request, op, "auction.create", json::serialize(p));
  }
  json::object fixed{{"lot", json::array{"PAT-1"}}, {"purpose", "transfer"},
                     {"format", "fixed_price"},     {"start_price", kStart},
                     {"increment", kStep},          {"deposit", kDeposit},
                     {"opens_at", h.now},           {"closes_at", h.now + kDayMs},
                     {"min_bidders", 2}};
  h.expect_rejected(Code::bad_request, op, "auction.create", json::serialize(fixed));
}

// Rule 15: a patent under open licence (asset.register's open_licence) takes no exclusive or
// sole licence; a non-exclusive licence and a sale of the patent are listed as for any other.
TEST_F(DomainAuctionTest, Rule15AnOpenLicensedPatentTakesNoExclusiveOrSoleLicence) {
  json::object a{{"asset_id", "PAT-2"},    {"kind", "invention_patent"},
                 {"title", "an open one"}, {"owner", seller},
                 {"region", "chengdu"},    {"industry", "other"},
                 {"valuation", 5'000'000}, {"expires_at", h.now + 3650 * kDayMs},
                 {"open_licence", true}};
  Outcome r = h.call(op, "asset.register", json::serialize(a));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("open_licence"), true);
  h.expect_rejected(Code::bad_request, op, "asset.register",
                    json::serialize(with(a, {{"asset_id", "PAT-3"}, {"open_licence", "yes"}})));
  auto listing = [&](const char* purpose, const char* kind) {
    json::object p{{"lot", json::array{"PAT-2"}}, {"purpose", purpose},
                   {"format", "english"},         {"start_price", kStart},
                   {"increment", kStep},          {"deposit", kDeposit},
                   {"opens_at", h.now},           {"closes_at", h.now + kDayMs}};
    p["licence"] = json::object{{"kind", kind}, {"territory", json::array{"chengdu"}},
                                {"field", "x"}, {"term_months", 12}};
    return json::serialize(p);
  };
  for (const auto& [purpose, kind] : {std::pair{"exclusive_licence", "exclusive"},
                                      {"sole_licence", "sole"}}) {
    Outcome o = h.call(op, "auction.create", listing(purpose, kind));
    EXPECT_EQ(o.code, Code::invalid_state) << purpose;
    EXPECT_NE(o.message.find("open-licensed"), std::string::npos) << o.message;
  }
  // The same listings of PAT-1 (not under open licence) are accepted.
  EXPECT_EQ(create({{"purpose", "sole_licence"},
                    {"licence", json::object{{"kind", "sole"}, {"territory", json::array{"chengdu"}},
                                             {"field", "x"}, {"term_months", 12}}}}),
            "A-1");
  EXPECT_EQ(get_asset_open_licence("PAT-1"), false);
}

// Rule 15: "No licence term runs past the patent's expiry", a term counted in calendar months
// (Civil Code art. 202: to the corresponding day of the last month, else its last day), not in
// 30-day months: 12 months from the start are 365 days here, so a patent expiring 364 days on
// takes no 12-month licence, though 360 days would fit 12 months of 30.
TEST_F(DomainAuctionTest, Rule15ALicenceTermIsCountedInCalendarMonths) {
  auto asset = [&](const std::string& id, std::int64_t expires_at) {
    json::object a{{"asset_id", id},         {"kind", "invention_patent"},
                   {"title", "a patent"},    {"owner", seller},
                   {"region", "chengdu"},    {"industry", "other"},
                   {"valuation", 5'000'000}, {"expires_at", expires_at}};
    ASSERT_TRUE(h.call(op, "asset.register", json::serialize(a)).ok());
  };
  auto listing = [&](const std::string& id, std::int64_t months) {
    json::object p{{"lot", json::array{id}},           {"purpose", "sole_licence"},
                   {"format", "english"},              {"start_price", kStart},
                   {"increment", kStep},               {"deposit", kDeposit},
                   {"opens_at", h.now},                {"closes_at", h.now + kDayMs}};
    p["licence"] = json::object{{"kind", "sole"}, {"territory", json::array{"chengdu"}},
                                {"field", "x"}, {"term_months", months}};
    return h.call(op, "auction.create", json::serialize(p));
  };
  const std::int64_t year = calendar::add_months(h.now, 12);
  ASSERT_EQ(calendar::date_of(year).d, calendar::date_of(h.now).d);
  ASSERT_GE(year - h.now, 365 * kDayMs);
  asset("PAT-EXACT", year);                 // ends the day the term does: fits
  asset("PAT-1MS", year - 1);               // a millisecond short
  asset("PAT-364", h.now + 364 * kDayMs);   // would fit twelve 30-day months
  EXPECT_TRUE(listing("PAT-EXACT", 12).ok());
  for (const char* id : {"PAT-1MS", "PAT-364"}) {
    const Outcome o = listing(id, 12);
    EXPECT_EQ(o.code, Code::invalid_state) << id;
    EXPECT_NE(o.message.find("runs past the expiry"), std::string::npos) << o.message;
    EXPECT_TRUE(listing(id, 11).ok()) << id;  // eleven months end well before
  }
}

// ----------------------------------------------------------------------------- timers

// Timers due at the same ms fire in creation order (A-9 before A-10, S-9 before S-10), not in
// the order the auctions last changed nor in the ids' text order. Ten sole-licence listings of
// one asset (a licence listing may run beside another) close at the same ms; bids touch the
// last-created first.
TEST_F(DomainAuctionTest, TimersDueAtTheSameMsFireInCreationOrder) {
  const json::object lic{{"kind", "sole"}, {"territory", json::array{"chengdu"}}, {"field", "x"},
                         {"term_months", 12}};
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(create({{"purpose", "sole_licence"}, {"licence", lic}}));
  ASSERT_EQ(ids.back(), "A-10");
  for (int i : {9, 0, 1, 2, 3, 4, 5, 6, 7, 8}) {
    reg(alice, ids[i]);
    ASSERT_TRUE(bid(alice, ids[i], kStart).ok());
  }
  advance_to(t0 + kDayMs);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(get(op, ids[i]).at("settlement_id"), json::value("S-" + std::to_string(i + 1)))
        << ids[i];
  }
  // Nobody pays: the ten settlements default at the same ms, S-1 first, S-10 last.
  advance_to(t0 + 11 * kDayMs);
  std::vector<std::string> defaulted;
  for (const auto& p : h.pushes) {
    if (p.type != "settlement" || p.data.at("state") != "defaulted") continue;
    const std::string sid(p.data.at("settlement_id").as_string());
    if (defaulted.empty() || defaulted.back() != sid) defaulted.push_back(sid);
  }
  std::vector<std::string> expected;
  for (int i = 1; i <= 10; ++i) expected.push_back("S-" + std::to_string(i));
  EXPECT_EQ(defaulted, expected);
}

// ------------------------------------------------------------------- fixed price (rule 16)

TEST_F(DomainAuctionTest, Rule16FixedPriceOneBuyerBuysAtTheListedPrice) {
  const std::string id = create({{"format", "fixed_price"}});
  const std::string a = reg(alice, id);
  advance_to(t0 + kDayMs);
  json::object g = get(op, id);
  EXPECT_EQ(g.at("state"), "sold");
  EXPECT_EQ(g.at("winner"), json::value(a));
  EXPECT_EQ(g.at("price"), kStart);
}

TEST_F(DomainAuctionTest, Rule16FixedPriceTwoBuyersTurnIntoEnglish) {
  const std::string id = create({{"format", "fixed_price"}});
  reg(alice, id);
  const std::string b = reg(bob, id);
  advance_to(t0 + kDayMs);
  json::object g = get(op, id);
  EXPECT_EQ(g.at("format"), "english");
  EXPECT_EQ(g.at("state"), "open");
  EXPECT_EQ(g.at("closes_at"), t0 + 2 * kDayMs);  // 24 h more
  // Only the buyers registered during the listing may bid in the English phase.
  h.expect_rejected(Code::auction_closed, carol, "auction.register", ref(id));
  h.expect_rejected(Code::invalid_state, alice, "auction.accept", ref(id));
  EXPECT_NE(h.call(alice, "auction.accept", ref(id)).message.find("turned English"), std::string::npos);
  ASSERT_TRUE(bid(alice, id, kStart).ok());
  ASSERT_TRUE(bid(bob, id, kStart + kStep).ok());
  // The 5 min / 5 min soft close applies.
  Outcome r =
      h.call_at(t0 + 2 * kDayMs - kMinMs, alice, "auction.bid", amount(id, kStart + 2 * kStep));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("closes_at"), t0 + 2 * kDayMs + 4 * kMinMs);
  r = h.call(bob, "auction.bid", amount(id, kStart + 3 * kStep));
  ASSERT_TRUE(r.ok());
  advance_to(t0 + 2 * kDayMs + 10 * kMinMs);
  g = get(op, id);
  EXPECT_EQ(g.at("state"), "sold");
  EXPECT_EQ(g.at("winner"), json::value(b));
  EXPECT_EQ(g.at("price"), kStart + 3 * kStep);
}

// A bid or an accept on a listing is INVALID_STATE, and its message says what the listing takes.
TEST_F(DomainAuctionTest, Rule16AFixedPriceListingTakesRegistrationsNotBids) {
  const std::string id = create({{"format", "fixed_price"}});
  reg(alice, id);
  h.expect_rejected(Code::invalid_state, alice, "auction.bid", amount(id, kStart));
  Outcome r = h.call(alice, "auction.bid", amount(id, kStart));
  EXPECT_NE(r.message.find("fixed_price listing"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("auction.register"), std::string::npos) << r.message;
  r = h.call(alice, "auction.accept", ref(id));
  EXPECT_EQ(r.code, Code::invalid_state);
  EXPECT_NE(r.message.find("fixed_price listing"), std::string::npos) << r.message;
}

TEST_F(DomainAuctionTest, Rule16FixedPriceWithoutBuyersIsUnsold) {
  const std::string id = create({{"format", "fixed_price"}});
  advance_to(t0 + kDayMs);
  EXPECT_EQ(get(op, id).at("state"), "unsold");
}

// ------------------------------------------------------------------ registration, deposits

TEST_F(DomainAuctionTest, Rule3RegistrationHoldsTheDepositInCashHeld) {
  const std::string id = create();
  Outcome r = h.call(alice, "auction.register", ref(id));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("bidder_code"), "B1");
  EXPECT_EQ(h.cash_held(alice), kDeposit);
  EXPECT_EQ(h.cash_available(alice), kCash - kDeposit);
  EXPECT_EQ(get(op, id).at("registered"), 1);
}

TEST_F(DomainAuctionTest, BidWithoutRegistrationIsNotQualified) {
  const std::string id = create();
  h.expect_rejected(Code::not_qualified, alice, "auction.bid", amount(id, kStart));
  h.expect_rejected(Code::not_qualified, alice, "auction.proxy", amount(id, kStart, "max_amount"));
}

TEST_F(DomainAuctionTest, SecondRegistrationIsDuplicate) {
  const std::string id = create();
  reg(alice, id);
  h.expect_rejected(Code::duplicate, alice, "auction.register", ref(id));
  EXPECT_EQ(h.cash_held(alice), kDeposit);
}

TEST_F(DomainAuctionTest, DepositBeyondCashIsInsufficientFunds) {
  const std::string id = create({{"deposit", kCash + 1}});
  h.expect_rejected(Code::insufficient_funds, alice, "auction.register", ref(id));
}

TEST_F(DomainAuctionTest, SellerMayNotRegister) {
  const std::string id = create();
  h.expect_rejected(Code::not_qualified, seller, "auction.register", ref(id));
}

TEST_F(DomainAuctionTest, UnknownAuctionIsNotFound) {
  h.expect_rejected(Code::not_found, alice, "auction.register", ref("A-999"));
  h.expect_rejected(Code::not_found, alice, "auction.bid", amount("A-999", kStart));
}

TEST_F(DomainAuctionTest, Rule3LosersDepositsAreReleasedAtClose) {
  const std::string id = create();
  reg(alice, id);
  reg(bob, id);
  reg(carol, id);  // registered, never bid
  ASSERT_TRUE(bid(alice, id, kStart).ok());
  ASSERT_TRUE(bid(bob, id, kStart + kStep).ok());
  advance_to(t0 + kDayMs);
  EXPECT_EQ(h.cash_held(alice), 0);
  EXPECT_EQ(h.cash_available(alice), kCash);
  EXPECT_EQ(h.cash_held(carol), 0);
  EXPECT_EQ(h.cash_held(bob), kDeposit);  // the winner's stays held toward the price
}

TEST_F(DomainAuctionTest, WinnersDepositCountsTowardThePrice) {
  const std::string id = create();
  reg(bob, id);
  ASSERT_TRUE(bid(bob, id, kStart).ok());
  advance_to(t0 + kDayMs);
  json::object s = settlement(bob, std::string(get(op, id).at("settlement_id").as_string()));
  EXPECT_EQ(s.at("deposit"), kDeposit);
  EXPECT_EQ(s.at("amount_due"), kStart - kDeposit);
}

TEST_F(DomainAuctionTest, UnsoldReleasesEveryDeposit) {
  const std::string id = create();
  reg(alice, id);
  reg(bob, id);
  advance_to(t0 + kDayMs);
  EXPECT_EQ(get(op, id).at("state"), "unsold");
  EXPECT_EQ(h.cash_held(alice) + h.cash_held(bob), 0);
}

// ------------------------------------------------------------------------------- cancel

TEST_F(DomainAuctionTest, CancelBeforeAnyBidReleasesDeposits) {
  const std::string id = create();
  reg(alice, id);
  reg(bob, id);
  Outcome r =
      h.call(op, "auction.cancel", R"({"auction_id":")" + id + R"(","reason":"withdrawn"})");
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.result.at("state"), "cancelled");
  EXPECT_EQ(h.cash_held(alice), 0);
  EXPECT_EQ(h.cash_held(bob), 0);
  EXPECT_EQ(h.cash_available(alice), kCash);
  h.expect_rejected(Code::auction_closed, carol, "auction.register", ref(id));
}

TEST_F(DomainAuctionTest, CancelAfterABidIsInvalidState) {
  const std::string id = create();
  reg(alice, id);
  ASSERT_TRUE(bid(alice, id, kStart).ok());
  h.expect_rejected(Code::invalid_state, op, "auction.cancel",
                    R"({"auction_id":")" + id + R"(","reason":"withdrawn"})");
}

TEST_F(DomainAuctionTest, CancelIsForOperatorsOnly) {
  const std::string id = create();
  h.expect_rejected(Code::forbidden, alice, "auction.cancel",
                    R"({"auction_id":")" + id + R"(","reason":"withdrawn"})");
}

// ------------------------------------------------------------------------------ listings

TEST_F(DomainAuctionTest, TraderListsOnlyItsOwnAssets) {
  json::object p{{"lot", json::array{"PAT-1"}}, {"purpose", "transfer"},      {"format", "english"},
                 {"start_price", kStart},       {"increment", kStep},         {"deposit", kDeposit},
                 {"opens_at", h.now},           {"closes_at", h.now + kDayMs}};
  h.expect_rejected(Code::not_found, alice, "auction.create", json::serialize(p));
  Outcome o = h.call(seller, "auction.create", json::serialize(p));
  EXPECT_TRUE(o.ok()) << o.message;
}

TEST_F(DomainAuctionTest, Rule13PledgedAssetNeedsThePledgeesConsent) {
  const std::string bank = h.participant("bank", "bank");
  ASSERT_TRUE(h.call(op, "pledge.register",
                     R"({"asset_id":"PAT-1","pledgee":")" + bank +
                         R"(","loan_outstanding":1000000,"registration_no":"R-1"})")
                  .ok());
  json::object p{{"lot", json::array{"PAT-1"}}, {"purpose", "transfer"},      {"format", "english"},
                 {"start_price", kStart},       {"increment", kStep},         {"deposit", kDeposit},
                 {"opens_at", h.now},           {"closes_at", h.now + kDayMs}};
  h.expect_rejected(Code::invalid_state, seller, "auction.create", json::serialize(p));
  ASSERT_TRUE(h.call(bank, "pledge.consent", R"({"asset_id":"PAT-1"})").ok());
  EXPECT_TRUE(h.call(seller, "auction.create", json::serialize(p)).ok());
}

TEST_F(DomainAuctionTest, AnAssetForSaleCannotBeListedForSaleAgain) {
  const std::string id = create();
  json::object p{{"lot", json::array{"PAT-1"}}, {"purpose", "transfer"},
                 {"format", "english"},         {"start_price", kStart},
                 {"increment", kStep},          {"deposit", kDeposit},
                 {"opens_at", h.now},           {"closes_at", h.now + 2 * kDayMs}};
  h.expect_rejected(Code::invalid_state, op, "auction.create", json::serialize(p));
  // A disposal-purpose sale sells the title too: refused alike, by the owner and the operator.
  p["purpose"] = "disposal";
  h.expect_rejected(Code::invalid_state, op, "auction.create", json::serialize(p));
  h.expect_rejected(Code::invalid_state, seller, "auction.create", json::serialize(p));
  p["purpose"] = "transfer";
  advance_to(t0 + kDayMs);  // unsold: the asset may be listed again
  EXPECT_EQ(get(op, id).at("state"), "unsold");
  EXPECT_TRUE(h.call(op, "auction.create", json::serialize(p)).ok());
}

// auction.get is the same for every caller (it is the channel's snapshot); `mine: true` adds
// the caller's own bidder code, once it is registered.
TEST_F(DomainAuctionTest, GetIsTheSameForEveryCallerUnlessMineIsAsked) {
  const std::string id = create();
  const std::string code = reg(alice, id);
  const std::string plain = R"({"auction_id":")" + id + R"("})";
  const std::string mine = R"({"auction_id":")" + id + R"(","mine":true})";
  const Outcome for_alice = h.call(alice, "auction.get", plain);
  ASSERT_TRUE(for_alice.ok()) << for_alice.message;
  EXPECT_EQ(json::serialize(for_alice.result), json::serialize(h.call(bob, "auction.get", plain).result));
  EXPECT_FALSE(for_alice.result.contains("my_bidder_code"));
  EXPECT_EQ(h.call(alice, "auction.get", mine).result.at("my_bidder_code"), json::value(code));
  EXPECT_FALSE(h.call(bob, "auction.get", mine).result.contains("my_bidder_code"));  // not registered
  h.expect_rejected(Code::bad_request, alice, "auction.get",
                    R"({"auction_id":")" + id + R"(","mine":1})");
}

TEST_F(DomainAuctionTest, ClosesAtInThePastIsBadRequest) {
  advance_to(t0 + kHourMs);
  json::object p{{"lot", json::array{"PAT-1"}}, {"purpose", "transfer"}, {"format", "english"},
                 {"start_price", kStart},       {"increment", kStep},    {"deposit", kDeposit},
                 {"opens_at", t0 - kHourMs},    {"closes_at", t0}};
  h.expect_rejected(Code::bad_request, op, "auction.create", json::serialize(p));
}

}  // namespace
}  // namespace ipx::engine::test
