#pragma once
// What a command produces: a result or a stable protocol error, plus channel pushes.
#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipx::engine {

namespace json = boost::json;

// The protocol's stable error codes (PROTOCOL.md "Error codes"); the engine speaks them
// directly, and code_name() is the one place that spells them.
enum class Code : std::int32_t {
  ok = 0,
  bad_request,
  unauthenticated,
  forbidden,
  not_found,
  duplicate,
  insufficient_funds,
  not_qualified,
  auction_not_open,
  auction_closed,
  bid_too_low,
  bad_price,
  already_leading,
  would_cross,
  self_trade,
  invalid_state,
  rate_limited,
  too_large,
  unavailable,
  internal,
};

std::string_view code_name(Code c);
bool code_from_name(std::string_view name, Code& out);

struct Outcome {
  Code code = Code::ok;
  std::string message;  // for errors
  json::object result;  // for success
  // For success, instead of `result` on the hot paths (orders): the result's JSON text,
  // exactly json::serialize of the object it stands for (so the state hash and the remembered
  // reply are the same either way), written without building the object.
  std::string result_text;

  bool ok() const { return code == Code::ok; }
  static Outcome error(Code c, std::string msg) { return {c, std::move(msg), {}, {}}; }
  static Outcome success(json::object r) { return {Code::ok, {}, std::move(r), {}}; }
  static Outcome success_text(std::string text) { return {Code::ok, {}, {}, std::move(text)}; }
  // The result as an object, whichever form it has.
  json::object result_object() const;
  // The result's JSON text, whichever form it has.
  std::string result_json() const;
  // The reply object the gateway sends: {"result": ...} or {"error": {"code","message"}}.
  json::object to_reply() const;
};

// A push on a channel, published after the batch holding it commits.
struct Push {
  Push() = default;
  Push(std::string channel_, std::string type_, std::int64_t ts_, json::object data_,
       json::value snapshot_ = nullptr)
      : channel(std::move(channel_)),
        type(std::move(type_)),
        ts(ts_),
        data(std::move(data_)),
        snapshot(std::move(snapshot_)) {}

  std::string channel;
  std::string type;
  std::int64_t ts = 0;
  json::object data;
  // Instead of `data` on the hot paths (a private "order" push): its JSON text, the bytes
  // json::serialize(data) would give.
  std::string data_text;
  // The channel's whole state after this command (what a new subscriber's snapshot shows);
  // null for channels without one (trades).
  json::value snapshot;
};

}  // namespace ipx::engine
