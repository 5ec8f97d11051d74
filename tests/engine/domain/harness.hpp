#pragma once
// A small harness for domain tests: drives engine::Domain through apply() exactly as a client
// would through the protocol (method name + JSON params, parsed by the method table's codec),
// as a given participant at a given engine time; makes participants, funds them, reads
// accounts, and checks the ledger's invariants.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/domain.hpp"
#include "engine/methods.hpp"

namespace ipx::engine {
// gtest prints codes by name.
inline void PrintTo(Code c, std::ostream* os) {
  *os << code_name(c);
}
}  // namespace ipx::engine

namespace ipx::engine::test {

namespace json = boost::json;

// What a client can observe of the state: the ledger (every balance, hold and transfer), every
// participant's account.get and every market's market.get (its book), and the next timer.
// A rejected command must leave it equal. (Domain::state_hash() also mixes in each command's
// outcome, rejected ones included, for replay checks, so it moves on every command.)
struct Observed {
  std::uint64_t ledger_hash = 0;
  std::string reads;
  std::optional<std::int64_t> next_due;
  bool operator==(const Observed&) const = default;
};

class Harness {
 public:
  static constexpr std::int64_t kStartMs = 1'764'000'000'000;  // engine time at start

  Harness() = default;
  explicit Harness(ledger::Limits ledger_limits) : domain(ledger_limits) {}

  Domain domain;
  std::int64_t now = kStartMs;         // time of the next call (never moves backwards)
  std::vector<Push> pushes;            // the last call's pushes
  bool check_ledger_each_call = true;  // ledger_problem() after every call

  // Parses `params_json` with the method's own codec and applies it as `actor` at `now`.
  // An unknown method or malformed params gives BAD_REQUEST (as the gateway would) and
  // applies nothing. A top-level "request_id" is passed as the command's request id.
  Outcome call(const std::string& actor, std::string_view method, std::string_view params_json) {
    pushes.clear();
    const MethodInfo* info = find_method(method);
    if (info == nullptr) return Outcome::error(Code::bad_request, "unknown method");
    json::error_code ec;
    json::value v = json::parse(params_json, ec);
    if (ec || !v.is_object()) return Outcome::error(Code::bad_request, "params: not an object");
    std::string request_id;
    if (const json::value* r = v.as_object().if_contains("request_id"); r && r->is_string()) {
      request_id = std::string(r->get_string());
    }
    Params params;
    codec::ParseError err;
    if (!info->parse(v.as_object(), params, err)) {
      return Outcome::error(Code::bad_request, err.text());
    }
    Outcome out = domain.apply(info->method, actor, request_id, params, now, pushes);
    // A text result (orders) is checked to be the object it stands for, then read as one.
    if (!out.result_text.empty()) {
      out.result = json::parse(out.result_text).as_object();
      EXPECT_EQ(json::serialize(out.result), out.result_text) << "a text result is not canonical";
    }
    for (Push& p : pushes) {  // the same for pushes with text data
      if (p.data_text.empty()) continue;
      p.data = json::parse(p.data_text).as_object();
      EXPECT_EQ(json::serialize(p.data), p.data_text) << "a push's text data is not canonical";
    }
    if (out.ok() && info->method == Method::market_create) {
      markets_.push_back(std::string(out.result.at("market_id").as_string()));
    }
    if (check_ledger_each_call) {
      const auto problem = ledger_problem();
      EXPECT_FALSE(problem.has_value()) << method << ": " << problem.value_or("");
      // What a snapshot relies on: every resting order's last view is the book's.
      const auto unlike = domain.orders_unlike_book();
      EXPECT_FALSE(unlike.has_value()) << method << ": " << unlike.value_or("");
    }
    return out;
  }
  // The same at a later time (moves `now`).
  Outcome call_at(std::int64_t at_ms, const std::string& actor, std::string_view method,
                  std::string_view params_json) {
    now = at_ms;
    return call(actor, method, params_json);
  }

  // time.advance as the admin: fires every timer due up to now + ms.
  Outcome advance(std::int64_t ms) {
    Outcome o = call("admin", "time.advance", "{\"ms\":" + std::to_string(ms) + "}");
    if (o.ok()) now = o.result.at("now").as_int64();
    return o;
  }

  // participant.create as the admin (credentials passed explicitly, as the engine fills them).
  std::string participant(const std::string& kind, const std::string& name,
                          const std::string& region = "chengdu") {
    const std::string key = "key-" + std::to_string(++keys_);
    json::object p{{"name", name},        {"kind", kind},   {"region", region},
                   {"whitelisted", true}, {"api_key", key}, {"api_secret", "secret-" + key}};
    Outcome o = call("admin", "participant.create", json::serialize(p));
    EXPECT_TRUE(o.ok()) << o.message;
    return o.ok() ? std::string(o.result.at("participant_id").as_string()) : std::string();
  }
  void fund(const std::string& participant_id, std::int64_t amount_fen) {
    json::object p{{"participant_id", participant_id}, {"amount", amount_fen}};
    Outcome o = call("admin", "account.fund", json::serialize(p));
    EXPECT_TRUE(o.ok()) << o.message;
  }

  // account.get as the participant itself (a read: no pushes kept, no timers fired).
  json::object account(const std::string& participant_id) {
    std::vector<Push> ignored;
    AccountGet g;
    Outcome o = domain.apply(Method::account_get, participant_id, {}, Params{g}, now, ignored);
    EXPECT_TRUE(o.ok()) << o.message;
    return o.result;
  }
  std::int64_t cash_available(const std::string& id) {
    return account(id).at("cash_available").as_int64();
  }
  std::int64_t cash_held(const std::string& id) { return account(id).at("cash_held").as_int64(); }
  struct Position {
    std::int64_t units = 0, units_held = 0;
    bool operator==(const Position&) const = default;
  };
  // A position by market_id or asset_id (zero when absent: a zero position may be omitted).
  Position position(const std::string& id, const std::string& market_or_asset) {
    json::object a = account(id);
    for (const auto& v : a.at("positions").as_array()) {
      const json::object& p = v.as_object();
      const json::value* m = p.if_contains("market_id");
      if (m == nullptr) m = p.if_contains("asset_id");
      if (m != nullptr && m->as_string() == market_or_asset) {
        return {p.at("units").as_int64(), p.at("units_held").as_int64()};
      }
    }
    return {};
  }

  // The ledger's own invariants, and every ledger's accounts summing to zero (posted and
  // pending). nullopt when all hold.
  std::optional<std::string> ledger_problem() {
    if (auto e = domain.ledger().check_invariants(); e) return e;
    std::map<std::uint32_t, std::pair<std::int64_t, std::int64_t>> sums;  // posted, pending
    for (const auto& a : domain.ledger().accounts()) {
      auto& s = sums[a.ledger];
      s.first += a.credits_posted - a.debits_posted;
      s.second += a.credits_pending - a.debits_pending;
    }
    for (const auto& [ledger, s] : sums) {
      if (s.first != 0 || s.second != 0) {
        return "ledger " + std::to_string(ledger) + " does not sum to zero: posted " +
               std::to_string(s.first) + ", pending " + std::to_string(s.second);
      }
    }
    return std::nullopt;
  }

  // See Observed. Reads as the admin (who may read every account and market).
  Observed observe() {
    Observed o;
    o.ledger_hash = domain.ledger().state_hash();
    o.next_due = domain.next_due();
    std::vector<Push> ignored;
    auto read = [&](Method m, Params p) {
      Outcome r = domain.apply(m, "admin", {}, p, now, ignored);
      o.reads += std::string(code_name(r.code)) + r.result_json() + "\n";
    };
    for (const auto& c : domain.credentials())
      read(Method::account_get, AccountGet{c.participant_id});
    for (const auto& m : markets_) read(Method::market_get, MarketRef{m});
    return o;
  }

  // Applies a call that must be refused with `expected`: no pushes, nothing observable changed.
  void expect_rejected(Code expected, const std::string& actor, std::string_view method,
                       std::string_view params_json) {
    const Observed before = observe();
    Outcome o = call(actor, method, params_json);
    EXPECT_EQ(o.code, expected) << method << " " << params_json << ": " << o.message;
    EXPECT_FALSE(o.message.empty()) << "an error names its reason";
    EXPECT_TRUE(pushes.empty()) << method << " " << params_json << " pushed " << pushes.size();
    EXPECT_TRUE(observe() == before) << method << " " << params_json << " changed the state";
  }

  // Pushes of the last call on one channel (and of one type, when given).
  std::vector<Push> on(const std::string& channel, std::string_view type = {}) const {
    std::vector<Push> out;
    for (const auto& p : pushes) {
      if (p.channel == channel && (type.empty() || p.type == type)) out.push_back(p);
    }
    return out;
  }

 private:
  int keys_ = 0;
  std::vector<std::string> markets_;
};

}  // namespace ipx::engine::test
