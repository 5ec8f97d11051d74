#pragma once
// Named integer types for money, time and quantities, so they cannot be swapped,
// and checked arithmetic: overflow is an error, never a wrap.
#include <compare>
#include <cstdint>
#include <optional>

namespace ipx {

template <class Tag>
struct Strong {
  std::int64_t v = 0;
  constexpr Strong() = default;
  constexpr explicit Strong(std::int64_t x) : v(x) {}
  constexpr auto operator<=>(const Strong&) const = default;
};

struct FenTag {};
struct MsTag {};
struct UnitsTag {};
using Fen = Strong<FenTag>;      // money: 1 CNY = 100 fen
using Ms = Strong<MsTag>;        // engine time: ms since the Unix epoch, UTC
using Units = Strong<UnitsTag>;  // licence units

// Checked arithmetic on raw int64: nullopt on overflow.
constexpr std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}
constexpr std::optional<std::int64_t> checked_sub(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) return std::nullopt;
  return r;
}
constexpr std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

template <class Tag>
constexpr std::optional<Strong<Tag>> checked_add(Strong<Tag> a, Strong<Tag> b) {
  auto r = checked_add(a.v, b.v);
  if (!r) return std::nullopt;
  return Strong<Tag>{*r};
}
template <class Tag>
constexpr std::optional<Strong<Tag>> checked_sub(Strong<Tag> a, Strong<Tag> b) {
  auto r = checked_sub(a.v, b.v);
  if (!r) return std::nullopt;
  return Strong<Tag>{*r};
}

// price (fen per unit) x quantity (units) -> fen, checked.
constexpr std::optional<Fen> notional(Fen price, Units qty) {
  auto r = checked_mul(price.v, qty.v);
  if (!r) return std::nullopt;
  return Fen{*r};
}

// floor(amount x bp / 10000) for amount >= 0, exact without forming amount x bp (which
// overflows int64 past ~9.2 x 10^14 fen at 10000 bp): with amount = q x 10000 + r, it is
// q x bp + floor(r x bp / 10000). nullopt only when the result itself does not fit.
constexpr std::optional<std::int64_t> bp_of_floor(std::int64_t amount, std::int64_t bp) {
  if (amount < 0 || bp < 0) return std::nullopt;
  auto whole = checked_mul(amount / 10'000, bp);
  auto part = checked_mul(amount % 10'000, bp);
  if (!whole || !part) return std::nullopt;
  auto sum = checked_add(*whole, *part / 10'000);
  if (!sum) return std::nullopt;
  return *sum;
}

// Amounts derived from percentages are rounded down to a whole yuan (PROTOCOL.md "Edges").
// bp = basis points (1/100 of a percent). Checked: nullopt on overflow.
constexpr std::optional<Fen> bp_of_floor_yuan(Fen amount, std::int64_t bp) {
  auto fen = bp_of_floor(amount.v, bp);
  if (!fen) return std::nullopt;
  return Fen{*fen - *fen % 100};
}

}  // namespace ipx
