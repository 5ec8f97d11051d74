#include "matching/errc.hpp"

#include <string>

namespace ipx::matching {

std::string_view protocol_code(errc e) noexcept {
  switch (e) {
    case errc::ok: return "OK";
    case errc::bad_request: return "BAD_REQUEST";
    case errc::bad_price: return "BAD_PRICE";
    case errc::not_found: return "NOT_FOUND";
    case errc::duplicate: return "DUPLICATE";
    case errc::would_cross: return "WOULD_CROSS";
    case errc::self_trade: return "SELF_TRADE";
    case errc::bid_too_low: return "BID_TOO_LOW";
    case errc::already_leading: return "ALREADY_LEADING";
    case errc::auction_not_open: return "AUCTION_NOT_OPEN";
    case errc::auction_closed: return "AUCTION_CLOSED";
    case errc::not_qualified: return "NOT_QUALIFIED";
    case errc::invalid_state: return "INVALID_STATE";
    case errc::capacity: return "UNAVAILABLE";
    case errc::insufficient_funds: return "INSUFFICIENT_FUNDS";
  }
  return "INTERNAL";
}

namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ipx.matching"; }
  std::string message(int ev) const override {
    return std::string(protocol_code(static_cast<errc>(ev)));
  }
};
}  // namespace

const std::error_category& matching_category() noexcept {
  static const category c;
  return c;
}

}  // namespace ipx::matching
