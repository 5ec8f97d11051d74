// Property test: the order book against an obviously-correct reference model (one vector of
// live orders, linear scans, re-sorted on demand) over >= 100,000 random operations per seed.
// Every step's result, trades, order events and funds requests must agree, the depth
// changes applied to a map must equal the model's levels, and the final state must agree.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "matching/order_book.hpp"

namespace ipx::matching {
namespace {

constexpr std::int64_t kTick = 5;
constexpr std::int64_t kLot = 10;

struct event {
  order_event kind;
  order_view o;
};

bool same(const order_view& a, const order_view& b) {
  return a.id == b.id && a.owner == b.owner && a.side_ == b.side_ && a.type == b.type &&
         a.tif_ == b.tif_ && a.stp_ == b.stp_ && a.post_only == b.post_only &&
         a.price == b.price && a.expire_at == b.expire_at && a.qty == b.qty &&
         a.filled == b.filled && a.leaves == b.leaves && a.status == b.status &&
         a.reason == b.reason;
}
bool same(const trade& a, const trade& b) {
  return a.trade_id == b.trade_id && a.maker_id == b.maker_id && a.taker_id == b.taker_id &&
         a.maker_owner == b.maker_owner && a.taker_owner == b.taker_owner &&
         a.price == b.price && a.qty == b.qty && a.aggressor == b.aggressor;
}

using depth_map = std::map<std::pair<side, std::int64_t>, std::int64_t>;

struct outputs {
  std::vector<trade> trades;
  std::vector<event> events;
  std::vector<std::int64_t> funds_asked;
  void clear() {
    trades.clear();
    events.clear();
    funds_asked.clear();
  }
};

struct recorder final : book_sink {
  outputs out;
  depth_map depth;
  void on_trade(const trade& t) override { out.trades.push_back(t); }
  void on_order(order_event k, const order_view& o) override { out.events.push_back({k, o}); }
  void on_depth(side s, Fen price, Units total) override {
    if (total.v == 0) depth.erase({s, price.v});
    else depth[{s, price.v}] = total.v;
  }
};

// ---- the reference model --------------------------------------------------------------------

struct model {
  struct live {
    order_view v;
    std::uint64_t seq;
  };
  std::vector<live> book;  // every live order, in no particular order
  std::uint64_t seq = 0;
  TradeId next_trade = 1;
  outputs out;

  static bool better(const live& a, const live& b) {  // same side: price, then time
    if (a.v.price != b.v.price) {
      return a.v.side_ == side::buy ? a.v.price > b.v.price : a.v.price < b.v.price;
    }
    return a.seq < b.seq;
  }
  static bool crosses(const order_view& t, Fen p) {
    if (t.type == order_type::market) return true;
    return t.side_ == side::buy ? p <= t.price : p >= t.price;
  }
  static bool expired(const order_view& v, Ms now) {
    return v.tif_ == tif::gtd && v.expire_at <= now;
  }
  std::vector<live> sorted(side s) const {
    std::vector<live> r;
    for (const live& o : book) if (o.v.side_ == s) r.push_back(o);
    std::sort(r.begin(), r.end(), better);
    return r;
  }
  live* find(OrderId id) {
    for (live& o : book) if (o.v.id == id) return &o;
    return nullptr;
  }
  void erase(OrderId id) {
    book.erase(std::find_if(book.begin(), book.end(), [&](const live& o) { return o.v.id == id; }));
  }
  void done(OrderId id, order_status st, cancel_reason r) {
    live* o = find(id);
    order_view v = o->v;
    v.status = st;
    v.reason = r;
    v.leaves = Units{0};
    erase(id);
    out.events.push_back({st == order_status::filled      ? order_event::filled
                          : st == order_status::cancelled ? order_event::cancelled
                                                          : order_event::expired,
                          v});
  }

  struct plan {
    std::int64_t fill = 0, cost = 0;
    bool reaches_own = false;
  };
  plan dry(const order_view& t, Ms now) const {
    plan p;
    std::int64_t rem = t.leaves.v;
    for (const live& m : sorted(opposite(t.side_))) {
      if (rem == 0 || !crosses(t, m.v.price)) break;
      if (expired(m.v, now)) continue;
      if (m.v.owner == t.owner) {
        if (t.stp_ == stp::cancel_resting) continue;
        p.reaches_own = true;
        break;
      }
      const std::int64_t q = std::min(rem, m.v.leaves.v);
      rem -= q;
      p.fill += q;
      p.cost += q * m.v.price.v;
    }
    return p;
  }

  errc rules(const order_view& t, Ms now, std::optional<std::int64_t> budget) {
    const plan p = dry(t, now);
    if (t.side_ == side::buy && budget) {
      std::int64_t need = t.type == order_type::limit ? t.price.v * t.leaves.v : p.cost;
      if (t.type == order_type::market && t.tif_ == tif::fok && p.fill < t.leaves.v) need = 0;
      out.funds_asked.push_back(need);
      if (need > *budget) return errc::insufficient_funds;
    }
    if (t.post_only) {
      for (const live& m : book) {
        if (m.v.side_ != t.side_ && crosses(t, m.v.price) && !expired(m.v, now)) {
          return errc::would_cross;
        }
      }
    }
    if (t.stp_ == stp::reject && p.reaches_own) return errc::self_trade;
    return errc::ok;
  }

  book_result finish(order_view t, order_status st, cancel_reason r) {
    t.status = st;
    t.reason = r;
    t.leaves = Units{0};
    out.events.push_back({st == order_status::filled ? order_event::filled : order_event::cancelled, t});
    return {errc::ok, t};
  }

  book_result execute(order_view t, Ms now) {
    if (t.tif_ == tif::fok && dry(t, now).fill < t.leaves.v) {
      return finish(t, order_status::cancelled, cancel_reason::fok);
    }
    while (t.leaves.v > 0) {
      const std::vector<live> opp = sorted(opposite(t.side_));
      if (opp.empty() || !crosses(t, opp.front().v.price)) break;
      const order_view m = opp.front().v;
      if (expired(m, now)) {
        done(m.id, order_status::expired, cancel_reason::none);
        continue;
      }
      if (m.owner == t.owner) {
        if (t.stp_ == stp::cancel_incoming) return finish(t, order_status::cancelled, cancel_reason::stp);
        done(m.id, order_status::cancelled, cancel_reason::stp);
        if (t.stp_ == stp::cancel_both) return finish(t, order_status::cancelled, cancel_reason::stp);
        continue;
      }
      const std::int64_t q = std::min(t.leaves.v, m.leaves.v);
      out.trades.push_back({next_trade++, m.id, t.id, m.owner, t.owner, m.price, Units{q}, t.side_});
      t.leaves.v -= q;
      t.filled.v += q;
      live* mk = find(m.id);
      mk->v.leaves.v -= q;
      mk->v.filled.v += q;
      mk->v.status = order_status::partially_filled;
      if (mk->v.leaves.v == 0) done(m.id, order_status::filled, cancel_reason::none);
    }
    if (t.leaves.v == 0) return finish(t, order_status::filled, cancel_reason::none);
    if (t.type == order_type::market || t.tif_ == tif::ioc) {
      return finish(t, order_status::cancelled, cancel_reason::ioc);
    }
    t.status = t.filled.v > 0 ? order_status::partially_filled : order_status::open;
    t.reason = cancel_reason::none;
    book.push_back({t, seq++});
    out.events.push_back({order_event::accepted, t});
    return {errc::ok, t};
  }

  book_result place(const order_params& p, Ms now, std::optional<std::int64_t> budget) {
    const bool immediate = p.tif_ == tif::ioc || p.tif_ == tif::fok;
    const bool market = p.type == order_type::market;
    if (p.qty.v <= 0 || p.qty.v % kLot != 0) return {errc::bad_request, {}};
    if (market && (p.price.v != 0 || !immediate)) return {errc::bad_request, {}};
    if (!market && p.price.v <= 0) return {errc::bad_request, {}};
    if (p.post_only && immediate) return {errc::bad_request, {}};
    if (p.tif_ == tif::gtd && p.expire_at <= now) return {errc::bad_request, {}};
    if (find(p.id)) return {errc::duplicate, {}};
    if (!market && p.price.v % kTick != 0) return {errc::bad_price, {}};
    order_view t{p.id, p.owner, p.side_, p.type, p.tif_, p.stp_, p.post_only, p.price,
                 p.expire_at, p.qty, Units{0}, p.qty, order_status::open, cancel_reason::none};
    if (const errc e = rules(t, now, budget); e != errc::ok) return {e, {}};
    return execute(t, now);
  }

  book_result replace(OrderId id, Fen price, Units qty, Ms now, std::optional<std::int64_t> budget) {
    live* o = find(id);
    if (!o) return {errc::not_found, {}};
    if (expired(o->v, now)) return {errc::invalid_state, {}};
    const std::int64_t filled = o->v.filled.v;
    if (qty.v <= 0 || qty.v % kLot != 0 || qty.v <= filled || price.v <= 0) return {errc::bad_request, {}};
    if (price.v % kTick != 0) return {errc::bad_price, {}};
    order_view t = o->v;
    t.price = price;
    t.qty = qty;
    t.leaves = Units{qty.v - filled};
    if (price == o->v.price && t.leaves <= o->v.leaves) {  // keeps priority
      if (t.side_ == side::buy && budget) {
        out.funds_asked.push_back(price.v * t.leaves.v);
        if (price.v * t.leaves.v > *budget) return {errc::insufficient_funds, {}};
      }
      o->v = t;
      out.events.push_back({order_event::accepted, t});
      return {errc::ok, t};
    }
    if (const errc e = rules(t, now, budget); e != errc::ok) return {e, {}};
    erase(id);
    return execute(t, now);
  }

  book_result cancel(OrderId id) {
    live* o = find(id);
    if (!o) return {errc::not_found, {}};
    order_view v = o->v;
    done(id, order_status::cancelled, cancel_reason::user);
    v.status = order_status::cancelled;
    v.reason = cancel_reason::user;
    v.leaves = Units{0};
    return {errc::ok, v};
  }

  std::size_t expire(Ms now) {
    std::vector<order_view> due;
    for (const live& o : book) if (expired(o.v, now)) due.push_back(o.v);
    std::sort(due.begin(), due.end(), [](const order_view& a, const order_view& b) {
      return a.expire_at != b.expire_at ? a.expire_at < b.expire_at : a.id < b.id;
    });
    for (const order_view& v : due) done(v.id, order_status::expired, cancel_reason::none);
    return due.size();
  }

  depth_map levels() const {
    depth_map d;
    for (const live& o : book) d[{o.v.side_, o.v.price.v}] += o.v.leaves.v;
    return d;
  }
};

// ---- the driver -----------------------------------------------------------------------------

struct rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E37'79B9'7F4A'7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58'476D'1CE4'E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D0'49BB'1331'11EBull;
    return z ^ (z >> 31);
  }
  std::int64_t below(std::int64_t n) { return static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(n)); }
  bool chance(int percent) { return below(100) < percent; }
};

// Buys mostly at 925..1000, sells at 1000..1075, and 1 in 8 priced aggressively across the
// spread: most orders rest (the book holds a few hundred) and many still trade.
Fen random_price(rng& r, side s) {
  const std::int64_t off = kTick * (r.chance(12) ? -1 - r.below(10) : r.below(16));
  return Fen{s == side::buy ? 1000 - off : 1000 + off};
}

order_params random_order(rng& r, OrderId id, Ms now) {
  order_params p;
  p.id = id;
  p.owner = static_cast<OwnerId>(1 + r.below(4));
  p.side_ = r.chance(50) ? side::buy : side::sell;
  p.type = r.chance(10) ? order_type::market : order_type::limit;
  const std::int64_t tifs = r.below(100);
  p.tif_ = tifs < 50 ? tif::gtc : tifs < 65 ? tif::ioc : tifs < 80 ? tif::fok : tif::gtd;
  if (p.type == order_type::market) p.tif_ = r.chance(60) ? tif::ioc : tif::fok;
  else p.price = random_price(r, p.side_);
  p.qty = Units{kLot * (1 + r.below(10))};
  if (p.tif_ == tif::gtd) p.expire_at = Ms{now.v + 1 + r.below(2000)};
  p.post_only = (p.tif_ == tif::gtc || p.tif_ == tif::gtd) && r.chance(10);
  const std::int64_t s = r.below(10);
  p.stp_ = s < 4 ? stp::cancel_incoming : s < 6 ? stp::cancel_resting : s < 8 ? stp::cancel_both : stp::reject;
  const std::int64_t bad = r.below(100);  // a few invalid inputs, each reject path
  if (bad == 0) p.qty = Units{15};
  if (bad == 1) p.price = Fen{1001};
  if (bad == 2) p.price = Fen{p.type == order_type::market ? 1000 : 0};
  if (bad == 3) p.post_only = true;
  if (bad == 4) p.id = id - 1 - static_cast<OrderId>(r.below(50));  // maybe a live duplicate
  if (bad == 5 && p.tif_ == tif::gtd) p.expire_at = now;
  return p;
}

void expect_same(const book_result& a, const book_result& b, const outputs& x, const outputs& y,
                 std::size_t step) {
  ASSERT_EQ(a.ec, b.ec) << "step " << step;
  if (a.ec == errc::ok) {
    ASSERT_TRUE(same(a.order, b.order)) << "step " << step;
  }
  ASSERT_EQ(x.trades.size(), y.trades.size()) << "step " << step;
  for (std::size_t i = 0; i < x.trades.size(); ++i) ASSERT_TRUE(same(x.trades[i], y.trades[i])) << "step " << step;
  ASSERT_EQ(x.events.size(), y.events.size()) << "step " << step;
  for (std::size_t i = 0; i < x.events.size(); ++i) {
    ASSERT_EQ(x.events[i].kind, y.events[i].kind) << "step " << step;
    ASSERT_TRUE(same(x.events[i].o, y.events[i].o)) << "step " << step << " event " << i;
  }
  ASSERT_EQ(x.funds_asked, y.funds_asked) << "step " << step;
}

void expect_same_state(const order_book& b, const model& m) {
  for (const side s : {side::buy, side::sell}) {
    std::vector<order_view> got;
    b.for_each_order(s, [&](const order_view& v) { got.push_back(v); });
    const std::vector<model::live> want = m.sorted(s);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_TRUE(same(got[i], want[i].v)) << i;
  }
  ASSERT_EQ(b.next_trade_id(), m.next_trade);
}

void run_seed(std::uint64_t seed, std::size_t steps) {
  recorder sink;
  book_config cfg;
  cfg.tick = Fen{kTick};
  cfg.lot = Units{kLot};
  order_book b{cfg, sink};
  model m;
  rng r{seed};
  Ms now{1'000'000};
  OrderId next_id = 1;
  for (std::size_t step = 0; step < steps; ++step) {
    now.v += r.below(20);
    sink.out.clear();
    m.out.clear();
    std::optional<std::int64_t> budget;
    if (r.chance(15)) budget = r.below(150'000);
    auto funds = [&](Fen f) {
      sink.out.funds_asked.push_back(f.v);
      return !budget || f.v <= *budget;
    };
    funds_ref fr = budget ? funds_ref{funds} : funds_ref{};
    const std::uint64_t before = b.state_digest();
    book_result x, y;
    const std::int64_t op = (m.book.size() > 400 && r.chance(50)) ? 70 : r.below(100);
    auto pick = [&]() -> OrderId {
      if (!m.book.empty() && r.chance(90)) return m.book[static_cast<std::size_t>(r.below(static_cast<std::int64_t>(m.book.size())))].v.id;
      return static_cast<OrderId>(1 + r.below(static_cast<std::int64_t>(next_id)));
    };
    if (op < 60) {
      const order_params p = random_order(r, next_id++, now);
      x = b.place(p, now, fr);
      y = m.place(p, now, budget);
    } else if (op < 82) {
      const OrderId id = pick();
      const auto* o = m.find(id);
      const Fen price{random_price(r, o ? o->v.side_ : side::buy).v + (r.chance(2) ? 1 : 0)};
      const Units qty{kLot * r.below(12) + (r.chance(2) ? 5 : 0)};
      x = b.replace(id, price, qty, now, fr);
      y = m.replace(id, price, qty, now, budget);
    } else if (op < 95) {
      const OrderId id = pick();
      x = b.cancel(id);
      y = m.cancel(id);
    } else {
      ASSERT_EQ(b.expire(now), m.expire(now));
    }
    expect_same(x, y, sink.out, m.out, step);
    if (x.ec != errc::ok) {
      ASSERT_EQ(b.state_digest(), before) << "a reject changed the state";
    }
    ASSERT_EQ(sink.depth, m.levels()) << "step " << step;
    if (step % 1000 == 0) {
      b.check_invariants();
      expect_same_state(b, m);
    }
  }
  b.check_invariants();
  expect_same_state(b, m);
}

TEST(OrderBookProperty, AgreesWithReferenceModel_Seed1) { run_seed(1, 100'000); }
TEST(OrderBookProperty, AgreesWithReferenceModel_Seed2) { run_seed(0xC0FFEE, 100'000); }
TEST(OrderBookProperty, AgreesWithReferenceModel_Seed3) { run_seed(20261126, 100'000); }
TEST(OrderBookProperty, AgreesWithReferenceModel_Seed4) { run_seed(0xDEADBEEF, 100'000); }

}  // namespace
}  // namespace ipx::matching
