#pragma once
/// Asking providers for the status of deployments: what `status`, `status -w` and `top` share.
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

/// Asks each of `targets` for `id` (or all of ours); a provider that fails adds an error to
/// `report` and the others are still asked.
net::asio::awaitable<std::vector<PeerStatus>> collectStatus(Node& node,
                                                            const std::vector<std::string>& targets,
                                                            const std::string& id, Report& report);

/// "12s ago", "5m ago", … for a unix-ms time.
std::string ago(std::int64_t ms);

}  // namespace pc::cli
