#pragma once
// Ledger account ids and codes, derived deterministically from the engine's own numbering
// (participant, auction, asset, market numbers), so replay recreates the same accounts.
// Layout: kind in bits 56..61, then one or two 28-bit numbers. Every id < 2^62.
#include <cstdint>

#include "matching/assert.hpp"

namespace ipx::engine::ids {

enum : std::uint16_t {
  code_external = 1,
  code_fees = 2,
  code_cash = 3,
  code_escrow = 4,
  code_title = 5,
  code_units = 6,
  code_order_escrow = 7,
  // transfer codes (why money moved)
  code_funding = 100,
  code_deposit = 101,
  code_payment = 102,
  code_proceeds = 103,
  code_fee = 104,
  code_claim = 105,
  code_risk_share = 106,
  code_forfeit = 107,
  code_order_hold = 108,
  code_trade = 109,
  code_issue = 110,
  code_refund = 111,
};

constexpr std::uint64_t kNumMax = (1ULL << 28) - 1;
constexpr std::uint64_t make(std::uint64_t kind, std::uint64_t a, std::uint64_t b = 0) {
  return (kind << 56) | (a << 28) | b;
}
constexpr std::uint64_t kExternalCny = make(1, 0, 1);
constexpr std::uint64_t kExternalTitles = make(1, 0, 2);
constexpr std::uint64_t kFeesCny = make(1, 0, 3);
constexpr std::uint64_t cash(std::uint64_t participant) { return make(2, participant); }
constexpr std::uint64_t escrow(std::uint64_t auction) { return make(3, auction); }
constexpr std::uint64_t title(std::uint64_t participant, std::uint64_t asset) {
  return make(4, participant, asset);
}
constexpr std::uint64_t units(std::uint64_t participant, std::uint64_t market) {
  return make(5, participant, market);
}
constexpr std::uint64_t external_units(std::uint64_t market) { return make(6, 0, market); }
constexpr std::uint64_t order_escrow_cash(std::uint64_t market) { return make(7, 0, market); }
constexpr std::uint64_t order_escrow_units(std::uint64_t market) { return make(8, 0, market); }

}  // namespace ipx::engine::ids
