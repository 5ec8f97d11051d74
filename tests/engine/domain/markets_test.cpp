// Licence-unit markets through Domain::apply, as a client drives them (PROTOCOL.md "Orders",
// market.create, units.issue, order.place, order.cancel, account.get, "Money flows",
// "Channels" book/trades/private, error codes and their order). Every call checks the ledger's
// invariants and that every ledger sums to zero (Harness::check_ledger_each_call).
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "engine/snapshot_io.hpp"
#include "tests/engine/domain/harness.hpp"

namespace ipx::engine::test {
namespace {

constexpr std::int64_t kTick = 100;  // fen
constexpr std::int64_t kLot = 10;    // units
constexpr std::int64_t kIssued = 1'000;
constexpr std::int64_t kCash = 1'000'000;  // each trader's funding, fen
constexpr std::int64_t kYearMs = 365 * kDayMs;

std::string licence_json(const std::string& kind = "non_exclusive", std::int64_t months = 12) {
  return R"({"kind":")" + kind + R"(","territory":["cn"],"field":"all","term_months":)" +
         std::to_string(months) + "}";
}

json::object with(json::object p, const json::object& extra) {
  for (const auto& kv : extra) p[kv.key()] = kv.value();
  return p;
}

std::set<std::string> keys_of(const json::object& o) {
  std::set<std::string> k;
  for (const auto& kv : o) k.emplace(kv.key());
  return k;
}

// The fixture: a licensor (enterprise) owning PAT-1 with market M (tick 100 fen, lot 10) and
// 1,000 units issued; two traders alice and bob; an operator and a bank. Everyone trading is
// funded with 1,000,000 fen.
class MarketTest : public ::testing::Test {
 protected:
  Harness h;
  std::string op, bank, lic, alice, bob;

  void SetUp() override {
    op = h.participant("operator", "exchange operator");
    bank = h.participant("bank", "bank");
    lic = h.participant("enterprise", "licensor");
    alice = h.participant("enterprise", "alice");
    bob = h.participant("individual", "bob", "deyang");
    register_asset("PAT-1", lic);
    register_asset("PAT-2", alice);
    ASSERT_TRUE(create_market(lic, "M", "PAT-1").ok());
    ASSERT_TRUE(h.call(lic, "units.issue", R"({"market_id":"M","qty":1000})").ok());
    for (const auto& p : {lic, alice, bob}) h.fund(p, kCash);
  }

  void register_asset(const std::string& id, const std::string& owner) {
    json::object a{{"asset_id", id},           {"kind", "invention_patent"},
                   {"title", "a patent"},      {"owner", owner},
                   {"region", "chengdu"},      {"industry", "other"},
                   {"valuation", 100'000'000}, {"expires_at", h.now + 10 * kYearMs}};
    Outcome o = h.call(op, "asset.register", json::serialize(a));
    ASSERT_TRUE(o.ok()) << o.message;
  }
  Outcome create_market(const std::string& who, const std::string& id, const std::string& asset,
                        const std::string& kind = "non_exclusive", std::int64_t months = 12) {
    return h.call(who, "market.create",
                  R"({"market_id":")" + id + R"(","asset_id":")" + asset + R"(","licence":)" +
                      licence_json(kind, months) + R"(,"tick":100,"min_qty":10})");
  }

  static json::object limit(const std::string& side, std::int64_t price, std::int64_t qty,
                            const std::string& coid, const std::string& tif = "gtc") {
    return {{"market_id", "M"}, {"side", side}, {"type", "limit"},        {"price", price},
            {"qty", qty},       {"tif", tif},   {"client_order_id", coid}};
  }
  static json::object market(const std::string& side, std::int64_t qty, const std::string& coid,
                             const std::string& tif = "ioc") {
    return {{"market_id", "M"}, {"side", side}, {"type", "market"},
            {"qty", qty},       {"tif", tif},   {"client_order_id", coid}};
  }
  Outcome place(const std::string& who, const json::object& p) {
    return h.call(who, "order.place", json::serialize(p));
  }
  // Places an order that must be accepted; returns its result.
  json::object placed(const std::string& who, const json::object& p) {
    Outcome o = place(who, p);
    EXPECT_TRUE(o.ok()) << json::serialize(p) << ": " << o.message;
    return o.result;
  }
  void rejected(Code c, const std::string& who, const json::object& p) {
    h.expect_rejected(c, who, "order.place", json::serialize(p));
  }
  Outcome cancel(const std::string& who, const std::string& field, const std::string& id) {
    return h.call(who, "order.cancel", R"({"market_id":"M",")" + field + R"(":")" + id + R"("})");
  }

  static std::string status(const json::object& order) {
    return std::string(order.at("status").as_string());
  }
  static std::int64_t i64(const json::object& o, const char* k) { return o.at(k).as_int64(); }

  // The licensor's units for sale: a resting sell of `qty` at `price`.
  json::object offer(std::int64_t price, std::int64_t qty, const std::string& coid) {
    return placed(lic, limit("sell", price, qty, coid));
  }
  // Gives `who` units bought from the licensor at 1,000 fen (the book is otherwise empty).
  void give_units(const std::string& who, std::int64_t qty, const std::string& tag) {
    offer(1'000, qty, "give-s-" + tag);
    json::object r = placed(who, limit("buy", 1'000, qty, "give-b-" + tag));
    ASSERT_EQ(status(r), "filled");
  }
  std::int64_t total_cash() {
    std::int64_t s = 0;
    for (const auto& p : {lic, alice, bob}) s += h.cash_available(p) + h.cash_held(p);
    return s;
  }
  std::int64_t total_units() {
    std::int64_t s = 0;
    for (const auto& p : {lic, alice, bob}) s += h.position(p, "M").units;
    return s;
  }
};

// ------------------------------------------------------------------------ market.create

class DomainMarketCreate : public MarketTest {};

TEST_F(DomainMarketCreate, ByTheAssetOwnerTheLicensor) {
  Outcome o = create_market(alice, "M2", "PAT-2");
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(o.result.at("market_id"), "M2");
  EXPECT_EQ(o.result.at("asset_id"), "PAT-2");
  EXPECT_EQ(o.result.at("licensor"), json::value(alice));
  EXPECT_EQ(i64(o.result, "tick"), kTick);
  EXPECT_EQ(i64(o.result, "min_qty"), kLot);
  EXPECT_EQ(i64(o.result, "maker_fee_bp"), 0);  // fees 0 unless the market sets them
  EXPECT_EQ(i64(o.result, "taker_fee_bp"), 0);
  EXPECT_EQ(o.result.at("licence").as_object().at("kind"), "non_exclusive");
}

TEST_F(DomainMarketCreate, ByTheOperatorForTheOwner) {
  Outcome o = create_market(op, "M2", "PAT-2");
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(o.result.at("licensor"), json::value(alice));  // the asset's owner issues the units
  // units.issue is a trader method: the operator may not issue them.
  h.expect_rejected(Code::forbidden, op, "units.issue", R"({"market_id":"M2","qty":10})");
  EXPECT_TRUE(h.call(alice, "units.issue", R"({"market_id":"M2","qty":10})").ok());
}

TEST_F(DomainMarketCreate, NonExclusiveOnly) {
  for (const char* kind : {"exclusive", "sole"}) {
    h.expect_rejected(Code::bad_request, alice, "market.create",
                      R"({"market_id":"M2","asset_id":"PAT-2","licence":)" + licence_json(kind) +
                          R"(,"tick":100,"min_qty":10})");
  }
  // A bad licence is a shape error, before NOT_FOUND.
  h.expect_rejected(Code::bad_request, alice, "market.create",
                    R"({"market_id":"M2","asset_id":"nope","licence":)" + licence_json("sole") +
                        R"(,"tick":100,"min_qty":10})");
}

// DOMAIN rule 15: a licence whose kind is not given is non-exclusive.
TEST_F(DomainMarketCreate, ALicenceWithoutKindIsNonExclusive) {
  Outcome o = h.call(alice, "market.create",
                     R"({"market_id":"M2","asset_id":"PAT-2","licence":{"territory":["cn"],)"
                     R"("term_months":12},"tick":100,"min_qty":10})");
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(o.result.at("licence").as_object().at("kind"), "non_exclusive");
}

// A registered title is one of its owner's positions at once: the private channel hears it.
TEST_F(DomainMarketCreate, ARegisteredTitleIsPushedToItsOwnersPrivateChannel) {
  json::object a{{"asset_id", "PAT-T"},   {"kind", "trademark"},  {"title", "a mark"},
                 {"owner", bob},          {"region", "chengdu"},  {"industry", "other"},
                 {"valuation", 100'000},  {"expires_at", h.now + 3650 * kDayMs}};
  ASSERT_TRUE(h.call(op, "asset.register", json::serialize(a)).ok());
  const auto b = h.on("private." + bob, "balance");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_NE(json::serialize(b[0].data.at("positions")).find(R"("asset_id":"PAT-T","units":1)"),
            std::string::npos)
      << json::serialize(b[0].data);
}

TEST_F(DomainMarketCreate, DuplicateMarketId) {
  h.expect_rejected(Code::duplicate, alice, "market.create",
                    R"({"market_id":"M","asset_id":"PAT-2","licence":)" + licence_json() +
                        R"(,"tick":100,"min_qty":10})");
}

TEST_F(DomainMarketCreate, SomeoneElsesOrUnknownAssetIsNotFound) {
  const std::string params = R"(,"licence":)" + licence_json() + R"(,"tick":100,"min_qty":10})";
  h.expect_rejected(Code::not_found, bob, "market.create",
                    R"({"market_id":"M2","asset_id":"PAT-2")" + params);
  h.expect_rejected(Code::not_found, alice, "market.create",
                    R"({"market_id":"M2","asset_id":"PAT-9")" + params);
}

TEST_F(DomainMarketCreate, RolesAndShape) {
  const std::string params = R"(,"licence":)" + licence_json() + R"(,"tick":100,"min_qty":10})";
  h.expect_rejected(Code::forbidden, bank, "market.create",
                    R"({"market_id":"M2","asset_id":"PAT-2")" + params);
  for (const char* bad : {R"("tick":0,"min_qty":10)", R"("tick":100,"min_qty":0)",
                          R"("tick":-100,"min_qty":10)", R"("tick":100,"min_qty":10,"x":1)"}) {
    h.expect_rejected(
        Code::bad_request, alice, "market.create",
        R"({"market_id":"M2","asset_id":"PAT-2","licence":)" + licence_json() + "," + bad + "}");
  }
}

TEST_F(DomainMarketCreate, TermPastTheAssetsExpiryRule15) {
  h.expect_rejected(Code::invalid_state, alice, "market.create",
                    R"({"market_id":"M2","asset_id":"PAT-2","licence":)" +
                        licence_json("non_exclusive", 1200) + R"(,"tick":100,"min_qty":10})");
}

// --------------------------------------------------------------------------- units.issue

class DomainMarketUnits : public MarketTest {};

TEST_F(DomainMarketUnits, TheLicensorIssuesAPosition) {
  Outcome o = h.call(lic, "units.issue", R"({"market_id":"M","qty":500})");
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(o.result.at("market_id"), "M");
  EXPECT_EQ(i64(o.result, "units"), kIssued + 500);
  EXPECT_EQ(i64(o.result, "units_held"), 0);
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued + 500, 0}));
  EXPECT_EQ(h.on("private." + lic, "balance").size(), 1u);
}

TEST_F(DomainMarketUnits, OnlyTheLicensor) {
  // A trader may issue units of its own markets only: another's market is NOT_FOUND.
  h.expect_rejected(Code::not_found, alice, "units.issue", R"({"market_id":"M","qty":10})");
  h.expect_rejected(Code::forbidden, op, "units.issue", R"({"market_id":"M","qty":10})");
  h.expect_rejected(Code::forbidden, bank, "units.issue", R"({"market_id":"M","qty":10})");
  h.expect_rejected(Code::not_found, lic, "units.issue", R"({"market_id":"M9","qty":10})");
  h.expect_rejected(Code::bad_request, lic, "units.issue", R"({"market_id":"M","qty":0})");
  h.expect_rejected(Code::bad_request, lic, "units.issue", R"({"market_id":"M"})");
}

TEST_F(DomainMarketUnits, OverflowIsRefusedAndChangesNothing) {
  h.expect_rejected(Code::bad_request, lic, "units.issue",
                    R"({"market_id":"M","qty":9223372036854775807})");
}

// ------------------------------------------------------------------ order.place: shape

class DomainMarketShape : public MarketTest {};

TEST_F(DomainMarketShape, QtyAPositiveMultipleOfTheLot) {
  for (std::int64_t q : {0, -10, 5, 15, 1})
    rejected(Code::bad_request, alice, limit("buy", 1000, q, "a"));
  rejected(Code::bad_request, lic, limit("sell", 1000, 25, "a"));
  rejected(Code::bad_request, alice, market("buy", 15, "a"));
}

TEST_F(DomainMarketShape, PricePositive) {
  rejected(Code::bad_request, alice, limit("buy", 0, 10, "a"));
  rejected(Code::bad_request, alice, limit("buy", -100, 10, "a"));
  rejected(Code::bad_request, alice, with(limit("buy", 100, 10, "a"), {{"price", nullptr}}));
}

TEST_F(DomainMarketShape, MarketOrdersHaveNoPriceAndAreIocOrFok) {
  rejected(Code::bad_request, alice, with(market("buy", 10, "a"), {{"price", 1000}}));
  rejected(Code::bad_request, alice, market("buy", 10, "a", "gtc"));
  rejected(Code::bad_request, alice,
           with(market("buy", 10, "a", "gtd"), {{"expire_at", h.now + 1000}}));
}

TEST_F(DomainMarketShape, PostOnlyNotWithIocOrFok) {
  for (const char* tif : {"ioc", "fok"}) {
    rejected(Code::bad_request, alice,
             with(limit("buy", 1000, 10, "a", tif), {{"post_only", true}}));
  }
}

TEST_F(DomainMarketShape, ValuesAndFields) {
  rejected(Code::bad_request, alice, with(limit("buy", 1000, 10, "a"), {{"side", "bid"}}));
  rejected(Code::bad_request, alice, with(limit("buy", 1000, 10, "a"), {{"type", "stop"}}));
  rejected(Code::bad_request, alice, limit("buy", 1000, 10, "a", "day"));
  rejected(Code::bad_request, alice, with(limit("buy", 1000, 10, "a"), {{"stp", "none"}}));
  rejected(Code::bad_request, alice, with(limit("buy", 1000, 10, "a"), {{"colour", "red"}}));
  rejected(Code::bad_request, alice, with(limit("buy", 1000, 10, "a"), {{"qty", "10"}}));
  rejected(Code::bad_request, alice, limit("buy", 1000, 10, "a", "gtd"));  // no expire_at
  rejected(Code::bad_request, alice,
           with(limit("buy", 1000, 10, "a", "gtd"), {{"expire_at", h.now}}));  // not future
  json::object no_coid = limit("buy", 1000, 10, "a");
  no_coid.erase("client_order_id");
  rejected(Code::bad_request, alice, no_coid);
}

TEST_F(DomainMarketShape, ShapeBeforeNotFound) {
  auto elsewhere = [](json::object p) { return with(std::move(p), {{"market_id", "nope"}}); };
  rejected(Code::bad_request, alice, elsewhere(limit("buy", 0, 10, "a")));
  rejected(Code::bad_request, alice, elsewhere(limit("buy", 1000, 0, "a")));
  rejected(Code::bad_request, alice, elsewhere(with(market("buy", 10, "a"), {{"price", 100}})));
  rejected(Code::bad_request, alice, elsewhere(market("buy", 10, "a", "gtc")));
  rejected(Code::bad_request, alice,
           elsewhere(with(limit("buy", 1000, 10, "a", "fok"), {{"post_only", true}})));
  rejected(Code::bad_request, alice,
           elsewhere(with(limit("buy", 1000, 10, "a", "gtd"), {{"expire_at", h.now - 1}})));
  rejected(Code::not_found, alice, elsewhere(limit("buy", 1000, 10, "a")));
  // PROTOCOL "Edges": well-formed params (their values and how they go together) come before
  // the role, and the role before the objects named.
  rejected(Code::bad_request, op, limit("buy", 0, 10, "a"));
  rejected(Code::bad_request, bank, with(limit("buy", 1000, 10, "a"), {{"side", "sideways"}}));
  rejected(Code::bad_request, bank, with(market("buy", 10, "a"), {{"price", 100}}));
  rejected(Code::forbidden, bank, limit("buy", 1000, 10, "a"));
  rejected(Code::forbidden, bank, elsewhere(limit("buy", 1000, 10, "a")));
}

// ------------------------------------------------------------------ order.place: rules

class DomainMarketRules : public MarketTest {};

TEST_F(DomainMarketRules, BadPriceOffTheTick) {
  rejected(Code::bad_price, alice, limit("buy", 1050, 10, "a"));
  rejected(Code::bad_price, lic, limit("sell", 1, 10, "a"));
  // BAD_PRICE comes before INSUFFICIENT_FUNDS, WOULD_CROSS and SELF_TRADE.
  rejected(Code::bad_price, alice, limit("buy", 1'000'050, 10, "a"));
  rejected(Code::bad_price, bob, limit("sell", 1050, 10, "a"));  // bob has no units
  offer(1000, 10, "s1");
  rejected(Code::bad_price, lic,
           with(limit("buy", 1050, 10, "a"), {{"post_only", true}, {"stp", "reject"}}));
}

TEST_F(DomainMarketRules, LimitBuyNeedsPriceTimesQtyAvailable) {
  // 1,000,000 fen: 100 units at 10,000 fen exactly; 1 tick more is too much.
  rejected(Code::insufficient_funds, alice, limit("buy", 10'100, 100, "a"));
  json::object r = placed(alice, limit("buy", 10'000, 100, "a"));
  EXPECT_EQ(status(r), "open");
  EXPECT_EQ(h.cash_available(alice), 0);
  EXPECT_EQ(h.cash_held(alice), kCash);
  // Held cash is not available.
  rejected(Code::insufficient_funds, alice, limit("buy", 100, 10, "b"));
}

TEST_F(DomainMarketRules, ASellNeedsTheUnits) {
  rejected(Code::insufficient_funds, alice, limit("sell", 1000, 10, "a"));
  rejected(Code::insufficient_funds, lic, limit("sell", 1000, kIssued + kLot, "a"));
  placed(lic, limit("sell", 1000, 600, "s1"));
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued, 600}));
  // Units held in a resting sell cannot be sold again.
  rejected(Code::insufficient_funds, lic, limit("sell", 1000, 410, "s2"));
  placed(lic, limit("sell", 1100, 400, "s2"));
  rejected(Code::insufficient_funds, lic, market("sell", 10, "s3"));
}

TEST_F(DomainMarketRules, MarketBuyCoveredAtThePricesItWouldTake) {
  offer(1000, 10, "s1");
  offer(2000, 10, "s2");
  placed(bob, limit("buy", 100, 9'710, "b0"));  // holds 971,000: 29,000 available
  ASSERT_EQ(h.cash_available(bob), 29'000);
  // 20 would cost 10,000 + 20,000.
  rejected(Code::insufficient_funds, bob, market("buy", 20, "b1"));
  rejected(Code::insufficient_funds, bob, market("buy", 20, "b1", "fok"));
  // 10 cost 10,000: covered. (An IOC for more takes what it can pay for only if it can pay for
  // all it would take: the check is on what it would take.)
  json::object r = placed(bob, market("buy", 10, "b2"));
  EXPECT_EQ(status(r), "filled");
  EXPECT_EQ(h.position(bob, "M").units, 10);
  EXPECT_EQ(h.cash_available(bob), 19'000);
}

TEST_F(DomainMarketRules, PostOnlyWouldCross) {
  offer(1000, 10, "s1");
  rejected(Code::would_cross, alice, with(limit("buy", 1000, 10, "a"), {{"post_only", true}}));
  // Against the owner's own order too, and before SELF_TRADE.
  rejected(Code::would_cross, lic,
           with(limit("buy", 1200, 10, "a"), {{"post_only", true}, {"stp", "reject"}}));
  // INSUFFICIENT_FUNDS comes first.
  rejected(Code::insufficient_funds, alice,
           with(limit("buy", 1000, 10'000, "a"), {{"post_only", true}}));
  json::object r = placed(alice, with(limit("buy", 900, 10, "a"), {{"post_only", true}}));
  EXPECT_EQ(status(r), "open");
}

TEST_F(DomainMarketRules, SelfTradeRejectRefusesTheWholeOrder) {
  offer(1000, 10, "s1");
  rejected(Code::self_trade, lic, with(limit("buy", 1000, 10, "b1"), {{"stp", "reject"}}));
  rejected(Code::self_trade, lic, with(market("buy", 10, "b1"), {{"stp", "reject"}}));
  rejected(Code::self_trade, lic, with(limit("buy", 1000, 10, "b1", "fok"), {{"stp", "reject"}}));
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued, 10}));
}

TEST_F(DomainMarketRules, SelfTradeRejectOnlyWhenReached) {
  give_units(alice, 20, "a");
  placed(alice, limit("sell", 900, 10, "a-s1"));
  offer(1000, 10, "s1");
  // 10 fill against alice at 900 before reaching the licensor's own order at 1000.
  json::object r = placed(lic, with(limit("buy", 1000, 10, "b1"), {{"stp", "reject"}}));
  EXPECT_EQ(status(r), "filled");
  EXPECT_EQ(i64(r, "filled_qty"), 10);
  // 20 would reach its own order after alice's 10: refused as a whole, nothing traded.
  placed(alice, limit("sell", 900, 10, "a-s2"));
  rejected(Code::self_trade, lic, with(limit("buy", 1000, 20, "b2"), {{"stp", "reject"}}));
  EXPECT_EQ(h.position(alice, "M"), (Harness::Position{10, 10}));
}

// ------------------------------------------------------------ self-trade prevention modes

class DomainMarketStp : public MarketTest {};

TEST_F(DomainMarketStp, CancelIncomingIsTheDefault) {
  give_units(alice, 10, "a");
  placed(alice, limit("sell", 900, 10, "a-s"));
  offer(1000, 20, "s1");
  json::object r = placed(lic, limit("buy", 1000, 30, "b1"));
  // Level by level: 10 trade with alice at 900, then the remainder meets its own order.
  EXPECT_EQ(status(r), "cancelled");
  EXPECT_EQ(i64(r, "filled_qty"), 10);
  EXPECT_EQ(i64(r, "leaves_qty"), 0);
  EXPECT_EQ(h.cash_held(lic), 0);  // nothing left resting
  json::object book = h.call(lic, "market.get", R"({"market_id":"M"})").result;
  EXPECT_EQ(json::serialize(book.at("asks")), "[[1000,20]]");  // the resting order stays
  EXPECT_EQ(json::serialize(book.at("bids")), "[]");
}

TEST_F(DomainMarketStp, CancelResting) {
  offer(1000, 20, "s1");
  json::object r = placed(lic, with(limit("buy", 1000, 30, "b1"), {{"stp", "cancel_resting"}}));
  EXPECT_EQ(status(r), "open");  // the resting sell is cancelled, the buy rests
  EXPECT_EQ(i64(r, "leaves_qty"), 30);
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued, 0}));
  EXPECT_EQ(h.cash_held(lic), 30'000);
  const auto orders = h.on("private." + lic, "order");
  ASSERT_EQ(orders.size(), 2u);
  EXPECT_EQ(orders[0].data.at("client_order_id"), "s1");
  EXPECT_EQ(orders[0].data.at("status"), "cancelled");
  Outcome c = cancel(lic, "client_order_id", "s1");
  EXPECT_EQ(c.code, Code::invalid_state);
}

TEST_F(DomainMarketStp, CancelBoth) {
  offer(1000, 20, "s1");
  json::object r = placed(lic, with(limit("buy", 1000, 30, "b1"), {{"stp", "cancel_both"}}));
  EXPECT_EQ(status(r), "cancelled");
  EXPECT_EQ(i64(r, "filled_qty"), 0);
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued, 0}));
  EXPECT_EQ(h.cash_held(lic), 0);
  EXPECT_EQ(h.cash_available(lic), kCash);
  EXPECT_EQ(cancel(lic, "client_order_id", "s1").code, Code::invalid_state);
}

TEST_F(DomainMarketStp, RejectLeavesEverything) {
  offer(1000, 20, "s1");
  rejected(Code::self_trade, lic, with(limit("buy", 1000, 30, "b1"), {{"stp", "reject"}}));
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued, 20}));
}

// --------------------------------------------------------------- time in force, market

class DomainMarketTif : public MarketTest {};

TEST_F(DomainMarketTif, FokUnfillableIsCancelledAndChangesNothing) {
  offer(1000, 20, "s1");
  placed(alice, limit("buy", 800, 10, "a-b"));  // alice's own resting buy
  give_units(alice, 10, "a");
  const Observed before = h.observe();
  // 30 wanted, 20 available from others (alice's own buy is not on this side anyway).
  json::object r = placed(bob, limit("buy", 1000, 30, "b1", "fok"));
  EXPECT_EQ(status(r), "cancelled");
  EXPECT_EQ(i64(r, "filled_qty"), 0);
  EXPECT_EQ(i64(r, "leaves_qty"), 0);
  EXPECT_TRUE(r.at("fills").as_array().empty());
  EXPECT_TRUE(h.on("trades.M").empty());
  EXPECT_TRUE(h.on("book.M").empty());
  EXPECT_TRUE(h.observe() == before);
  // Not even self-trade cancellations: alice's FOK sell with cancel_resting would cancel her
  // own buy at 800 but cannot fill in full.
  r = placed(alice, with(limit("sell", 800, 10, "a-s", "fok"), {{"stp", "cancel_resting"}}));
  EXPECT_EQ(status(r), "cancelled");
  EXPECT_TRUE(h.observe() == before);
  // FOK counts only liquidity it may trade with.
  r = placed(lic, limit("buy", 1000, 10, "l-fok", "fok"));
  EXPECT_EQ(status(r), "cancelled");
  EXPECT_TRUE(h.observe() == before);
  // A fillable FOK fills.
  r = placed(bob, limit("buy", 1000, 20, "b2", "fok"));
  EXPECT_EQ(status(r), "filled");
  EXPECT_EQ(i64(r, "filled_qty"), 20);
}

TEST_F(DomainMarketTif, IocRemainderIsCancelled) {
  offer(1000, 20, "s1");
  json::object r = placed(bob, limit("buy", 1000, 50, "b1", "ioc"));
  EXPECT_EQ(status(r), "cancelled");
  EXPECT_EQ(i64(r, "filled_qty"), 20);
  EXPECT_EQ(i64(r, "leaves_qty"), 0);
  EXPECT_EQ(h.cash_held(bob), 0);
  EXPECT_EQ(h.cash_available(bob), kCash - 20'000);
  EXPECT_EQ(h.position(bob, "M"), (Harness::Position{20, 0}));
}

TEST_F(DomainMarketTif, MarketOrderAgainstAnEmptySideIsCancelled) {
  json::object r = placed(bob, market("buy", 10, "b1"));
  EXPECT_EQ(status(r), "cancelled");
  EXPECT_EQ(i64(r, "filled_qty"), 0);
  EXPECT_EQ(i64(r, "leaves_qty"), 0);
  EXPECT_TRUE(r.at("price").is_null());
  r = placed(lic, market("sell", 10, "s1", "fok"));
  EXPECT_EQ(status(r), "cancelled");
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued, 0}));
}

TEST_F(DomainMarketTif, MarketOrderTakesLevelsAndCancelsTheRest) {
  offer(1000, 10, "s1");
  offer(1100, 10, "s2");
  json::object r = placed(bob, market("buy", 30, "b1"));
  EXPECT_EQ(status(r), "cancelled");
  EXPECT_EQ(i64(r, "filled_qty"), 20);
  EXPECT_EQ(h.cash_available(bob), kCash - 21'000);
  EXPECT_EQ(r.at("fills").as_array().size(), 2u);
}

TEST_F(DomainMarketTif, GtdExpiresAtExpireAtByTimeAdvance) {
  const std::int64_t at = h.now + 60'000;
  json::object r = placed(alice, with(limit("buy", 1000, 10, "a1", "gtd"), {{"expire_at", at}}));
  EXPECT_EQ(status(r), "open");
  EXPECT_EQ(h.cash_held(alice), 10'000);
  ASSERT_TRUE(h.advance(59'999).ok());
  EXPECT_EQ(h.cash_held(alice), 10'000);  // not yet
  ASSERT_TRUE(h.advance(1).ok());
  EXPECT_EQ(h.cash_held(alice), 0);
  EXPECT_EQ(h.cash_available(alice), kCash);
  const auto orders = h.on("private." + alice, "order");
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].data.at("status"), "expired");
  EXPECT_EQ(orders[0].data.at("leaves_qty"), 0);
  EXPECT_EQ(orders[0].ts, at);
  const auto book = h.on("book.M", "update");
  ASSERT_EQ(book.size(), 1u);
  EXPECT_EQ(json::serialize(book[0].data.at("changes")), R"([["bid",1000,0]])");
  EXPECT_EQ(cancel(alice, "order_id", std::string(r.at("order_id").as_string())).code,
            Code::invalid_state);
}

TEST_F(DomainMarketTif, GtdExpiresBeforeALaterCommand) {
  const std::int64_t at = h.now + 60'000;
  placed(lic, with(limit("sell", 1000, 10, "s1", "gtd"), {{"expire_at", at}}));
  EXPECT_EQ(h.position(lic, "M").units_held, 10);
  // At expire_at the sell is gone before bob's buy is matched: bob's buy rests.
  h.now = at;
  json::object r = placed(bob, limit("buy", 1000, 10, "b1"));
  EXPECT_EQ(status(r), "open");
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued, 0}));
  const auto orders = h.on("private." + lic, "order");
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].data.at("status"), "expired");
}

// ------------------------------------------------------------------------ client_order_id

class DomainMarketClientOrderId : public MarketTest {};

TEST_F(DomainMarketClientOrderId, UniquePerParticipantForAllTime) {
  json::object r = placed(alice, limit("buy", 1000, 10, "x"));
  EXPECT_EQ(r.at("client_order_id"), "x");
  rejected(Code::duplicate, alice, limit("buy", 900, 10, "x"));
  ASSERT_TRUE(cancel(alice, "client_order_id", "x").ok());
  rejected(Code::duplicate, alice, limit("buy", 900, 10, "x"));  // done: still used
  // Another participant's ids are its own.
  EXPECT_TRUE(place(bob, limit("buy", 900, 10, "x")).ok());
}

TEST_F(DomainMarketClientOrderId, ARejectedPlaceDoesNotUseItUp) {
  rejected(Code::insufficient_funds, alice, limit("buy", 100'000, 100, "y"));
  rejected(Code::bad_price, alice, limit("buy", 150, 10, "y"));
  rejected(Code::insufficient_funds, alice, limit("sell", 1000, 10, "y"));
  json::object r = placed(alice, limit("buy", 1000, 10, "y"));
  EXPECT_EQ(status(r), "open");
  // A FOK that cannot fill is a result, not an error: its id is used.
  EXPECT_EQ(status(placed(alice, limit("buy", 1000, 10, "z", "fok"))), "cancelled");
  rejected(Code::duplicate, alice, limit("buy", 1000, 10, "z"));
}

TEST_F(DomainMarketClientOrderId, RequestIdRetryAppliesNothing) {
  json::object p = with(limit("buy", 1000, 10, "r1"), {{"request_id", "req-1"}});
  json::object first = placed(alice, p);
  const Observed before = h.observe();
  Outcome again = place(alice, p);
  ASSERT_TRUE(again.ok()) << again.message;
  EXPECT_EQ(json::serialize(again.result), json::serialize(first));
  EXPECT_TRUE(h.pushes.empty());
  EXPECT_TRUE(h.observe() == before);
  EXPECT_EQ(place(alice, with(p, {{"price", 900}})).code, Code::duplicate);
}

// ------------------------------------------------------------------------- order.cancel

class DomainMarketCancel : public MarketTest {};

TEST_F(DomainMarketCancel, ByOrderIdWithFillsSoFar) {
  offer(1000, 10, "s1");
  json::object r = placed(alice, limit("buy", 1000, 30, "a1"));
  EXPECT_EQ(status(r), "partially_filled");
  EXPECT_EQ(h.cash_held(alice), 20'000);
  const std::string id(r.at("order_id").as_string());
  Outcome c = cancel(alice, "order_id", id);
  ASSERT_TRUE(c.ok()) << c.message;
  // order.place's shape, with its fills so far.
  for (const char* k :
       {"order_id", "client_order_id", "status", "filled_qty", "leaves_qty", "fills"}) {
    EXPECT_TRUE(c.result.contains(k)) << k;
  }
  EXPECT_EQ(c.result.at("order_id"), json::value(id));
  EXPECT_EQ(c.result.at("client_order_id"), "a1");
  EXPECT_EQ(status(c.result), "cancelled");
  EXPECT_EQ(i64(c.result, "filled_qty"), 10);
  EXPECT_EQ(i64(c.result, "leaves_qty"), 0);
  const json::array& fills = c.result.at("fills").as_array();
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].as_object().at("price"), 1000);
  EXPECT_EQ(fills[0].as_object().at("qty"), 10);
  EXPECT_EQ(fills[0].as_object().at("trade_id"),
            r.at("fills").as_array()[0].as_object().at("trade_id"));
  EXPECT_EQ(h.cash_held(alice), 0);
  EXPECT_EQ(h.cash_available(alice), kCash - 10'000);
  EXPECT_EQ(json::serialize(h.on("book.M").at(0).data.at("changes")), R"([["bid",1000,0]])");
}

TEST_F(DomainMarketCancel, ByClientOrderId) {
  placed(lic, limit("sell", 1200, 50, "s1"));
  Outcome c = cancel(lic, "client_order_id", "s1");
  ASSERT_TRUE(c.ok()) << c.message;
  EXPECT_EQ(status(c.result), "cancelled");
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued, 0}));
}

// PROTOCOL.md: `market_id, order_id` or `client_order_id`. The client_order_id names the
// order for all time (per participant): market_id may be left out, for live and done orders.
TEST_F(DomainMarketCancel, ByClientOrderIdWithoutTheMarketId) {
  json::object r = placed(alice, limit("buy", 1000, 10, "a1"));
  const std::string id(r.at("order_id").as_string());
  Outcome c = h.call(alice, "order.cancel", R"({"client_order_id":"a1"})");
  ASSERT_TRUE(c.ok()) << c.message;
  EXPECT_EQ(status(c.result), "cancelled");
  EXPECT_EQ(c.result.at("market_id"), "M");
  h.expect_rejected(Code::invalid_state, alice, "order.cancel", R"({"client_order_id":"a1"})");
  placed(alice, limit("buy", 1000, 10, "a2"));
  h.expect_rejected(Code::not_found, bob, "order.cancel", R"({"client_order_id":"a2"})");
  h.expect_rejected(Code::not_found, alice, "order.cancel", R"({"client_order_id":"nope"})");
  // order_id goes with its market_id.
  h.expect_rejected(Code::bad_request, alice, "order.cancel", R"({"order_id":")" + id + R"("})");
  h.expect_rejected(Code::bad_request, alice, "order.cancel", R"({"market_id":"M"})");
}

TEST_F(DomainMarketCancel, SomeoneElsesOrderIsNotFound) {
  json::object r = placed(alice, limit("buy", 1000, 10, "a1"));
  const std::string id(r.at("order_id").as_string());
  h.expect_rejected(Code::not_found, bob, "order.cancel",
                    R"({"market_id":"M","order_id":")" + id + R"("})");
  h.expect_rejected(Code::not_found, bob, "order.cancel",
                    R"({"market_id":"M","client_order_id":"a1"})");
  h.expect_rejected(Code::not_found, alice, "order.cancel",
                    R"({"market_id":"M","order_id":"O-999"})");
  h.expect_rejected(Code::not_found, alice, "order.cancel",
                    R"({"market_id":"M9","order_id":")" + id + R"("})");
  // Ids are exact: no prefix or junk is accepted as another order's id.
  for (const std::string& junk :
       {"O-x" + id.substr(2), id + "x", id.substr(2), "O-0" + id.substr(2)}) {
    h.expect_rejected(Code::not_found, alice, "order.cancel",
                      R"({"market_id":"M","order_id":")" + junk + R"("})");
  }
}

TEST_F(DomainMarketCancel, ADoneOrderIsInvalidState) {
  offer(1000, 10, "s1");
  json::object r = placed(alice, limit("buy", 1000, 10, "a1"));
  ASSERT_EQ(status(r), "filled");
  h.expect_rejected(Code::invalid_state, alice, "order.cancel",
                    R"({"market_id":"M","client_order_id":"a1"})");
  h.expect_rejected(Code::invalid_state, lic, "order.cancel",
                    R"({"market_id":"M","client_order_id":"s1"})");
  json::object f = placed(alice, limit("buy", 1000, 10, "a2", "fok"));
  ASSERT_EQ(status(f), "cancelled");
  h.expect_rejected(Code::invalid_state, alice, "order.cancel",
                    R"({"market_id":"M","client_order_id":"a2"})");
}

TEST_F(DomainMarketCancel, ExactlyOneId) {
  placed(alice, limit("buy", 1000, 10, "a1"));
  h.expect_rejected(Code::bad_request, alice, "order.cancel", R"({"market_id":"M"})");
  h.expect_rejected(Code::bad_request, alice, "order.cancel",
                    R"({"market_id":"M","order_id":"O-1","client_order_id":"a1"})");
}

// ------------------------------------------------------------------- money and positions

class DomainMarketAccount : public MarketTest {};

TEST_F(DomainMarketAccount, CashHeldIsLimitPriceTimesLeavesOfOpenBuys) {
  placed(alice, limit("buy", 1000, 30, "a1"));
  placed(alice, limit("buy", 700, 20, "a2"));
  EXPECT_EQ(h.cash_held(alice), 30'000 + 14'000);
  EXPECT_EQ(h.cash_available(alice), kCash - 44'000);
  // A partial fill of a resting buy (at its own price) shrinks the hold by what was paid.
  placed(lic, limit("sell", 1000, 10, "s1"));
  EXPECT_EQ(h.cash_held(alice), 20'000 + 14'000);
  EXPECT_EQ(h.cash_available(alice), kCash - 44'000);
  EXPECT_EQ(h.position(alice, "M"), (Harness::Position{10, 0}));
}

TEST_F(DomainMarketAccount, AFillAtABetterPriceReturnsTheDifferenceAtOnce) {
  offer(800, 10, "s1");
  json::object r = placed(alice, limit("buy", 1000, 30, "a1"));
  EXPECT_EQ(status(r), "partially_filled");
  EXPECT_EQ(i64(r, "filled_qty"), 10);
  EXPECT_EQ(i64(r, "leaves_qty"), 20);
  // Paid 8,000 for 10; 20 left held at the limit, 1,000 x 20.
  EXPECT_EQ(h.cash_held(alice), 20'000);
  EXPECT_EQ(h.cash_available(alice), kCash - 8'000 - 20'000);
  // The balance push of the command shows the same.
  const auto bal = h.on("private." + alice, "balance");
  ASSERT_FALSE(bal.empty());
  EXPECT_EQ(bal.back().data.at("cash_held"), 20'000);
  EXPECT_EQ(bal.back().data.at("cash_available"), kCash - 28'000);
}

TEST_F(DomainMarketAccount, UnitsAndUnitsHeld) {
  placed(lic, limit("sell", 1000, 100, "s1"));
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued, 100}));
  placed(bob, limit("buy", 1000, 30, "b1"));
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued - 30, 70}));
  EXPECT_EQ(h.position(bob, "M"), (Harness::Position{30, 0}));
  ASSERT_TRUE(cancel(lic, "client_order_id", "s1").ok());
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued - 30, 0}));
  // A participant without units has no position (a zero position may be omitted).
  EXPECT_EQ(h.position(alice, "M"), (Harness::Position{0, 0}));
}

TEST_F(DomainMarketAccount, TradesSettleCashAndUnitsTogether) {
  give_units(alice, 40, "a");
  placed(alice, limit("sell", 1500, 40, "a-s"));
  const std::int64_t cash0 = total_cash();
  json::object r = placed(bob, limit("buy", 1500, 30, "b1"));
  ASSERT_EQ(status(r), "filled");
  EXPECT_EQ(h.cash_available(bob), kCash - 45'000);
  EXPECT_EQ(h.cash_available(alice), kCash - 40'000 + 45'000);
  EXPECT_EQ(h.position(alice, "M"), (Harness::Position{10, 10}));
  EXPECT_EQ(h.position(bob, "M"), (Harness::Position{30, 0}));
  EXPECT_EQ(total_cash(), cash0);
  EXPECT_EQ(total_units(), kIssued);
}

// Rule 13: while PAT-1 is pledged (with consent, which a listing needs), units its licensor
// sells are licences of a pledged patent: the money goes to the pledgee first, up to what
// remains of its claim, over all trades; past the claim, to the licensor again. Units a buyer
// resells are not the licensor's proceeds and go to that seller.
TEST_F(DomainMarketAccount, Rule13UnitsTheLicensorSellsPayThePledgeeFirstUpToItsClaim) {
  ASSERT_TRUE(h.call(op, "pledge.register",
                     R"({"asset_id":"PAT-1","pledgee":")" + bank +
                         R"(","loan_outstanding":50000,"costs":5000,"registration_no":"PLG-1"})")
                  .ok());
  ASSERT_TRUE(h.call(bank, "pledge.consent", R"({"asset_id":"PAT-1"})").ok());
  const std::int64_t cash0 = total_cash() + h.cash_available(bank);
  offer(1'000, 40, "s1");
  ASSERT_EQ(status(placed(alice, limit("buy", 1'000, 40, "b1"))), "filled");  // 40,000 fen
  EXPECT_EQ(h.cash_available(bank), 40'000);
  EXPECT_EQ(h.cash_available(lic), kCash);
  offer(1'000, 30, "s2");
  ASSERT_EQ(status(placed(bob, limit("buy", 1'000, 30, "b2"))), "filled");  // 30,000 fen
  EXPECT_EQ(h.cash_available(bank), 55'000);                 // the claim, and no more
  EXPECT_EQ(h.cash_available(lic), kCash + 30'000 - 15'000);  // the rest of that trade
  offer(1'000, 10, "s3");
  ASSERT_EQ(status(placed(bob, limit("buy", 1'000, 10, "b3"))), "filled");
  EXPECT_EQ(h.cash_available(bank), 55'000);
  EXPECT_EQ(h.cash_available(lic), kCash + 25'000);
  // alice resells 20 of hers to bob: alice is paid, not the pledgee.
  placed(alice, limit("sell", 1'200, 20, "a-s"));
  ASSERT_EQ(status(placed(bob, limit("buy", 1'200, 20, "b4"))), "filled");
  EXPECT_EQ(h.cash_available(alice), kCash - 40'000 + 24'000);
  EXPECT_EQ(h.cash_available(bank), 55'000);
  EXPECT_EQ(total_cash() + h.cash_available(bank), cash0);
  std::vector<Push> ignored;
  Outcome a = h.domain.apply(Method::asset_get, op, {}, Params{AssetRef{"PAT-1"}}, h.now, ignored);
  ASSERT_TRUE(a.ok()) << a.message;
  const json::object& pl = a.result.at("pledges").as_array().at(0).as_object();
  EXPECT_EQ(pl.at("claim"), 55'000);
  EXPECT_EQ(pl.at("paid"), 55'000);
}

// Rule 13: a pledge registered while the market runs needs its pledgee's consent before the
// licensor licenses more: issuing units and offering units anew are INVALID_STATE and change
// nothing; a buyer's resale is not the licensor's licence; once consented, both go on.
TEST_F(DomainMarketAccount, Rule13APledgeWithoutConsentStopsTheLicensorIssuingAndOffering) {
  give_units(alice, 20, "a");
  ASSERT_TRUE(h.call(op, "pledge.register",
                     R"({"asset_id":"PAT-1","pledgee":")" + bank +
                         R"(","loan_outstanding":50000,"registration_no":"PLG-1"})")
                  .ok());
  const auto before = h.position(lic, "M");
  h.expect_rejected(Code::invalid_state, lic, "units.issue", R"({"market_id":"M","qty":10})");
  rejected(Code::invalid_state, lic, limit("sell", 1'000, 10, "s-no"));
  EXPECT_EQ(h.position(lic, "M"), before);
  placed(alice, limit("sell", 1'000, 10, "a-resale"));  // a buyer's resale stands
  ASSERT_TRUE(h.call(bank, "pledge.consent", R"({"asset_id":"PAT-1"})").ok());
  EXPECT_TRUE(h.call(lic, "units.issue", R"({"market_id":"M","qty":10})").ok());
  placed(lic, limit("sell", 1'000, 10, "s-yes"));
}

// A licensor that sold the patent grants no more licences on its old market: units.issue and
// its new sell orders are INVALID_STATE; units already sold stay with their holders.
TEST_F(DomainMarketAccount, ALicensorThatSoldThePatentIssuesAndOffersNoMore) {
  give_units(alice, 20, "a");
  json::object a{{"lot", json::array{"PAT-1"}}, {"purpose", "transfer"}, {"format", "english"},
                 {"start_price", 1'000'000},    {"increment", 10'000},   {"deposit", 0},
                 {"opens_at", h.now},           {"closes_at", h.now + kDayMs}};
  Outcome o = h.call(op, "auction.create", json::serialize(a));
  ASSERT_TRUE(o.ok()) << o.message;
  const std::string aid(o.result.at("auction_id").as_string());
  ASSERT_TRUE(h.call(bob, "auction.register", R"({"auction_id":")" + aid + R"("})").ok());
  ASSERT_TRUE(h.call(bob, "auction.bid", R"({"auction_id":")" + aid + R"(","amount":1000000})").ok());
  ASSERT_TRUE(h.advance(kDayMs).ok());
  std::vector<Push> ignored;
  Outcome g = h.domain.apply(Method::auction_get, op, {}, Params{AuctionGet{aid}}, h.now, ignored);
  const std::string sid(g.result.at("settlement_id").as_string());
  ASSERT_TRUE(h.call(bob, "settlement.pay", R"({"settlement_id":")" + sid + R"("})").ok());
  ASSERT_TRUE(h.call(op, "settlement.confirm",
                     R"({"settlement_id":")" + sid + R"(","registration_no":"R-1"})")
                  .ok());
  EXPECT_EQ(h.position(bob, "PAT-1").units, 1);
  h.expect_rejected(Code::invalid_state, lic, "units.issue", R"({"market_id":"M","qty":10})");
  rejected(Code::invalid_state, lic, limit("sell", 1'000, 10, "s-after"));
  EXPECT_EQ(h.position(alice, "M"), (Harness::Position{20, 0}));
  placed(alice, limit("sell", 1'000, 10, "a-resale"));  // a holder's resale stands
}

TEST_F(DomainMarketAccount, FeesWhenTheMarketSetsThem) {
  ASSERT_TRUE(h.call(alice, "market.create",
                     R"({"market_id":"F","asset_id":"PAT-2","licence":)" + licence_json() +
                         R"(,"tick":100,"min_qty":10,"maker_fee_bp":10,"taker_fee_bp":20})")
                  .ok());
  ASSERT_TRUE(h.call(alice, "units.issue", R"({"market_id":"F","qty":100})").ok());
  placed(alice, with(limit("sell", 10'000, 100, "f-s"), {{"market_id", "F"}}));
  // A limit buy needs price x qty available, not the fee (PROTOCOL "Edges"): one lot over is short.
  rejected(Code::insufficient_funds, bob,
           with(limit("buy", 10'000, 110, "f-b"), {{"market_id", "F"}}));
  json::object r = placed(bob, with(limit("buy", 10'000, 50, "f-b"), {{"market_id", "F"}}));
  EXPECT_EQ(status(r), "filled");
  EXPECT_EQ(h.cash_available(bob), kCash - 500'000 - 1'000);  // taker: 20 bp
  EXPECT_EQ(h.cash_available(alice), kCash + 500'000 - 500);  // maker: 10 bp
  EXPECT_EQ(h.position(bob, "F"), (Harness::Position{50, 0}));
  EXPECT_EQ(h.position(alice, "F"), (Harness::Position{50, 50}));
}

// A limit buy holds exactly price x leaves (PROTOCOL "Defaults"), fees or not; a buyer whose
// fee finds no cash left after the trade pays what it has (here nothing): never an overdraft.
TEST_F(DomainMarketAccount, FeesAreNotHeldAndAFeeIsCappedAtTheCashLeft) {
  ASSERT_TRUE(h.call(alice, "market.create",
                     R"({"market_id":"F","asset_id":"PAT-2","licence":)" + licence_json() +
                         R"(,"tick":100,"min_qty":10,"maker_fee_bp":10,"taker_fee_bp":20})")
                  .ok());
  ASSERT_TRUE(h.call(alice, "units.issue", R"({"market_id":"F","qty":100})").ok());
  placed(bob, with(limit("buy", 10'000, 100, "f-b"), {{"market_id", "F"}}));  // all of kCash
  EXPECT_EQ(h.cash_held(bob), 1'000'000);
  EXPECT_EQ(h.cash_available(bob), 0);
  json::object r = placed(alice, with(limit("sell", 10'000, 100, "f-s"), {{"market_id", "F"}}));
  EXPECT_EQ(status(r), "filled");
  EXPECT_EQ(h.cash_held(bob), 0);
  EXPECT_EQ(h.cash_available(bob), 0);                          // maker fee capped at 0
  EXPECT_EQ(h.cash_available(alice), kCash + 1'000'000 - 2'000);  // taker: 20 bp
  EXPECT_EQ(h.position(bob, "F"), (Harness::Position{100, 0}));
}

// ---------------------------------------------------------------------------- pushes

class DomainMarketPushes : public MarketTest {};

TEST_F(DomainMarketPushes, TradesOnePerFillWithoutIdentities) {
  offer(1000, 10, "s1");
  offer(1100, 10, "s2");
  json::object r = placed(bob, limit("buy", 1100, 20, "b1"));
  const auto trades = h.on("trades.M");
  ASSERT_EQ(trades.size(), 2u);
  const json::array& fills = r.at("fills").as_array();
  ASSERT_EQ(fills.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(trades[i].type, "trade");
    EXPECT_EQ(keys_of(trades[i].data),
              (std::set<std::string>{"trade_id", "price", "qty", "aggressor_side"}));
    EXPECT_EQ(trades[i].data.at("trade_id"), fills[i].as_object().at("trade_id"));
    EXPECT_EQ(trades[i].data.at("qty"), 10);
    EXPECT_EQ(trades[i].data.at("aggressor_side"), "buy");
    EXPECT_EQ(trades[i].ts, h.now);
  }
  EXPECT_EQ(trades[0].data.at("price"), 1000);
  EXPECT_EQ(trades[1].data.at("price"), 1100);
  EXPECT_NE(trades[0].data.at("trade_id"), trades[1].data.at("trade_id"));
  // A sell aggressor.
  placed(alice, limit("buy", 900, 10, "a1"));
  placed(bob, limit("sell", 900, 10, "b2"));
  ASSERT_EQ(h.on("trades.M").size(), 1u);
  EXPECT_EQ(h.on("trades.M")[0].data.at("aggressor_side"), "sell");
}

TEST_F(DomainMarketPushes, BookUpdatesCarryLevelTotals) {
  placed(alice, limit("buy", 1000, 10, "a1"));
  auto book = h.on("book.M", "update");
  ASSERT_EQ(book.size(), 1u);
  EXPECT_EQ(json::serialize(book[0].data), R"({"changes":[["bid",1000,10]]})");
  placed(bob, limit("buy", 1000, 20, "b1"));
  EXPECT_EQ(json::serialize(h.on("book.M")[0].data.at("changes")), R"([["bid",1000,30]])");
  placed(lic, limit("sell", 1000, 40, "s1"));  // takes both bids, rests 10 at 1000
  EXPECT_EQ(json::serialize(h.on("book.M")[0].data.at("changes")),
            R"([["bid",1000,0],["ask",1000,10]])");
  // A command that does not touch the book pushes nothing on it.
  placed(bob, market("sell", 10, "b-m"));  // bob has 20 units now; no bids: cancelled
  EXPECT_TRUE(h.on("book.M").empty());
  EXPECT_EQ(json::serialize(h.call(bob, "market.get", R"({"market_id":"M"})").result.at("asks")),
            "[[1000,10]]");
}

TEST_F(DomainMarketPushes, ChangesCoverTheBest50Levels) {
  // 51 ask levels: 1,000 .. 6,000. The 51st is outside the best 50: no book push.
  for (int i = 0; i < 51; ++i) {
    placed(lic, limit("sell", 1000 + 100 * i, 10, "s" + std::to_string(i)));
    EXPECT_EQ(h.on("book.M").size(), i < 50 ? 1u : 0u) << i;
  }
  auto asks = h.call(bob, "market.get", R"({"market_id":"M"})").result.at("asks").as_array();
  EXPECT_EQ(asks.size(), 50u);
  // Taking the best level brings the 51st into the best 50: it appears as a change.
  placed(bob, limit("buy", 1000, 10, "b1"));
  EXPECT_EQ(json::serialize(h.on("book.M")[0].data.at("changes")),
            R"([["ask",6000,10],["ask",1000,0]])");
  // A better level pushes the 50th out of the window: it is removed from the view (qty 0).
  placed(lic, limit("sell", 900, 10, "s-better"));
  EXPECT_EQ(json::serialize(h.on("book.M")[0].data.at("changes")),
            R"([["ask",900,10],["ask",6000,0]])");
  // Changes beyond the best 50 are not pushed.
  placed(lic, limit("sell", 9000, 10, "s-far"));
  EXPECT_TRUE(h.on("book.M").empty());
}

// A subscriber that applies every book update to its snapshot holds the best 50 levels a side
// after each command: random places (some crossing), cancels, on up to ~90 levels a side.
TEST_F(DomainMarketPushes, UpdatesAppliedToTheSnapshotGiveTheBookEachTime) {
  h.fund(alice, 100 * kCash);
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> mirror;  // (side, price) -> qty
  std::mt19937_64 rng(7);
  std::vector<std::pair<std::string, std::string>> live;  // (owner, client_order_id)
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  for (int step = 0; step < 600; ++step) {
    const std::string coid = "r" + std::to_string(step);
    if (!live.empty() && pick(3) == 0) {
      const std::size_t k = static_cast<std::size_t>(pick(static_cast<int>(live.size())));
      cancel(live[k].first, "client_order_id", live[k].second);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
    } else if (pick(2) == 0) {
      const Outcome o = place(alice, limit("buy", 100 * (1 + pick(90)), 10 * (1 + pick(3)), coid));
      if (o.ok()) live.emplace_back(alice, coid);
    } else {
      const Outcome o = place(lic, limit("sell", 100 * (60 + pick(90)), 10, coid));
      if (o.ok()) live.emplace_back(lic, coid);
    }
    for (const auto& u : h.on("book.M", "update")) {
      for (const auto& c : u.data.at("changes").as_array()) {
        const auto& a = c.as_array();
        const auto key = std::make_pair(std::string(a[0].as_string()), a[1].as_int64());
        if (a[2].as_int64() == 0) {
          mirror.erase(key);
        } else {
          mirror[key] = a[2].as_int64();
        }
      }
    }
    const json::object book = h.call(bob, "market.get", R"({"market_id":"M"})").result;
    std::map<std::pair<std::string, std::int64_t>, std::int64_t> want;
    for (const char* side : {"bids", "asks"}) {
      for (const auto& l : book.at(side).as_array()) {
        want[{side == std::string("bids") ? "bid" : "ask", l.as_array()[0].as_int64()}] =
            l.as_array()[1].as_int64();
      }
    }
    ASSERT_EQ(mirror, want) << "step " << step;
  }
}

// The reply to order.place and order.cancel is the order's text pushed last in the same
// command (the domain makes it once for both): random places (some crossing, some IOC or
// market, self-trades cancelled by STP), cancels of live and done orders.
TEST_F(DomainMarketPushes, TheReplyIsTheOrdersLastPushInTheCommand) {
  h.fund(alice, 100 * kCash);
  give_units(alice, 200, "u");
  std::mt19937_64 rng(11);
  std::vector<std::pair<std::string, std::string>> placed_ids;  // (owner, client_order_id)
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  int checked = 0, traded = 0;  // traded: commands that pushed other orders too
  for (int step = 0; step < 400; ++step) {
    const std::string coid = "q" + std::to_string(step);
    const std::string who = pick(2) == 0 ? alice : lic;
    Outcome o;
    if (!placed_ids.empty() && pick(4) == 0) {
      const auto& [owner, id] = placed_ids[static_cast<std::size_t>(pick(static_cast<int>(placed_ids.size())))];
      o = cancel(owner, "client_order_id", id);
    } else {
      const std::string side = pick(2) == 0 ? "buy" : "sell";
      json::object p = pick(5) == 0 ? market(side, 10 * (1 + pick(3)), coid)
                                    : limit(side, 100 * (8 + pick(5)), 10 * (1 + pick(3)), coid,
                                            pick(4) == 0 ? "ioc" : "gtc");
      o = place(who, p);
      if (o.ok()) placed_ids.emplace_back(who, coid);
    }
    if (!o.ok()) continue;
    std::vector<Push> mine;
    for (const Push& p : h.pushes) {
      if (p.type == "order" && p.data.at("order_id") == o.result.at("order_id")) mine.push_back(p);
    }
    ASSERT_FALSE(mine.empty()) << "step " << step << ": no order push for the reply";
    if (mine.size() < h.on("private." + alice, "order").size() + h.on("private." + lic, "order").size()) ++traded;
    EXPECT_EQ(mine.back().data_text, json::serialize(o.result)) << "step " << step;
    ++checked;
  }
  EXPECT_GT(checked, 300);
  EXPECT_GT(traded, 50);
}

TEST_F(DomainMarketPushes, PrivateOrderFillAndBalance) {
  offer(1000, 30, "s1");
  json::object r = placed(alice, limit("buy", 1000, 10, "a1"));
  // The taker: a fill, its order (filled), its balance.
  const auto af = h.on("private." + alice, "fill");
  ASSERT_EQ(af.size(), 1u);
  EXPECT_EQ(af[0].data.at("order_id"), r.at("order_id"));
  EXPECT_EQ(af[0].data.at("client_order_id"), "a1");
  EXPECT_EQ(af[0].data.at("side"), "buy");
  EXPECT_EQ(af[0].data.at("price"), 1000);
  EXPECT_EQ(af[0].data.at("qty"), 10);
  const auto ao = h.on("private." + alice, "order");
  ASSERT_EQ(ao.size(), 1u);
  EXPECT_EQ(json::serialize(ao[0].data), json::serialize(r));
  const auto ab = h.on("private." + alice, "balance");
  ASSERT_EQ(ab.size(), 1u);
  EXPECT_EQ(json::serialize(ab[0].data), json::serialize(h.account(alice)));
  // The maker, partially filled: a fill, its order (partially_filled), its balance.
  const auto lf = h.on("private." + lic, "fill");
  ASSERT_EQ(lf.size(), 1u);
  EXPECT_EQ(lf[0].data.at("client_order_id"), "s1");
  EXPECT_EQ(lf[0].data.at("side"), "sell");
  const auto lo = h.on("private." + lic, "order");
  ASSERT_EQ(lo.size(), 1u);
  EXPECT_EQ(lo[0].data.at("status"), "partially_filled");
  EXPECT_EQ(lo[0].data.at("filled_qty"), 10);
  EXPECT_EQ(lo[0].data.at("leaves_qty"), 20);
  const auto lb = h.on("private." + lic, "balance");
  ASSERT_EQ(lb.size(), 1u);
  EXPECT_EQ(json::serialize(lb[0].data), json::serialize(h.account(lic)));
  // Nobody else hears of it privately.
  EXPECT_TRUE(h.on("private." + bob).empty());
}

TEST_F(DomainMarketPushes, ARejectedCommandPushesNothingAndChangesNothing) {
  offer(1000, 10, "s1");
  placed(alice, limit("buy", 900, 10, "a1"));
  rejected(Code::insufficient_funds, bob, limit("buy", 1000, 100'000, "b1"));
  rejected(Code::self_trade, lic, with(limit("buy", 1000, 10, "l1"), {{"stp", "reject"}}));
  rejected(Code::would_cross, bob, with(limit("buy", 1000, 10, "b1"), {{"post_only", true}}));
  h.expect_rejected(Code::not_found, bob, "order.cancel",
                    R"({"market_id":"M","client_order_id":"a1"})");
}

// -------------------------------------------------------------------------- replace

class DomainMarketReplace : public MarketTest {};

// order.replace is not in the v1 core table; a repriced order that crosses trades as the
// taker while its own hold is still in place, so it must not need more than it holds.
TEST_F(DomainMarketReplace, ARestingBuyRepricedAcrossTheBookTrades) {
  placed(alice, limit("buy", 900, 1000, "a1"));  // holds 900,000 of 1,000,000
  offer(1000, 500, "s1");
  Outcome o = h.call(alice, "order.replace", R"({"market_id":"M","order_id":"O-1","price":1000})");
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(status(o.result), "partially_filled");
  EXPECT_EQ(i64(o.result, "filled_qty"), 500);
  EXPECT_EQ(i64(o.result, "leaves_qty"), 500);
  EXPECT_EQ(h.cash_held(alice), 500'000);
  EXPECT_EQ(h.cash_available(alice), 0);
  EXPECT_EQ(h.position(alice, "M").units, 500);
  EXPECT_EQ(h.on("trades.M").size(), 1u);
}

TEST_F(DomainMarketReplace, ARestingSellRepricedAcrossTheBookTrades) {
  placed(bob, limit("buy", 900, 20, "b1"));
  placed(lic, limit("sell", 1000, kIssued, "s1"));  // every unit held
  Outcome o = h.call(lic, "order.replace", R"({"market_id":"M","order_id":"O-2","price":900})");
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(i64(o.result, "filled_qty"), 20);
  EXPECT_EQ(h.position(lic, "M"), (Harness::Position{kIssued - 20, kIssued - 20}));
  EXPECT_EQ(h.position(bob, "M"), (Harness::Position{20, 0}));
}

TEST_F(DomainMarketReplace, ResizeInPlaceKeepsHoldsExact) {
  placed(alice, limit("buy", 1000, 100, "a1"));
  ASSERT_TRUE(
      h.call(alice, "order.replace", R"({"market_id":"M","order_id":"O-1","qty":40})").ok());
  EXPECT_EQ(h.cash_held(alice), 40'000);
  h.expect_rejected(Code::insufficient_funds, alice, "order.replace",
                    R"({"market_id":"M","order_id":"O-1","qty":1010})");
  h.expect_rejected(Code::not_found, bob, "order.replace",
                    R"({"market_id":"M","order_id":"O-1","qty":10})");
}

// ---------------------------------------------------------------- invariants over a run

class DomainMarketInvariants : public MarketTest {};

TEST_F(DomainMarketInvariants, ARandomSessionConservesCashAndUnits) {
  give_units(alice, 200, "a");
  give_units(bob, 200, "b");
  const std::int64_t cash0 = total_cash();
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  auto next = [&](std::uint64_t n) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return static_cast<std::int64_t>(x % n);
  };
  const std::string who[] = {lic, alice, bob};
  const char* tifs[] = {"gtc", "ioc", "fok", "gtd"};
  const char* stps[] = {"cancel_incoming", "cancel_resting", "cancel_both", "reject"};
  int ok = 0;
  for (int i = 0; i < 600; ++i) {
    h.now += next(5'000);
    const std::string& p = who[next(3)];
    const std::string coid = "r" + std::to_string(i);
    if (next(5) == 0) {
      cancel(p, "client_order_id", "r" + std::to_string(next(static_cast<std::uint64_t>(i + 1))));
      continue;
    }
    const std::string side = next(2) ? "buy" : "sell";
    json::object o =
        next(6) == 0 ? market(side, kLot * (1 + next(5)), coid, next(2) ? "ioc" : "fok")
                     : limit(side, 100 * (8 + next(5)), kLot * (1 + next(5)), coid, tifs[next(4)]);
    if (o.at("tif") == "gtd") o["expire_at"] = h.now + 1 + next(20'000);
    o["stp"] = stps[next(4)];
    if (o.at("type") == "limit" && o.at("tif") != "ioc" && o.at("tif") != "fok" && next(4) == 0) {
      o["post_only"] = true;
    }
    ok += place(p, o).ok() ? 1 : 0;
    ASSERT_FALSE(h.ledger_problem().has_value()) << *h.ledger_problem();
  }
  EXPECT_GT(ok, 100);
  EXPECT_EQ(total_cash(), cash0);
  EXPECT_EQ(total_units(), kIssued);
  // The book's resting orders are exactly what is held.
  json::object m = h.call(bob, "market.get", R"({"market_id":"M"})").result;
  std::int64_t bid_cash = 0, ask_units = 0;
  for (const auto& l : m.at("bids").as_array())
    bid_cash += l.as_array()[0].as_int64() * l.as_array()[1].as_int64();
  for (const auto& l : m.at("asks").as_array()) ask_units += l.as_array()[1].as_int64();
  std::int64_t held = 0, units_held = 0;
  for (const auto& p : who) held += h.cash_held(p), units_held += h.position(p, "M").units_held;
  EXPECT_EQ(held, bid_cash);
  EXPECT_EQ(units_held, ask_units);
}

TEST_F(DomainMarketInvariants, SameCommandsSameStateHash) {
  // Replay: a second domain given the same commands at the same times has the same hash.
  Harness other;
  auto run = [](Harness& x) {
    const std::string l = x.participant("enterprise", "licensor");
    const std::string b = x.participant("enterprise", "buyer");
    x.fund(b, kCash);
    json::object a{{"asset_id", "P"},     {"kind", "trademark"},
                   {"title", "t"},        {"owner", l},
                   {"region", "chengdu"}, {"industry", "other"},
                   {"valuation", 1000},   {"expires_at", x.now + 10 * kYearMs}};
    EXPECT_TRUE(x.call(l, "asset.register", json::serialize(a)).ok());
    EXPECT_TRUE(x.call(l, "market.create",
                       R"({"market_id":"M","asset_id":"P","licence":)" + licence_json() +
                           R"(,"tick":100,"min_qty":10})")
                    .ok());
    EXPECT_TRUE(x.call(l, "units.issue", R"({"market_id":"M","qty":100})").ok());
    x.call(
        l, "order.place",
        R"({"market_id":"M","side":"sell","type":"limit","price":1000,"qty":50,"tif":"gtc","client_order_id":"s"})");
    x.call(
        b, "order.place",
        R"({"market_id":"M","side":"buy","type":"limit","price":1000,"qty":70,"tif":"gtc","client_order_id":"b"})");
    x.call(
        b, "order.place",
        R"({"market_id":"M","side":"buy","type":"limit","price":1050,"qty":70,"tif":"gtc","client_order_id":"c"})");
    x.call(b, "order.cancel", R"({"market_id":"M","client_order_id":"b"})");
  };
  Harness one;
  run(one);
  run(other);
  EXPECT_EQ(one.domain.state_hash(), other.domain.state_hash());
  EXPECT_TRUE(one.observe() == other.observe());
}


// A done order leaves its market's live table for the finished orders' log (what a snapshot
// takes by reference): it is still found as done (INVALID_STATE for its owner, NOT_FOUND for
// anyone else or in another market), its client_order_id stays taken, and all of it survives
// a snapshot's save and load.
class DomainMarketFinished : public MarketTest {};

TEST_F(DomainMarketFinished, ADoneOrderIsStillItsOwnersAndDoneAfterASnapshot) {
  ASSERT_TRUE(create_market(alice, "M2", "PAT-2").ok());
  const std::string sell = std::string(offer(1'000, 10, "s1").at("order_id").as_string());
  json::object b = placed(alice, limit("buy", 1'000, 10, "b1"));
  ASSERT_EQ(status(b), "filled");
  const std::string buy = std::string(b.at("order_id").as_string());
  const std::string resting = std::string(offer(2'000, 10, "s2").at("order_id").as_string());
  auto checks = [&] {
    EXPECT_EQ(cancel(alice, "client_order_id", "b1").code, Code::invalid_state);
    EXPECT_EQ(cancel(alice, "order_id", buy).code, Code::invalid_state);
    EXPECT_EQ(cancel(lic, "client_order_id", "s1").code, Code::invalid_state);
    EXPECT_EQ(h.call(lic, "order.replace",
                     R"({"market_id":"M","order_id":")" + sell + R"(","price":900})").code,
              Code::invalid_state);
    EXPECT_EQ(cancel(bob, "order_id", buy).code, Code::not_found);
    EXPECT_EQ(h.call(alice, "order.cancel", R"({"market_id":"M2","order_id":")" + buy + R"("})").code,
              Code::not_found);
    rejected(Code::duplicate, alice, limit("buy", 1'000, 10, "b1"));
    rejected(Code::duplicate, lic, limit("sell", 3'000, 10, "s2"));
  };
  checks();
  // The same after a snapshot, in a domain loaded from it; the resting order still cancels.
  const std::string bytes = h.domain.save();
  const auto sections = snap::read_frame(bytes, {"remembered", "state", "transfers", "finished"});
  snap::Reader finished(sections[3]);
  EXPECT_EQ(finished.count(), 2u);  // s1 and b1; s2 rests
  Domain loaded;
  std::string error;
  ASSERT_TRUE(loaded.load(bytes, error)) << error;
  EXPECT_EQ(loaded.state_hash(), h.domain.state_hash());
  EXPECT_TRUE(loaded.save() == bytes);
  h.domain = std::move(loaded);
  checks();
  Outcome c = cancel(lic, "order_id", resting);
  ASSERT_TRUE(c.ok()) << c.message;
  EXPECT_EQ(status(c.result), "cancelled");
  EXPECT_EQ(cancel(lic, "order_id", resting).code, Code::invalid_state);
}

// An operator, a licensor with market M (asset PAT-M), alice (funded) and a seller, on a
// ledger of `capacity` transfers; fill() rests buys until the ledger refuses one.
struct FullLedger {
  Harness h;
  std::string op, lic, alice, seller;
  explicit FullLedger(std::size_t capacity = 256) : h(ledger::Limits{1024, capacity}) {
    op = h.participant("operator", "op");
    lic = h.participant("enterprise", "lic");
    alice = h.participant("enterprise", "alice");
    seller = h.participant("enterprise", "seller");
    EXPECT_TRUE(h.call(op, "asset.register", asset("PAT-M", lic)).ok());
    EXPECT_TRUE(h.call(lic, "market.create", R"({"market_id":"M","asset_id":"PAT-M","licence":)" +
                                                 licence_json() + R"(,"tick":100,"min_qty":10})")
                    .ok());
    h.fund(alice, 1'000'000'000);
  }
  std::string asset(const std::string& id, const std::string& owner) const {
    return json::serialize(json::object{{"asset_id", id}, {"kind", "invention_patent"},
                                        {"title", "a patent"}, {"owner", owner},
                                        {"region", "chengdu"}, {"industry", "other"},
                                        {"valuation", 100'000'000},
                                        {"expires_at", h.now + 10 * kYearMs}});
  }
  static std::string order(const std::string& coid, const std::string& rid = {}) {
    std::string s = R"({"market_id":"M","side":"buy","type":"limit","price":100,"qty":10,"tif":"gtc","client_order_id":")" +
                    coid + "\"";
    if (!rid.empty()) s += R"(,"request_id":")" + rid + "\"";
    return s + "}";
  }
  int fill(const std::string& prefix) {
    for (int i = 0;; ++i) {
      Outcome o = h.call(alice, "order.place", order(prefix + std::to_string(i)));
      if (o.code == Code::unavailable) return i;
      EXPECT_TRUE(o.ok()) << o.message;
      if (!o.ok()) return i;
    }
  }
};

// The ledger's live log has a fixed capacity, and open holds are never retired: near it (1/16
// left for what timers may still post) commands are refused with UNAVAILABLE and change
// nothing; reads go on; the engine does not stop halfway through a command. Cancels go on
// (each frees a hold), and once they have made room, orders are taken again. A ledger of
// 4,096 transfers fills after ~3,800 resting orders.
TEST(DomainLedgerCapacity, NearFullCommandsAreUnavailableAndChangeNothing) {
  FullLedger w(4096);
  Harness& h = w.h;
  const std::string &op = w.op, &alice = w.alice;
  const std::string a = w.asset("PAT-1", w.lic);
  int placed = 0;
  Outcome o;
  for (; placed < 5000; ++placed) {
    o = h.call(alice, "order.place",
               R"({"market_id":"M","side":"buy","type":"limit","price":100,"qty":10,"tif":"gtc",)"
               R"("client_order_id":"c)" + std::to_string(placed) + R"("})");
    if (!o.ok()) break;
  }
  ASSERT_EQ(o.code, Code::unavailable) << o.message;
  EXPECT_GT(placed, 3000);
  EXPECT_LE(h.domain.ledger().live_log().size(), std::size_t{4096 - 4096 / 16});
  h.expect_rejected(Code::unavailable, alice, "order.place",
                    R"({"market_id":"M","side":"buy","type":"limit","price":100,"qty":10,"tif":"gtc","client_order_id":"late"})");
  h.expect_rejected(Code::unavailable, op, "asset.register", a);
  EXPECT_TRUE(h.call(alice, "account.get", "{}").ok());  // reads go on
  EXPECT_TRUE(h.domain.ledger_refuses(Method::order_place, alice, "", false, h.now));
  EXPECT_FALSE(h.domain.ledger_refuses(Method::order_cancel, alice, "", false, h.now));
  EXPECT_FALSE(h.domain.ledger_refuses(Method::tick, "", "", false, h.now));  // timers run
  EXPECT_FALSE(h.domain.ledger_refuses(Method::order_place, alice, "", true, h.now));  // BAD_REQUEST

  // A snapshot loads into a Domain of the same limits (still full), never into one whose
  // ledger cannot hold what it holds.
  const std::string blob = h.domain.save();
  std::string error;
  Domain same(ledger::Limits{1024, 4096});
  ASSERT_TRUE(same.load(blob, error, h.domain.state_hash())) << error;
  EXPECT_EQ(same.ledger().limits().transfers_max, 4096u);
  EXPECT_EQ(same.save(), blob);
  // One of a smaller capacity loads it too (its ledger grows past the capacity): the
  // capacity is configuration, not state.
  Domain smaller(ledger::Limits{1024, 2048});
  ASSERT_TRUE(smaller.load(blob, error, h.domain.state_hash())) << error;
  EXPECT_TRUE(smaller.ledger_refuses(Method::order_place, alice, "", false, h.now));

  // Cancels are taken while full; once they have freed ~1/8 of the log, orders are again.
  int cancelled = 0;
  for (; cancelled < placed; ++cancelled) {
    Outcome c = h.call(alice, "order.cancel",
                       R"({"market_id":"M","client_order_id":"c)" + std::to_string(cancelled) + R"("})");
    ASSERT_TRUE(c.ok()) << c.message;
    if (!h.domain.ledger_refuses(Method::order_place, alice, "", false, h.now)) break;
  }
  EXPECT_LT(cancelled, placed / 4);
  o = h.call(alice, "order.place",
             R"({"market_id":"M","side":"buy","type":"limit","price":100,"qty":10,"tif":"gtc","client_order_id":"again"})");
  EXPECT_TRUE(o.ok()) << o.message;
}

// One command that makes more transfers than the room the live log has left (a sell sweeping
// resting buys, three transfers a fill, in a 64-transfer ledger) compacts before its
// transfers: it is filled whole, and the ledger holds its invariants.
TEST(DomainLedgerCapacity, ACommandMakingMoreTransfersThanTheRoomLeftCompactsFirst) {
  FullLedger w(64);
  Harness& h = w.h;
  const std::string &lic = w.lic, &alice = w.alice;
  ASSERT_TRUE(h.call(lic, "units.issue", R"({"market_id":"M","qty":100000})").ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(h.call(alice, "order.place",
                       R"({"market_id":"M","side":"buy","type":"limit","price":)" +
                           std::to_string(100 * (i + 1)) + R"(,"qty":10,"tif":"gtc","client_order_id":"c)" +
                           std::to_string(i) + R"("})")
                    .ok());
  }
  const std::uint64_t retired = h.domain.ledger().retired_count();
  Outcome o = h.call(lic, "order.place",
                     R"({"market_id":"M","side":"sell","type":"limit","price":100,"qty":200,"tif":"ioc","client_order_id":"s"})");
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(o.result.at("filled_qty"), 200);
  EXPECT_GT(h.domain.ledger().retired_count(), retired);  // compacted inside the command
  EXPECT_EQ(h.domain.ledger().open_pending_count(), 0u);
  EXPECT_EQ(h.position(alice, "M").units, 200);
}

// Compaction (Domain::compact_ledger) retires settled transfers and changes no state: a domain
// with a 256-transfer live log runs thousands of orders, trades and an auction's settlement in
// step with one whose ledger never compacts: the same replies, the same state hash after every
// command, the same settlement view (its transfers kept, with their states). Its snapshots
// load, and save the same bytes again.
TEST(DomainLedgerCapacity, CompactionRetiresSettledTransfersAndChangesNoState) {
  Harness small(ledger::Limits{1024, 256});
  Harness big;
  std::vector<std::string> replies;
  auto both = [&](const std::string& actor, std::string_view method, const std::string& params) {
    const Outcome a = small.call(actor, method, params);
    const Outcome b = big.call(actor, method, params);
    EXPECT_EQ(a.code, b.code) << method << " " << params << ": " << a.message;
    EXPECT_EQ(a.result_json(), b.result_json()) << method;
    EXPECT_EQ(small.domain.state_hash(), big.domain.state_hash()) << method << " " << params;
    return a;
  };
  auto person = [&](const std::string& kind, const std::string& name) {
    const std::string a = small.participant(kind, name);
    EXPECT_EQ(big.participant(kind, name), a);
    return a;
  };
  auto advance = [&](std::int64_t ms) {
    ASSERT_TRUE(small.advance(ms).ok());
    ASSERT_TRUE(big.advance(ms).ok());
    EXPECT_EQ(small.domain.state_hash(), big.domain.state_hash());
  };
  const std::string op = person("operator", "exchange operator");
  const std::string lic = person("enterprise", "licensor");
  const std::string alice = person("enterprise", "alice");
  const std::string bob = person("individual", "bob");
  for (const auto& who : {alice, bob}) {
    both("admin", "account.fund", json::serialize(json::object{{"participant_id", who}, {"amount", 1'000'000'000}}));
  }
  for (const char* id : {"PAT-1", "PAT-2"}) {
    json::object a{{"asset_id", id},         {"kind", "invention_patent"}, {"title", "a patent"},
                   {"owner", lic},           {"region", "chengdu"},        {"industry", "other"},
                   {"valuation", 5'000'000}, {"expires_at", small.now + 10 * kYearMs}};
    ASSERT_TRUE(both(op, "asset.register", json::serialize(a)).ok());
  }
  ASSERT_TRUE(both(lic, "market.create",
                   R"({"market_id":"M","asset_id":"PAT-1","licence":)" + licence_json() +
                       R"(,"tick":100,"min_qty":10})")
                  .ok());
  ASSERT_TRUE(both(lic, "units.issue", R"({"market_id":"M","qty":1000000})").ok());
  // An auction of PAT-2 won by bob: his deposit and payment are held, posted at confirm.
  Outcome o = both(op, "auction.create",
                   json::serialize(json::object{{"lot", json::array{"PAT-2"}}, {"purpose", "transfer"},
                                                {"format", "english"}, {"start_price", 1'000'000},
                                                {"increment", 10'000}, {"deposit", 100'000},
                                                {"opens_at", small.now}, {"closes_at", small.now + kDayMs}}));
  ASSERT_TRUE(o.ok()) << o.message;
  const std::string auction = std::string(o.result.at("auction_id").as_string());
  ASSERT_TRUE(both(bob, "auction.register", R"({"auction_id":")" + auction + R"("})").ok());
  ASSERT_TRUE(both(bob, "auction.bid", R"({"auction_id":")" + auction + R"(","amount":1000000})").ok());
  int orders = 0;
  auto trade_for_a_while = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const std::string k = std::to_string(++orders);
      ASSERT_TRUE(both(alice, "order.place",
                       R"({"market_id":"M","side":"buy","type":"limit","price":100,"qty":10,"tif":"gtc","client_order_id":"b)" + k + R"("})")
                      .ok());
      if (i % 3 == 0) {  // a trade: the hold posted, cash and units moved, fees
        ASSERT_TRUE(both(lic, "order.place",
                         R"({"market_id":"M","side":"sell","type":"limit","price":100,"qty":10,"tif":"ioc","client_order_id":"s)" + k + R"("})")
                        .ok());
      } else {  // a cancel: the hold voided
        ASSERT_TRUE(both(alice, "order.cancel", R"({"market_id":"M","client_order_id":"b)" + k + R"("})").ok());
      }
    }
  };
  trade_for_a_while(300);
  advance(kDayMs);  // the auction closes: a settlement
  std::vector<Push> ignored;
  o = small.domain.apply(Method::auction_get, op, {}, Params{AuctionGet{auction}}, small.now, ignored);
  ASSERT_EQ(o.result.at("state"), "sold");
  const std::string sid(o.result.at("settlement_id").as_string());
  const std::string sref = R"({"settlement_id":")" + sid + R"("})";
  trade_for_a_while(300);
  ASSERT_TRUE(both(bob, "settlement.pay", sref).ok());
  trade_for_a_while(300);
  ASSERT_TRUE(both(op, "settlement.confirm", R"({"settlement_id":")" + sid + R"(","registration_no":"CNIPA-1"})").ok());
  trade_for_a_while(300);
  const std::uint64_t retired_before_view = small.domain.ledger().retired_count();

  // Retired: most of what was made, in several compactions; the live log stays under its cap.
  EXPECT_GT(small.domain.ledger().retired_count(), 2'000u);
  EXPECT_EQ(small.domain.ledger().transfer_count(), big.domain.ledger().transfer_count());
  EXPECT_LT(small.domain.ledger().live_log().size(), 256u);
  EXPECT_EQ(big.domain.ledger().retired_count(), 0u);
  // The settlement's view: every transfer listed, with its state, as if nothing was retired.
  auto view = [&](Harness& x) {
    std::vector<Push> none;
    return x.domain.apply(Method::settlement_get, bob, {}, Params{SettlementRef{sid}}, x.now, none)
        .result_json();
  };
  EXPECT_EQ(view(small), view(big));
  EXPECT_NE(view(small).find("\"posted\""), std::string::npos) << view(small);
  EXPECT_EQ(small.domain.ledger().retired_count(), retired_before_view);
  // Snapshots: the compacted domain's loads into its limits, and saves the same bytes again.
  const std::string blob = small.domain.save();
  std::string error;
  Domain loaded(ledger::Limits{1024, 256});
  ASSERT_TRUE(loaded.load(blob, error, small.domain.state_hash())) << error;
  EXPECT_EQ(loaded.save(), blob);
  EXPECT_EQ(loaded.ledger().history(), small.domain.ledger().history());
  EXPECT_LT(blob.size(), big.domain.save().size());
  small.domain = std::move(loaded);
  trade_for_a_while(100);  // and goes on in step
}


// A request_id older than 24 h is forgotten before its lookup: on a full ledger, its "retry"
// is a new command, and refused like one (it used to get past the refusal and, repeated,
// fill the ledger to an abort).
TEST(DomainLedgerCapacity, AForgottenRequestIdIsRefusedLikeANewCommand) {
  FullLedger w;
  const std::int64_t t0 = w.h.now;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(w.h.call(w.alice, "order.place", FullLedger::order("o" + std::to_string(i), "r" + std::to_string(i))).ok());
  }
  w.fill("f");
  EXPECT_TRUE(w.h.call(w.alice, "order.place", FullLedger::order("o0", "r0")).ok());  // its first reply
  w.h.now = t0 + kDayMs;  // r0 is 24 h old now
  EXPECT_TRUE(w.h.domain.ledger_refuses(Method::order_place, w.alice, "r0", false, w.h.now));
  for (int i = 0; i < 20; ++i) {
    w.h.expect_rejected(Code::unavailable, w.alice, "order.place",
                        FullLedger::order("b" + std::to_string(i), "r" + std::to_string(i)));
  }
}

// What may not be refused never fails midway: payment deadlines forfeiting 12 deposits at
// once (each leaves transfers its settlement lists, which are never retired) on a ledger full
// of open holds take it past its capacity, and it grows; a cancel then goes on too, and every
// invariant holds.
TEST(DomainLedgerCapacity, TimersAndCancelsTakeAFullLedgerPastItsCapacity) {
  FullLedger w;
  const std::int64_t close = w.h.now + kDayMs;
  for (int i = 0; i < 12; ++i) {
    const std::string aid = "PAT-" + std::to_string(i);
    ASSERT_TRUE(w.h.call(w.op, "asset.register", w.asset(aid, w.seller)).ok());
    Outcome o = w.h.call(w.op, "auction.create",
                         json::serialize(json::object{{"lot", json::array{aid}}, {"purpose", "transfer"},
                                                      {"format", "english"}, {"start_price", 1'000'000},
                                                      {"increment", 10'000}, {"deposit", 100'000},
                                                      {"opens_at", w.h.now}, {"closes_at", close}}));
    ASSERT_TRUE(o.ok()) << o.message;
    const std::string id(o.result.at("auction_id").as_string());
    ASSERT_TRUE(w.h.call(w.alice, "auction.register", R"({"auction_id":")" + id + R"("})").ok());
    ASSERT_TRUE(w.h.call(w.alice, "auction.bid", R"({"auction_id":")" + id + R"(","amount":1000000})").ok());
  }
  ASSERT_TRUE(w.h.advance(close - w.h.now).ok());  // 12 settlements awaiting payment
  const int placed = w.fill("f");
  ASSERT_GT(placed, 100);
  ASSERT_TRUE(w.h.advance(10 * kDayMs + 1).ok());  // the deadlines: 12 forfeits in one command
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(w.h.call(w.alice, "order.cancel", R"({"market_id":"M","client_order_id":"f)" + std::to_string(i) + R"("})").ok());
  }
  EXPECT_GT(w.h.domain.ledger().live_log().size(), 256u);  // grown, not failed
  EXPECT_FALSE(w.h.ledger_problem().has_value());
}

// The account table (accounts are never retired) has a hard capacity: within 1/16 of it,
// commands are refused UNAVAILABLE and change nothing, before any account is opened (it used
// to abort the engine at the last one). Reads and cancels go on.
TEST(DomainLedgerCapacity, ANearlyFullAccountTableRefusesNewWork) {
  Harness h(ledger::Limits{64, 4096});
  Outcome o;
  int made = 0;
  for (; made < 100; ++made) {
    json::object p{{"name", "p" + std::to_string(made)}, {"kind", "individual"},
                   {"region", "chengdu"}, {"whitelisted", true},
                   {"api_key", "k" + std::to_string(made)}, {"api_secret", "s" + std::to_string(made)}};
    o = h.call("admin", "participant.create", json::serialize(p));
    if (!o.ok()) break;
  }
  ASSERT_EQ(o.code, Code::unavailable) << o.message;
  EXPECT_GE(h.domain.ledger().accounts().size() + 4, 60u);
  EXPECT_LE(h.domain.ledger().accounts().size(), 64u);
  h.expect_rejected(Code::unavailable, "admin", "participant.create",
                    R"({"name":"late","kind":"individual","region":"chengdu","whitelisted":true,"api_key":"kl","api_secret":"sl"})");
  EXPECT_TRUE(h.call("admin", "time.now", "{}").ok());  // reads go on
}

}  // namespace
}  // namespace ipx::engine::test
