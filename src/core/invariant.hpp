#pragma once
/// The one way to report a broken invariant — a bug in this program, never something a peer, a
/// user or the environment can cause (those are `Error` values). It prints where and what to
/// stderr and aborts, in every build type: carrying on with a broken invariant in a daemon that
/// guards other people's machines is worse than stopping.
#include <cstdio>
#include <cstdlib>
#include <source_location>

namespace pc {

/// Reports a bug and stops the process.
[[noreturn]] inline void bug(const char* what,
                             std::source_location where = std::source_location::current()) {
  std::fprintf(stderr, "peercompute: bug: %s (%s:%u in %s)\n", what, where.file_name(),
               static_cast<unsigned>(where.line()), where.function_name());
  std::fflush(stderr);
  std::abort();
}

/// Checks an invariant: `invariant(n <= max, "n within max")`.
inline void invariant(bool holds, const char* what,
                      std::source_location where = std::source_location::current()) {
  if (!holds) bug(what, where);
}

}  // namespace pc
