#include "provider/daemon.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <set>

#include "core/fs.hpp"
#include "crypto/identity.hpp"
#include "net/host.hpp"
#include "net/mdns/service.hpp"
#include "protocol/sqlite_replay_cache.hpp"
#include "provider/audit.hpp"
#include "provider/scheduler.hpp"
#include "provider/service.hpp"
#include "provider/store.hpp"
#include "runtime/docker.hpp"
#include "trust/trust_store.hpp"
#include "tunnel/provider_tunnel.hpp"

namespace pc::provider {

namespace {
int startupError(const Error& e) {
  std::cerr << "error: " << e.message() << "\n";
  return 1;
}
}  // namespace

int runDaemon(const DaemonOptions& options) {
  const ProviderConfig& cfg = options.config;
  // Logs go to stderr and are flushed per line: a daemon's refusals must reach its log at once,
  // not when stdio buffers happen to fill.
  spdlog::set_default_logger(spdlog::stderr_color_mt("peercomputed"));
  spdlog::flush_on(spdlog::level::info);
  if (auto r = cfg.validate(); !r) return startupError(r.error());
  if (auto r = fs::ensurePrivateDir(cfg.dataDir); !r) return startupError(r.error());
  const auto keyPath = cfg.dataDir / "identity.key";
  bool created = false;
  auto identity = crypto::Identity::loadOrCreate(keyPath, &created);
  if (!identity) return startupError(identity.error());
  if (created) std::cout << "Created identity " << keyPath.string() << std::endl;
  // A corrupt trust list stops start-up: running with an unknown trust list is not an option.
  auto gate = trust::TrustGate::open(cfg.dataDir / trust::TrustStore::kFileName);
  if (!gate) return startupError(gate.error());
  auto store = Store::open(cfg.dataDir / Store::kFileName);
  if (!store) return startupError(store.error());
  auto replay = protocol::SqliteReplayCache::open(cfg.dataDir / Store::kFileName);
  if (!replay) return startupError(replay.error());
  auto audit = AuditLog::open(cfg.dataDir / AuditLog::kFileName);
  if (!audit) return startupError(audit.error());
  auto dockerOpts = runtime::DockerOptions::fromEnvironment();
  if (!dockerOpts) return startupError(dockerOpts.error());
  dockerOpts->ociRuntime = cfg.ociRuntime;
  dockerOpts->networkPool = cfg.networkPool;
  if (cfg.networkPool.empty() && cfg.maxDeployments > 25) {
    spdlog::warn(
        "max_deployments is {} but network_pool is not set: a default Docker engine has address "
        "pools for about 30 networks (one per deployment); set network_pool (e.g. "
        "\"10.213.0.0/16\") in the config",
        cfg.maxDeployments);
  }
  runtime::DockerRuntime docker(*dockerOpts);
  auto policy = runtime::Policy::create(cfg.policy());
  if (!policy) return startupError(policy.error());

  net::asio::io_context io(1);
  SchedulerOptions schedOpts;
  schedOpts.stopGrace = cfg.stopGrace;
  schedOpts.providerId = identity->peerId();
  Scheduler scheduler(io.get_executor(), docker, **store, std::move(*policy), schedOpts);
  if (auto r = scheduler.load(); !r) return startupError(r.error());

  net::HostConfig hostCfg;
  hostCfg.maxConnections = cfg.maxConnections;
  hostCfg.agentVersion = "peercomputed/" + options.version;
  // A gateway opens one stream per public connection: a burst of new visitors arrives as a
  // burst of stream opens in one read, which the default backlog (256) would partly refuse.
  // The gateway bounds streams per tunnel (1024 by default), so these bounds still hold.
  hostCfg.yamux.maxStreams = 4096;
  hostCfg.yamux.maxAcceptBacklog = 2048;
  auto host = net::Host::create(io.get_executor(), *identity, hostCfg);
  auto service = std::make_shared<Service>(scheduler, **audit, **replay);
  // Gating happens right after the Noise handshake, before any muxer byte: an untrusted peer
  // never reaches a protocol handler.
  // The gateway (when configured) is admitted too — but only for the tunnel: the request
  // handlers check the trust list themselves.
  std::optional<crypto::PeerId> gatewayId;
  std::optional<net::Multiaddr> gatewayAddr;
  if (!cfg.gateway.empty()) {
    auto a = net::Multiaddr::parse(cfg.gateway);
    if (!a) return startupError(a.error().context("--gateway"));
    if (!a->peerId()) {
      return startupError(Error(a.error().code(), "--gateway " + cfg.gateway +
                                                      ": needs /p2p/<gateway peer id> at the end "
                                                      "(peergateway prints it)"));
    }
    gatewayAddr = *a;
    gatewayId = *a->peerId();
  }
  host->setGater([&gate, gatewayId](const crypto::PeerId& p) {
    return gate->isTrusted(p) || (gatewayId && p == *gatewayId);
  });
  service->setRequesterFilter([&gate](const crypto::PeerId& p) { return gate->isTrusted(p); });
  host->onReject([service](const std::optional<crypto::PeerId>& p, const net::Multiaddr& remote,
                           const std::string& why) {
    if (service->connectionRefused(p, remote.toString(), why)) {
      spdlog::warn("security: refused {} from {}: {}", p ? p->toBase58() : "unauthenticated peer",
                   remote.toString(), why);
    }
  });
  service->install(*host);
  std::shared_ptr<tunnel::ProviderTunnel> tun;
  if (gatewayAddr) {
    tunnel::ProviderTunnelOptions topts;
    topts.gateway = *gatewayAddr;
    tun = std::make_shared<tunnel::ProviderTunnel>(
        host, topts,
        [&scheduler]() {
          std::vector<tunnel::Route> routes;
          for (const auto& d : scheduler.running()) {
            if (d.hostPort && !d.idSalt.empty()) routes.push_back({d.id, d.idSalt, *d.hostPort});
          }
          return routes;
        },
        [&scheduler](const std::string& id) -> std::optional<tunnel::Target> {
          auto e = scheduler.endpoint(id);
          if (!e) return std::nullopt;
          return tunnel::Target{e->hostPort, e->address, e->containerPort};
        });
    tun->install();
    tun->onUrl(
        [&scheduler](const std::string& id, const std::string& url) { scheduler.setUrl(id, url); });
    scheduler.setPublisher([tun](Deployment d) -> net::asio::awaitable<std::optional<std::string>> {
      if (!d.hostPort || d.idSalt.empty()) co_return std::nullopt;
      const tunnel::Route r{d.id, d.idSalt, *d.hostPort};
      co_return co_await tun->publish(r);
    });
    // Withdrawn once when the deployment leaves `running` (stopping, then stopped, are two saves
    // of one departure); a terminal state forgets the id again.
    scheduler.onChange([tun, withdrawn = std::set<std::string>()](const Deployment& d) mutable {
      using S = protocol::DeploymentState;
      if (d.state == S::kStopping || d.state == S::kStopped || d.state == S::kFailed) {
        if (withdrawn.insert(d.id).second) tun->withdraw(d.id);
        if (d.state != S::kStopping) withdrawn.erase(d.id);
      } else {
        withdrawn.erase(d.id);
      }
    });
  }

  std::cout << "peercomputed " << options.version << "\nPeer ID: " << identity->peerId().toBase58()
            << std::endl;
  for (const auto& text : cfg.listen) {
    auto addr = net::Multiaddr::parse(text);
    if (!addr) return startupError(addr.error().context("--listen " + text));
    auto bound = host->listen(*addr);
    if (!bound) return startupError(bound.error());
  }
  for (const auto& a : host->listenAddrs()) {
    std::cout << "Listening on " << a.withPeerId(identity->peerId()).toString() << std::endl;
  }
  // LAN discovery: answer `_p2p._udp.local` queries with our listen addresses, and learn where
  // trusted peers are. Addresses of untrusted peers are never used (the gater refuses them
  // anyway) and nothing is ever added to the trust list.
  std::shared_ptr<net::mdns::Service> mdns;
  if (cfg.mdns) {
    net::mdns::ServiceConfig mcfg;
    mcfg.preferred = [&gate](const crypto::PeerId& p) { return gate->isTrusted(p); };
    auto started = net::mdns::Service::start(
        io.get_executor(), identity->peerId(), [host] { return host->listenAddrs(); }, mcfg);
    if (!started) {
      spdlog::warn("{}; LAN discovery is off (peers need this node's address)",
                   started.error().message());
    } else {
      mdns = *started;
      mdns->onPeer([&gate, host](const net::mdns::DiscoveredPeer& p) {
        std::string addrs;
        for (const auto& a : p.addrs) addrs += (addrs.empty() ? "" : " ") + a.toString();
        if (!gate->isTrusted(p.id)) {
          spdlog::debug("mDNS: untrusted peer {} at {} (ignored)", p.id.toBase58(), addrs);
          return;
        }
        host->addAddrs(p.id, p.addrs);
        const auto* t = gate->store().find(p.id);
        spdlog::info("mDNS: discovered trusted peer {} ({}) at {}", p.id.toBase58(),
                     t ? t->name : "?", addrs);
      });
      std::cout << "mDNS: answering _p2p._udp.local on " << mdns->interfaceCount()
                << " interface(s) (disable with --no-mdns)" << std::endl;
    }
  }
  std::cout << "Trusted peers: " << gate->store().peers().size()
            << " (manage with: PEERCOMPUTE_HOME=" << cfg.dataDir.string() << " peerctl peers add …)"
            << std::endl;
  std::cout << "Capacity: " << cfg.maxCpuMillis << "m CPU, " << (cfg.maxMemoryBytes >> 20)
            << " MiB memory, " << cfg.maxDeployments << " deployments (" << cfg.maxPerPeer
            << " per peer); registries:";
  for (const auto& r : cfg.allowedRegistries) std::cout << " " << r;
  std::cout << std::endl;

  // The engine may be down at start: the scheduler reconciles as soon as it answers.
  net::asio::co_spawn(
      io,
      [&docker]() -> net::asio::awaitable<void> {
        auto info = co_await docker.ping();
        if (info) {
          spdlog::info("container engine: Docker {} (API {})", info->engineVersion,
                       info->apiVersion);
        } else {
          spdlog::warn("container engine: {}", info.error().message());
        }
      },
      net::asio::detached);
  scheduler.start();
  if (tun) {
    std::cout << "Gateway: " << cfg.gateway << " (tunnel dialled out; no inbound port needed)"
              << std::endl;
    tun->start();
  }

  net::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("received signal {}, shutting down", sig);
    scheduler.shutdown();
    net::asio::co_spawn(
        io,
        [&]() -> net::asio::awaitable<void> {
          // Containers keep running across a provider restart (they are re-adopted) unless the
          // operator asked otherwise.
          if (cfg.stopOnExit) co_await scheduler.stopAll();
          if (tun) tun->stop();
          if (mdns) mdns->stop();
          host->close();
          // Give GoAway frames a moment to flush, then stop.
          net::asio::steady_timer t(io, std::chrono::milliseconds(200));
          co_await t.async_wait(net::kNoThrow);
          io.stop();
        },
        net::asio::detached);
  });
  io.run();
  std::cout << "peercomputed stopped" << std::endl;
  return 0;
}

}  // namespace pc::provider
