// Domain snapshots (engine/domain_snapshot.cpp, engine/snapshot_io.hpp): a domain saved after K
// commands and loaded into a fresh Domain has the same state hash and saves to the same bytes;
// then the same next M commands (timers through time advances, auctions of every format
// closing, disposal cases running their rounds, settlements paid, confirmed, failed or
// defaulted, retried request ids) give equal outcomes, equal pushes (channel snapshots
// included) and the same final hash, for several seeds of two workloads: the engine's random
// load (tools/engine_workload.hpp) and a disposal-case load written here. A cut, corrupt or
// foreign blob is refused and leaves the domain as it was.
#include <random>

#include "engine/snapshot_io.hpp"
#include "tests/engine/domain/harness.hpp"
#include "tools/engine_workload.hpp"

namespace ipx::engine::test {
namespace {

constexpr std::int64_t kMinMs = 60'000;
constexpr std::int64_t kHourMs = 3'600'000;

struct Cmd {
  Method method = Method::tick;
  std::string actor, request_id;
  Params params;
};

Cmd make(const std::string& actor, std::string_view method, const json::object& p,
         std::string request_id = {}) {
  const MethodInfo* info = find_method(method);
  EXPECT_NE(info, nullptr) << method;
  Cmd c;
  codec::ParseError err;
  EXPECT_TRUE(info->parse(p, c.params, err)) << method << ": " << err.text();
  c.method = info->method;
  c.actor = actor;
  c.request_id = std::move(request_id);
  return c;
}

std::string text(const json::value& v) { return json::serialize(v); }

// One domain, or two that must agree: until snapshot() only `live` runs; after it the copy
// loaded from live's bytes takes every command too, and each outcome and push is compared.
class Twin {
 public:
  Domain live;
  std::unique_ptr<Domain> copy;
  std::int64_t now = Harness::kStartMs;
  std::int64_t compared = 0;

  // A text result (orders) read as the object it stands for too.
  static Outcome readable(Outcome o) {
    if (!o.result_text.empty()) o.result = json::parse(o.result_text).as_object();
    return o;
  }

  Outcome apply(const Cmd& c) {
    now = std::max(now, live.now());
    std::vector<Push> a, b;
    Outcome out = readable(live.apply(c.method, c.actor, c.request_id, c.params, now, a));
    // As the engine's idle time does: some orders encoded ahead of the next capture, which
    // must then save what a fresh encoding would (expect_equal_at_end).
    live.precapture(compared % 3 == 0 ? 1000 : compared % 3);
    if (copy) {
      Outcome twin = readable(copy->apply(c.method, c.actor, c.request_id, c.params, now, b));
      expect_same(c, out, twin, a, b);
    }
    return out;
  }
  // A read on the live domain (changes nothing): what a script learns ids and amounts from.
  Outcome read(const std::string& actor, Method m, Params p) {
    std::vector<Push> ignored;
    return live.apply(m, actor, {}, p, now, ignored);
  }

  // Saves live, loads the bytes into a fresh domain; both must agree from here on.
  void snapshot() {
    const std::string bytes = live.save();
    copy = std::make_unique<Domain>();
    std::string error;
    ASSERT_TRUE(copy->load(bytes, error)) << error;
    EXPECT_EQ(copy->state_hash(), live.state_hash());
    EXPECT_EQ(copy->now(), live.now());
    EXPECT_EQ(copy->next_due(), live.next_due());
    const std::string again = copy->save();
    EXPECT_TRUE(again == bytes) << "a loaded domain saves " << again.size() << " bytes, the "
                                << "original " << bytes.size();
    EXPECT_FALSE(copy->ledger().check_invariants(true).has_value());
  }

  void expect_same(const Cmd& c, const Outcome& a, const Outcome& b, const std::vector<Push>& pa,
                   const std::vector<Push>& pb) {
    ++compared;
    const std::string what = std::string(method_info(c.method).name) + " #" + std::to_string(compared);
    const auto unlike = live.orders_unlike_book();
    EXPECT_FALSE(unlike.has_value()) << what << ": " << unlike.value_or("");
    EXPECT_EQ(a.code, b.code) << what;
    EXPECT_EQ(a.message, b.message) << what;
    EXPECT_EQ(text(a.result), text(b.result)) << what;
    EXPECT_TRUE(a.result == b.result) << what << ": result values differ in kind";
    EXPECT_EQ(a.result_text, b.result_text) << what;
    ASSERT_EQ(pa.size(), pb.size()) << what;
    for (std::size_t i = 0; i < pa.size(); ++i) {
      EXPECT_EQ(pa[i].channel, pb[i].channel) << what;
      EXPECT_EQ(pa[i].type, pb[i].type) << what;
      EXPECT_EQ(pa[i].ts, pb[i].ts) << what;
      EXPECT_EQ(text(pa[i].data), text(pb[i].data)) << what << " push " << pa[i].channel;
      EXPECT_EQ(pa[i].data_text, pb[i].data_text) << what << " push " << pa[i].channel;
      EXPECT_EQ(text(pa[i].snapshot), text(pb[i].snapshot)) << what << " push " << pa[i].channel;
    }
    EXPECT_EQ(live.state_hash(), copy->state_hash()) << what;
    EXPECT_EQ(live.next_due(), copy->next_due()) << what;
  }

  void expect_equal_at_end() {
    ASSERT_TRUE(copy);
    EXPECT_EQ(live.state_hash(), copy->state_hash());
    const std::string bytes = live.save();
    EXPECT_TRUE(bytes == copy->save()) << "the two domains save different bytes";
    // Both saved before (snapshot()), so their live orders came from cached pages: the same
    // bytes as encoding every order again.
    live.forget_snapshot_cache();
    EXPECT_TRUE(live.save() == bytes) << "a page of live orders changed unmarked";
    EXPECT_FALSE(copy->ledger().check_invariants(true).has_value());
  }
};

// ---- the engine's random load, with time advances and retries ------------------------------

class EngineLoad {
 public:
  EngineLoad(std::uint64_t seed, Twin& t)
      : t_(t), rng_(seed), w_({.seed = seed, .tag = "s" + std::to_string(seed),
                               .auction_ms = 20 * kMinMs}) {
    std::vector<std::string> ids;
    for (auto& c : w_.participants()) ids.emplace_back(run(c).result.at("participant_id").as_string());
    w_.set_participants(ids);
    for (auto& c : w_.markets(t_.now)) EXPECT_TRUE(run(c).ok());
  }

  // One step: mostly the workload's next command; sometimes time moves (auctions close,
  // settlements default, request ids are forgotten after 24 h), or an earlier command is
  // retried with its request id (the remembered reply comes back).
  void step() {
    t_.now += pick(0, 3000);
    const int roll = pick(0, 999);
    if (roll < 15) {
      const std::int64_t ms = roll < 3 ? pick(1, 3) * 86'400'000LL : pick(1, 120) * kMinMs;
      run(make("admin", "time.advance", {{"ms", ms}}));
    } else if (roll < 40 && !sent_.empty()) {
      run(sent_[static_cast<std::size_t>(pick(0, static_cast<int>(sent_.size()) - 1))]);
    } else {
      run(w_.next(t_.now));
    }
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  Outcome run(const engine::Command& c) { return run(Cmd{c.method, c.actor, c.request_id, c.params}); }
  Outcome run(const Cmd& c) {
    Outcome o = t_.apply(c);
    w_.on_result(c.method, o);
    if (!c.request_id.empty()) {
      sent_.push_back(c);
      if (sent_.size() > 256) sent_.erase(sent_.begin());
    }
    return o;
  }

  Twin& t_;
  std::mt19937_64 rng_;
  tools::Workload w_;
  std::vector<Cmd> sent_;
};

// ---- a disposal-case load: cases, backstops, every auction format, settlements, GTD orders ----

class DisposalLoad {
 public:
  DisposalLoad(std::uint64_t seed, Twin& t) : t_(t), rng_(seed) {
    op_ = person("operator", "op");
    for (int i = 0; i < 2; ++i) banks_.push_back(person("bank", "bank" + std::to_string(i)));
    for (int i = 0; i < 2; ++i) pledgors_.push_back(person("enterprise", "pledgor" + std::to_string(i)));
    for (int i = 0; i < 4; ++i) bidders_.push_back(person(i % 2 ? "individual" : "enterprise", "bidder" + std::to_string(i)));
    for (int i = 0; i < 2; ++i) backstops_.push_back(person("backstop", "backstop" + std::to_string(i)));
    fund_ = person("risk_fund", "fund");
    for (const auto& v : {bidders_, backstops_, pledgors_}) {
      for (const auto& p : v) run(make("admin", "account.fund", {{"participant_id", p}, {"amount", 5'000'000'000}}));
    }
    run(make("admin", "account.fund", {{"participant_id", fund_}, {"amount", 5'000'000'000}}));
    market_setup();
  }

  void step() {
    t_.now += pick(0, 60'000);
    const int roll = pick(0, 99);
    if (roll < 6) return open_case();
    if (roll < 9) return offer();
    if (roll < 14) return list_asset();
    if (roll < 30) return register_bidder();
    if (roll < 50) return bid();
    if (roll < 56) return settle();
    if (roll < 72) return order();
    if (roll < 76) return replace_or_cancel();
    if (roll < 80 && !sent_.empty()) {
      run(sent_[static_cast<std::size_t>(pick(0, static_cast<int>(sent_.size()) - 1))]);
      return;
    }
    const std::int64_t ms = roll < 96 ? pick(1, 90) * kMinMs : pick(1, 3) * kDayMs;
    run(make("admin", "time.advance", {{"ms", ms}}));
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <class V>
  const auto& any(const V& v) {
    return v[static_cast<std::size_t>(pick(0, static_cast<int>(v.size()) - 1))];
  }
  // Mostly one of the 16 latest auctions (the live ones), sometimes any.
  const std::string& recent_auction() {
    const int n = static_cast<int>(auctions_.size());
    if (pick(0, 3) == 0) return any(auctions_);
    return auctions_[static_cast<std::size_t>(pick(std::max(0, n - 16), n - 1))];
  }
  std::string rid() { return "r" + std::to_string(++n_); }

  Outcome run(Cmd c) {
    Outcome o = t_.apply(c);
    if (!c.request_id.empty()) {
      sent_.push_back(c);
      if (sent_.size() > 128) sent_.erase(sent_.begin());
    }
    return o;
  }
  std::string person(const std::string& kind, const std::string& name) {
    const std::string key = "k-" + name;
    Outcome o = run(make("admin", "participant.create",
                         {{"name", name}, {"kind", kind}, {"region", "chengdu"},
                          {"whitelisted", true}, {"api_key", key}, {"api_secret", "s" + key}}));
    EXPECT_TRUE(o.ok()) << o.message;
    return std::string(o.result.at("participant_id").as_string());
  }
  std::string asset(const std::string& owner, bool co_owned) {
    const std::string id = "PAT-" + std::to_string(++assets_);
    json::object a{{"asset_id", id},        {"kind", "invention_patent"},
                   {"title", "patent " + id}, {"owner", owner},
                   {"region", "chengdu"},   {"industry", "advanced_materials"},
                   {"valuation", 10'000'000}, {"expires_at", t_.now + 3650 * kDayMs}};
    if (co_owned) a["co_owners"] = json::array{json::string(bidders_[0])};
    EXPECT_TRUE(run(make(op_, "asset.register", a)).ok());
    return id;
  }

  // A pledged asset foreclosed into a case with a fast plan (rounds of a day, the shortest rule
  // 5 allows; a sell-off of an hour; a day to pay).
  void open_case() {
    const std::string& bank = any(banks_);
    const std::string& pledgor = any(pledgors_);
    const std::string id = asset(pledgor, pick(0, 3) == 0);
    run(make(op_, "pledge.register", {{"asset_id", id}, {"pledgee", bank},
                                      {"loan_outstanding", pick(5, 15) * 1'000'000},
                                      {"registration_no", "PLG-" + id}}));
    // Rule 14: up to two more pledges (either bank), paid after the first in this order.
    for (int i = pick(0, 2); i > 0; --i) {
      run(make(op_, "pledge.register",
               {{"asset_id", id},
                {"pledgee", any(banks_)},
                {"loan_outstanding", pick(1, 6) * 1'000'000},
                {"registration_no", "PLG-" + id + "-" + std::to_string(i)}}));
    }
    json::object plan{{"notice_ms", pick(0, 1) * 30 * kMinMs}, {"renotice_ms", 0},
                      {"bidding_ms", kDayMs}, {"sell_off_ms", kHourMs}, {"payment_ms", kDayMs},
                      {"regime", pick(0, 2) == 0 ? "traditional" : "online"},
                      {"after_sell_off", pick(0, 1) ? "in_lieu" : "release"}};
    if (pick(0, 1)) plan["risk_fund"] = json::object{{"participant_id", fund_}, {"share_bp", 5000}};
    Outcome o = run(make(bank, "disposal.open",
                         {{"assets", json::array{json::string(id)}}, {"pledgee", bank},
                          {"pledgor", pledgor}, {"valuation", 10'000'000}, {"plan", plan}},
                         rid()));
    if (o.ok()) auctions_.emplace_back(o.result.at("auction_id").as_string());
  }
  void offer() {
    run(make(any(backstops_), "backstop.offer",
             {{"price_bp", pick(10, 60) * 100}, {"max_amount", pick(1, 20) * 1'000'000}}, rid()));
  }
  // A trader's own asset for sale in any format.
  void list_asset() { list_asset(pick(0, 4), pick(0, 1) * 10, pick(30, 180)); }
  void list_asset(int format_no, int opens_in_min, int closes_in_min) {
    static const char* kFormats[] = {"english", "dutch", "sealed_first", "sealed_second", "fixed_price"};
    const std::string& owner = any(pledgors_);
    const std::string id = asset(owner, false);
    const std::string format = kFormats[format_no];
    json::object p{{"lot", json::array{json::string(id)}}, {"purpose", "transfer"},
                   {"format", format}, {"start_price", 1'000'000}, {"increment", 10'000},
                   {"deposit", pick(0, 1) * 50'000}, {"opens_at", t_.now + opens_in_min * kMinMs},
                   {"closes_at", t_.now + closes_in_min * kMinMs}, {"payment_ms", kDayMs}};
    if (format == "dutch") p["dutch"] = json::object{{"decrement", 20'000}, {"interval_ms", 10 * kMinMs}, {"floor", 600'000}};
    if (format == "english") p["extend_window_ms"] = 5 * kMinMs, p["extend_by_ms"] = 5 * kMinMs;
    if (pick(0, 2) == 0) p["reserve"] = 1'100'000;
    Outcome o = run(make(owner, "auction.create", p, rid()));
    if (o.ok()) auctions_.emplace_back(o.result.at("auction_id").as_string());
  }
  void register_bidder() {
    if (auctions_.empty()) return;
    run(make(pick(0, 5) ? any(bidders_) : any(backstops_), "auction.register",
             {{"auction_id", recent_auction()}}, rid()));
  }
  // A bid at or just above what the auction asks now (read first), a proxy, or a Dutch accept.
  void bid() {
    if (auctions_.empty()) return;
    const std::string a = recent_auction();
    const std::string& who = any(bidders_);
    Outcome view = t_.read(op_, Method::auction_get, AuctionGet{a});
    if (!view.ok()) return;
    const json::object& v = view.result;
    if (v.at("format") == "dutch") {  // accepted now and then: the clock runs a while
      if (pick(0, 3) == 0) run(make(who, "auction.accept", {{"auction_id", a}}, rid()));
      return;
    }
    std::int64_t base = v.at("start_price").as_int64();
    if (v.at("min_next_bid").is_int64()) base = v.at("min_next_bid").as_int64();
    const std::int64_t inc = v.at("increment").as_int64();
    const std::int64_t amount = base + inc * pick(0, 3);
    if (pick(0, 3) == 0) {
      run(make(who, "auction.proxy", {{"auction_id", a}, {"max_amount", amount + inc * pick(1, 5)}}, rid()));
    } else {
      run(make(who, "auction.bid", {{"auction_id", a}, {"amount", amount}}, rid()));
    }
  }
  // The settlement of a sold auction: paid by its buyer, then confirmed or failed; or left to
  // default at its deadline.
  void settle() {
    std::string sid;
    for (int tries = 0; tries < 8 && sid.empty() && !auctions_.empty(); ++tries) {
      Outcome view = t_.read(op_, Method::auction_get, AuctionGet{recent_auction()});
      if (view.ok() && view.result.at("settlement_id").is_string()) {
        sid = std::string(view.result.at("settlement_id").as_string());
      }
    }
    if (sid.empty()) return;
    Outcome s = t_.read(op_, Method::settlement_get, SettlementRef{sid});
    if (!s.ok()) return;
    const std::string state(s.result.at("state").as_string());
    const std::string buyer(s.result.at("buyer").as_string());
    if (state == "awaiting_payment" && pick(0, 2) != 0) {
      run(make(buyer, "settlement.pay", {{"settlement_id", sid}}, rid()));
    } else if (state == "paid") {
      if (pick(0, 3) == 0) {
        run(make(op_, "settlement.fail", {{"settlement_id", sid}, {"reason", "registry refused"}}, rid()));
      } else {
        run(make(op_, "settlement.confirm", {{"settlement_id", sid}, {"registration_no", "REG-" + sid}}, rid()));
      }
    }
  }

  // A licence-unit market with fees, where orders are GTD, post-only, STP and replaced.
  void market_setup() {
    const std::string id = asset(pledgors_[0], false);
    json::object lic{{"kind", "non_exclusive"}, {"territory", json::array{"cn"}}, {"field", "all"}, {"term_months", 12}};
    EXPECT_TRUE(run(make(pledgors_[0], "market.create",
                         {{"market_id", "M-1"}, {"asset_id", id}, {"licence", lic}, {"tick", 100},
                          {"min_qty", 10}, {"maker_fee_bp", 10}, {"taker_fee_bp", 20}})).ok());
    EXPECT_TRUE(run(make(pledgors_[0], "units.issue", {{"market_id", "M-1"}, {"qty", 1'000'000}})).ok());
  }
  void order() {
    static const char* kStp[] = {"cancel_incoming", "cancel_resting", "cancel_both", "reject"};
    const bool sell = pick(0, 1) == 1;
    const std::string who = sell && pick(0, 2) != 0 ? pledgors_[0] : any(bidders_);
    const std::string coid = "c" + std::to_string(++orders_);
    json::object p{{"market_id", "M-1"}, {"side", sell ? "sell" : "buy"}, {"type", "limit"},
                   {"price", 50'000 + 100 * (sell ? pick(-3, 10) : pick(-10, 3))},
                   {"qty", 10 * pick(1, 8)}, {"tif", "gtc"}, {"client_order_id", coid},
                   {"stp", kStp[pick(0, 3)]}};
    const int kind = pick(0, 9);
    if (kind < 3) p["tif"] = "gtd", p["expire_at"] = t_.now + pick(1, 120) * kMinMs;
    if (kind == 3) p["post_only"] = true;
    if (kind == 4) p["tif"] = "ioc";
    Outcome o = run(make(who, "order.place", p, rid()));
    if (o.ok() && o.result.at("status") != "cancelled" && o.result.at("status") != "filled") {
      live_orders_.push_back({who, std::string(o.result.at("order_id").as_string())});
    }
  }
  // Cancels or replaces an order placed earlier (it may be done by now: then INVALID_STATE).
  void replace_or_cancel() {
    if (live_orders_.empty()) return;
    const auto [who, order_id] = any(live_orders_);
    if (pick(0, 1)) {
      run(make(who, "order.cancel", {{"market_id", "M-1"}, {"order_id", order_id}}, rid()));
    } else {
      run(make(who, "order.replace", {{"market_id", "M-1"}, {"order_id", order_id},
                                      {"price", 50'000 + 100 * pick(-5, 5)}, {"qty", 10 * pick(1, 8)}},
               rid()));
    }
  }

 public:
  // Puts one listing of every format in play (open for hours, bidders registered, bids in)
  // and a GTD order in the book, so that the snapshot taken next holds each kind for sure.
  void prime() {
    for (int i = 0; i < 5; ++i) list_asset(i, 0, 180);
    for (int i = 0; i < 15; ++i) register_bidder();
    for (int i = 0; i < 10; ++i) bid();
    order();
  }

  // What the state holds right now, to show the snapshot covered the interesting parts:
  // cases by state, auctions by format and state, settlements by state, resting GTD orders.
  std::map<std::string, int> coverage() {
    std::map<std::string, int> seen;
    Outcome cases = t_.read(op_, Method::disposal_list, DisposalList{});
    for (const auto& c : cases.result.at("cases").as_array()) {
      ++seen["case " + std::string(c.at("state").as_string())];
      if (c.at("state") != "closed" && c.at("pledges").as_array().size() > 1) {
        ++seen["case with several pledges"];
      }
    }
    Outcome auctions = t_.read(op_, Method::auction_list, AuctionList{});
    for (const auto& a : auctions.result.at("auctions").as_array()) {
      ++seen["auction " + std::string(a.at("format").as_string()) + " " +
             std::string(a.at("state").as_string())];
      if (!a.at("settlement_id").is_string()) continue;
      Outcome s = t_.read(op_, Method::settlement_get, SettlementRef{std::string(a.at("settlement_id").as_string())});
      ++seen["settlement " + std::string(s.result.at("state").as_string())];
    }
    Outcome m = t_.read(op_, Method::market_get, MarketRef{"M-1"});
    seen["book levels"] = static_cast<int>(m.result.at("bids").as_array().size() +
                                           m.result.at("asks").as_array().size());
    return seen;
  }

 private:
  Twin& t_;
  std::mt19937_64 rng_;
  std::string op_, fund_;
  std::vector<std::string> banks_, pledgors_, bidders_, backstops_, auctions_;
  std::vector<std::pair<std::string, std::string>> live_orders_;
  std::vector<Cmd> sent_;
  int assets_ = 0, orders_ = 0, n_ = 0;
};

// Runs `k` steps on one domain, snapshots it, runs `m` more on both.
template <class Load>
void round_trip(std::uint64_t seed, int k, int m, std::map<std::string, int>* seen = nullptr) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  Twin t;
  Load load(seed, t);
  for (int i = 0; i < k; ++i) load.step();
  if constexpr (requires { load.coverage(); }) {
    load.prime();
    if (seen != nullptr) {
      for (const auto& [what, n] : load.coverage()) (*seen)[what] += n;
    }
  }
  t.snapshot();
  if (::testing::Test::HasFatalFailure()) return;
  for (int i = 0; i < m && !::testing::Test::HasFatalFailure(); ++i) load.step();
  t.expect_equal_at_end();
  EXPECT_GT(t.compared, m / 2);
}

TEST(DomainSnapshot, EngineLoadRoundTripsAndRunsOnAlikeForSeveralSeeds) {
  for (std::uint64_t seed : {1u, 2u, 3u, 42u}) round_trip<EngineLoad>(seed, 3000, 3000);
}

// Captures again and again as the book changes (pages merged by the engine, deltas frozen by
// earlier captures and merged by the image): each saves what a domain loaded from it saves,
// which encodes every live order afresh.
TEST(DomainSnapshot, RepeatedCapturesSaveWhatAFreshEncodingSaves) {
  for (std::uint64_t seed : {4u, 8u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Twin t;
    EngineLoad load(seed, t);
    for (int i = 0; i < 4000; ++i) {
      load.step();
      if (i % 400 != 399) continue;
      const std::string bytes = t.live.save();
      Domain fresh;
      std::string error;
      ASSERT_TRUE(fresh.load(bytes, error)) << error;
      EXPECT_TRUE(fresh.save() == bytes) << "after step " << i;
    }
  }
}

// A page's merge: each order's newest delta entry replaces its base entry, a removal drops it,
// ids stay ascending.
TEST(DomainSnapshot, APageMergeKeepsEachOrdersNewestEntry) {
  auto entry = [](std::uint64_t id, const std::string& v) {
    std::string out;
    snap::Writer w(out);
    w.u64(id);
    w.bytes(v);
    return out;
  };
  Market::PageBytes base;
  for (std::uint64_t id : {1, 3, 5, 9}) {
    base.at.emplace_back(id, static_cast<std::uint32_t>(base.bytes.size()));
    base.bytes += entry(id, "b" + std::to_string(id));
  }
  auto put = [&](Market::PageDelta& d, std::uint64_t id, const std::string& v) {
    const auto from = static_cast<std::uint32_t>(d.bytes.size());
    d.bytes += entry(id, v);
    d.entries.push_back({id, from, static_cast<std::uint32_t>(d.bytes.size())});
  };
  auto remove = [](Market::PageDelta& d, std::uint64_t id) {
    const auto end = static_cast<std::uint32_t>(d.bytes.size());
    d.entries.push_back({id, end, end});
  };
  Market::PageDelta older, newer;
  put(older, 3, "x3");
  put(older, 4, "x4");
  put(older, 7, "x7");
  remove(older, 5);
  put(newer, 4, "y4");
  remove(newer, 7);
  put(newer, 3, "y3");
  put(newer, 10, "y10");
  const Market::PageBytes merged = Market::merge_page(&base, {&older, &newer});
  const std::string want = entry(1, "b1") + entry(3, "y3") + entry(4, "y4") + entry(9, "b9") +
                           entry(10, "y10");
  EXPECT_EQ(merged.bytes, want);
  std::vector<std::uint64_t> ids;
  for (const auto& [id, at] : merged.at) {
    ids.push_back(id);
    EXPECT_EQ(static_cast<unsigned char>(merged.bytes[at]), id);  // its entry's first byte
  }
  EXPECT_EQ(ids, (std::vector<std::uint64_t>{1, 3, 4, 9, 10}));
  EXPECT_EQ(Market::merge_page(nullptr, {&older}).at.size(), 3u);  // 3, 4, 7 (5 was not there)
}

TEST(DomainSnapshot, DisposalLoadRoundTripsAndRunsOnAlikeForSeveralSeeds) {
  std::map<std::string, int> seen;
  for (std::uint64_t seed : {1u, 5u, 9u, 77u}) round_trip<DisposalLoad>(seed, 600, 900, &seen);
  // The snapshots held cases mid-way, live auctions of every format, settlements in flight
  // and a book with resting orders (else this test would prove little).
  std::string all;
  for (const auto& [what, n] : seen) all += what + "=" + std::to_string(n) + " ";
  SCOPED_TRACE(all);
  EXPECT_GT(seen["case round_1"] + seen["case round_2"] + seen["case round_3"], 0);
  EXPECT_GT(seen["case sell_off"] + seen["case settlement"], 0);
  EXPECT_GT(seen["case with several pledges"], 0);
  for (const char* f : {"english", "dutch", "sealed_first", "sealed_second", "fixed_price"}) {
    EXPECT_GT(seen[std::string("auction ") + f + " open"] + seen[std::string("auction ") + f + " scheduled"], 0) << f;
  }
  EXPECT_GT(seen["settlement awaiting_payment"] + seen["settlement paid"], 0);
  EXPECT_GT(seen["book levels"], 0);
}

// Timers due at the same ms keep creation order through a save and a load: ten licence
// listings close at one ms (bids touched the last-created first), then their settlements
// default at one ms; the loaded domain fires them as the live one does, S-1 for A-1 first.
TEST(DomainSnapshot, TimersDueAtTheSameMsKeepCreationOrderThroughALoad) {
  Harness h;
  const std::string op = h.participant("operator", "exchange operator");
  const std::string seller = h.participant("enterprise", "seller");
  const std::string alice = h.participant("enterprise", "alice");
  h.fund(alice, 100'000'000);
  const json::object asset{{"asset_id", "PAT-1"},    {"kind", "invention_patent"},
                           {"title", "a patent"},    {"owner", seller},
                           {"region", "chengdu"},    {"industry", "other"},
                           {"valuation", 5'000'000}, {"expires_at", h.now + 3650 * kDayMs}};
  ASSERT_TRUE(h.call(op, "asset.register", text(asset)).ok());
  const json::object listing{
      {"lot", json::array{"PAT-1"}}, {"purpose", "sole_licence"}, {"format", "english"},
      {"start_price", 1'000'000},    {"increment", 10'000},       {"deposit", 100'000},
      {"opens_at", h.now},           {"closes_at", h.now + kDayMs},
      {"licence", {{"kind", "sole"}, {"territory", json::array{"chengdu"}}, {"field", "x"}, {"term_months", 12}}}};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(h.call(op, "auction.create", text(listing)).ok());
  for (int i : {10, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
    const std::string id = "A-" + std::to_string(i);
    ASSERT_TRUE(h.call(alice, "auction.register", text(json::object{{"auction_id", id}})).ok());
    ASSERT_TRUE(h.call(alice, "auction.bid", text(json::object{{"auction_id", id}, {"amount", 1'000'000}})).ok());
  }
  const std::string bytes = h.domain.save();
  Domain copy;
  std::string error;
  ASSERT_TRUE(copy.load(bytes, error)) << error;
  EXPECT_TRUE(copy.save() == bytes);
  // The settlement pushes of one time.advance, in order, as (settlement, state) pairs.
  auto settlements = [](Domain& d, std::int64_t now, std::int64_t ms) {
    std::vector<Push> pushes;
    const Cmd c = make("admin", "time.advance", {{"ms", ms}});
    EXPECT_TRUE(d.apply(c.method, c.actor, {}, c.params, now, pushes).ok());
    std::vector<std::string> out;
    for (const auto& p : pushes) {
      if (p.type != "settlement") continue;
      const std::string s = std::string(p.data.at("settlement_id").as_string()) + " " +
                            std::string(p.data.at("state").as_string());
      if (out.empty() || out.back() != s) out.push_back(s);
    }
    return out;
  };
  std::vector<std::string> opened, defaulted;
  for (int i = 1; i <= 10; ++i) {
    opened.push_back("S-" + std::to_string(i) + " awaiting_payment");
    defaulted.push_back("S-" + std::to_string(i) + " defaulted");
  }
  EXPECT_EQ(settlements(h.domain, h.now, kDayMs), opened);
  EXPECT_EQ(settlements(copy, h.now, kDayMs), opened);
  EXPECT_EQ(settlements(h.domain, h.now + kDayMs, 10 * kDayMs), defaulted);
  EXPECT_EQ(settlements(copy, h.now + kDayMs, 10 * kDayMs), defaulted);
  EXPECT_EQ(h.domain.state_hash(), copy.state_hash());
}

// The blob's sections, one of them replaced by `bytes`, framed again with the checksums
// made for them (so the reader gets past the frame and reads the replaced bytes).
std::string reframed(const std::string& blob, std::size_t section, const std::string& bytes) {
  const auto sections = snap::read_frame(blob, {"remembered", "state", "transfers", "finished"});
  std::string out;
  snap::begin_frame(out);
  for (std::size_t i = 0; i < sections.size(); ++i) {
    snap::append_section(out, i == section ? std::string_view(bytes) : sections[i].bytes);
  }
  return out;
}

TEST(DomainSnapshot, ACutCorruptOrForeignBlobIsRefusedAndChangesNothing) {
  Twin t;
  DisposalLoad load(3, t);
  for (int i = 0; i < 300; ++i) load.step();
  const std::string bytes = t.live.save();
  ASSERT_GT(bytes.size(), 1000u);

  Domain d;  // what a refused load must leave exactly as it was
  const std::string before = d.save();
  auto refused = [&](const std::string& blob, std::string_view why) {
    std::string error;
    EXPECT_FALSE(d.load(blob, error)) << why;
    EXPECT_NE(error.find(why), std::string::npos) << error;
    EXPECT_TRUE(d.save() == before) << "a refused load changed the domain";
  };
  for (std::size_t cut : {std::size_t{0}, std::size_t{7}, std::size_t{12}, std::size_t{27},
                          bytes.size() / 3, bytes.size() - 1}) {
    refused(bytes.substr(0, cut), cut < snap::kHeadBytes ? "no magic" : "truncated in the");
  }
  refused(bytes + "x", "bytes after the last section");
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x20;
  refused(flipped, "checksum mismatch in the");
  std::string foreign = bytes;
  foreign[0] = 'X';
  refused(foreign, "no magic");
  std::string newer = bytes;
  newer[8] = static_cast<char>(snap::kVersion + 1);
  refused(newer, "format version " + std::to_string(snap::kVersion + 1) + ", this engine reads " +
                     std::to_string(snap::kVersion));

  // Each section cut short under a checksum made for it: refused at the cut, at every 1/11 of
  // it, never read past it.
  const auto sections = snap::read_frame(bytes, {"remembered", "state", "transfers", "finished"});
  for (std::size_t s = 0; s < sections.size(); ++s) {
    const std::string_view whole = sections[s].bytes;
    for (std::size_t i = 0; i < 11; ++i) {
      const std::string cut(whole.substr(0, whole.size() * i / 11));
      refused(reframed(bytes, s, cut), std::string(" of the ") + sections[s].name + " section: ");
    }
  }
  // Bytes changed under a valid checksum: refused, or (a changed name, amount or time) loaded
  // into a domain that saves again; never a crash or a read out of bounds (ASan builds).
  std::mt19937 rng(7);
  int loaded = 0;
  for (int i = 0; i < 30; ++i) {
    const std::size_t s = static_cast<std::size_t>(i % 4);
    std::string bad(sections[s].bytes);
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    Domain x;
    std::string error;
    if (x.load(reframed(bytes, s, bad), error)) {
      ++loaded;
      EXPECT_FALSE(x.save().empty());
    } else {
      EXPECT_EQ(error.rfind("snapshot: ", 0), 0u) << error;
    }
  }
  EXPECT_LT(loaded, 30) << "no change was ever noticed";

  std::string error;
  ASSERT_TRUE(d.load(bytes, error)) << error;  // and the whole blob still loads
  EXPECT_EQ(d.state_hash(), t.live.state_hash());
}

}  // namespace
}  // namespace ipx::engine::test
