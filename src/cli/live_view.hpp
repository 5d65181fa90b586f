#pragma once
/// What `peerctl top` and `peerctl status -w` show, from successive status samples. Pure: no
/// I/O, no clock, so every figure is unit-tested.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/json_output.hpp"

namespace pc::cli {

/// One round of status answers and when it was taken (steady clock).
struct StatusSample {
  std::chrono::steady_clock::time_point at;
  std::vector<PeerStatus> rows;
};

/// The name shown for a provider (its trusted name, or a short id).
using PeerLabel = std::function<std::string(const std::string& peerId)>;

/// The `top` table over successive rounds: CPU (% of one core), memory use / limit and %,
/// network I/O since start (received / sent), and received and sent per second. A provider
/// samples a deployment every few seconds whatever the refresh interval and says when
/// (`stats_at`): a rate spans the last two *different* samples of a deployment, by their own
/// times, and a round that brings the same sample again shows the same rate ("-" until there
/// are two). From a provider that does not say when, each round counts as a new sample taken
/// when it arrived.
class TopView {
 public:
  /// Takes one round and renders the table of its running deployments.
  std::string update(const StatusSample& cur, const PeerLabel& label);

 private:
  struct Sample {
    protocol::DeploymentStatus status;
    std::chrono::steady_clock::time_point at;  ///< when the round that brought it arrived
  };
  struct Seen {
    Sample latest;
    std::optional<Sample> before;  ///< the sample before `latest`
  };
  std::map<std::string, Seen> seen_;  ///< by provider/deployment; only those in the last round
};

/// One change between two status samples, as `status -w` prints it.
struct StatusChange {
  std::string deploymentId;
  std::string peerId;
  std::string from;  ///< "" for a deployment that just appeared
  std::string to;    ///< "gone" for one no longer reported
  std::optional<std::int64_t> exitCode;
  std::optional<std::string> error;
};

/// What changed state (or appeared, or went) from `prev` to `cur`, in `cur`'s order, the gone
/// ones last.
std::vector<StatusChange> statusChanges(const std::vector<PeerStatus>& prev,
                                        const std::vector<PeerStatus>& cur);

/// "HH:MM:SS  dep-…  prov  running → stopped (exit 0): why" (local time given by the caller).
std::string changeLine(const std::string& clock, const StatusChange& c, const PeerLabel& label);
/// The same as one JSON object: time (unix ms), deployment_id, peer_id, from, to, exit_code,
/// error.
std::string changeJson(std::int64_t unixMs, const StatusChange& c);

}  // namespace pc::cli
