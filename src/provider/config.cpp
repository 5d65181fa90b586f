#include "provider/config.hpp"

#include "config/binder.hpp"
#include "provider/error.hpp"
#include "runtime/docker_api.hpp"

namespace pc::provider {

runtime::PolicyConfig ProviderConfig::policy() const {
  runtime::PolicyConfig p;
  p.allowedRegistries = allowedRegistries;
  p.providerCapacity = {maxCpuMillis, maxMemoryBytes, maxDeployments};
  p.perRequesterQuota = {maxCpuPerPeer != 0 ? maxCpuPerPeer : maxCpuMillis,
                         maxMemoryPerPeer != 0 ? maxMemoryPerPeer : maxMemoryBytes, maxPerPeer};
  p.maxCpuMillisPerContainer = maxCpuPerDeployment != 0 ? maxCpuPerDeployment : maxCpuMillis;
  p.maxMemoryPerContainer = maxMemoryPerDeployment != 0 ? maxMemoryPerDeployment : maxMemoryBytes;
  return p;
}

Result<egress::Policy> ProviderConfig::egressPolicy() const {
  egress::Policy p;
  auto mode = egress::parseMode(egress);
  if (!mode) return fail(Errc::kConfig, mode.error().message());
  p.mode = *mode;
  if (egressAllow.size() > egress::kMaxAllowEntries ||
      egressDeny.size() > egress::kMaxDenyEntries) {
    return fail(Errc::kConfig, "egress_allow and egress_deny hold at most " +
                                   std::to_string(egress::kMaxAllowEntries) + " entries each");
  }
  for (const auto& a : egressAllow) {
    auto e = egress::AllowEntry::parse(a);
    if (!e) return fail(Errc::kConfig, e.error().message());
    p.allow.push_back(*e);
  }
  for (const auto& d : egressDeny) {
    auto c = egress::Cidr::parse(d);
    if (!c) return fail(Errc::kConfig, "egress_deny '" + d + "': " + c.error().message());
    p.deny.push_back(*c);
  }
  return p;
}

Result<std::vector<net::Multiaddr>> ProviderConfig::gatewayAddrs() const {
  std::vector<std::string> texts = gateways;
  if (!gateway.empty()) texts.push_back(gateway);
  if (texts.size() > kMaxGateways) {
    return fail(Errc::kConfig, "gateways: at most " + std::to_string(kMaxGateways) +
                                   " gateways, got " + std::to_string(texts.size()));
  }
  std::vector<net::Multiaddr> out;
  for (const auto& text : texts) {
    auto a = net::Multiaddr::parse(text);
    if (!a) return fail(Errc::kConfig, "gateway " + text + ": " + a.error().message());
    if (!a->peerId() || a->isCircuit()) {
      return fail(Errc::kConfig, "gateway " + text +
                                     ": needs /p2p/<gateway peer id> at the end (peergateway "
                                     "prints it)");
    }
    for (const auto& seen : out) {
      // Two tunnels to one gateway would register every route twice and split its proxy
      // streams between two sessions the gateway sees as one provider.
      if (*seen.peerId() == *a->peerId()) {
        return fail(Errc::kConfig, "gateway " + a->peerId()->toBase58() + " is listed twice (" +
                                       seen.toString() + " and " + text + ")");
      }
    }
    out.push_back(*a);
  }
  return out;
}

Result<void> ProviderConfig::validate() const {
  if (listen.empty()) return fail(Errc::kConfig, "listen: at least one multiaddr is needed");
  if (maxCpuMillis == 0) return fail(Errc::kConfig, "max_cpu must be at least 1m");
  if (maxMemoryBytes < (6ULL << 20)) return fail(Errc::kConfig, "max_memory must be at least 6M");
  if (maxDeployments == 0) return fail(Errc::kConfig, "max_deployments must be at least 1");
  if (maxPerPeer == 0) return fail(Errc::kConfig, "max_per_peer must be at least 1");
  if (maxConnections < 2) return fail(Errc::kConfig, "max_connections must be at least 2");
  if (!networkPool.empty()) {
    if (auto sn = runtime::docker::poolSubnet(networkPool, 28, 0); !sn) {
      return fail(Errc::kConfig, sn.error().message());
    }
  }
  if (stopGrace.count() < 0 || stopGrace.count() > 3600) {
    return fail(Errc::kConfig, "stop_grace must be between 0s and 1h");
  }
  if (!(requestRate > 0) || requestRate > 1000) {
    return fail(Errc::kConfig, "request_rate must be more than 0 and at most 1000 a second");
  }
  if (requestBurst == 0) return fail(Errc::kConfig, "request_burst must be at least 1");
  if (maxImageSize < (1ULL << 20)) return fail(Errc::kConfig, "max_image_size must be at least 1M");
  if (maxImageBytesPerPeer < (1ULL << 20)) {
    return fail(Errc::kConfig, "max_image_bytes_per_peer must be at least 1M");
  }
  if (replayQuotaPerPeer > replayCacheCapacity) {
    return fail(Errc::kConfig, "replay_quota_per_peer (" + std::to_string(replayQuotaPerPeer) +
                                   ") must not exceed replay_cache_capacity (" +
                                   std::to_string(replayCacheCapacity) + ")");
  }
  if (!fitsReplayShare(requestRate, requestBurst, replayQuotaPerPeer)) {
    return fail(Errc::kConfig,
                "request_rate × " + std::to_string(protocol::kReplayEntryLifetimeMs / 1000) +
                    " s + request_burst exceeds replay_quota_per_peer (" +
                    std::to_string(replayQuotaPerPeer) +
                    "): a peer within its rate would be refused by the replay cache; lower "
                    "request_rate or raise replay_quota_per_peer");
  }
  if (auto e = egressPolicy(); !e) return e.error();
  if (auto g = gatewayAddrs(); !g) return g.error();
  if (egressCheckInterval.count() < 1 || egressCheckInterval.count() > 3600) {
    return fail(Errc::kConfig, "egress_check_interval must be between 1s and 1h");
  }
  if (auto p = runtime::Policy::create(policy()); !p) {
    return fail(Errc::kConfig, p.error().message());
  }
  if (auto r = admin.validate(); !r) return fail(Errc::kConfig, r.error().message());
  return {};
}

void bindSettings(config::Binder& b, ProviderConfig& cfg) {
  using config::bytes;
  using config::cpuMillis;
  using config::integer;
  constexpr std::uint32_t kMaxCount = 100000;
  b.list("listen", "--listen", "Multiaddr to listen on, repeatable (default /ip4/0.0.0.0/tcp/9000)",
         cfg.listen);
  b.path("data_dir", "--data-dir",
         "State directory: identity, trust list, provider.db, audit.jsonl, config.toml "
         "(default: $PEERCOMPUTE_HOME or ~/.peercompute)",
         cfg.dataDir);
  b.value("max_cpu", "--max-cpu",
          "CPU for all deployments: cores (4, 0.5) or millicores (500m); default 4",
          cpuMillis(cfg.maxCpuMillis));
  b.value("max_memory", "--max-memory", "Memory for all deployments (e.g. 4G; default 4G)",
          bytes(cfg.maxMemoryBytes));
  b.value("max_deployments", "--max-deployments", "Deployments at once (default 10)",
          integer(cfg.maxDeployments, 0, kMaxCount));
  b.value("max_per_peer", "--max-per-peer", "Deployments one peer may run at once (default 5)",
          integer(cfg.maxPerPeer, 0, kMaxCount));
  b.value("max_connections", "", "", integer(cfg.maxConnections, 0, kMaxCount));
  b.value("max_cpu_per_peer", "", "", cpuMillis(cfg.maxCpuPerPeer));
  b.value("max_memory_per_peer", "", "", bytes(cfg.maxMemoryPerPeer));
  b.value("max_cpu_per_deployment", "", "", cpuMillis(cfg.maxCpuPerDeployment));
  b.value("max_memory_per_deployment", "", "", bytes(cfg.maxMemoryPerDeployment));
  b.list("allowed_registries", "--allow-registry",
         "Allowed image source, repeatable: registry[/repository-prefix] "
         "(default docker.io, ghcr.io, quay.io)",
         cfg.allowedRegistries);
  b.text("runtime", "--runtime", "OCI runtime for deployments, e.g. runsc (default: the engine's)",
         cfg.ociRuntime);
  b.text("network_pool", "", "", cfg.networkPool);
  b.list("gateways", "--gateway",
         "Gateway multiaddr with /p2p/<id> to serve public URLs through, repeatable (up to " +
             std::to_string(kMaxGateways) + "): a tunnel to each",
         cfg.gateways);
  b.text("gateway", "", "", cfg.gateway);  // the old spelling of one gateway
  b.list("relays", "--relay",
         "Circuit Relay v2 relay multiaddr with /p2p/<id> to be reachable through, repeatable",
         cfg.relays);
  b.boolean("stop_on_exit", "--stop-on-exit", "Stop running deployments when the daemon exits",
            cfg.stopOnExit, true);
  b.value("stop_grace", "--stop-grace", "Time between SIGTERM and SIGKILL on stop (default 10s)",
          config::seconds(cfg.stopGrace));
  b.value("max_image_size", "--max-image-size",
          "Largest image one deployment may pull (e.g. 2G; default 2G)", bytes(cfg.maxImageSize));
  b.value("max_image_bytes_per_peer", "", "", bytes(cfg.maxImageBytesPerPeer));
  b.value("pull_policy", "--pull-policy",
          "as-requested (default: each deploy's --pull missing|always|never is followed) or "
          "always (every deploy pulls its image)",
          [&cfg](std::string_view v) -> Result<void> {
            if (v != "as-requested" && v != "always") {
              return fail(Errc::kConfig,
                          "\"" + std::string(v) + "\" is not a pull policy (as-requested, always)");
            }
            cfg.alwaysPull = v == "always";
            return {};
          });
  b.value("request_rate", "", "", config::number(cfg.requestRate, 0));
  b.value("request_burst", "", "", integer(cfg.requestBurst, 0, kMaxCount));
  constexpr std::uint32_t kMaxEntries = 10'000'000;
  b.value("replay_quota_per_peer", "", "", integer(cfg.replayQuotaPerPeer, 1, kMaxEntries));
  b.value("replay_cache_capacity", "", "", integer(cfg.replayCacheCapacity, 1, kMaxEntries));
  b.text("egress", "--egress",
         "What deployments may open: internet (public addresses only; default) or none",
         cfg.egress);
  b.list("egress_allow", "--egress-allow",
         "Private destination deployments may open, repeatable: CIDR[:port] or [IPv6 CIDR]:port",
         cfg.egressAllow);
  b.list("egress_deny", "--egress-deny", "Public CIDR deployments may not open, repeatable",
         cfg.egressDeny);
  b.value("egress_check_interval", "", "", config::seconds(cfg.egressCheckInterval));
  b.text("egress_resolv_conf", "", "", cfg.egressResolvConf);
  b.text("engine_netns", "--engine-netns",
         "Network namespace of the engine's bridges (e.g. /proc/1/ns/net) when this provider "
         "runs in another one; the egress rules are kept there",
         cfg.engineNetns);
  b.boolean("mdns", "--no-mdns",
            "Do not answer or send mDNS queries (LAN discovery, on by default)", cfg.mdns, false);
  admin::bindAdminSettings(b, cfg.admin);
}

Result<void> applyToml(std::string_view text, std::string_view source, ProviderConfig& cfg) {
  config::Binder b;
  bindSettings(b, cfg);
  if (auto r = b.applyToml(text, source); !r) return fail(Errc::kConfig, r.error().message());
  return {};
}

}  // namespace pc::provider
