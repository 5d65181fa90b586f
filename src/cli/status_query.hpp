#pragma once
/// Asking providers for the status of one's deployments, shared by `status`, `status -w` and
/// `top`; and the pure pieces of the two live views (status_query.cpp): the changes between two
/// answers, the `top` table.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "cli/client.hpp"
#include "cli/json_output.hpp"
#include "cli/printer.hpp"

namespace pc::cli {

/// The providers to ask: the one holding `id`, `peer`, or every provider deployed to from here
/// (empty when there is none).
Result<std::vector<std::string>> statusTargets(const Globals& g, const std::string& id,
                                               const std::string& peer);

/// Asks each of `targets` for `id` (or all of ours); a provider that fails adds an error to
/// `report` and the others are still asked. Cancel-safe (a cancelled request is dropped).
net::asio::awaitable<std::vector<PeerStatus>> collectStatus(Node& node,
                                                            const std::vector<std::string>& targets,
                                                            const std::string& id, Report& report);

/// How often `status -w` asks again.
inline constexpr std::chrono::seconds kWatchEvery{1};
/// How often `top` refreshes (the provider's stats are at most 5 s old).
inline constexpr std::chrono::seconds kTopEvery{2};

/// A deployment whose state differs between two answers (`from` empty: first seen).
struct StateChange {
  std::string deploymentId;
  std::string peerId;
  std::optional<protocol::DeploymentState> from;
  protocol::DeploymentState to = protocol::DeploymentState::kPending;
  std::optional<std::string> error;  ///< why it failed, when it did
};
/// Deployment id → its last known state.
using StateMap = std::map<std::string, protocol::DeploymentState>;
/// The changes from `before` to `now` (deployments gone from the answer are not changes: a
/// provider forgets nothing it ran); `before` is updated to `now`.
std::vector<StateChange> stateChanges(StateMap& before, const std::vector<PeerStatus>& now);
/// "17:40:01  dep-…  prov  running → stopped" (a `label` for the peer), or the JSON line
/// {"time","deployment_id","peer_id","from","to","error"} (no newline).
std::string changeText(const StateChange& c, const std::string& label, const std::string& time);
std::string changeJson(const StateChange& c, const std::string& time);

/// The `top` table: DEPLOYMENT, PEER, STATE, CPU % (of one core), MEM USAGE / LIMIT, MEM %;
/// running deployments first. `label` names a peer.
std::string topTable(const std::vector<PeerStatus>& rows,
                     const std::function<std::string(const std::string&)>& label);

/// `status -w`: the table once, then a line for each change of state, until interrupted.
Report runStatusWatch(const Globals& g, const std::string& id, const std::string& peer,
                      Printer& out);

}  // namespace pc::cli
