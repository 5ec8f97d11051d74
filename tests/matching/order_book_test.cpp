// One test per order-book rule (PROTOCOL.md "Orders"), named after the rule.
#include "matching/order_book.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <vector>

namespace ipx::matching {
namespace {

struct event {
  order_event kind;
  order_view o;
};

struct recorder final : book_sink {
  std::vector<trade> trades;
  std::vector<event> orders;
  std::map<std::pair<side, std::int64_t>, std::int64_t> depth;  // applied changes
  std::size_t depth_changes = 0;
  void on_trade(const trade& t) override { trades.push_back(t); }
  void on_order(order_event k, const order_view& o) override { orders.push_back({k, o}); }
  void on_depth(side s, Fen price, Units total) override {
    ++depth_changes;
    if (total.v == 0) depth.erase({s, price.v});
    else depth[{s, price.v}] = total.v;
  }
  void reset() {
    trades.clear();
    orders.clear();
    depth_changes = 0;
  }
};

order_params limit(OrderId id, OwnerId owner, side s, std::int64_t price, std::int64_t qty,
                   tif t = tif::gtc) {
  order_params p;
  p.id = id;
  p.owner = owner;
  p.side_ = s;
  p.type = order_type::limit;
  p.tif_ = t;
  p.price = Fen{price};
  p.qty = Units{qty};
  return p;
}

order_params market(OrderId id, OwnerId owner, side s, std::int64_t qty, tif t = tif::ioc) {
  order_params p = limit(id, owner, s, 0, qty, t);
  p.type = order_type::market;
  p.price = Fen{0};
  return p;
}

order_params with_stp(order_params p, stp m) {
  p.stp_ = m;
  return p;
}

class OrderBook : public ::testing::Test {
 protected:
  static book_config cfg() {
    book_config c;
    c.tick = Fen{5};
    c.lot = Units{10};
    c.orders_max = 1024;
    c.levels_max = 64;
    return c;
  }
  recorder sink;
  order_book book{cfg(), sink};
  Ms now{1000};

  book_result place(const order_params& p, funds_ref f = {}) { return book.place(p, now, f); }
  void rest(const order_params& p) {
    const book_result r = place(p);
    ASSERT_EQ(r.ec, errc::ok);
    ASSERT_TRUE(r.order.status == order_status::open ||
                r.order.status == order_status::partially_filled);
  }
  // A reject changes nothing and reports nothing.
  void expect_reject(errc want, const std::function<book_result()>& op) {
    const std::uint64_t before = book.state_digest();
    sink.reset();
    EXPECT_EQ(op().ec, want);
    EXPECT_EQ(book.state_digest(), before);
    EXPECT_TRUE(sink.trades.empty());
    EXPECT_TRUE(sink.orders.empty());
    EXPECT_EQ(sink.depth_changes, 0u);
    book.check_invariants();
  }
  std::vector<OrderId> queue(side s) {
    std::vector<OrderId> ids;
    book.for_each_order(s, [&](const order_view& v) { ids.push_back(v.id); });
    return ids;
  }
};

// ---- priority and trades ------------------------------------------------------------------

TEST_F(OrderBook, PriceTime_BetterPriceFirst) {
  rest(limit(1, 1, side::sell, 105, 10));
  rest(limit(2, 2, side::sell, 100, 10));
  const auto r = place(limit(3, 3, side::buy, 105, 10));
  ASSERT_EQ(sink.trades.size(), 1u);
  EXPECT_EQ(sink.trades[0].maker_id, 2u);
  EXPECT_EQ(r.order.status, order_status::filled);
}

TEST_F(OrderBook, PriceTime_EarlierFirstAtSamePrice) {
  rest(limit(1, 1, side::buy, 100, 10));
  rest(limit(2, 2, side::buy, 100, 10));
  place(limit(3, 3, side::sell, 100, 10));
  ASSERT_EQ(sink.trades.size(), 1u);
  EXPECT_EQ(sink.trades[0].maker_id, 1u);
  EXPECT_EQ(queue(side::buy), std::vector<OrderId>{2});
}

TEST_F(OrderBook, Trade_AtMakerPriceWithSequentialIdsAndAggressor) {
  rest(limit(1, 1, side::sell, 100, 10));
  rest(limit(2, 2, side::sell, 110, 10));
  place(limit(3, 3, side::buy, 120, 20));
  ASSERT_EQ(sink.trades.size(), 2u);
  const trade& t = sink.trades[0];
  EXPECT_EQ(t.trade_id, 1u);
  EXPECT_EQ(sink.trades[1].trade_id, 2u);
  EXPECT_EQ(t.price, Fen{100});
  EXPECT_EQ(sink.trades[1].price, Fen{110});
  EXPECT_EQ(t.maker_owner, 1u);
  EXPECT_EQ(t.taker_owner, 3u);
  EXPECT_EQ(t.taker_id, 3u);
  EXPECT_EQ(t.aggressor, side::buy);
}

TEST_F(OrderBook, Limit_RestsRemainderPartiallyFilled) {
  rest(limit(1, 1, side::sell, 100, 10));
  const auto r = place(limit(2, 2, side::buy, 100, 30));
  EXPECT_EQ(r.order.status, order_status::partially_filled);
  EXPECT_EQ(r.order.filled, Units{10});
  EXPECT_EQ(r.order.leaves, Units{20});
  EXPECT_EQ(sink.orders.back().kind, order_event::accepted);
  EXPECT_EQ(book.find(2)->leaves, Units{20});
  EXPECT_EQ(book.best(side::buy), Fen{100});
}

TEST_F(OrderBook, Maker_PartiallyFilledStatus) {
  rest(limit(1, 1, side::sell, 100, 30));
  place(limit(2, 2, side::buy, 100, 10));
  EXPECT_EQ(book.find(1)->status, order_status::partially_filled);
  EXPECT_EQ(book.find(1)->filled, Units{10});
  EXPECT_EQ(book.find(1)->qty, Units{30});
}

TEST_F(OrderBook, DoneOrders_HaveLeavesZeroAndLeaveTheBook) {
  rest(limit(1, 1, side::sell, 100, 10));
  const auto r = place(limit(2, 2, side::buy, 100, 10));
  EXPECT_EQ(r.order.leaves, Units{0});
  ASSERT_EQ(sink.orders.size(), 3u);  // 1 accepted, 1 filled (maker), 2 filled (taker)
  EXPECT_EQ(sink.orders[1].kind, order_event::filled);
  EXPECT_EQ(sink.orders[1].o.id, 1u);
  EXPECT_EQ(sink.orders[1].o.leaves, Units{0});
  EXPECT_FALSE(book.find(1).has_value());
  EXPECT_EQ(book.order_count(), 0u);
}

// ---- market, IOC, FOK, GTD ----------------------------------------------------------------

TEST_F(OrderBook, Market_SweepsLevelsAndCancelsRemainder) {
  rest(limit(1, 1, side::buy, 100, 10));
  rest(limit(2, 1, side::buy, 95, 10));
  const auto r = place(market(3, 2, side::sell, 30));
  EXPECT_EQ(sink.trades.size(), 2u);
  EXPECT_EQ(r.order.status, order_status::cancelled);
  EXPECT_EQ(r.order.reason, cancel_reason::ioc);
  EXPECT_EQ(r.order.filled, Units{20});
  EXPECT_EQ(r.order.leaves, Units{0});
}

TEST_F(OrderBook, Market_AgainstEmptySideEndsCancelledNothingFilled) {
  const auto r = place(market(1, 1, side::buy, 10));
  EXPECT_EQ(r.ec, errc::ok);
  EXPECT_EQ(r.order.status, order_status::cancelled);
  EXPECT_EQ(r.order.filled, Units{0});
  const auto f = place(market(2, 1, side::buy, 10, tif::fok));
  EXPECT_EQ(f.order.status, order_status::cancelled);
  EXPECT_EQ(book.order_count(), 0u);
}

TEST_F(OrderBook, Ioc_RemainderCancelled) {
  rest(limit(1, 1, side::sell, 100, 10));
  const auto r = place(limit(2, 2, side::buy, 100, 30, tif::ioc));
  EXPECT_EQ(r.order.status, order_status::cancelled);
  EXPECT_EQ(r.order.reason, cancel_reason::ioc);
  EXPECT_EQ(r.order.filled, Units{10});
  EXPECT_EQ(book.order_count(), 0u);
}

TEST_F(OrderBook, Fok_FillsInFull) {
  rest(limit(1, 1, side::sell, 100, 10));
  rest(limit(2, 1, side::sell, 105, 10));
  const auto r = place(limit(3, 2, side::buy, 105, 20, tif::fok));
  EXPECT_EQ(r.order.status, order_status::filled);
  EXPECT_EQ(book.order_count(), 0u);
}

TEST_F(OrderBook, Fok_UnfillableChangesNothing) {
  rest(limit(1, 1, side::sell, 100, 10));
  rest(limit(2, 2, side::sell, 100, 10));  // own order: stp would cancel it
  auto gtd = limit(3, 3, side::sell, 100, 10, tif::gtd);
  gtd.expire_at = Ms{1500};
  rest(gtd);
  now = Ms{2000};  // order 3 is now expired but not yet removed
  const std::uint64_t before = book.state_digest();
  sink.reset();
  const auto r = place(with_stp(limit(4, 2, side::buy, 100, 30, tif::fok), stp::cancel_resting));
  EXPECT_EQ(r.ec, errc::ok);  // a result, not an error
  EXPECT_EQ(r.order.status, order_status::cancelled);
  EXPECT_EQ(r.order.reason, cancel_reason::fok);
  EXPECT_EQ(r.order.filled, Units{0});
  EXPECT_EQ(book.state_digest(), before);
  EXPECT_TRUE(sink.trades.empty());
  EXPECT_EQ(sink.orders.size(), 1u);  // only the incoming order's own cancellation
  EXPECT_EQ(sink.depth_changes, 0u);
}

TEST_F(OrderBook, Fok_CountsOnlyLiquidityItMayTrade_CancelIncoming) {
  rest(limit(1, 1, side::sell, 100, 10));
  rest(limit(2, 2, side::sell, 100, 10));  // own
  rest(limit(3, 1, side::sell, 100, 10));
  const auto r = place(limit(4, 2, side::buy, 100, 20, tif::fok));
  EXPECT_EQ(r.order.reason, cancel_reason::fok);  // only 10 before reaching own order
  EXPECT_EQ(book.order_count(), 3u);
}

TEST_F(OrderBook, Fok_CountsOnlyLiquidityItMayTrade_CancelResting) {
  rest(limit(1, 1, side::sell, 100, 10));
  rest(limit(2, 2, side::sell, 100, 10));  // own: cancelled, not counted
  rest(limit(3, 1, side::sell, 100, 10));
  const auto r = place(with_stp(limit(4, 2, side::buy, 100, 20, tif::fok), stp::cancel_resting));
  EXPECT_EQ(r.order.status, order_status::filled);
  EXPECT_EQ(book.order_count(), 0u);
}

TEST_F(OrderBook, Gtd_ExpireRemovesDueOrdersInTimeThenIdOrder) {
  auto a = limit(5, 1, side::buy, 100, 10, tif::gtd);
  a.expire_at = Ms{3000};
  auto b = limit(4, 1, side::buy, 95, 10, tif::gtd);
  b.expire_at = Ms{2000};
  auto c = limit(3, 1, side::buy, 90, 10, tif::gtd);
  c.expire_at = Ms{3000};
  rest(a);
  rest(b);
  rest(c);
  rest(limit(6, 1, side::buy, 90, 10));
  EXPECT_EQ(book.next_expiry(), Ms{2000});
  sink.reset();
  EXPECT_EQ(book.expire(Ms{1999}), 0u);
  EXPECT_EQ(book.expire(Ms{3000}), 3u);  // expire_at <= now
  ASSERT_EQ(sink.orders.size(), 3u);
  EXPECT_EQ(sink.orders[0].o.id, 4u);
  EXPECT_EQ(sink.orders[1].o.id, 3u);
  EXPECT_EQ(sink.orders[2].o.id, 5u);
  EXPECT_EQ(sink.orders[0].kind, order_event::expired);
  EXPECT_EQ(sink.orders[0].o.status, order_status::expired);
  EXPECT_EQ(sink.orders[0].o.leaves, Units{0});
  EXPECT_EQ(book.order_count(), 1u);
  EXPECT_FALSE(book.next_expiry().has_value());
  book.check_invariants();
}

TEST_F(OrderBook, Gtd_NoTradeWithExpiredRestingOrder) {
  auto g = limit(1, 1, side::sell, 100, 10, tif::gtd);
  g.expire_at = Ms{2000};
  rest(g);
  rest(limit(2, 1, side::sell, 105, 10));
  now = Ms{2000};
  const auto r = place(limit(3, 2, side::buy, 105, 10));
  ASSERT_EQ(sink.trades.size(), 1u);
  EXPECT_EQ(sink.trades[0].maker_id, 2u);
  EXPECT_EQ(r.order.status, order_status::filled);
  EXPECT_FALSE(book.find(1).has_value());  // expired on the way
  bool expired_seen = false;
  for (const auto& e : sink.orders) expired_seen |= e.kind == order_event::expired && e.o.id == 1;
  EXPECT_TRUE(expired_seen);
}

// ---- post-only ----------------------------------------------------------------------------

TEST_F(OrderBook, PostOnly_RejectsWhenCrossing) {
  rest(limit(1, 1, side::sell, 100, 10));
  auto p = limit(2, 2, side::buy, 100, 10);
  p.post_only = true;
  expect_reject(errc::would_cross, [&] { return place(p); });
}

TEST_F(OrderBook, PostOnly_RejectsWhenCrossingOwnOrder) {
  rest(limit(1, 2, side::sell, 100, 10));
  auto p = with_stp(limit(2, 2, side::buy, 100, 10), stp::cancel_resting);
  p.post_only = true;
  expect_reject(errc::would_cross, [&] { return place(p); });
}

TEST_F(OrderBook, PostOnly_RestsWhenNotCrossing) {
  rest(limit(1, 1, side::sell, 105, 10));
  auto p = limit(2, 2, side::buy, 100, 10);
  p.post_only = true;
  const auto r = place(p);
  EXPECT_EQ(r.order.status, order_status::open);
  EXPECT_TRUE(sink.trades.empty());
}

// ---- self-trade prevention ----------------------------------------------------------------

TEST_F(OrderBook, Stp_CancelIncomingIsDefault) {
  rest(limit(1, 7, side::sell, 100, 10));
  const auto r = place(limit(2, 7, side::buy, 100, 10));
  EXPECT_EQ(r.order.status, order_status::cancelled);
  EXPECT_EQ(r.order.reason, cancel_reason::stp);
  EXPECT_TRUE(book.find(1).has_value());
  EXPECT_TRUE(sink.trades.empty());
}

TEST_F(OrderBook, Stp_CancelIncoming_TradesAheadThenCancelsRemainder) {
  rest(limit(1, 1, side::sell, 100, 10));
  rest(limit(2, 7, side::sell, 100, 10));
  rest(limit(3, 1, side::sell, 100, 10));
  const auto r = place(limit(4, 7, side::buy, 100, 30));
  EXPECT_EQ(r.order.filled, Units{10});
  EXPECT_EQ(r.order.reason, cancel_reason::stp);
  EXPECT_EQ(r.order.leaves, Units{0});
  EXPECT_EQ(queue(side::sell), (std::vector<OrderId>{2, 3}));
}

TEST_F(OrderBook, Stp_CancelResting_CancelsRestingAndContinues) {
  rest(limit(1, 7, side::sell, 100, 10));
  rest(limit(2, 1, side::sell, 100, 10));
  const auto r = place(with_stp(limit(3, 7, side::buy, 100, 10), stp::cancel_resting));
  EXPECT_EQ(r.order.status, order_status::filled);
  ASSERT_EQ(sink.trades.size(), 1u);
  EXPECT_EQ(sink.trades[0].maker_id, 2u);
  EXPECT_EQ(sink.orders[2].o.id, 1u);
  EXPECT_EQ(sink.orders[2].o.reason, cancel_reason::stp);
  EXPECT_EQ(book.order_count(), 0u);
}

TEST_F(OrderBook, Stp_CancelBoth_CancelsRestingAndIncoming) {
  rest(limit(1, 7, side::sell, 100, 10));
  rest(limit(2, 1, side::sell, 100, 10));
  const auto r = place(with_stp(limit(3, 7, side::buy, 100, 10), stp::cancel_both));
  EXPECT_EQ(r.order.status, order_status::cancelled);
  EXPECT_EQ(r.order.reason, cancel_reason::stp);
  EXPECT_FALSE(book.find(1).has_value());
  EXPECT_TRUE(book.find(2).has_value());
  EXPECT_TRUE(sink.trades.empty());
}

TEST_F(OrderBook, Stp_Reject_RefusesWhenReachingOwnOrder) {
  rest(limit(1, 1, side::sell, 100, 10));
  rest(limit(2, 7, side::sell, 105, 10));
  expect_reject(errc::self_trade,
                [&] { return place(with_stp(limit(3, 7, side::buy, 105, 20), stp::reject)); });
}

TEST_F(OrderBook, Stp_Reject_AcceptsWhenFilledBeforeOwnOrder) {
  rest(limit(1, 1, side::sell, 100, 10));
  rest(limit(2, 7, side::sell, 105, 10));
  const auto r = place(with_stp(limit(3, 7, side::buy, 105, 10), stp::reject));
  EXPECT_EQ(r.ec, errc::ok);
  EXPECT_EQ(r.order.status, order_status::filled);
}

TEST_F(OrderBook, Stp_AppliesLevelByLevel) {
  rest(limit(1, 1, side::sell, 100, 10));
  rest(limit(2, 7, side::sell, 105, 10));  // own, on the second level
  rest(limit(3, 1, side::sell, 105, 10));
  const auto r = place(limit(4, 7, side::buy, 105, 30));
  EXPECT_EQ(r.order.filled, Units{10});  // traded level 100, stopped at own order on 105
  EXPECT_EQ(r.order.reason, cancel_reason::stp);
  EXPECT_EQ(queue(side::sell), (std::vector<OrderId>{2, 3}));
}

// ---- cancel -------------------------------------------------------------------------------

TEST_F(OrderBook, Cancel_RemovesAndReports) {
  rest(limit(1, 1, side::buy, 100, 10));
  sink.reset();
  const auto r = book.cancel(1);
  EXPECT_EQ(r.ec, errc::ok);
  EXPECT_EQ(r.order.status, order_status::cancelled);
  EXPECT_EQ(r.order.reason, cancel_reason::user);
  EXPECT_EQ(r.order.leaves, Units{0});
  EXPECT_EQ(r.order.qty, Units{10});
  EXPECT_EQ(sink.depth_changes, 1u);
  EXPECT_TRUE(sink.depth.empty());
  EXPECT_EQ(book.level_count(), 0u);
}

TEST_F(OrderBook, Cancel_UnknownIdIsNotFound) {
  expect_reject(errc::not_found, [&] { return book.cancel(42); });
  rest(limit(1, 1, side::sell, 100, 10));
  place(limit(2, 2, side::buy, 100, 10));
  expect_reject(errc::not_found, [&] { return book.cancel(1); });  // done: gone
}

TEST(OrderBookLong, Cancel_FromLongQueueIsConstantTime) {
  // Functional: the order is unlinked through its own links (no walk), from the middle,
  // head and tail of a 100k queue, and the queue order is intact.
  recorder sink;
  book_config c;
  c.orders_max = 100'000;
  order_book book{c, sink};
  for (OrderId id = 1; id <= 100'000; ++id) {
    ASSERT_EQ(book.place(limit(id, id, side::buy, 100, 1), Ms{0}).ec, errc::ok);
  }
  EXPECT_EQ(book.cancel(50'000).ec, errc::ok);
  EXPECT_EQ(book.cancel(1).ec, errc::ok);
  EXPECT_EQ(book.cancel(100'000).ec, errc::ok);
  book.check_invariants();
  std::vector<OrderId> ids;
  book.for_each_order(side::buy, [&](const order_view& v) { ids.push_back(v.id); });
  ASSERT_EQ(ids.size(), 99'997u);
  EXPECT_EQ(ids.front(), 2u);
  EXPECT_EQ(ids[49'997], 49'999u);
  EXPECT_EQ(ids[49'998], 50'001u);
  EXPECT_EQ(ids.back(), 99'999u);
}

// ---- replace ------------------------------------------------------------------------------

TEST_F(OrderBook, Replace_SizeDecreaseKeepsPriority) {
  rest(limit(1, 1, side::buy, 100, 30));
  rest(limit(2, 2, side::buy, 100, 30));
  const auto r = book.replace(1, Fen{100}, Units{20}, now);
  EXPECT_EQ(r.ec, errc::ok);
  EXPECT_EQ(r.order.qty, Units{20});
  EXPECT_EQ(queue(side::buy), (std::vector<OrderId>{1, 2}));
  EXPECT_EQ(sink.depth.at({side::buy, 100}), 50);
}

TEST_F(OrderBook, Replace_SizeIncreaseLosesPriority) {
  rest(limit(1, 1, side::buy, 100, 30));
  rest(limit(2, 2, side::buy, 100, 30));
  EXPECT_EQ(book.replace(1, Fen{100}, Units{40}, now).ec, errc::ok);
  EXPECT_EQ(queue(side::buy), (std::vector<OrderId>{2, 1}));
  EXPECT_EQ(book.find(1)->leaves, Units{40});
}

TEST_F(OrderBook, Replace_PriceChangeLosesPriority) {
  rest(limit(1, 1, side::buy, 100, 30));
  rest(limit(2, 2, side::buy, 95, 30));
  EXPECT_EQ(book.replace(1, Fen{95}, Units{10}, now).ec, errc::ok);
  EXPECT_EQ(queue(side::buy), (std::vector<OrderId>{2, 1}));
  EXPECT_EQ(book.level_count(), 1u);
}

TEST_F(OrderBook, Replace_KeepsFilledAndStatus) {
  rest(limit(1, 1, side::buy, 100, 30));
  place(limit(2, 2, side::sell, 100, 10));
  const auto r = book.replace(1, Fen{95}, Units{50}, now);
  EXPECT_EQ(r.order.filled, Units{10});
  EXPECT_EQ(r.order.leaves, Units{40});
  EXPECT_EQ(r.order.status, order_status::partially_filled);
}

TEST_F(OrderBook, Replace_CrossingMatchesAsNewOrder) {
  rest(limit(1, 1, side::buy, 100, 30));
  rest(limit(2, 2, side::sell, 110, 10));
  const auto r = book.replace(1, Fen{110}, Units{30}, now);
  ASSERT_EQ(sink.trades.size(), 1u);
  EXPECT_EQ(sink.trades[0].taker_id, 1u);
  EXPECT_EQ(sink.trades[0].price, Fen{110});
  EXPECT_EQ(r.order.leaves, Units{20});
  EXPECT_EQ(book.best(side::buy), Fen{110});
}

TEST_F(OrderBook, Replace_UnknownIdIsNotFound) {
  expect_reject(errc::not_found, [&] { return book.replace(9, Fen{100}, Units{10}, now); });
}

TEST_F(OrderBook, Replace_QtyNotAboveFilledIsBadRequest) {
  rest(limit(1, 1, side::buy, 100, 30));
  place(limit(2, 2, side::sell, 100, 10));
  expect_reject(errc::bad_request, [&] { return book.replace(1, Fen{100}, Units{10}, now); });
}

TEST_F(OrderBook, Replace_RejectPathsChangeNothing) {
  rest(limit(1, 1, side::buy, 100, 30));
  rest(limit(2, 2, side::sell, 110, 10));
  expect_reject(errc::bad_request, [&] { return book.replace(1, Fen{100}, Units{15}, now); });
  expect_reject(errc::bad_request, [&] { return book.replace(1, Fen{0}, Units{10}, now); });
  expect_reject(errc::bad_price, [&] { return book.replace(1, Fen{101}, Units{10}, now); });
  auto broke = [](Fen) { return false; };
  expect_reject(errc::insufficient_funds,
                [&] { return book.replace(1, Fen{100}, Units{20}, now, broke); });
  expect_reject(errc::insufficient_funds,
                [&] { return book.replace(1, Fen{105}, Units{40}, now, broke); });
}

TEST_F(OrderBook, Replace_PostOnlyThatWouldCrossIsRejected) {
  auto p = limit(1, 1, side::buy, 100, 30);
  p.post_only = true;
  rest(p);
  rest(limit(2, 2, side::sell, 110, 10));
  expect_reject(errc::would_cross, [&] { return book.replace(1, Fen{110}, Units{30}, now); });
}

TEST_F(OrderBook, Replace_StpRejectThatWouldReachOwnIsRejected) {
  rest(with_stp(limit(1, 1, side::buy, 100, 30), stp::reject));
  rest(limit(2, 1, side::sell, 110, 10));
  expect_reject(errc::self_trade, [&] { return book.replace(1, Fen{110}, Units{30}, now); });
}

TEST_F(OrderBook, Replace_ExpiredOrderIsInvalidState) {
  auto g = limit(1, 1, side::buy, 100, 30, tif::gtd);
  g.expire_at = Ms{1500};
  rest(g);
  now = Ms{1500};
  expect_reject(errc::invalid_state, [&] { return book.replace(1, Fen{95}, Units{30}, now); });
}

// ---- reject paths (each changes nothing) --------------------------------------------------

TEST_F(OrderBook, Reject_QtyNotMultipleOfLot) {
  expect_reject(errc::bad_request, [&] { return place(limit(1, 1, side::buy, 100, 15)); });
}

TEST_F(OrderBook, Reject_QtyNotPositive) {
  expect_reject(errc::bad_request, [&] { return place(limit(1, 1, side::buy, 100, 0)); });
  expect_reject(errc::bad_request, [&] { return place(limit(1, 1, side::buy, 100, -10)); });
}

TEST_F(OrderBook, Reject_PriceNotPositive) {
  expect_reject(errc::bad_request, [&] { return place(limit(1, 1, side::buy, 0, 10)); });
  expect_reject(errc::bad_request, [&] { return place(limit(1, 1, side::buy, -5, 10)); });
}

TEST_F(OrderBook, Reject_PriceOffTickIsBadPrice) {
  expect_reject(errc::bad_price, [&] { return place(limit(1, 1, side::buy, 101, 10)); });
}

TEST_F(OrderBook, Reject_MarketWithPrice) {
  auto p = market(1, 1, side::buy, 10);
  p.price = Fen{100};
  expect_reject(errc::bad_request, [&] { return place(p); });
}

TEST_F(OrderBook, Reject_MarketWithTifGtcOrGtd) {
  expect_reject(errc::bad_request, [&] { return place(market(1, 1, side::buy, 10, tif::gtc)); });
  auto p = market(1, 1, side::buy, 10, tif::gtd);
  p.expire_at = Ms{5000};
  expect_reject(errc::bad_request, [&] { return place(p); });
}

TEST_F(OrderBook, Reject_PostOnlyWithIocOrFok) {
  auto p = limit(1, 1, side::buy, 100, 10, tif::ioc);
  p.post_only = true;
  expect_reject(errc::bad_request, [&] { return place(p); });
  p.tif_ = tif::fok;
  expect_reject(errc::bad_request, [&] { return place(p); });
}

TEST_F(OrderBook, Reject_GtdAlreadyExpired) {
  auto p = limit(1, 1, side::buy, 100, 10, tif::gtd);
  p.expire_at = now;
  expect_reject(errc::bad_request, [&] { return place(p); });
}

TEST_F(OrderBook, Reject_NotionalOverflowIsBadRequest) {
  const std::int64_t huge_price = (INT64_MAX / 10) / 5 * 5;
  expect_reject(errc::bad_request, [&] { return place(limit(1, 1, side::buy, huge_price, 20)); });
}

TEST_F(OrderBook, Reject_DuplicateLiveId) {
  rest(limit(1, 1, side::buy, 100, 10));
  expect_reject(errc::duplicate, [&] { return place(limit(1, 2, side::sell, 200, 10)); });
}

TEST_F(OrderBook, Reject_InsufficientFundsForLimitBuyNeedsPriceTimesQty) {
  rest(limit(1, 1, side::sell, 100, 10));
  std::vector<std::int64_t> asked;
  auto funds = [&](Fen f) {
    asked.push_back(f.v);
    return f.v <= 2999;
  };
  expect_reject(errc::insufficient_funds,
                [&] { return place(limit(2, 2, side::buy, 100, 30), funds); });
  EXPECT_EQ(asked, std::vector<std::int64_t>{3000});  // price x qty, not the 1000 it would take
}

TEST_F(OrderBook, Funds_MarketBuyNeedsCostOfWhatItWouldTake) {
  rest(limit(1, 1, side::sell, 100, 10));
  rest(limit(2, 2, side::sell, 105, 10));  // own: cancel_incoming stops before it
  rest(limit(3, 1, side::sell, 110, 10));
  std::vector<std::int64_t> asked;
  auto funds = [&](Fen f) {
    asked.push_back(f.v);
    return true;
  };
  place(market(4, 2, side::buy, 30), funds);
  EXPECT_EQ(asked, std::vector<std::int64_t>{1000});
  asked.clear();
  place(with_stp(market(5, 2, side::buy, 20), stp::cancel_resting), funds);
  EXPECT_EQ(asked, std::vector<std::int64_t>{1100});  // skips its own 105 (cancelled)
}

TEST_F(OrderBook, Funds_MarketBuyRejectedWhenShort) {
  rest(limit(1, 1, side::sell, 100, 10));
  expect_reject(errc::insufficient_funds,
                [&] { return place(market(2, 2, side::buy, 10), [](Fen f) { return f.v < 1000; }); });
}

TEST_F(OrderBook, Funds_NotAskedForSells) {
  bool asked = false;
  auto funds = [&](Fen) { return asked = true, false; };
  EXPECT_EQ(place(limit(1, 1, side::sell, 100, 10), funds).ec, errc::ok);
  EXPECT_FALSE(asked);
}

TEST_F(OrderBook, CheckOrder_BadPriceBeforeFunds) {
  auto broke = [](Fen) { return false; };
  expect_reject(errc::bad_price, [&] { return place(limit(1, 1, side::buy, 101, 10), broke); });
}

TEST_F(OrderBook, CheckOrder_FundsBeforeWouldCross) {
  rest(limit(1, 1, side::sell, 100, 10));
  auto p = limit(2, 2, side::buy, 100, 10);
  p.post_only = true;
  expect_reject(errc::insufficient_funds, [&] { return place(p, [](Fen) { return false; }); });
}

TEST_F(OrderBook, CheckOrder_WouldCrossBeforeSelfTrade) {
  rest(limit(1, 2, side::sell, 100, 10));
  auto p = with_stp(limit(2, 2, side::buy, 100, 10), stp::reject);
  p.post_only = true;
  expect_reject(errc::would_cross, [&] { return place(p); });
}

TEST_F(OrderBook, CheckOrder_ShapeBeforeBadPrice) {
  expect_reject(errc::bad_request, [&] { return place(limit(1, 1, side::buy, 101, 15)); });
}

TEST(OrderBookCapacity, Reject_FullOrderPoolIsCapacity) {
  recorder sink;
  book_config c;
  c.orders_max = 2;
  order_book book{c, sink};
  ASSERT_EQ(book.place(limit(1, 1, side::buy, 100, 1), Ms{0}).ec, errc::ok);
  ASSERT_EQ(book.place(limit(2, 1, side::buy, 100, 1), Ms{0}).ec, errc::ok);
  const std::uint64_t before = book.state_digest();
  EXPECT_EQ(book.place(limit(3, 1, side::buy, 100, 1), Ms{0}).ec, errc::capacity);
  EXPECT_EQ(book.state_digest(), before);
  // An order that cannot rest is still accepted.
  EXPECT_EQ(book.place(limit(4, 2, side::sell, 100, 1, tif::ioc), Ms{0}).ec, errc::ok);
  EXPECT_EQ(book.order_count(), 1u);
}

TEST(OrderBookCapacity, Reject_FullLevelPoolIsCapacity) {
  recorder sink;
  book_config c;
  c.levels_max = 2;
  order_book book{c, sink};
  ASSERT_EQ(book.place(limit(1, 1, side::buy, 100, 1), Ms{0}).ec, errc::ok);
  ASSERT_EQ(book.place(limit(2, 1, side::sell, 200, 1), Ms{0}).ec, errc::ok);
  EXPECT_EQ(book.place(limit(3, 1, side::buy, 99, 1), Ms{0}).ec, errc::capacity);
  EXPECT_EQ(book.place(limit(4, 1, side::buy, 100, 1), Ms{0}).ec, errc::ok);  // existing level
  // Replacing the only order of a level to a new price reuses that level.
  EXPECT_EQ(book.replace(2, Fen{201}, Units{1}, Ms{0}).ec, errc::ok);
  book.check_invariants();
}

// A level emptied below the top is kept in place (a "ghost") for the next order at its price;
// it must stay invisible and must not count against levels_max.
TEST(OrderBookCapacity, Capacity_EmptiedLevelBelowTheTopFreesItsSlot) {
  recorder sink;
  book_config c;
  c.levels_max = 3;
  order_book book{c, sink};
  for (OrderId id = 1; id <= 3; ++id) {
    ASSERT_EQ(book.place(limit(id, 1, side::buy, 101 - static_cast<std::int64_t>(id), 1), Ms{0}).ec, errc::ok);
  }
  ASSERT_EQ(book.cancel(2).ec, errc::ok);  // 99 empties below the top
  EXPECT_EQ(book.level_count(), 2u);
  EXPECT_EQ(book.place(limit(4, 1, side::buy, 97, 1), Ms{0}).ec, errc::ok);
  book.check_invariants();
  const std::uint64_t before = book.state_digest();
  EXPECT_EQ(book.place(limit(5, 1, side::buy, 99, 1), Ms{0}).ec, errc::capacity);
  EXPECT_EQ(book.state_digest(), before);
  const book_depth d = book.depth(5);
  EXPECT_EQ(d.bids, (std::vector<depth_level>{{Fen{100}, Units{1}}, {Fen{98}, Units{1}}, {Fen{97}, Units{1}}}));
  book.check_invariants();
}

TEST(OrderBookLevels, Levels_EmptiedLevelComesBackAtItsPriceInTimeOrder) {
  recorder sink;
  order_book book{book_config{}, sink};
  ASSERT_EQ(book.place(limit(1, 1, side::buy, 100, 1), Ms{0}).ec, errc::ok);
  ASSERT_EQ(book.place(limit(2, 1, side::buy, 99, 2), Ms{0}).ec, errc::ok);
  ASSERT_EQ(book.cancel(2).ec, errc::ok);
  EXPECT_EQ(book.depth(5).bids, (std::vector<depth_level>{{Fen{100}, Units{1}}}));
  ASSERT_EQ(book.place(limit(3, 1, side::buy, 99, 3), Ms{0}).ec, errc::ok);
  ASSERT_EQ(book.replace(1, Fen{99}, Units{4}, Ms{0}).ec, errc::ok);  // 100 empties at the top
  book.check_invariants();
  std::vector<OrderId> ids;
  book.for_each_order(side::buy, [&](const order_view& v) { ids.push_back(v.id); });
  EXPECT_EQ(ids, (std::vector<OrderId>{3, 1}));
  EXPECT_EQ(book.best(side::buy), Fen{99});
  EXPECT_EQ(book.level_count(), 1u);
  // A sell sweeping the bids sees only live levels.
  ASSERT_EQ(book.place(limit(4, 2, side::sell, 1, 7, tif::ioc), Ms{0}).ec, errc::ok);
  EXPECT_EQ(book.order_count(), 0u);
  EXPECT_EQ(book.level_count(), 0u);
  EXPECT_FALSE(book.best(side::buy).has_value());
  book.check_invariants();
}

TEST(OrderBookLevels, Levels_ManyEmptiedLevelsBelowTheTopArePurged) {
  recorder sink;
  book_config c;
  c.levels_max = 512;
  order_book book{c, sink};
  constexpr OrderId kLevels = 400;
  for (OrderId id = 1; id <= kLevels; ++id) {  // buys at 1000 (best) down to 601
    ASSERT_EQ(book.place(limit(id, 1, side::buy, 1001 - static_cast<std::int64_t>(id), 1), Ms{0}).ec, errc::ok);
  }
  for (OrderId id = 2; id < kLevels; ++id) {
    ASSERT_EQ(book.cancel(id).ec, errc::ok);
    if (id % 50 == 0) book.check_invariants();
  }
  EXPECT_EQ(book.level_count(), 2u);
  EXPECT_EQ(book.depth(5).bids, (std::vector<depth_level>{{Fen{1000}, Units{1}}, {Fen{601}, Units{1}}}));
  ASSERT_EQ(book.cancel(1).ec, errc::ok);
  EXPECT_EQ(book.best(side::buy), Fen{601});
  EXPECT_EQ(book.level_count(), 1u);
  book.check_invariants();
  // The freed levels are all usable again.
  for (OrderId id = kLevels + 1; id <= kLevels + 511; ++id) {
    ASSERT_EQ(book.place(limit(id, 1, side::sell, 2000 + static_cast<std::int64_t>(id), 1), Ms{0}).ec, errc::ok);
  }
  EXPECT_EQ(book.level_count(), 512u);
  book.check_invariants();
}

// ---- depth --------------------------------------------------------------------------------

TEST_F(OrderBook, Depth_SnapshotBestFirstAndChangesTrackIt) {
  rest(limit(1, 1, side::buy, 100, 10));
  rest(limit(2, 1, side::buy, 95, 20));
  rest(limit(3, 1, side::buy, 100, 30));
  rest(limit(4, 1, side::sell, 110, 10));
  rest(limit(5, 1, side::sell, 105, 10));
  place(limit(6, 2, side::sell, 100, 20));
  const book_depth d = book.depth(10);
  EXPECT_EQ(d.bids, (std::vector<depth_level>{{Fen{100}, Units{20}}, {Fen{95}, Units{20}}}));
  EXPECT_EQ(d.asks, (std::vector<depth_level>{{Fen{105}, Units{10}}, {Fen{110}, Units{10}}}));
  EXPECT_EQ(book.depth(1).bids.size(), 1u);
  std::map<std::pair<side, std::int64_t>, std::int64_t> want{
      {{side::buy, 100}, 20}, {{side::buy, 95}, 20}, {{side::sell, 105}, 10}, {{side::sell, 110}, 10}};
  EXPECT_EQ(sink.depth, want);
}

TEST_F(OrderBook, Find_ReturnsLiveOrderFields) {
  auto p = limit(1, 9, side::sell, 100, 10, tif::gtd);
  p.expire_at = Ms{5000};
  p.stp_ = stp::cancel_both;
  rest(p);
  const auto v = book.find(1);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->owner, 9u);
  EXPECT_EQ(v->side_, side::sell);
  EXPECT_EQ(v->price, Fen{100});
  EXPECT_EQ(v->qty, Units{10});
  EXPECT_EQ(v->filled, Units{0});
  EXPECT_EQ(v->leaves, Units{10});
  EXPECT_EQ(v->status, order_status::open);
  EXPECT_EQ(v->tif_, tif::gtd);
  EXPECT_EQ(v->expire_at, Ms{5000});
  EXPECT_EQ(v->stp_, stp::cancel_both);
  EXPECT_FALSE(book.find(2).has_value());
}

TEST(OrderBookErrc, InsufficientFundsHasItsProtocolCode) {
  EXPECT_EQ(protocol_code(errc::insufficient_funds), "INSUFFICIENT_FUNDS");
}

// ---- snapshots: restore --------------------------------------------------------------------


// A random step on a book (every kind of order, cancels, replaces, expiries), the same for a
// given rng state.
void random_step(order_book& b, std::mt19937_64& rng, OrderId& next_id, Ms& now) {
  auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  now = Ms{now.v + pick(0, 50)};
  const int roll = pick(0, 99);
  if (roll < 10) {
    b.expire(now);
    return;
  }
  if (roll < 25) {
    b.cancel(static_cast<OrderId>(pick(1, static_cast<int>(next_id))));
    return;
  }
  if (roll < 35) {
    b.replace(static_cast<OrderId>(pick(1, static_cast<int>(next_id))), Fen{5 * pick(180, 220)},
              Units{10 * pick(1, 9)}, now);
    return;
  }
  const side s = pick(0, 1) ? side::buy : side::sell;
  order_params p = limit(next_id++, static_cast<OwnerId>(pick(1, 6)), s,
                         5 * (s == side::buy ? pick(180, 202) : pick(198, 220)), 10 * pick(1, 9));
  p.stp_ = static_cast<stp>(pick(0, 3));
  const int kind = pick(0, 9);
  if (kind < 3) p.tif_ = tif::gtd, p.expire_at = Ms{now.v + pick(1, 400)};
  if (kind == 3) p.post_only = true;
  if (kind == 4) p.tif_ = tif::ioc;
  if (kind == 5) p = market(p.id, p.owner, s, p.qty.v, pick(0, 1) ? tif::ioc : tif::fok);
  b.place(p, now);
}

// Random steps from one seed; a copy goes on with the very same steps (for a twin book).
struct RandomRun {
  std::mt19937_64 rng;
  OrderId next_id = 1;
  Ms t{1000};
  explicit RandomRun(std::uint64_t seed) : rng(seed) {}
  void steps(order_book& b, int n) {
    for (int i = 0; i < n; ++i) random_step(b, rng, next_id, t);
  }
};

std::vector<order_view> resting(const order_book& b) {
  std::vector<order_view> out;
  for (const side s : {side::buy, side::sell}) {
    b.for_each_order(s, [&](const order_view& v) { out.push_back(v); });
  }
  return out;
}

// A book rebuilt from its resting orders in priority order and its trade id counter is the same
// book: the same digest and depth, and the same trades, events and results for the same steps
// from then on (GTD expiries, replaces and STP included).
TEST_F(OrderBook, Restore_GivesTheSameBookAndTheSameFuture) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    recorder a_sink, b_sink;
    order_book a(cfg(), a_sink);
    RandomRun run_a(seed);
    run_a.steps(a, 3000);
    ASSERT_GT(a.order_count(), 10u);
    order_book b(cfg(), b_sink);
    ASSERT_EQ(b.restore(resting(a), a.next_trade_id()), errc::ok);
    b.check_invariants();
    EXPECT_EQ(b.state_digest(), a.state_digest());
    EXPECT_EQ(b.next_expiry(), a.next_expiry());
    EXPECT_EQ(b.depth(64).bids, a.depth(64).bids);
    EXPECT_EQ(b.depth(64).asks, a.depth(64).asks);
    EXPECT_TRUE(b_sink.trades.empty() && b_sink.orders.empty()) << "a restore reports nothing";
    RandomRun run_b = run_a;
    a_sink.reset();
    run_a.steps(a, 3000);
    run_b.steps(b, 3000);
    ASSERT_EQ(a_sink.trades.size(), b_sink.trades.size());
    for (std::size_t i = 0; i < a_sink.trades.size(); ++i) {
      EXPECT_EQ(a_sink.trades[i].trade_id, b_sink.trades[i].trade_id);
      EXPECT_EQ(a_sink.trades[i].maker_id, b_sink.trades[i].maker_id);
      EXPECT_EQ(a_sink.trades[i].qty, b_sink.trades[i].qty);
    }
    ASSERT_EQ(a_sink.orders.size(), b_sink.orders.size());
    for (std::size_t i = 0; i < a_sink.orders.size(); ++i) {
      EXPECT_EQ(a_sink.orders[i].kind, b_sink.orders[i].kind);
      EXPECT_EQ(a_sink.orders[i].o.id, b_sink.orders[i].o.id);
      EXPECT_EQ(a_sink.orders[i].o.leaves, b_sink.orders[i].o.leaves);
    }
    EXPECT_EQ(b.state_digest(), a.state_digest());
    b.check_invariants();
  }
}

// A snapshot need not walk the book: the views in any order, with the priority counter, make
// the same queues (each view's priority places it), the same views (stamps included) and the
// same stamps for what comes next.
TEST_F(OrderBook, Restore_QueuesByPriorityWhateverTheOrderGiven) {
  for (std::uint64_t seed : {4u, 5u, 6u}) {
    SCOPED_TRACE(seed);
    recorder a_sink, b_sink;
    order_book a(cfg(), a_sink);
    RandomRun run_a(seed);
    run_a.steps(a, 3000);
    ASSERT_GT(a.order_count(), 10u);
    std::vector<order_view> views = resting(a);
    std::shuffle(views.begin(), views.end(), run_a.rng);
    order_book b(cfg(), b_sink);
    ASSERT_EQ(b.restore(views, a.next_trade_id(), a.next_priority()), errc::ok);
    b.check_invariants();
    EXPECT_EQ(b.next_priority(), a.next_priority());
    EXPECT_EQ(resting(b), resting(a));
    EXPECT_EQ(b.state_digest(), a.state_digest());
    RandomRun run_b = run_a;
    run_a.steps(a, 3000);
    run_b.steps(b, 3000);
    EXPECT_EQ(resting(b), resting(a));
    EXPECT_EQ(b.next_priority(), a.next_priority());
    b.check_invariants();
  }
}

// A resting order's stamp: later orders at a price have larger ones; a replace that keeps
// priority keeps it, one that loses it takes the next.
TEST_F(OrderBook, Priority_StampsFollowTimePriority) {
  rest(limit(1, 1, side::buy, 100, 20));
  rest(limit(2, 2, side::buy, 100, 20));
  const std::uint64_t first = book.find(1)->priority, second = book.find(2)->priority;
  EXPECT_GT(first, 0u);
  EXPECT_LT(first, second);
  ASSERT_EQ(book.replace(1, Fen{100}, Units{10}, now).ec, errc::ok);  // smaller: keeps it
  EXPECT_EQ(book.find(1)->priority, first);
  ASSERT_EQ(book.replace(1, Fen{100}, Units{30}, now).ec, errc::ok);  // larger: to the back
  EXPECT_GT(book.find(1)->priority, second);
  EXPECT_EQ(book.next_priority(), book.find(1)->priority + 1);
}

// What cannot be a resting book is refused and leaves the book empty: a crossed book, a
// repeated id, a done or market order, an order off the grid, more orders than the pool holds.
TEST_F(OrderBook, Restore_RefusesWhatCannotRestAndLeavesTheBookEmpty) {
  rest(limit(1, 1, side::buy, 100, 10));
  rest(limit(2, 2, side::sell, 110, 20));
  const std::vector<order_view> good = resting(book);
  auto refused = [&](std::vector<order_view> orders, TradeId next = 1) {
    order_book b(cfg(), sink);
    EXPECT_EQ(b.restore(orders, next), errc::bad_request);
    EXPECT_EQ(b.order_count(), 0u);
    b.check_invariants();
  };
  auto with = [&good](auto change) {
    std::vector<order_view> o = good;
    change(o);
    return o;
  };
  refused(with([](auto& o) { o[1].price = Fen{95}; }));                 // crossed
  refused(with([](auto& o) { o[1].id = o[0].id; }));                    // repeated id
  refused(with([](auto& o) { o[0].leaves = Units{0}; }));               // done
  refused(with([](auto& o) { o[0].type = order_type::market; }));       // a market order
  refused(with([](auto& o) { o[0].price = Fen{101}; }));                // off the tick
  refused(with([](auto& o) { o[0].filled = Units{5}; }));               // filled != qty - leaves
  refused(with([](auto& o) { o[0].tif_ = tif::ioc; }));                 // cannot rest
  refused(good, 0);                                                     // trade ids start at 1
  std::vector<order_view> many;
  for (OrderId id = 1; id <= cfg().orders_max + 1; ++id) {
    order_view v = good[0];
    v.id = id;
    many.push_back(v);
  }
  refused(many);  // more than the pool
  const std::uint64_t latest = std::max(good[0].priority, good[1].priority);
  {  // the priority counter must be past every stamp: at the bound, refused; one past, taken
    order_book b(cfg(), sink);
    EXPECT_EQ(b.restore(good, 1, latest), errc::bad_request);
    EXPECT_EQ(b.order_count(), 0u);
    EXPECT_EQ(b.restore(good, 1, latest + 1), errc::ok);
    EXPECT_EQ(b.next_priority(), latest + 1);
  }
  order_book b(cfg(), sink);
  EXPECT_EQ(b.restore(good, 7), errc::ok);
  EXPECT_EQ(b.next_trade_id(), 7u);
  EXPECT_EQ(b.state_digest() != book.state_digest(), true) << "the trade id counter is state";
}

}  // namespace
}  // namespace ipx::matching
