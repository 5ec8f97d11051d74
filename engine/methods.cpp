#include "engine/methods.hpp"

#include "matching/assert.hpp"

namespace ipx::engine {

std::uint32_t roles_of_kind(std::string_view kind) {
  if (kind == "admin") return role_admin | role_operator;
  if (kind == "operator") return role_operator;
  if (kind == "bank") return role_bank;
  if (kind == "enterprise" || kind == "individual") return role_trader;
  if (kind == "backstop") return role_backstop;
  return 0;  // risk_fund: an account, may log in and read its own account
}

bool valid_kind(std::string_view kind) {
  return kind == "admin" || kind == "operator" || kind == "bank" || kind == "enterprise" ||
         kind == "individual" || kind == "backstop" || kind == "risk_fund";
}

namespace {

template <class P>
bool parse_as(const codec::json::object& o, Params& out, codec::ParseError& err) {
  P p{};
  if (!codec::parse(o, p, err)) return false;
  out = std::move(p);
  return true;
}

template <class P>
codec::json::object encode_as(const Params& p) {
  return codec::encode(std::get<P>(p));
}

template <class P>
void encode_text_as(const Params& p, std::string& out) {
  codec::encode_text(std::get<P>(p), out);
}

template <class P>
constexpr MethodInfo m(std::string_view name, Method method, std::uint32_t roles, bool mutating) {
  return {name, method, roles, mutating, &parse_as<P>, &encode_as<P>, &encode_text_as<P>};
}

constexpr std::uint32_t op = role_operator;
constexpr std::uint32_t adm = role_admin;
constexpr std::uint32_t bank = role_bank;
constexpr std::uint32_t trader = role_trader;
constexpr std::uint32_t backstop = role_backstop;

constexpr std::array kMethods = {
    m<NoParams>("time.now", Method::time_now, role_any, false),
    m<TimeAdvance>("time.advance", Method::time_advance, adm, true),
    m<ParticipantCreate>("participant.create", Method::participant_create, adm, true),
    m<AccountFund>("account.fund", Method::account_fund, adm, true),
    m<AccountGet>("account.get", Method::account_get, role_any, false),
    m<AssetRegister>("asset.register", Method::asset_register, op | trader, true),
    m<PledgeRegister>("pledge.register", Method::pledge_register, op | bank, true),
    m<AssetRef>("pledge.consent", Method::pledge_consent, bank, true),
    m<DisposalOpen>("disposal.open", Method::disposal_open, op | bank, true),
    m<CaseRef>("disposal.get", Method::disposal_get, op | bank, false),
    m<DisposalList>("disposal.list", Method::disposal_list, op | bank, false),
    m<AuctionCreate>("auction.create", Method::auction_create, op | trader, true),
    m<AuctionCancel>("auction.cancel", Method::auction_cancel, op, true),
    m<AuctionRef>("auction.register", Method::auction_register, trader | backstop, true),
    m<AuctionBid>("auction.bid", Method::auction_bid, trader | backstop, true),
    m<AuctionProxy>("auction.proxy", Method::auction_proxy, trader | backstop, true),
    m<AuctionRef>("auction.accept", Method::auction_accept, trader | backstop, true),
    m<AuctionGet>("auction.get", Method::auction_get, role_any, false),
    m<AuctionList>("auction.list", Method::auction_list, role_any, false),
    m<BackstopOffer>("backstop.offer", Method::backstop_offer, backstop, true),
    m<MarketCreate>("market.create", Method::market_create, op | trader, true),
    m<MarketRef>("market.get", Method::market_get, role_any, false),
    m<UnitsIssue>("units.issue", Method::units_issue, trader, true),
    m<OrderPlace>("order.place", Method::order_place, trader, true),
    m<OrderRef>("order.cancel", Method::order_cancel, trader, true),
    m<OrderReplace>("order.replace", Method::order_replace, trader, true),
    m<SettlementRef>("settlement.get", Method::settlement_get, role_any, false),
    m<SettlementRef>("settlement.pay", Method::settlement_pay, trader | backstop, true),
    m<SettlementConfirm>("settlement.confirm", Method::settlement_confirm, op, true),
    m<SettlementFail>("settlement.fail", Method::settlement_fail, op, true),
    m<ReportDisposals>("report.disposals", Method::report_disposals, op | bank, false),
    m<Tick>("tick", Method::tick, role_system, true),
    m<AssetRef>("asset.get", Method::asset_get, role_any, false),
};

}  // namespace

const MethodInfo* find_method(std::string_view name) {
  for (const auto& info : kMethods) {
    if (info.name == name && info.roles != role_system) return &info;
  }
  return nullptr;
}

const MethodInfo& method_info(Method method) {
  const auto i = static_cast<std::size_t>(method) - 1;
  IPX_ASSERT(i < kMethods.size() && kMethods[i].method == method);
  return kMethods[i];
}

}  // namespace ipx::engine
