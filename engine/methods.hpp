#pragma once
// The method table: every protocol method's name, params type, roles, and whether it changes
// state (and so is journaled and remembers its request_id). One place, used by the gateway
// (parse + role check) and by the engine (dispatch + replay).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "engine/params.hpp"

namespace ipx::engine {

// Roles (PROTOCOL.md "Authentication"): a bit set.
enum Role : std::uint32_t {
  role_admin = 1u << 0,
  role_operator = 1u << 1,
  role_bank = 1u << 2,
  role_trader = 1u << 3,
  role_backstop = 1u << 4,
};
constexpr std::uint32_t role_any = 0;  // any logged-in participant (risk_fund included)
constexpr std::uint32_t role_system = 1u << 31;

std::uint32_t roles_of_kind(std::string_view kind);  // "admin" -> admin|operator, ...
bool valid_kind(std::string_view kind);

enum class Method : std::int32_t {
  time_now = 1,
  time_advance,
  participant_create,
  account_fund,
  account_get,
  asset_register,
  pledge_register,
  pledge_consent,
  disposal_open,
  disposal_get,
  disposal_list,
  auction_create,
  auction_cancel,
  auction_register,
  auction_bid,
  auction_proxy,
  auction_accept,
  auction_get,
  auction_list,
  backstop_offer,
  market_create,
  market_get,
  units_issue,
  order_place,
  order_cancel,
  order_replace,
  settlement_get,
  settlement_pay,
  settlement_confirm,
  settlement_fail,
  report_disposals,
  tick,  // internal timer tick
  // Added after tick, so the journaled kinds above keep their numbers (reads only below).
  asset_get,
};

using Params =
    std::variant<NoParams, TimeAdvance, ParticipantCreate, AccountFund, AccountGet, AssetRegister,
                 PledgeRegister, AssetRef, DisposalOpen, CaseRef, DisposalList, AuctionCreate,
                 AuctionCancel, AuctionRef, AuctionGet, AuctionBid, AuctionProxy, AuctionList, BackstopOffer,
                 MarketCreate, MarketRef, UnitsIssue, OrderPlace, OrderRef, OrderReplace,
                 SettlementRef, SettlementConfirm, SettlementFail, ReportDisposals, Tick>;

struct MethodInfo {
  std::string_view name;
  Method method;
  std::uint32_t roles;  // role_any: every logged-in participant
  bool mutating;        // journaled; remembers request_id
  bool (*parse)(const codec::json::object&, Params&, codec::ParseError&);
  codec::json::object (*encode)(const Params&);
  // Appends json::serialize(encode(p)) without the object (codec::encode_text).
  void (*encode_text)(const Params&, std::string&);
};

// nullptr when the method does not exist (or is internal).
const MethodInfo* find_method(std::string_view name);
const MethodInfo& method_info(Method m);

}  // namespace ipx::engine
