// settlement/codes.hpp: engine-derived ids are valid ledger ids and never collide.
#include "settlement/codes.hpp"

#include <gtest/gtest.h>

namespace ipx::ledger {
namespace {

TEST(LedgerCodes, LedgerDerivedIdsAreValidAndDistinct) {
  Ledger l(Limits{8, 8});
  const auto cash = account_id(AccountKind::cash, 42);
  const auto ext = account_id(AccountKind::external, 0);
  EXPECT_NE(cash, account_id(AccountKind::escrow, 42));
  EXPECT_NE(ext, 0u);
  ASSERT_EQ(l.create_account({.id = ext,
                              .ledger = kLedgerCny,
                              .code = static_cast<std::uint16_t>(AccountKind::external)}),
            errc::ok);
  ASSERT_EQ(l.create_account({.id = cash,
                              .owner = 42,
                              .ledger = kLedgerCny,
                              .code = static_cast<std::uint16_t>(AccountKind::cash),
                              .flags = account_flags::debits_must_not_exceed_credits}),
            errc::ok);
  const Transfer t{.id = transfer_id(7, 0),
                   .debit_account_id = ext,
                   .credit_account_id = cash,
                   .amount = 100,
                   .code = code(Code::fund),
                   .ledger = kLedgerCny};
  EXPECT_TRUE(l.submit(std::span(&t, 1), Ms{1}).ok());
  EXPECT_EQ(l.submit(std::span(&t, 1), Ms{2}).existed, 1u);  // the replayed command
  EXPECT_NE(transfer_id(7, 1), transfer_id(8, 0));
  EXPECT_EQ(transfer_id(kEntityMax, 63), kIdMax);
}

}  // namespace
}  // namespace ipx::ledger
