#pragma once
/// peercomputed's configuration: defaults, then `<data-dir>/config.toml` (or `--config FILE`),
/// then command-line flags — each later source overrides the earlier one key by key.
///
/// TOML keys (all optional):
///   listen = ["/ip4/0.0.0.0/tcp/9000"]     max_cpu = 4             # cores ("0.5"), or "500m"
///   max_memory = "4G"                       max_deployments = 10
///   max_per_peer = 5                        # deployments one peer may run at once
///   max_connections = 400                   # P2P connections at once (incl. handshakes)
///   max_cpu_per_peer, max_memory_per_peer   # default: the provider totals
///   max_cpu_per_deployment, max_memory_per_deployment   # default: the provider totals
///   allowed_registries = ["docker.io", "ghcr.io", "quay.io"]
///   runtime = ""                            # OCI runtime name, e.g. "runsc"; "" = engine default
///   network_pool = ""                       # e.g. "10.213.0.0/16": a /28 per deployment network
///   gateways = ["/dns4/gw.example/tcp/8443/p2p/12D3KooW…"]   # one tunnel each, ≤ kMaxGateways
///   gateway = "/dns4/gw.example/…"          # the old spelling: one more entry of `gateways`
///   stop_on_exit = false                    stop_grace = "10s"
///   mdns = true                             # answer and query mDNS on the LAN
///   request_rate = 10, request_burst = 40   # signed requests a second of one peer, and burst
///   replay_quota_per_peer = 10000           # replay-cache entries one peer may hold
///   replay_cache_capacity = 100000          # replay-cache entries of all peers
///   max_image_size = "2G"                   # largest image one deployment may pull
///   max_image_bytes_per_peer = "4G"         # images one peer's deployments may hold together
///   egress = "internet"                     # or "none": what deployments may open
///   egress_allow = ["10.1.2.0/24:443"]      # private destinations shared with deployments
///   egress_deny = ["198.18.0.0/15"]         # public destinations refused as well
///   egress_check_interval = "5s"            # how often the firewall rules are checked
///   egress_resolv_conf = "/etc/resolv.conf" # the engine's resolvers, followed when they change
///   pull_policy = "as-requested"            # or "always": every deploy pulls its image
///   admin_listen = "127.0.0.1:9101"         # /metrics and the dashboard (default: off)
///   admin_token_file = ""                   # token (file 0600) for non-loopback admin clients
///   log_format = "text"                     # or "json": one JSON object a line
/// Unknown keys are errors (a typo must not silently leave a limit at its default).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "admin/settings.hpp"
#include "core/error.hpp"
#include "egress/policy.hpp"
#include "net/multiaddr.hpp"
#include "protocol/checks.hpp"
#include "provider/image_quota.hpp"
#include "provider/request_limiter.hpp"
#include "runtime/policy.hpp"

namespace pc::config {
class Binder;
}

namespace pc::provider {

/// Gateways one provider serves through (a tunnel and a relay reservation each; every URL they
/// answer travels in a deploy response, protocol::kMaxUrls at most).
inline constexpr std::size_t kMaxGateways = 8;
static_assert(kMaxGateways <= protocol::kMaxUrls, "every gateway's URL fits a response");

struct ProviderConfig {
  std::vector<std::string> listen{"/ip4/0.0.0.0/tcp/9000"};
  std::filesystem::path dataDir;
  std::uint32_t maxCpuMillis = 4000;
  std::uint64_t maxMemoryBytes = 4ULL << 30;
  std::uint32_t maxDeployments = 10;
  std::uint32_t maxPerPeer = 5;
  std::uint32_t maxConnections = 400;        ///< P2P connections, handshakes in progress included
  std::uint32_t maxCpuPerPeer = 0;           ///< 0 = maxCpuMillis
  std::uint64_t maxMemoryPerPeer = 0;        ///< 0 = maxMemoryBytes
  std::uint32_t maxCpuPerDeployment = 0;     ///< 0 = maxCpuMillis
  std::uint64_t maxMemoryPerDeployment = 0;  ///< 0 = maxMemoryBytes
  std::vector<std::string> allowedRegistries{"docker.io", "ghcr.io", "quay.io"};
  std::string ociRuntime;
  /// IPv4 CIDR for the deployments' networks (a /28 each); "" = the engine's default pools,
  /// which hold about 30 networks: set it to run more deployments than that.
  std::string networkPool;
  /// Gateways to serve through, each a multiaddr with /p2p/<gateway id>: one tunnel and one
  /// relay reservation per gateway, every route registered on each. Empty (and no `gateway`):
  /// no public URLs.
  std::vector<std::string> gateways;
  /// `gateway = "…"`, the old spelling of one gateway: served as one more entry of `gateways`.
  std::string gateway;
  /// Circuit Relay v2 relays to hold a reservation on (besides the gateway), each ending in
  /// /p2p/<relay id>: peers reach us through them without an inbound port.
  std::vector<std::string> relays;
  bool stopOnExit = false;
  std::chrono::seconds stopGrace{10};
  /// LAN discovery (libp2p mDNS): answer `_p2p._udp.local` queries and learn trusted peers.
  bool mdns = true;
  /// Each peer's request rate (requests a second, sustained) and burst: over them a request is
  /// answered `rate_limited` (provider/request_limiter.hpp).
  double requestRate = kDefaultRequestRate;
  std::uint32_t requestBurst = kDefaultRequestBurst;
  /// Replay-cache bounds: one peer's share, and all peers' (protocol::ReplayLimits). A peer
  /// within its request rate must never reach its share: validate() checks
  /// request_rate × 360 s + request_burst ≤ replay_quota_per_peer ≤ replay_cache_capacity.
  std::uint32_t replayQuotaPerPeer = protocol::kDefaultReplayQuotaPerRequester;
  std::uint32_t replayCacheCapacity = protocol::kDefaultReplayCacheCapacity;
  /// Image disk quota (provider/image_quota.hpp): pulled images are bounded per deployment and
  /// per peer, and removed once no deployment uses them.
  std::uint64_t maxImageSize = kDefaultMaxImageSize;
  std::uint64_t maxImageBytesPerPeer = kDefaultMaxImageBytesPerPeer;
  /// `pull_policy`: "as-requested" (false: a deploy's `--pull missing|always|never` is followed)
  /// or "always" (true: every deploy pulls its image, whatever it asks).
  bool alwaysPull = false;

  /// Egress (egress/policy.hpp): "internet" or "none", the private destinations opened
  /// ("CIDR[:port]", "[v6 CIDR]:port") and the public ones refused as well.
  std::string egress = "internet";
  std::vector<std::string> egressAllow;
  std::vector<std::string> egressDeny;
  /// How often the firewall rules are checked (and put back when something removed them).
  std::chrono::seconds egressCheckInterval{5};
  /// The resolv.conf whose nameservers deployments may reach on port 53 (the engine's own: its
  /// DNS inside each container forwards to them), read again at every check.
  std::string egressResolvConf = "/etc/resolv.conf";
  /// The admin listener (/metrics, the dashboard) and the log format (admin/settings.hpp).
  admin::AdminSettings admin;
  /// The engine's network namespace (e.g. /proc/1/ns/net) when this provider runs in another
  /// one: the egress rules must live where the deployment bridges are. Empty: ours.
  std::string engineNetns;
  /// The egress policy these settings describe (without the host's resolvers, which the node
  /// reads when it starts). Errors: kConfig naming the entry.
  [[nodiscard]] Result<egress::Policy> egressPolicy() const;
  /// The image and capacity policy these settings describe.
  [[nodiscard]] runtime::PolicyConfig policy() const;
  /// The request rate limit these settings describe.
  [[nodiscard]] RequestLimits requestLimits() const { return {requestRate, requestBurst}; }
  /// The image quota these settings describe.
  [[nodiscard]] ImageQuota imageQuota() const { return {maxImageSize, maxImageBytesPerPeer}; }
  /// The replay-cache bounds these settings describe.
  [[nodiscard]] protocol::ReplayLimits replayLimits() const {
    return {replayCacheCapacity, replayQuotaPerPeer};
  }
  /// The gateways to serve through: `gateways`, then the old `gateway` key. Errors: kConfig
  /// naming the entry that does not parse, lacks /p2p/<id> or repeats a gateway's peer id,
  /// or more than kMaxGateways.
  [[nodiscard]] Result<std::vector<net::Multiaddr>> gatewayAddrs() const;
  /// Checks ranges and the allowlist. Errors: kConfig naming the key.
  [[nodiscard]] Result<void> validate() const;
};

/// Declares every setting of `cfg` on `b`: its TOML key and, for the common ones, its flag. CPU
/// amounts read the forms `peerctl deploy --cpu` reads ("2", "0.5" cores, "500m").
void bindSettings(config::Binder& b, ProviderConfig& cfg);

/// Applies TOML text over `cfg` (tests). Errors: kConfig with the file, line and key.
Result<void> applyToml(std::string_view text, std::string_view source, ProviderConfig& cfg);

}  // namespace pc::provider
