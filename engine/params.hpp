#pragma once
// Typed params of every protocol method (PROTOCOL.md "Methods"), with their field tables.
// The gateway parses a request's params into one of these once; the engine applies it; the
// journal stores its canonical encoding.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/codec.hpp"

namespace ipx::engine {

using codec::opt;
using codec::req;
using I64 = std::int64_t;
using OptI64 = std::optional<std::int64_t>;
using OptStr = std::optional<std::string>;
using Strings = std::vector<std::string>;
constexpr auto pos = codec::positive;
constexpr auto nonneg = codec::non_negative;
constexpr auto bp = codec::basis_points;
constexpr auto idstr = codec::id_string;
constexpr auto opt_pos = codec::maybe<I64, codec::positive>;
constexpr auto opt_nonneg = codec::maybe<I64, codec::non_negative>;
constexpr auto opt_bp = codec::maybe<I64, codec::basis_points>;
constexpr auto opt_id = codec::maybe<std::string, codec::id_string>;
constexpr auto money = codec::money;
constexpr auto money0 = codec::money_or_zero;
constexpr auto opt_money = codec::maybe<I64, codec::money>;
constexpr auto opt_money0 = codec::maybe<I64, codec::money_or_zero>;
constexpr auto dur = codec::duration;
constexpr auto opt_dur = codec::maybe<I64, codec::duration>;
constexpr auto opt_dur0 = codec::maybe<I64, codec::duration_or_zero>;
constexpr auto time_at = codec::time_ms;
constexpr auto time_at0 = codec::time_ms_or_zero;
constexpr auto opt_time_at = codec::maybe<I64, codec::time_ms>;
constexpr auto opt_time_at0 = codec::maybe<I64, codec::time_ms_or_zero>;

struct NoParams {
  static constexpr auto fields() { return std::tuple<>{}; }
};

struct TimeAdvance {
  I64 ms = 0;
  static constexpr auto fields() { return std::tuple{req("ms", &TimeAdvance::ms, pos)}; }
};

struct ParticipantCreate {
  std::string name, kind, region;
  bool whitelisted = false;
  // Optional: an admin may bring its own key and secret; otherwise the engine draws random
  // ones before the command is journaled (so replay gives the same credentials).
  OptStr api_key, api_secret;
  static constexpr auto fields() {
    return std::tuple{req("name", &ParticipantCreate::name, codec::non_empty_text),
                      req("kind", &ParticipantCreate::kind),
                      req("region", &ParticipantCreate::region, idstr),
                      req("whitelisted", &ParticipantCreate::whitelisted),
                      opt("api_key", &ParticipantCreate::api_key, opt_id),
                      opt("api_secret", &ParticipantCreate::api_secret, opt_id)};
  }
};

struct AccountFund {
  std::string participant_id;
  I64 amount = 0;
  static constexpr auto fields() {
    return std::tuple{req("participant_id", &AccountFund::participant_id, idstr),
                      req("amount", &AccountFund::amount, pos)};
  }
};

struct AccountGet {
  OptStr participant_id;
  static constexpr auto fields() {
    return std::tuple{opt("participant_id", &AccountGet::participant_id, opt_id)};
  }
};

struct AssetRegister {
  std::string asset_id, kind, title, owner, region, industry;
  I64 valuation = 0;
  I64 expires_at = 0;
  Strings co_owners;
  OptStr legal_status;
  OptI64 valuation_date;
  std::optional<bool> open_licence;
  static constexpr auto fields() {
    return std::tuple{req("asset_id", &AssetRegister::asset_id, idstr),
                      req("kind", &AssetRegister::kind),
                      req("title", &AssetRegister::title, codec::non_empty_text),
                      req("owner", &AssetRegister::owner, idstr),
                      req("region", &AssetRegister::region, idstr),
                      req("industry", &AssetRegister::industry),
                      req("valuation", &AssetRegister::valuation, money),
                      req("expires_at", &AssetRegister::expires_at, time_at),
                      opt("co_owners", &AssetRegister::co_owners),
                      opt("legal_status", &AssetRegister::legal_status),
                      opt("valuation_date", &AssetRegister::valuation_date, opt_time_at0),
                      opt("open_licence", &AssetRegister::open_licence)};
  }
};

struct PledgeRegister {
  std::string asset_id, pledgee, registration_no;
  I64 loan_outstanding = 0;
  OptI64 interest, penalties, costs;
  OptStr pledgor;
  static constexpr auto fields() {
    return std::tuple{req("asset_id", &PledgeRegister::asset_id, idstr),
                      req("pledgee", &PledgeRegister::pledgee, idstr),
                      req("loan_outstanding", &PledgeRegister::loan_outstanding, money),
                      req("registration_no", &PledgeRegister::registration_no, idstr),
                      opt("interest", &PledgeRegister::interest, opt_money0),
                      opt("penalties", &PledgeRegister::penalties, opt_money0),
                      opt("costs", &PledgeRegister::costs, opt_money0),
                      opt("pledgor", &PledgeRegister::pledgor, opt_id)};
  }
};

struct AssetRef {
  std::string asset_id;
  static constexpr auto fields() { return std::tuple{req("asset_id", &AssetRef::asset_id, idstr)}; }
};

struct RiskFund {
  std::string participant_id;
  I64 share_bp = 0;
  static constexpr auto fields() {
    return std::tuple{req("participant_id", &RiskFund::participant_id, idstr),
                      req("share_bp", &RiskFund::share_bp, bp)};
  }
};

struct DisposalPlan {
  OptStr regime;  // online | traditional
  OptI64 start_bp, deposit_bp, cut_bp, notice_ms, renotice_ms, bidding_ms, sell_off_ms,
      payment_ms, extend_window_ms, extend_by_ms, min_bidders, buyer_premium_bp;
  OptStr after_sell_off;  // in_lieu | release
  std::optional<RiskFund> risk_fund;
  static constexpr auto fields() {
    using P = DisposalPlan;
    return std::tuple{opt("regime", &P::regime),
                      opt("start_bp", &P::start_bp, opt_bp),
                      opt("deposit_bp", &P::deposit_bp, opt_bp),
                      opt("cut_bp", &P::cut_bp, opt_bp),
                      opt("notice_ms", &P::notice_ms, opt_dur0),
                      opt("renotice_ms", &P::renotice_ms, opt_dur0),
                      opt("bidding_ms", &P::bidding_ms, opt_dur),
                      opt("sell_off_ms", &P::sell_off_ms, opt_dur),
                      opt("payment_ms", &P::payment_ms, opt_dur),
                      opt("extend_window_ms", &P::extend_window_ms, opt_dur0),
                      opt("extend_by_ms", &P::extend_by_ms, opt_dur0),
                      opt("after_sell_off", &P::after_sell_off),
                      opt("risk_fund", &P::risk_fund),
                      opt("min_bidders", &P::min_bidders),
                      opt("buyer_premium_bp", &P::buyer_premium_bp, opt_bp)};
  }
};

struct DisposalOpen {
  Strings assets;
  std::string pledgee, pledgor;
  I64 valuation = 0;
  std::optional<DisposalPlan> plan;
  static constexpr auto fields() {
    return std::tuple{req("assets", &DisposalOpen::assets),
                      req("pledgee", &DisposalOpen::pledgee, idstr),
                      req("pledgor", &DisposalOpen::pledgor, idstr),
                      req("valuation", &DisposalOpen::valuation, money),
                      opt("plan", &DisposalOpen::plan)};
  }
};

struct CaseRef {
  std::string case_id;
  static constexpr auto fields() { return std::tuple{req("case_id", &CaseRef::case_id, idstr)}; }
};

struct DisposalList {
  OptStr state;
  static constexpr auto fields() { return std::tuple{opt("state", &DisposalList::state)}; }
};

struct DutchParams {
  I64 decrement = 0, interval_ms = 0, floor = 0;
  static constexpr auto fields() {
    return std::tuple{req("decrement", &DutchParams::decrement, money),
                      req("interval_ms", &DutchParams::interval_ms, dur),
                      req("floor", &DutchParams::floor, money)};
  }
};

struct Licence {
  std::string kind = "non_exclusive";  // exclusive | sole | non_exclusive (DOMAIN rule 15's default)
  Strings territory;
  std::string field = "all";
  I64 term_months = 0;
  I64 royalty_bp = 0;
  static constexpr auto fields() {
    return std::tuple{opt("kind", &Licence::kind), req("territory", &Licence::territory),
                      opt("field", &Licence::field, codec::non_empty_text),
                      req("term_months", &Licence::term_months, pos),
                      opt("royalty_bp", &Licence::royalty_bp, bp)};
  }
};

struct PriorityHolder {
  std::string participant_id;
  I64 rank = 0;
  static constexpr auto fields() {
    return std::tuple{req("participant_id", &PriorityHolder::participant_id, idstr),
                      req("rank", &PriorityHolder::rank, pos)};
  }
};

struct AuctionCreate {
  Strings lot;
  std::string purpose, format;
  I64 start_price = 0, increment = 0, deposit = 0, opens_at = 0, closes_at = 0;
  OptI64 reserve, extend_window_ms, extend_by_ms;
  std::optional<bool> hidden_reserve;
  std::optional<DutchParams> dutch;
  std::optional<Licence> licence;
  std::vector<PriorityHolder> priority_holders;
  OptI64 buyer_premium_bp, seller_commission_bp, payment_ms;
  OptI64 min_bidders;  // rule 2 (extension): qualified bidders a sale needs (1 or more)
  static constexpr auto fields() {
    using A = AuctionCreate;
    return std::tuple{req("lot", &A::lot),
                      req("purpose", &A::purpose),
                      req("format", &A::format),
                      req("start_price", &A::start_price, money),
                      req("increment", &A::increment, money),
                      req("deposit", &A::deposit, money0),
                      req("opens_at", &A::opens_at, time_at0),
                      req("closes_at", &A::closes_at, time_at),
                      opt("reserve", &A::reserve, opt_money),
                      opt("hidden_reserve", &A::hidden_reserve),
                      opt("extend_window_ms", &A::extend_window_ms, opt_dur0),
                      opt("extend_by_ms", &A::extend_by_ms, opt_dur0),
                      opt("dutch", &A::dutch),
                      opt("licence", &A::licence),
                      opt("priority_holders", &A::priority_holders),
                      opt("buyer_premium_bp", &A::buyer_premium_bp, opt_bp),
                      opt("seller_commission_bp", &A::seller_commission_bp, opt_bp),
                      opt("payment_ms", &A::payment_ms, opt_dur),
                      opt("min_bidders", &A::min_bidders)};
  }
};

struct AuctionRef {
  std::string auction_id;
  static constexpr auto fields() {
    return std::tuple{req("auction_id", &AuctionRef::auction_id, idstr)};
  }
};

// auction.get: `mine: true` adds the caller's own bidder code (my_bidder_code) when it is
// registered; without it the result is the same for every caller (the channel's snapshot).
struct AuctionGet {
  std::string auction_id;
  bool mine = false;
  static constexpr auto fields() {
    return std::tuple{req("auction_id", &AuctionGet::auction_id, idstr),
                      opt("mine", &AuctionGet::mine)};
  }
};

struct AuctionCancel {
  std::string auction_id, reason;
  static constexpr auto fields() {
    return std::tuple{req("auction_id", &AuctionCancel::auction_id, idstr),
                      req("reason", &AuctionCancel::reason, codec::non_empty_text)};
  }
};

struct AuctionBid {
  std::string auction_id;
  I64 amount = 0;
  static constexpr auto fields() {
    return std::tuple{req("auction_id", &AuctionBid::auction_id, idstr),
                      req("amount", &AuctionBid::amount, money)};
  }
};

struct AuctionProxy {
  std::string auction_id;
  I64 max_amount = 0;
  static constexpr auto fields() {
    return std::tuple{req("auction_id", &AuctionProxy::auction_id, idstr),
                      req("max_amount", &AuctionProxy::max_amount, money)};
  }
};

struct AuctionList {
  OptStr state;
  static constexpr auto fields() { return std::tuple{opt("state", &AuctionList::state)}; }
};

struct BackstopOffer {
  I64 price_bp = 0, max_amount = 0;
  Strings regions, industries;
  OptI64 expires_at;
  static constexpr auto fields() {
    return std::tuple{req("price_bp", &BackstopOffer::price_bp, pos),
                      req("max_amount", &BackstopOffer::max_amount, money),
                      opt("regions", &BackstopOffer::regions),
                      opt("industries", &BackstopOffer::industries),
                      opt("expires_at", &BackstopOffer::expires_at, opt_time_at)};
  }
};

struct MarketCreate {
  std::string market_id, asset_id;
  Licence licence;
  I64 tick = 0, min_qty = 0;
  OptI64 maker_fee_bp, taker_fee_bp;
  static constexpr auto fields() {
    return std::tuple{req("market_id", &MarketCreate::market_id, idstr),
                      req("asset_id", &MarketCreate::asset_id, idstr),
                      req("licence", &MarketCreate::licence),
                      req("tick", &MarketCreate::tick, pos),
                      req("min_qty", &MarketCreate::min_qty, pos),
                      opt("maker_fee_bp", &MarketCreate::maker_fee_bp, opt_bp),
                      opt("taker_fee_bp", &MarketCreate::taker_fee_bp, opt_bp)};
  }
};

struct MarketRef {
  std::string market_id;
  static constexpr auto fields() {
    return std::tuple{req("market_id", &MarketRef::market_id, idstr)};
  }
};

struct UnitsIssue {
  std::string market_id;
  I64 qty = 0;
  static constexpr auto fields() {
    return std::tuple{req("market_id", &UnitsIssue::market_id, idstr),
                      req("qty", &UnitsIssue::qty, pos)};
  }
};

struct OrderPlace {
  std::string market_id, side, type;
  OptI64 price;
  I64 qty = 0;
  std::string tif;
  OptI64 expire_at;
  std::optional<bool> post_only;
  OptStr stp;
  std::string client_order_id;
  static constexpr auto fields() {
    using O = OrderPlace;
    return std::tuple{req("market_id", &O::market_id, idstr), req("side", &O::side),
                      req("type", &O::type),
                      opt("price", &O::price, opt_money),
                      req("qty", &O::qty),
                      req("tif", &O::tif),
                      opt("expire_at", &O::expire_at, opt_time_at),
                      opt("post_only", &O::post_only),
                      opt("stp", &O::stp),
                      req("client_order_id", &O::client_order_id, idstr)};
  }
};

// order.cancel: `market_id, order_id` or `client_order_id` (PROTOCOL.md; a client_order_id
// names one of the caller's orders for all time, so it needs no market).
struct OrderRef {
  OptStr market_id;
  OptStr order_id, client_order_id;
  static constexpr auto fields() {
    return std::tuple{opt("market_id", &OrderRef::market_id, opt_id),
                      opt("order_id", &OrderRef::order_id, opt_id),
                      opt("client_order_id", &OrderRef::client_order_id, opt_id)};
  }
};

struct OrderReplace {
  std::string market_id, order_id;
  OptI64 price;
  OptI64 qty;
  static constexpr auto fields() {
    return std::tuple{req("market_id", &OrderReplace::market_id, idstr),
                      req("order_id", &OrderReplace::order_id, idstr),
                      opt("price", &OrderReplace::price, opt_money), opt("qty", &OrderReplace::qty)};
  }
};

struct SettlementRef {
  std::string settlement_id;
  static constexpr auto fields() {
    return std::tuple{req("settlement_id", &SettlementRef::settlement_id, idstr)};
  }
};

struct SettlementConfirm {
  std::string settlement_id, registration_no;
  static constexpr auto fields() {
    return std::tuple{req("settlement_id", &SettlementConfirm::settlement_id, idstr),
                      req("registration_no", &SettlementConfirm::registration_no, idstr)};
  }
};

struct SettlementFail {
  std::string settlement_id, reason;
  static constexpr auto fields() {
    return std::tuple{req("settlement_id", &SettlementFail::settlement_id, idstr),
                      req("reason", &SettlementFail::reason, codec::non_empty_text)};
  }
};

struct ReportDisposals {
  OptI64 from, to;
  OptStr region;
  OptStr bank;
  static constexpr auto fields() {
    return std::tuple{opt("from", &ReportDisposals::from, opt_nonneg),
                      opt("to", &ReportDisposals::to, opt_nonneg),
                      opt("region", &ReportDisposals::region, opt_id),
                      opt("bank", &ReportDisposals::bank, opt_id)};
  }
};

// Internal: a timer tick (fires every timer due up to `now`). Journaled like any command.
struct Tick {
  static constexpr auto fields() { return std::tuple<>{}; }
};

}  // namespace ipx::engine
