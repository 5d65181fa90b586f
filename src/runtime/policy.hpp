#pragma once
/// Provider policy: which images may run and how much of the machine deployments may use.
///
/// Pure and synchronous; the provider calls it before it pulls anything. Every rejection is an
/// `Errc::kImageNotAllowed` or `Errc::kLimitExceeded` whose message names the limit that was hit
/// (by its peercomputed configuration key: max_cpu, max_memory, max_deployments, max_per_peer, …)
/// and the numbers involved.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/image_ref.hpp"

namespace pc::runtime {

/// What one deployment asks for.
struct ResourceRequest {
  std::uint32_t cpuMillis = 0;    ///< 1000 = one CPU
  std::uint64_t memoryBytes = 0;  ///< hard limit; swap is never granted
};

/// Resources in use (or a capacity / quota of them).
struct Usage {
  std::uint64_t cpuMillis = 0;
  std::uint64_t memoryBytes = 0;
  std::uint32_t containers = 0;
};

struct PolicyConfig {
  /// Allowed image sources. An entry is a registry ("docker.io", "127.0.0.1:5055") or a registry
  /// with a repository prefix ("docker.io/library", "ghcr.io/acme"). Entries use the same
  /// normalisation as references ("index.docker.io" = "docker.io"). Empty: nothing is allowed.
  std::vector<std::string> allowedRegistries;
  std::uint32_t maxCpuMillisPerContainer = 2000;
  std::uint64_t maxMemoryPerContainer = 2ULL << 30;
  /// Docker refuses memory limits under 6 MiB; the policy says so before the engine does.
  std::uint64_t minMemoryPerContainer = 6ULL << 20;
  Usage providerCapacity{4000, 8ULL << 30, 20};
  Usage perRequesterQuota{2000, 4ULL << 30, 5};
};

class Policy {
 public:
  /// Errors: `Errc::kInvalidSpec` for an allowlist entry that is not a registry[/path].
  static Result<Policy> create(PolicyConfig config);

  /// Parses `image` and checks it against the allowlist. Returns the normalised reference.
  /// Errors: `kBadReference`, `kImageNotAllowed`.
  [[nodiscard]] Result<ImageRef> checkImage(std::string_view image) const;

  /// Admits a deployment asking for `request` when the provider already runs `providerUsed` and
  /// this requester already runs `requesterUsed`. Errors: `kLimitExceeded`, `kInvalidSpec`.
  [[nodiscard]] Result<void> admit(const ResourceRequest& request, const Usage& providerUsed,
                                   const Usage& requesterUsed) const;

  [[nodiscard]] const PolicyConfig& config() const { return config_; }

 private:
  struct Entry {
    std::string domain;
    std::string pathPrefix;  // "" = the whole registry
  };
  Policy(PolicyConfig config, std::vector<Entry> entries)
      : config_(std::move(config)), entries_(std::move(entries)) {}
  PolicyConfig config_;
  std::vector<Entry> entries_;
};

}  // namespace pc::runtime
