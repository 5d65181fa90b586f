#pragma once
/// Asking providers for the status of deployments: what `status`, `status -w` and `top` share.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "cli/json_output.hpp"
#include "cli/node.hpp"
#include "cli/printer.hpp"
#include "core/error.hpp"

namespace pc::cli {

/// The providers to ask: the one holding `id` (by `peer`, else the deployment book), `peer`
/// alone, or every provider deployed to from here (empty when there is none).
Result<std::vector<std::string>> statusTargets(const Globals& g, const std::string& id,
                                               const std::string& peer);

/// How long a provider has to answer a status request once asked (a silently dead connection
/// or a request never answered is an error, not a wait as long as the keep-alive).
inline constexpr std::chrono::milliseconds kStatusAnswerWithin{15'000};

/// One provider's answer: its rows, or why there are none.
struct TargetStatus {
  std::string target;  ///< as the caller named it
  std::optional<Error> error;
  std::vector<PeerStatus> rows;
};

/// Asks each of `targets` for `id` (or all of ours), each within kStatusAnswerWithin; one entry
/// a target, in order.
net::asio::awaitable<std::vector<TargetStatus>> askEachTarget(
    Node& node, const std::vector<std::string>& targets, const std::string& id);

/// The same, flattened: a provider that fails adds an error to `report` and the others are still
/// asked.
net::asio::awaitable<std::vector<PeerStatus>> collectStatus(Node& node,
                                                            const std::vector<std::string>& targets,
                                                            const std::string& id, Report& report);

/// "12s ago", "5m ago", … for a unix-ms time.
std::string ago(std::int64_t ms);

}  // namespace pc::cli
