#pragma once
// IPX_ASSERT: invariants checked in every build, release included (TigerBeetle style).
// A failed assertion is a bug in ipx, never a user error: it prints and aborts.
#include <cstdio>
#include <cstdlib>

namespace ipx::detail {
[[noreturn]] inline void assert_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "ipx: assertion failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}
}  // namespace ipx::detail

#define IPX_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::ipx::detail::assert_failed(#expr, __FILE__, __LINE__))
