#pragma once
// Reasons the ledger refuses an input. A refused submit leaves the ledger unchanged.
// Only exceeds_credits / exceeds_debits are user errors (INSUFFICIENT_FUNDS); capacity is
// UNAVAILABLE; every other code means the engine built a bad transfer (INTERNAL).
#include <string_view>
#include <system_error>

namespace ipx::ledger {

enum class errc {
  ok = 0,
  id_invalid,                            // 0, or the reserved expiry bit (kExpiryIdBit) set
  id_exists_with_different_fields,       // same transfer id, different contents
  account_id_invalid,                    // 0, or >= 2^63
  account_exists_with_different_fields,  // create_account with a used id, other fields
  account_balances_not_zero,             // create_account must start from zero
  account_flags_invalid,                 // unknown bits, or both balance flags
  account_not_found,
  accounts_same,            // debit account == credit account
  ledger_invalid,           // ledger 0
  ledger_mismatch,          // accounts on different ledgers, or != transfer.ledger
  amount_not_positive,      // amount <= 0 (void: neither 0 nor the pending amount)
  flags_invalid,            // unknown bits, or more than one of pending/post/void
  pending_id_must_be_zero,  // pending_id on a transfer that is not post/void
  pending_id_invalid,       // post/void without pending_id, or pending_id == id
  pending_not_found,
  pending_not_pending,       // pending_id names a transfer that is not pending
  pending_already_resolved,  // already posted, voided or expired (at most once)
  pending_expired,           // its expires_at_ms <= now; expire() will void it
  pending_fields_mismatch,   // post/void names other accounts/ledger than the pending
  exceeds_pending_amount,    // post amount > pending amount
  expiry_invalid,            // expires_at_ms on a non-pending, or <= now
  exceeds_credits,           // debits_must_not_exceed_credits would break
  exceeds_debits,            // credits_must_not_exceed_debits would break
  overflow,                  // an int64 balance would overflow
  linked_chain_open,         // the last transfer of a submit carries `linked`
  capacity,                  // accounts_max or transfers_max reached
};

const std::error_category& ledger_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), ledger_category()};
}
// The code's own name, e.g. "exceeds_credits".
std::string_view name(errc e) noexcept;
// The stable protocol code: INSUFFICIENT_FUNDS, UNAVAILABLE or INTERNAL.
std::string_view protocol_code(errc e) noexcept;

}  // namespace ipx::ledger

template <>
struct std::is_error_code_enum<ipx::ledger::errc> : std::true_type {};
