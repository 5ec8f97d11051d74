#pragma once
// Calendar arithmetic on engine time (ms since the Unix epoch, UTC), for what the rules count
// in months: a licence's term (DOMAIN rule 15) and the report's month groups. Civil dates from
// day numbers and back by Howard Hinnant's algorithms (proleptic Gregorian, any int64 day).
#include <cstdint>

namespace ipx::engine::calendar {

inline constexpr std::int64_t kDayMs = 86'400'000;

struct Date {
  std::int64_t y = 1970;
  int m = 1, d = 1;  // 1..12, 1..31
};

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

constexpr Date civil_from_days(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

constexpr std::int64_t days_from_civil(Date t) {
  const std::int64_t y = t.y - (t.m <= 2 ? 1 : 0);
  const std::int64_t era = floor_div(y, 400);
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = t.m > 2 ? t.m - 3 : t.m + 9;
  const std::int64_t doy = (153 * mp + 2) / 5 + t.d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

constexpr int days_in_month(std::int64_t y, int m) {
  constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

constexpr Date date_of(std::int64_t ms) { return civil_from_days(floor_div(ms, kDayMs)); }

// `months` calendar months after `ms`: the same time of day on the corresponding day of the
// month reached, or on that month's last day when it has no such day (Civil Code art. 202:
// a period in months ends on the corresponding day of its last month, else on the month's
// last day). 31 Jan + 1 month = 28 (29) Feb; 29 Feb + 12 months = 28 Feb.
constexpr std::int64_t add_months(std::int64_t ms, std::int64_t months) {
  const std::int64_t day = floor_div(ms, kDayMs);
  const std::int64_t time_of_day = ms - day * kDayMs;
  Date t = civil_from_days(day);
  const std::int64_t m0 = t.y * 12 + (t.m - 1) + months;
  t.y = floor_div(m0, 12);
  t.m = static_cast<int>(m0 - t.y * 12) + 1;
  const int last = days_in_month(t.y, t.m);
  if (t.d > last) t.d = last;
  return days_from_civil(t) * kDayMs + time_of_day;
}

static_assert(days_from_civil({1970, 1, 1}) == 0);
static_assert(days_from_civil({2000, 3, 1}) == 11017);
static_assert(civil_from_days(11016).m == 2 && civil_from_days(11016).d == 29);
static_assert(add_months(0, 1) == 31 * kDayMs);
static_assert(add_months(days_from_civil({2026, 1, 31}) * kDayMs, 1) ==
              days_from_civil({2026, 2, 28}) * kDayMs);
static_assert(add_months(days_from_civil({2024, 2, 29}) * kDayMs, 12) ==
              days_from_civil({2025, 2, 28}) * kDayMs);
static_assert(add_months(days_from_civil({2026, 1, 1}) * kDayMs, 24) ==
              days_from_civil({2028, 1, 1}) * kDayMs);

}  // namespace ipx::engine::calendar
