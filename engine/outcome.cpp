#include "engine/outcome.hpp"

#include <array>

namespace ipx::engine {

namespace {
constexpr std::array<std::string_view, 20> kNames = {
    "OK",           "BAD_REQUEST",      "UNAUTHENTICATED", "FORBIDDEN",     "NOT_FOUND",
    "DUPLICATE",    "INSUFFICIENT_FUNDS", "NOT_QUALIFIED", "AUCTION_NOT_OPEN", "AUCTION_CLOSED",
    "BID_TOO_LOW",  "BAD_PRICE",        "ALREADY_LEADING", "WOULD_CROSS",   "SELF_TRADE",
    "INVALID_STATE", "RATE_LIMITED",    "TOO_LARGE",       "UNAVAILABLE",   "INTERNAL"};
}  // namespace

std::string_view code_name(Code c) {
  const auto i = static_cast<std::size_t>(c);
  return i < kNames.size() ? kNames[i] : "INTERNAL";
}

bool code_from_name(std::string_view name, Code& out) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) {
      out = static_cast<Code>(i);
      return true;
    }
  }
  return false;
}

json::object Outcome::result_object() const {
  return result_text.empty() ? result : json::parse(result_text).as_object();
}

std::string Outcome::result_json() const {
  return result_text.empty() ? json::serialize(result) : result_text;
}

json::object Outcome::to_reply() const {
  json::object reply;
  if (ok()) {
    reply["result"] = result_object();
  } else {
    reply["error"] = json::object{{"code", code_name(code)}, {"message", message}};
  }
  return reply;
}

}  // namespace ipx::engine
