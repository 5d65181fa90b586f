#pragma once
/// The one way to report a broken invariant — a bug in this program, never something a peer, a
/// user or the environment can cause (those are `Error` values). It prints where and what to
/// stderr and aborts, in every build type: carrying on with a broken invariant in a daemon that
/// guards other people's machines is worse than stopping.
///
/// (The caller's file and line come from __builtin_FILE/__builtin_LINE: clang 14 with libstdc++
/// 12 has no std::source_location.)
#include <cstdio>
#include <cstdlib>

namespace pc {

/// Reports a bug and stops the process.
[[noreturn]] inline void bug(const char* what, const char* file = __builtin_FILE(),
                             int line = __builtin_LINE()) {
  std::fprintf(stderr, "peercompute: bug: %s (%s:%d)\n", what, file, line);
  std::fflush(stderr);
  std::abort();
}

/// Checks an invariant: `invariant(n <= max, "n within max")`.
inline void invariant(bool holds, const char* what, const char* file = __builtin_FILE(),
                      int line = __builtin_LINE()) {
  if (!holds) bug(what, file, line);
}

}  // namespace pc
