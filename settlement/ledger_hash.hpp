#pragma once
// The ledger's running state hash (see Ledger::state_hash): a 64-bit multiply-xorshift mix
// over fixed-width words of each record. Shared by ledger.cpp and ledger_state.cpp.
#include <bit>
#include <cstdint>

#include "settlement/ledger.hpp"

namespace ipx::ledger::detail {

constexpr std::uint64_t mix(std::uint64_t h, std::uint64_t w) {
  h ^= w * 0x9E37'79B9'7F4A'7C15ull;
  h = std::rotl(h, 29) * 0xBF58'476D'1CE4'E5B9ull;
  return h ^ (h >> 32);
}

constexpr std::uint64_t hash_account(std::uint64_t h, const Account& a) {
  h = mix(h, a.id);
  h = mix(h, a.owner);
  return mix(h, (std::uint64_t{a.ledger} << 32) | (std::uint64_t{a.code} << 16) | a.flags);
}

constexpr std::uint64_t hash_transfer(std::uint64_t h, const Transfer& t) {
  h = mix(h, t.id);
  h = mix(h, t.debit_account_id);
  h = mix(h, t.credit_account_id);
  h = mix(h, static_cast<std::uint64_t>(t.amount));
  h = mix(h, t.pending_id);
  h = mix(h, t.code);
  h = mix(h, t.ref);
  h = mix(h, static_cast<std::uint64_t>(t.expires_at_ms));
  h = mix(h, static_cast<std::uint64_t>(t.ts_ms));
  return mix(h, (std::uint64_t{t.ledger} << 16) | t.flags);
}

}  // namespace ipx::ledger::detail
