#pragma once
// A seeded random command stream for the engine (ipx-engine-driver and the recovery tests):
// participants, funding, assets, licence-unit markets with orders and cancels, and English
// auctions with registrations and bids, built from JSON params through the method table's
// own parser (find_method(...)->parse), as the gateway builds them.
//
// Use: setup_commands() (a first wave whose results carry ids), feed each result to
// on_result(), then next() for the random load. Every command carries a request id
// "<tag>-<n>" so an acknowledged command can be found in the journal. Deterministic for a
// seed, given the same results (participant ids are assigned by the engine).
#include <boost/json.hpp>

#include <cstdint>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.hpp"
#include "engine/methods.hpp"

namespace ipx::tools {

class Workload {
 public:
  struct Options {
    std::uint64_t seed = 1;
    std::string tag = "w";  // request ids, asset ids, market ids and keys carry it
    int traders = 16;
    int markets = 4;
    // English auctions close this long after creation. Long by default: an auction that
    // closes while the engine is idle makes the engine journal a timer tick.
    std::int64_t auction_ms = 3'600'000;
    // Auctions created in all (Domain::next_due() scans every auction on every command, so
    // the count bounds the cost per command; a workload about the journal keeps it small).
    int max_auctions = 64;
  };

  explicit Workload(Options o) : o_(std::move(o)), rng_(o_.seed) {}

  // Builds a command (throws std::logic_error on params the codec refuses: a workload bug).
  engine::Command make(std::string actor, std::string_view method, const boost::json::object& p) {
    const engine::MethodInfo* info = engine::find_method(method);
    if (info == nullptr) throw std::logic_error("unknown method " + std::string(method));
    engine::Command c;
    engine::codec::ParseError err;
    if (!info->parse(p, c.params, err)) {
      throw std::logic_error(std::string(method) + ": " + err.text());
    }
    c.method = info->method;
    c.actor = std::move(actor);
    c.request_id = o_.tag + "-" + std::to_string(++n_);
    return c;
  }

  // Wave 1: the operator and the traders (participant.create; results carry the ids).
  std::vector<engine::Command> participants() {
    std::vector<engine::Command> out;
    out.push_back(make("admin", "participant.create", person("operator", "op")));
    for (int i = 0; i < o_.traders; ++i) {
      out.push_back(make("admin", "participant.create",
                         person(i % 3 == 2 ? "individual" : "enterprise", "t" + std::to_string(i))));
    }
    return out;
  }
  // Wave 1 results, in order.
  void set_participants(const std::vector<std::string>& ids) {
    std::lock_guard lock(mu_);
    operator_ = ids.at(0);
    traders_.assign(ids.begin() + 1, ids.end());
  }

  // Wave 2: funding, the market assets, the markets, and units issued by each licensor.
  std::vector<engine::Command> markets(std::int64_t now_ms) {
    std::vector<engine::Command> out;
    for (const auto& t : traders_) {
      out.push_back(make("admin", "account.fund", {{"participant_id", t}, {"amount", kFunding}}));
    }
    for (int m = 0; m < o_.markets; ++m) {
      const std::string& owner = traders_[static_cast<std::size_t>(m) % traders_.size()];
      const std::string asset = asset_id("m" + std::to_string(m));
      out.push_back(make(operator_, "asset.register", asset_params(asset, owner, now_ms)));
      const std::string market = "M-" + o_.tag + "-" + std::to_string(m);
      boost::json::object lic{{"kind", "non_exclusive"}, {"territory", boost::json::array{"cn"}},
                              {"field", "all"}, {"term_months", 12}};
      out.push_back(make(owner, "market.create",
                         {{"market_id", market}, {"asset_id", asset}, {"licence", lic},
                          {"tick", kTick}, {"min_qty", kLot}}));
      out.push_back(make(owner, "units.issue", {{"market_id", market}, {"qty", 100'000'000}}));
      market_ids_.push_back(market);
      owners_.push_back(owner);
    }
    return out;
  }

  // The random load. Thread-safe against on_result() (called from completion threads).
  engine::Command next(std::int64_t now_ms) {
    const int roll = pick(0, 999);
    if (roll < 600) return order(now_ms);
    if (roll < 720) return cancel();
    if (roll < 750) {
      return make("admin", "account.fund", {{"participant_id", trader()}, {"amount", 1'000'000}});
    }
    std::vector<std::string> open;
    {
      std::lock_guard lock(mu_);
      open = auctions_;
    }
    const bool more = auctions_created_ < o_.max_auctions;
    if ((roll < 760 || open.empty()) && more) return auction_step(now_ms);
    if (open.empty()) return order(now_ms);
    const std::string& a = open[static_cast<std::size_t>(pick(0, static_cast<int>(open.size()) - 1))];
    if (roll < 870) return make(trader(), "auction.register", {{"auction_id", a}});
    return make(trader(), "auction.bid",
                {{"auction_id", a}, {"amount", kAuctionStart + kAuctionInc * pick(0, 200)}});
  }

  // Learns ids from results (auction.create): call with every acknowledged outcome.
  void on_result(engine::Method m, const engine::Outcome& out) {
    if (m != engine::Method::auction_create || !out.ok()) return;
    if (const auto* id = out.result.if_contains("auction_id"); id != nullptr && id->is_string()) {
      std::lock_guard lock(mu_);
      auctions_.emplace_back(id->get_string());
      if (auctions_.size() > 32) auctions_.erase(auctions_.begin());
    }
  }

  std::int64_t issued() const { return n_; }

 private:
  static constexpr std::int64_t kFunding = 1'000'000'000'000;  // fen per trader
  static constexpr std::int64_t kTick = 100;
  static constexpr std::int64_t kLot = 10;
  static constexpr std::int64_t kMid = 50'000;
  static constexpr std::int64_t kAuctionStart = 1'000'000;
  static constexpr std::int64_t kAuctionInc = 10'000;

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  const std::string& trader() {
    return traders_[static_cast<std::size_t>(pick(0, static_cast<int>(traders_.size()) - 1))];
  }
  std::string asset_id(const std::string& what) { return "PAT-" + o_.tag + "-" + what; }

  boost::json::object person(const std::string& kind, const std::string& name) {
    const std::string key = "k" + o_.tag + name;
    return {{"name", name + " " + o_.tag}, {"kind", kind}, {"region", "chengdu"},
            {"whitelisted", true}, {"api_key", key}, {"api_secret", "s" + key}};
  }
  static boost::json::object asset_params(const std::string& id, const std::string& owner,
                                          std::int64_t now_ms) {
    return {{"asset_id", id}, {"kind", "invention_patent"}, {"title", "a patent " + id},
            {"owner", owner}, {"region", "chengdu"}, {"industry", "advanced_materials"},
            {"valuation", 100'000'000}, {"expires_at", now_ms + 3650 * 86'400'000LL}};
  }

  engine::Command order(std::int64_t /*now_ms*/) {
    const auto m = static_cast<std::size_t>(pick(0, static_cast<int>(market_ids_.size()) - 1));
    // Sellers are mostly the market's licensor (who holds units); anyone may buy.
    const bool sell = pick(0, 1) == 1;
    const std::string who = sell && pick(0, 3) != 0 ? owners_[m] : trader();
    const std::int64_t price = kMid + kTick * (sell ? pick(-5, 20) : pick(-20, 5));
    const std::string coid = "c" + o_.tag + std::to_string(n_ + 1);
    orders_.push_back({who, market_ids_[m], coid});
    if (orders_.size() > 4096) orders_.erase(orders_.begin(), orders_.begin() + 2048);
    return make(who, "order.place",
                {{"market_id", market_ids_[m]}, {"side", sell ? "sell" : "buy"},
                 {"type", "limit"}, {"price", price}, {"qty", kLot * pick(1, 5)},
                 {"tif", "gtc"}, {"client_order_id", coid}});
  }
  engine::Command cancel() {
    if (orders_.empty()) return order(0);
    const auto i = static_cast<std::size_t>(pick(0, static_cast<int>(orders_.size()) - 1));
    const OrderRef o = std::move(orders_[i]);
    if (i + 1 != orders_.size()) orders_[i] = std::move(orders_.back());  // O(1), order kept irrelevant
    orders_.pop_back();
    return make(o.who, "order.cancel", {{"market_id", o.market}, {"client_order_id", o.coid}});
  }
  // Alternates: register a new asset, then put it up for an English transfer auction.
  engine::Command auction_step(std::int64_t now_ms) {
    if (pending_asset_.empty()) {
      pending_owner_ = trader();
      pending_asset_ = asset_id("a" + std::to_string(n_ + 1));
      return make(operator_, "asset.register", asset_params(pending_asset_, pending_owner_, now_ms));
    }
    const std::string asset = std::exchange(pending_asset_, {});
    ++auctions_created_;
    return make(pending_owner_, "auction.create",
                {{"lot", boost::json::array{boost::json::value(asset)}}, {"purpose", "transfer"},
                 {"format", "english"}, {"start_price", kAuctionStart},
                 {"increment", kAuctionInc}, {"deposit", 100'000}, {"opens_at", now_ms},
                 {"closes_at", now_ms + o_.auction_ms}});
  }

  struct OrderRef {
    std::string who, market, coid;
  };

  Options o_;
  std::mt19937_64 rng_;
  std::int64_t n_ = 0;
  std::string operator_;
  std::vector<std::string> traders_, market_ids_, owners_;
  std::vector<OrderRef> orders_;
  std::string pending_asset_, pending_owner_;
  int auctions_created_ = 0;
  std::mutex mu_;
  std::vector<std::string> auctions_;  // most recent auction ids
};

}  // namespace ipx::tools
