#include "gateway/application.hpp"

#include <boost/json/serializer.hpp>

#include "engine/codec.hpp"
#include "gateway/reply_state.hpp"
#include "matching/assert.hpp"

namespace ipx::gateway {

Roles roles_for_kind(std::string_view kind) noexcept {
  Roles r;
  auto set = [&r](Role role) { r.set(static_cast<std::size_t>(role)); };
  if (kind == "admin") {
    set(Role::admin);
    set(Role::operator_);
  } else if (kind == "operator") {
    set(Role::operator_);
  } else if (kind == "bank") {
    set(Role::bank);
  } else if (kind == "enterprise" || kind == "individual") {
    set(Role::trader);
  } else if (kind == "backstop") {
    set(Role::backstop);
  }
  return r;  // risk_fund and unknown kinds: no role
}

std::string_view role_name(Role role) noexcept {
  switch (role) {
    case Role::admin: return "admin";
    case Role::operator_: return "operator";
    case Role::bank: return "bank";
    case Role::trader: return "trader";
    case Role::backstop: return "backstop";
  }
  return "none";
}

std::vector<std::string> role_names(Roles roles) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < role_count; ++i) {
    if (roles.test(i)) out.emplace_back(role_name(static_cast<Role>(i)));
  }
  return out;
}

boost::json::object make_result(boost::json::value result) {
  boost::json::object o;
  o["result"] = std::move(result);
  return o;
}

boost::json::object make_error(std::string_view code, std::string_view message) {
  boost::json::object e;
  e["code"] = code;
  e["message"] = message;
  boost::json::object o;
  o["error"] = std::move(e);
  return o;
}

namespace {

// One serializer per thread, its state reused; the text goes straight into out.
template <class T>
void append_serialized(std::string& out, const T* v) {
  thread_local boost::json::serializer sr;
  sr.reset(v);
  constexpr std::size_t chunk = 1024;
  while (!sr.done()) {
    const std::size_t at = out.size();
    out.resize(at + chunk);
    const std::string_view written = sr.read(out.data() + at, chunk);
    out.resize(at + written.size());
  }
}

}  // namespace

void append_json(std::string& out, const boost::json::value& v) {
  append_serialized(out, &v);
}
void append_json(std::string& out, const boost::json::object& o) {
  append_serialized(out, &o);
}

void append_json_string(std::string& out, std::string_view s) {
  engine::codec::append_string(out, s);
}

void Reply::operator()(boost::json::object body) const {
  IPX_ASSERT(body.contains("result") != body.contains("error"));
  std::string text;
  append_json(text, body);
  serialized(std::move(text));
}

void Reply::serialized(std::string body_json) const {
  IPX_ASSERT(state_ != nullptr);
  IPX_ASSERT(body_json.starts_with("{\"result\":") || body_json.starts_with("{\"error\":"));
  IPX_ASSERT(body_json.back() == '}');
  const bool already = state_->replied.exchange(true, std::memory_order_acq_rel);
  IPX_ASSERT(!already);  // exactly once
  state_->deliver(std::move(body_json));
}

}  // namespace ipx::gateway
