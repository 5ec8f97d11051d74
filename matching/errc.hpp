#pragma once
// Reasons a matching mechanism rejects an input. Each maps 1:1 to a PROTOCOL.md error code
// (mapped to the wire string in one place, at the gateway). A reject leaves state unchanged.
#include <string_view>
#include <system_error>

namespace ipx::matching {

enum class errc {
  ok = 0,
  bad_request,       // shape: qty not a positive multiple of the lot, price <= 0, bad tif combo
  bad_price,         // not on the tick or increment grid
  not_found,         // no such order
  duplicate,         // order id already used
  would_cross,       // post-only order would take liquidity
  self_trade,        // stp=reject and the order would reach its owner's order
  bid_too_low,       // below the minimum acceptable bid
  already_leading,   // the leader raising its own bid
  auction_not_open,  // before opens_at, or not started
  auction_closed,    // at or after closes_at, or finished
  not_qualified,     // bidder not registered / not allowed
  invalid_state,     // operation not allowed in the current state
  capacity,          // a fixed bound (pool, level count) is reached
  insufficient_funds,  // the engine's funds check refused (order book: buys)
};

const std::error_category& matching_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), matching_category()};
}
// The stable protocol code, e.g. "BID_TOO_LOW".
std::string_view protocol_code(errc e) noexcept;

}  // namespace ipx::matching

template <>
struct std::is_error_code_enum<ipx::matching::errc> : std::true_type {};
