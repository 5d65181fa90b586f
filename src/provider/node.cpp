#include "provider/node.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "core/fs.hpp"
#include "crypto/identity.hpp"
#include "egress/firewall.hpp"
#include "net/dcutr/coordinator.hpp"
#include "net/host.hpp"
#include "net/mdns/service.hpp"
#include "net/relay/client.hpp"
#include "net/task_group.hpp"
#include "protocol/sqlite_replay_cache.hpp"
#include "provider/audit.hpp"
#include "provider/confined_runtime.hpp"
#include "provider/error.hpp"
#include "provider/gateways.hpp"
#include "provider/observer.hpp"
#include "provider/relays.hpp"
#include "provider/scheduler.hpp"
#include "provider/service.hpp"
#include "provider/store.hpp"
#include "runtime/docker.hpp"
#include "trust/trust_store.hpp"

namespace pc::provider {

namespace asio = net::asio;

/// Member order is construction order; destruction runs backwards, so everything a part
/// refers to outlives it.
struct ProviderNode::Parts {
  explicit Parts(const asio::any_io_executor& e) : ex(e), tasks(e) {}
  asio::any_io_executor ex;
  ProviderConfig cfg;
  NodeDeps deps;
  NodeInfo info;
  std::optional<crypto::Identity> identity;
  std::optional<trust::TrustGate> gate;
  std::unique_ptr<Store> store;
  std::unique_ptr<protocol::SqliteReplayCache> replay;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<runtime::DockerRuntime> docker;  ///< made here unless deps.runtime is given
  std::unique_ptr<egress::Firewall> iptables;      ///< made here unless deps.firewall is given
  std::unique_ptr<ConfinedRuntime> confined;       ///< the engine behind the egress firewall
  runtime::Runtime* runtime = nullptr;             ///< the one in use: *confined
  std::unique_ptr<Scheduler> scheduler;
  std::shared_ptr<net::Host> host;
  std::shared_ptr<Service> service;
  std::shared_ptr<GatewayTunnels> gateways;  ///< null without a gateway configured
  std::shared_ptr<net::mdns::Service> mdns;
  std::unique_ptr<RelayPresence> relays;
  std::shared_ptr<ProviderObserver> observer;  ///< the admin listener (admin_listen)
  net::TaskGroup tasks;
};

namespace {

using Parts = ProviderNode::Parts;

/// Identity, trust list, state, replay cache and audit log from the data dir.
Result<void> openDataDir(Parts& p) {
  const auto& dir = p.cfg.dataDir;
  if (auto r = fs::ensurePrivateDir(dir); !r) return r.error();
  auto identity = crypto::Identity::loadOrCreate(dir / "identity.key", &p.info.createdIdentity);
  if (!identity) return identity.error();
  p.identity = std::move(*identity);
  // A corrupt trust list stops start-up: running with an unknown trust list is not an option.
  auto gate = trust::TrustGate::open(dir / trust::TrustStore::kFileName);
  if (!gate) return gate.error();
  p.gate.emplace(std::move(*gate));
  auto store = Store::open(dir / Store::kFileName);
  if (!store) return store.error();
  p.store = std::move(*store);
  auto replay = protocol::SqliteReplayCache::open(dir / Store::kFileName, p.cfg.replayLimits());
  if (!replay) return replay.error();
  p.replay = std::move(*replay);
  auto audit = AuditLog::open(dir / AuditLog::kFileName);
  if (!audit) return audit.error();
  p.audit = std::move(*audit);
  return {};
}

/// The Docker runtime for DOCKER_HOST, with the config's OCI runtime and network pool.
Result<std::unique_ptr<runtime::DockerRuntime>> makeDocker(const ProviderConfig& cfg) {
  auto dockerOpts = runtime::DockerOptions::fromEnvironment();
  if (!dockerOpts) {
    return dockerOpts.error();
  }
  dockerOpts->ociRuntime = cfg.ociRuntime;
  dockerOpts->networkPool = cfg.networkPool;
  if (cfg.networkPool.empty() && cfg.maxDeployments > 25) {
    spdlog::warn(
        "max_deployments is {} but network_pool is not set: a default Docker engine has address "
        "pools for about 30 networks (one per deployment); set network_pool (e.g. "
        "\"10.213.0.0/16\") in the config",
        cfg.maxDeployments);
  }
  return std::make_unique<runtime::DockerRuntime>(*dockerOpts);
}

/// The firewall (the injected one, else iptables) with its rules installed and checked, and
/// the engine behind it: no deployment's container starts unconfined.
Result<void> confine(Parts& p, runtime::Runtime& engine) {
  auto policy = p.cfg.egressPolicy();
  if (!policy) return policy.error();
  egress::Firewall* fw = p.deps.firewall;
  if (fw == nullptr) {
    policy->resolvers = egress::hostResolvers(p.cfg.egressResolvConf);
    egress::IptablesOptions o;
    o.policy = *policy;
    o.netns = p.cfg.engineNetns;
    p.iptables = egress::makeIptablesFirewall(std::move(o));
    fw = p.iptables.get();
  }
  if (auto r = fw->install(); !r) {
    return r.error().context(
        "egress rules could not be installed (deployments would reach the "
        "host and its LAN)");
  }
  auto networkOf = [&p](const std::string& id) {
    const Deployment* d = p.scheduler ? p.scheduler->records().find(id) : nullptr;
    // No record: nothing vouches for the request's choice, so the narrowest applies.
    return d != nullptr ? d->network : egress::Mode::kNone;
  };
  p.confined = std::make_unique<ConfinedRuntime>(engine, *fw, policy->mode, networkOf);
  if (p.iptables) {
    p.confined->followResolvers(
        [path = p.cfg.egressResolvConf] { return egress::hostResolvers(path); });
  }
  p.runtime = p.confined.get();
  spdlog::info("egress: deployments may open {}{}", egress::toString(policy->mode),
               policy->mode == egress::Mode::kInternet
                   ? " (public addresses; the host, its LANs and special ranges refused)"
                   : " (nothing)");
  return {};
}

/// Deployments whose container may run now: their rules are kept in place.
std::vector<std::string> confinedDeployments(const Scheduler& s) {
  std::vector<std::string> ids;
  for (const auto& [id, d] : s.records().all()) {
    using S = protocol::DeploymentState;
    if (d.state == S::kStarting || d.state == S::kRunning || d.state == S::kStopping) {
      ids.push_back(id);
    }
  }
  return ids;
}

/// The runtime (the injected one, else Docker) behind the firewall and the scheduler over it,
/// records loaded.
Result<void> openScheduler(Parts& p, const crypto::PeerId& self) {
  runtime::Runtime* engine = p.deps.runtime;
  if (engine == nullptr) {
    auto docker = makeDocker(p.cfg);
    if (!docker) {
      return docker.error();
    }
    p.docker = std::move(*docker);
    engine = p.docker.get();
  }
  if (auto r = confine(p, *engine); !r) return r;
  auto policy = runtime::Policy::create(p.cfg.policy());
  if (!policy) return policy.error();
  SchedulerOptions opts;
  opts.stopGrace = p.cfg.stopGrace;
  opts.imageQuota = p.cfg.imageQuota();
  opts.alwaysPull = p.cfg.alwaysPull;
  opts.providerId = self;
  p.scheduler = std::make_unique<Scheduler>(p.ex, *p.runtime, *p.store, std::move(*policy), opts);
  return p.scheduler->load();
}

/// The relays to reserve on: every gateway (in order), then each --relay that is not one of
/// them, each with /p2p/<relay id> (we must know whom we reserve on).
Result<std::vector<net::Multiaddr>> relayAddresses(const ProviderConfig& cfg,
                                                   const std::vector<net::Multiaddr>& gateways) {
  std::vector<net::Multiaddr> out = gateways;
  for (const auto& text : cfg.relays) {
    auto a = net::Multiaddr::parse(text);
    if (!a) return a.error().context("--relay " + text);
    if (!a->peerId() || a->isCircuit()) {
      return Error(make_error_code(provider::Errc::kConfig),
                   "--relay " + text + ": needs a relay's address ending in /p2p/<relay peer id>");
    }
    // A gateway is a relay already: a second reservation on it would add nothing.
    const bool known = std::any_of(
        out.begin(), out.end(), [&](const net::Multiaddr& r) { return r.peerId() == a->peerId(); });
    if (!known) out.push_back(*a);
  }
  return out;
}

/// The libp2p host and the request service. Gating happens right after the Noise handshake,
/// before any muxer byte: an untrusted peer never reaches a protocol handler. The gateways (when
/// configured) are admitted too — but only for their tunnels: the request handlers check the
/// trust list themselves.
void makeHost(Parts& p, const std::string& version, std::vector<crypto::PeerId> relayIds) {
  net::HostConfig hostCfg;
  hostCfg.maxConnections = p.cfg.maxConnections;
  hostCfg.agentVersion = "peercomputed/" + version;
  // A gateway opens one stream per public connection: a burst of new visitors arrives as a
  // burst of stream opens in one read, which the default backlog (256) would partly refuse.
  // The gateway bounds streams per tunnel (1024 by default), so these bounds still hold.
  hostCfg.yamux.maxStreams = 4096;
  hostCfg.yamux.maxAcceptBacklog = 2048;
  p.host = net::Host::create(p.ex, *p.identity, hostCfg);
  p.service = std::make_shared<Service>(*p.scheduler, *p.audit, *p.replay, p.cfg.requestLimits());
  auto* gate = &*p.gate;
  // Relays (the gateway among them) are admitted to hold our reservations and open STOP; whoever
  // they connect to us is gated after its own Noise handshake (Host::addRelayed).
  p.host->setGater([gate, relayIds](const crypto::PeerId& peer) {
    return gate->isTrusted(peer) ||
           std::find(relayIds.begin(), relayIds.end(), peer) != relayIds.end();
  });
  net::relay::installRelayTransport(*p.host);
  // A peer that reached us through a relay gets a direct connection when the NATs allow it.
  net::dcutr::Coordinator::install(p.host);
  p.service->setRequesterFilter(
      [gate](const crypto::PeerId& peer) { return gate->isTrusted(peer); });
  p.host->onReject([service = p.service](const std::optional<crypto::PeerId>& peer,
                                         const net::Multiaddr& remote, const std::string& why) {
    if (service->connectionRefused(peer, remote.toString(), why)) {
      spdlog::warn("security: refused {} from {}: {}",
                   peer ? peer->toBase58() : "unauthenticated peer", remote.toString(), why);
    }
  });
  p.service->install(*p.host);
}

/// A tunnel to each gateway: routes of running deployments are registered on every one, and
/// withdrawn from every one once when a deployment leaves `running`.
void makeTunnels(Parts& p, const std::vector<net::Multiaddr>& gateways) {
  tunnel::ProviderTunnelOptions topts;
  topts.minBackoff = p.deps.tunnelMinBackoff.value_or(topts.minBackoff);
  topts.maxBackoff = p.deps.tunnelMaxBackoff.value_or(topts.maxBackoff);
  auto* scheduler = p.scheduler.get();
  p.gateways = std::make_shared<GatewayTunnels>(
      p.host, gateways, topts,
      [scheduler]() {
        std::vector<tunnel::Route> routes;
        for (const auto& d : scheduler->running()) {
          if (d.hostPort && !d.idSalt.empty())
            routes.push_back({d.id, d.idSalt, *d.hostPort, d.requester});
        }
        return routes;
      },
      [scheduler](const std::string& id) -> std::optional<tunnel::Target> {
        auto e = scheduler->endpoint(id);
        if (!e) return std::nullopt;
        return tunnel::Target{e->hostPort, e->address, e->containerPort};
      });
  p.gateways->install();
  p.gateways->onUrls([scheduler](const std::string& id, const std::vector<std::string>& urls) {
    scheduler->setUrls(id, urls);
  });
  scheduler->setPublisher(
      [gws = p.gateways](Deployment d) -> asio::awaitable<std::vector<std::string>> {
        if (!d.hostPort || d.idSalt.empty()) co_return std::vector<std::string>{};
        const tunnel::Route r{d.id, d.idSalt, *d.hostPort, d.requester};
        co_return co_await gws->publish(r);
      });
  // Stopping, then stopped, are two saves of one departure; a terminal state forgets the id.
  scheduler->onChange(
      [gws = p.gateways, withdrawn = std::set<std::string>()](const Deployment& d) mutable {
        using S = protocol::DeploymentState;
        if (d.state == S::kStopping || d.state == S::kStopped || d.state == S::kFailed) {
          if (withdrawn.insert(d.id).second) gws->withdraw(d.id);
          if (d.state != S::kStopping) withdrawn.erase(d.id);
        } else {
          withdrawn.erase(d.id);
        }
      });
}

/// LAN discovery: answer `_p2p._udp.local` queries with our listen addresses, and learn where
/// trusted peers are. Addresses of untrusted peers are never used (the gater refuses them
/// anyway) and nothing is ever added to the trust list.
void startMdns(Parts& p) {
  auto* gate = &*p.gate;
  net::mdns::ServiceConfig mcfg;
  mcfg.preferred = [gate](const crypto::PeerId& peer) { return gate->isTrusted(peer); };
  auto started = net::mdns::Service::start(
      p.ex, p.identity->peerId(), [host = p.host] { return host->listenAddrs(); }, mcfg);
  if (!started) {
    spdlog::warn("{}; LAN discovery is off (peers need this node's address)",
                 started.error().message());
    return;
  }
  p.mdns = *started;
  p.mdns->onPeer([gate, host = p.host](const net::mdns::DiscoveredPeer& peer) {
    std::string addrs;
    for (const auto& a : peer.addrs) addrs += (addrs.empty() ? "" : " ") + a.toString();
    if (!gate->isTrusted(peer.id)) {
      spdlog::debug("mDNS: untrusted peer {} at {} (ignored)", peer.id.toBase58(), addrs);
      return;
    }
    host->addAddrs(peer.id, peer.addrs);
    const auto* t = gate->store().find(peer.id);
    spdlog::info("mDNS: discovered trusted peer {} ({}) at {}", peer.id.toBase58(),
                 t ? t->name : "?", addrs);
  });
  p.info.mdnsInterfaces = p.mdns->interfaceCount();
}

/// Says which engine answers. The engine may be down at start: the scheduler reconciles as soon
/// as it answers.
asio::awaitable<void> greetEngine(runtime::Runtime& engine) {
  auto info = co_await engine.ping();
  if (info) {
    spdlog::info("container engine: Docker {} (API {})", info->engineVersion, info->apiVersion);
  } else {
    spdlog::warn("container engine: {}", info.error().message());
  }
}

/// The admin listener (observer.hpp), when admin_listen is set.
Result<void> startObserver(Parts& p, const std::string& version) {
  if (p.cfg.admin.listen.empty()) return {};
  ObservedProvider seen{version,
                        p.identity->peerId(),
                        &p.cfg,
                        p.scheduler.get(),
                        p.host.get(),
                        p.service.get(),
                        p.audit.get(),
                        0,
                        {}};
  if (p.gateways) {
    seen.gateways = p.gateways->size();
    seen.tunnelsConnected = [g = p.gateways] { return g->connected(); };
  }
  auto o = ProviderObserver::start(p.ex, p.cfg.admin, std::move(seen));
  if (!o) return o.error();
  p.observer = std::move(*o);
  return {};
}

Result<void> startParts(Parts& p, const std::string& version) {
  if (auto r = p.cfg.validate(); !r) return r;
  if (auto r = openDataDir(p); !r) return r;
  if (auto r = openScheduler(p, p.identity->peerId()); !r) return r;
  auto gateways = p.cfg.gatewayAddrs();
  if (!gateways) return gateways.error();
  auto relays = relayAddresses(p.cfg, *gateways);
  if (!relays) return relays.error();
  std::vector<crypto::PeerId> relayIds;
  for (const auto& r : *relays) relayIds.push_back(*r.peerId());
  makeHost(p, version, relayIds);
  if (!gateways->empty()) makeTunnels(p, *gateways);
  if (auto r = startObserver(p, version); !r) return r;
  p.relays = std::make_unique<RelayPresence>(p.host, *relays);
  for (const auto& text : p.cfg.listen) {
    auto addr = net::Multiaddr::parse(text);
    if (!addr) return addr.error().context("--listen " + text);
    if (auto bound = p.host->listen(*addr); !bound) return bound.error();
  }
  if (p.cfg.mdns) startMdns(p);
  p.info.trustedPeers = p.gate->store().peers().size();
  p.tasks.spawn(greetEngine(*p.runtime));
  p.tasks.spawn(p.confined->watch(p.cfg.egressCheckInterval,
                                  [&p] { return confinedDeployments(*p.scheduler); }));
  p.scheduler->start();
  if (p.gateways) p.gateways->start();
  p.relays->start();
  return {};
}

}  // namespace

ProviderNode::ProviderNode(std::unique_ptr<Parts> parts) : p_(std::move(parts)) {}

ProviderNode::~ProviderNode() = default;

Result<std::unique_ptr<ProviderNode>> ProviderNode::start(const asio::any_io_executor& ex,
                                                          const ProviderConfig& cfg,
                                                          const std::string& version,
                                                          const NodeDeps& deps) {
  auto parts = std::make_unique<Parts>(ex);
  parts->cfg = cfg;
  parts->deps = deps;
  if (auto r = startParts(*parts, version); !r) {
    if (parts->host) parts->host->close();
    if (parts->observer) parts->observer->close();
    return r.error();
  }
  return std::unique_ptr<ProviderNode>(new ProviderNode(std::move(parts)));
}

const crypto::PeerId& ProviderNode::peerId() const { return p_->identity->peerId(); }

std::vector<net::Multiaddr> ProviderNode::listenAddrs() const {
  return p_->host->listenAddrsWithId();
}

const NodeInfo& ProviderNode::info() const { return p_->info; }

void ProviderNode::onRelayedAddrs(std::function<void(const std::vector<net::Multiaddr>&)> f) {
  p_->relays->onChange(std::move(f));
}

std::vector<net::Multiaddr> ProviderNode::relayedAddrs() const { return p_->relays->addrs(); }

bool ProviderNode::tunnelConnected() const {
  return p_->gateways && p_->gateways->connected() == p_->gateways->size();
}

std::size_t ProviderNode::tunnelsConnected() const {
  return p_->gateways ? p_->gateways->connected() : 0;
}

const admin::AdminServer* ProviderNode::adminServer() const {
  return p_->observer ? &p_->observer->server() : nullptr;
}

asio::awaitable<void> ProviderNode::shutdown() {
  auto& p = *p_;
  if (p.observer) co_await p.observer->shutdown();
  p.scheduler->shutdown();
  // Containers keep running across a provider restart (they are re-adopted) unless the operator
  // asked otherwise.
  if (p.cfg.stopOnExit) co_await p.scheduler->stopAll();
  if (p.gateways) co_await p.gateways->shutdown();
  p.relays->stop();
  if (p.mdns) p.mdns->stop();
  p.host->close();
  // Give GoAway frames a moment to flush.
  co_await net::sleepFor(std::chrono::milliseconds(200));
  co_await p.service->shutdown(std::chrono::milliseconds(200));
  co_await p.scheduler->shutdown(std::chrono::milliseconds(2000));
  co_await p.tasks.shutdown(std::chrono::milliseconds(200));
  // The host's per-stream handlers use the service and the tunnels: they end before the node
  // can be destroyed.
  co_await p.host->shutdown(std::chrono::milliseconds(200));
}

}  // namespace pc::provider
