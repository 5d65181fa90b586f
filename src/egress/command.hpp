#pragma once
/// Runs a program and collects what it printed: the firewall commands (iptables-save,
/// iptables-restore). Blocking; the firewall calls it on its own worker thread.
#include <chrono>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace pc::egress {

struct CommandResult {
  int exitCode = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// Output kept from one command; more is read and dropped (an iptables-save of a host with a
/// huge ruleset is still read to its end, and the parse sees the first 8 MiB).
inline constexpr std::size_t kMaxCommandOutput = 8U << 20;

/// Runs argv[0] (looked up in PATH) with `input` on its stdin. A program that cannot be started
/// or does not end within `timeout` (it is killed) is an error (kCommandFailed); a non-zero exit
/// is a result, for the caller to judge.
Result<CommandResult> runCommand(const std::vector<std::string>& argv, const std::string& input,
                                 std::chrono::milliseconds timeout);

}  // namespace pc::egress
