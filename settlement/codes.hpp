#pragma once
// How the engine names ledger accounts and transfers, so that replay, retries, the
// PostgreSQL record and reconciliation all agree. Pure constexpr helpers, no state.
//
// Account ids: (kind << 56) | entity, entity < 2^56 (a participant, auction, case, market
// number...). Kind 0 is unused, so no account id is 0; all ids stay below 2^63.
// Transfer ids: (journal seq << 6) | k, k < 64 the transfer's place among those its command
// makes (seq < 2^56, so ids stay below kIdMax = 2^62 - 1). A replayed or retried command
// has the same seq, so the same ids: the ledger answers `existed` and changes nothing.
#include <cstdint>

#include "settlement/ledger.hpp"

namespace ipx::ledger {

enum class AccountKind : std::uint16_t {
  external = 1,   // CNY: the world outside (account.fund debits it); no flags
  cash = 2,       // CNY: a participant's cash; debits_must_not_exceed_credits
  fees = 3,       // CNY: platform fee income
  escrow = 4,     // CNY: per auction/settlement escrow (entity = auction id)
  risk_fund = 5,  // CNY: risk-compensation fund (entity = the fund participant)
  backstop = 6,   // CNY: a backstop buyer's committed cash (entity = participant)
  units = 7,      // market ledger: a participant's licence units; debits_must_not_exceed_credits
  units_issuance = 8,  // market ledger: where a licensor's units.issue comes from; no flags
  title = 9,  // titles ledger: a holder's title to one asset (entity = holder); flag as units
  title_registry = 10  // titles ledger: the source of a newly registered title; no flags
};

constexpr std::uint64_t kEntityMax = (std::uint64_t{1} << 56) - 1;

constexpr std::uint64_t account_id(AccountKind kind, std::uint64_t entity) {
  return (std::uint64_t{static_cast<std::uint16_t>(kind)} << 56) | (entity & kEntityMax);
}

constexpr std::uint64_t transfer_id(std::uint64_t journal_seq, std::uint32_t k) {
  return (journal_seq << 6) | (k & 63u);
}

// Transfer.code: why money or units moved (grouping for the store and reports).
enum class Code : std::uint64_t {
  fund = 1,                // account.fund: external -> cash
  deposit_hold = 2,        // auction.register: cash -> escrow, pending (rule 3)
  deposit_forfeit = 3,     // winner default: post the deposit hold (rule 7)
  order_hold = 4,          // limit buy: cash -> market escrow, pending; a fill posts part
  trade_cash = 5,          // buyer -> seller cash
  trade_units = 6,         // seller -> buyer units
  fee = 7,                 // -> fees
  payment_escrow = 8,      // settlement.pay: cash -> escrow, pending until registration (rule 8)
  payout_pledgee = 9,      // waterfall: escrow -> pledgee (rules 13-14)
  payout_pledgor = 10,     // waterfall: surplus to the pledgor (rule 14)
  risk_share = 11,         // risk fund -> pledgee (rule 17)
  backstop_purchase = 12,  // backstop buyer pays (rule 11)
  units_issue = 13,        // issuance -> licensor units
  title_transfer = 14,     // title: seller -> buyer, pending until registration (rule 8)
};

constexpr std::uint64_t code(Code c) {
  return static_cast<std::uint64_t>(c);
}

static_assert(account_id(AccountKind::title_registry, kEntityMax) < (std::uint64_t{1} << 63));
static_assert(transfer_id(kEntityMax, 63) <= kIdMax);

}  // namespace ipx::ledger
