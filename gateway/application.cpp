#include "gateway/application.hpp"

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

void Reply::operator()(boost::json::object body) const {
  IPX_ASSERT(state_ != nullptr);
  IPX_ASSERT(body.contains("result") != body.contains("error"));
  const bool already = state_->replied.exchange(true, std::memory_order_acq_rel);
  IPX_ASSERT(!already);  // exactly once
  state_->deliver(std::move(body));
}

}  // namespace ipx::gateway
