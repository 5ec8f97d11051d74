#include "settlement/errc.hpp"

#include <string>

namespace ipx::ledger {

std::string_view name(errc e) noexcept {
  switch (e) {
    case errc::ok:
      return "ok";
    case errc::id_invalid:
      return "id_invalid";
    case errc::id_exists_with_different_fields:
      return "id_exists_with_different_fields";
    case errc::account_id_invalid:
      return "account_id_invalid";
    case errc::account_exists_with_different_fields:
      return "account_exists_with_different_fields";
    case errc::account_balances_not_zero:
      return "account_balances_not_zero";
    case errc::account_flags_invalid:
      return "account_flags_invalid";
    case errc::account_not_found:
      return "account_not_found";
    case errc::accounts_same:
      return "accounts_same";
    case errc::ledger_invalid:
      return "ledger_invalid";
    case errc::ledger_mismatch:
      return "ledger_mismatch";
    case errc::amount_not_positive:
      return "amount_not_positive";
    case errc::flags_invalid:
      return "flags_invalid";
    case errc::pending_id_must_be_zero:
      return "pending_id_must_be_zero";
    case errc::pending_id_invalid:
      return "pending_id_invalid";
    case errc::pending_not_found:
      return "pending_not_found";
    case errc::pending_not_pending:
      return "pending_not_pending";
    case errc::pending_already_resolved:
      return "pending_already_resolved";
    case errc::pending_expired:
      return "pending_expired";
    case errc::pending_fields_mismatch:
      return "pending_fields_mismatch";
    case errc::exceeds_pending_amount:
      return "exceeds_pending_amount";
    case errc::expiry_invalid:
      return "expiry_invalid";
    case errc::exceeds_credits:
      return "exceeds_credits";
    case errc::exceeds_debits:
      return "exceeds_debits";
    case errc::overflow:
      return "overflow";
    case errc::linked_chain_open:
      return "linked_chain_open";
    case errc::capacity:
      return "capacity";
  }
  return "unknown";
}

std::string_view protocol_code(errc e) noexcept {
  switch (e) {
    case errc::ok:
      return "OK";
    case errc::exceeds_credits:
    case errc::exceeds_debits:
      return "INSUFFICIENT_FUNDS";
    case errc::capacity:
      return "UNAVAILABLE";
    default:
      return "INTERNAL";
  }
}

namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ipx.ledger"; }
  std::string message(int ev) const override {
    return std::string(ipx::ledger::name(static_cast<errc>(ev)));
  }
};
}  // namespace

const std::error_category& ledger_category() noexcept {
  static const category c;
  return c;
}

}  // namespace ipx::ledger
