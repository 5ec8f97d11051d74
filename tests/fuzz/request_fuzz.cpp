// libFuzzer target over the request parser and validator (issue 5): bytes -> JSON
// (Boost.JSON) -> the envelope checks of gateway/server.cpp (a JSON object; `id` a string or
// a signed 64-bit integer; `method` a string; `params` an object or null) -> method lookup
// -> the strict params parse of the method table (engine/methods.hpp). Every params object
// is also parsed by every other method, so each codec sees every shape the fuzzer finds.
// Invariant on success: encode -> parse -> encode is identical (one codec, PROTOCOL.md's
// "exactly one codec to get right"), and a parse never throws.
//
// Built by tests/fuzz/run_fuzz.sh with clang++ -fsanitize=fuzzer,address,undefined.
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/methods.hpp"

namespace {

namespace json = boost::json;
using ipx::engine::MethodInfo;
using ipx::engine::Params;

// All method names of the table, so every codec is exercised on every params object.
constexpr std::string_view kMethodNames[] = {
    "time.now",          "time.advance",     "participant.create", "account.fund",
    "account.get",       "asset.register",   "pledge.register",    "pledge.consent",
    "disposal.open",     "disposal.get",     "disposal.list",      "auction.create",
    "auction.cancel",    "auction.register", "auction.bid",        "auction.proxy",
    "auction.accept",    "auction.get",      "auction.list",       "backstop.offer",
    "market.create",     "market.get",       "units.issue",        "order.place",
    "order.cancel",      "order.replace",    "settlement.get",     "settlement.pay",
    "settlement.confirm", "settlement.fail", "report.disposals", "asset.get",
};

[[noreturn]] void fail(const char* what, std::string_view method, const std::string& a,
                       const std::string& b) {
  std::fprintf(stderr, "request_fuzz: %s (method %.*s)\n  first:  %s\n  second: %s\n", what,
               static_cast<int>(method.size()), method.data(), a.c_str(), b.c_str());
  std::abort();
}

// Parse `params` strictly as `info`; on success check the encode -> parse -> encode round trip.
void check_method(const MethodInfo& info, const json::object& params) {
  Params parsed;
  ipx::engine::codec::ParseError err;
  if (!info.parse(params, parsed, err)) {
    // A rejection must name what is wrong (the gateway sends err.text() as the message).
    if (err.message.empty()) fail("parse failed without a message", info.name, "", "");
    return;
  }
  const json::object first = info.encode(parsed);
  Params again;
  ipx::engine::codec::ParseError err2;
  if (!info.parse(first, again, err2)) {
    fail("the encoding of a successful parse does not parse", info.name,
         json::serialize(first), err2.text());
  }
  const json::object second = info.encode(again);
  if (first != second) {
    fail("encode -> parse -> encode differs", info.name, json::serialize(first),
         json::serialize(second));
  }
  if (parsed.index() != again.index()) fail("params type changed", info.name, "", "");
}

// The envelope rules of gateway/server.cpp (PROTOCOL.md "Limits", "Edges and precedence").
const json::object* envelope_params(const json::object& frame, std::string_view& method) {
  static const json::object kEmpty;
  const json::value* id = frame.if_contains("id");
  if (id == nullptr || !(id->is_string() || id->is_int64())) return nullptr;  // id: null reply
  const json::value* m = frame.if_contains("method");
  if (m == nullptr || !m->is_string()) return nullptr;
  method = m->get_string();
  const json::value* p = frame.if_contains("params");
  if (p == nullptr || p->is_null()) return &kEmpty;
  if (!p->is_object()) return nullptr;
  // The gateway checks request_id before the codec (gateway/binding.cpp).
  if (const json::value* rid = p->get_object().if_contains("request_id")) {
    if (!rid->is_string() || rid->get_string().size() > 64) return nullptr;
  }
  return &p->get_object();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;  // the gateway closes larger frames (1009)
  json::error_code ec;
  json::parse_options opts;
  opts.max_depth = 64;
  json::value v =
      json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec, {}, opts);
  if (ec || !v.is_object()) return 0;  // BAD_REQUEST with id null
  std::string_view method;
  const json::object* params = envelope_params(v.get_object(), method);
  if (params == nullptr) return 0;
  const MethodInfo* info = ipx::engine::find_method(method);
  if (info != nullptr) {
    if (info->name != method) fail("find_method returned another method", method, "", "");
    check_method(*info, *params);
  }
  for (std::string_view name : kMethodNames) {
    const MethodInfo* other = ipx::engine::find_method(name);
    if (other == nullptr) fail("a method of the table is missing", name, "", "");
    check_method(*other, *params);
  }
  if (ipx::engine::find_method("tick") != nullptr) fail("internal method is public", "tick", "", "");
  return 0;
}
