#pragma once
/// Admission: whether a deploy may start, decided before anything touches the engine (a refused
/// request costs the provider no pull, no disk and no container). Pure: no I/O, no clock, no
/// state of its own — the records it is given are the reservations that count.
///
/// Every refusal names the limit that was hit by its configuration key (max_cpu, max_memory,
/// max_deployments, max_per_peer, max_cpu_per_peer, max_memory_per_peer, max_cpu_per_deployment,
/// max_memory_per_deployment, allowed_registries) and the numbers involved.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocol/messages.hpp"
#include "provider/store.hpp"
#include "runtime/policy.hpp"

namespace pc::provider {

/// What a peer asks to deploy.
struct DeployParams {
  std::string requester;  ///< the authenticated peer (base58)
  std::string image;
  std::uint32_t cpuMillis = 0;
  std::uint64_t memoryBytes = 0;
  std::optional<std::uint16_t> exposePort;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> command;   ///< replaces the image's CMD when not empty
  std::chrono::seconds timeout{300};  ///< pull + start
  /// What the request asked the container may open (`--network none` narrows it to nothing);
  /// the provider's egress policy applies on top and a request can never widen it.
  egress::Mode network = egress::Mode::kInternet;
  /// When the image is pulled (the request's `pull`; the provider's `pull_policy = "always"`
  /// overrides it). The allowlist is checked first whatever it says.
  protocol::PullPolicy pull = protocol::PullPolicy::kMissing;
};

/// Resources the active records hold (pending through stopping: see Deployment::active): those
/// of every requester when `requester` is null, else only that requester's.
runtime::Usage usageOf(const std::map<std::string, Deployment>& records,
                       const std::string* requester);

/// Decides whether `p` is admitted while `records` hold their reservations. Checks, in order:
/// the provider is not shutting down, the image is allowed (policy), the request fits the
/// per-deployment caps, the provider's totals and the requester's quota.
/// Returns the image's normalised reference. Errors: Errc::kShuttingDown;
/// runtime::Errc::kBadReference, kImageNotAllowed, kInvalidSpec, kLimitExceeded (naming the limit).
Result<runtime::ImageRef> decideAdmission(const runtime::Policy& policy,
                                          const std::map<std::string, Deployment>& records,
                                          const DeployParams& p, bool shuttingDown);

}  // namespace pc::provider
