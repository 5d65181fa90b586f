#include "gateway/node.hpp"

#include <spdlog/spdlog.h>

#include "core/fs.hpp"
#include "crypto/identity.hpp"
#include "dns/server.hpp"
#include "gateway/allowlist_enforcer.hpp"
#include "gateway/certs.hpp"
#include "gateway/http_proxy.hpp"
#include "gateway/names.hpp"
#include "gateway/observer.hpp"
#include "gateway/peers.hpp"
#include "gateway/tls.hpp"
#include "net/host.hpp"
#include "net/identify/identify.hpp"
#include "net/relay/hop_service.hpp"
#include "trust/trust_store.hpp"
#include "tunnel/route_table.hpp"
#include "tunnel/tunnel_service.hpp"

namespace pc::gateway {

namespace asio = net::asio;

/// Member order is construction order; destruction runs backwards, so everything a part
/// refers to outlives it.
struct GatewayNode::Parts {
  explicit Parts(const asio::any_io_executor& e) : ex(e) {}
  asio::any_io_executor ex;
  GatewayConfig cfg;
  std::optional<crypto::Identity> identity;
  std::optional<trust::TrustGate> allow;
  std::shared_ptr<net::Host> host;
  std::shared_ptr<net::relay::HopService> hop;
  tunnel::RouteTable routes;
  std::shared_ptr<tunnel::TunnelService> tunnels;
  std::shared_ptr<AllowlistEnforcer> enforcer;
  std::shared_ptr<CertManager> certs;
  std::shared_ptr<TlsContext> tls;
  std::shared_ptr<HttpFront> front;
  net::Multiaddr httpAddr;
  std::optional<net::Multiaddr> httpsAddr;
  std::shared_ptr<dns::DnsServer> dns;
  std::shared_ptr<GatewayPeers> peers;        ///< with peer_gateways
  std::shared_ptr<GatewayMetrics> metrics;    ///< with admin_listen only
  std::shared_ptr<GatewayObserver> observer;  ///< the admin listener
};

namespace {

using Parts = GatewayNode::Parts;

Result<void> openDataDir(Parts& p) {
  if (auto r = fs::ensurePrivateDir(p.cfg.dataDir); !r) return r.error();
  auto identity = crypto::Identity::loadOrCreate(p.cfg.dataDir / "identity.key");
  if (!identity) return identity.error();
  p.identity = std::move(*identity);
  // Only allowlisted providers get a tunnel; the list reloads live, a corrupt one stops start-up.
  auto allow = trust::TrustGate::open(p.cfg.dataDir / kProvidersFile);
  if (!allow) return allow.error();
  p.allow.emplace(std::move(*allow));
  return {};
}

/// What a peer that is not an allowlisted provider may open: the relay's hop (to CONNECT
/// through a provider's reservation; its RESERVE is refused by the hop service), identify and
/// ping. Never the tunnel: a stranger must not register routes or take a reservation.
bool strangerMayOpen(std::string_view protocol) {
  return protocol == net::relay::kHopProtocol || protocol == net::identify::kProtocolId ||
         protocol == net::kPingProtocol;
}

/// Closes a new connection of a non-provider when its address block already holds
/// relay_max_connections_per_ip of them (stops one host from filling the gateway's connection
/// table with relay clients and locking providers out).
void limitStrangersPerIp(Parts& p, const std::shared_ptr<net::Connection>& conn) {
  const std::size_t max = p.cfg.relayMaxConnectionsPerIp;
  if (max == 0 || conn->isRelayed() || p.allow->isTrustedAsLoaded(conn->peer) ||
      (p.peers && p.peers->isListed(conn->peer))) {
    return;
  }
  const auto target = conn->remoteAddr.tcpTarget();
  if (!target) return;
  const std::string block = clientAddressBlock(target->host);
  std::size_t same = 0;
  for (const auto& c : p.host->connections()) {
    if (c == conn || c->isRelayed() || !c->isOpen() || p.allow->isTrustedAsLoaded(c->peer)) {
      continue;
    }
    if (auto t = c->remoteAddr.tcpTarget(); t && clientAddressBlock(t->host) == block) ++same;
  }
  if (same < max) return;
  spdlog::warn(
      "security: refused {} from {}: {} connections from its address already "
      "(relay_max_connections_per_ip = {})",
      conn->peer.toBase58(), conn->remoteAddr.toString(), same, max);
  if (conn->session) conn->session->close();
}

void makeHost(Parts& p, const std::string& version) {
  net::HostConfig hostCfg;
  hostCfg.agentVersion = "peergateway/" + version;
  // Room for every proxy stream a tunnel may carry (the per-tunnel bound is enforced above it).
  hostCfg.yamux.maxStreams = p.cfg.maxStreamsPerTunnel + 64;
  p.host = net::Host::create(p.ex, *p.identity, hostCfg);
  auto* allow = &*p.allow;
  // Every authenticated peer may connect (developers dial providers through the relay); what a
  // connection may open is decided per stream, by the allowlist.
  p.host->setGater([](const crypto::PeerId&) { return true; });
  p.host->setStreamGate([allow, &p](const net::Connection& c, std::string_view protocol) {
    // The gateway-peer protocol is for the listed peer gateways only (a stranger must not set
    // TXT values in our zone or be handed the certificate's key); they open nothing else a
    // stranger cannot.
    if (protocol == kGatewayPeerProtocol) return p.peers && p.peers->isListed(c.peer);
    return allow->isTrustedAsLoaded(c.peer) || strangerMayOpen(protocol);
  });
  p.host->onConnected(
      [&p](const std::shared_ptr<net::Connection>& c) { limitStrangersPerIp(p, c); });
  p.host->onReject([](const std::optional<crypto::PeerId>& peer, const net::Multiaddr& remote,
                      const std::string& why) {
    spdlog::warn("security: refused {} from {}: {}",
                 peer ? peer->toBase58() : "unauthenticated peer", remote.toString(), why);
  });
}

/// The Circuit Relay v2 hop service: reservations for allowlisted providers only.
void startRelay(Parts& p) {
  net::relay::HopServiceOptions o;
  o.limits.maxReservations = p.cfg.relayMaxReservations;
  o.limits.reservationTtl = p.cfg.relayReservationTtl;
  o.limits.maxCircuitsPerReservation = p.cfg.relayMaxCircuitsPerReservation;
  o.limits.maxCircuitsPerSource = p.cfg.relayMaxCircuitsPerSource;
  o.limits.newCircuitsPerSecond = p.cfg.relayNewCircuitsPerSecond;
  o.limits.newCircuitsBurst = std::max(1.0, 2 * p.cfg.relayNewCircuitsPerSecond);
  o.limits.circuitDurationSeconds =
      static_cast<std::uint32_t>(p.cfg.relayCircuitDurationLimit.count());
  o.limits.circuitDataBytes = p.cfg.relayCircuitDataLimit;
  auto* allow = &*p.allow;
  o.mayReserve = [allow](const crypto::PeerId& peer) { return allow->isTrusted(peer); };
  p.hop = std::make_shared<net::relay::HopService>(std::move(o));
  p.hop->install(p.host);
}

FrontOptions frontOptions(const GatewayConfig& cfg) {
  FrontOptions front;
  front.domain = cfg.domain;
  front.headerTimeout = cfg.headerTimeout;
  front.idleTimeout = cfg.idleTimeout;
  front.clientWriteTimeout = cfg.clientWriteTimeout;
  front.maxStreamsPerTunnel = cfg.maxStreamsPerTunnel;
  front.maxStreamsPerClient = cfg.maxStreamsPerClient;
  front.maxStreamsPerDeployment = cfg.maxStreamsPerDeployment;
  front.maxConnectionsPerIp = cfg.maxConnectionsPerIp;
  front.ratePerIp = cfg.ratePerIp;
  front.burstPerIp = cfg.burstPerIp;
  front.ratePerHost = cfg.ratePerHost;
  front.burstPerHost = cfg.burstPerHost;
  return front;
}

net::Task<void> awaitPeersTxt(std::weak_ptr<GatewayPeers> weak) {
  auto peers = weak.lock();
  if (!peers) co_return Result<void>{};
  auto confirmed = peers->awaitChallenge();
  co_return co_await std::move(confirmed);
}

/// dns-01 with peer gateways: ONE order per domain. The lowest live peer id orders (the others
/// defer), its TXT values go to every peer (any of the domain's name servers may be asked) and
/// are confirmed before the CA is told to look, and the new certificate goes to every peer.
void wirePeerCertificates(Parts& p, CertManagerOptions& co) {
  std::weak_ptr<GatewayPeers> weak = p.peers;
  auto publishOwn = std::move(co.publishTxt);
  co.publishTxt = [weak, publishOwn](const std::string& name,
                                     const std::vector<std::string>& values) -> Result<void> {
    if (auto r = publishOwn(name, values); !r) return r;
    if (auto peers = weak.lock()) peers->publishChallenge(name, values);
    return {};
  };
  auto withdrawOwn = std::move(co.withdrawTxt);
  co.withdrawTxt = [weak, withdrawOwn](const std::string& name) {
    withdrawOwn(name);
    if (auto peers = weak.lock()) peers->withdrawChallenge(name);
  };
  co.awaitTxt = [weak]() { return awaitPeersTxt(weak); };
  co.deferOrder = [weak]() -> std::optional<std::string> {
    auto peers = weak.lock();
    return peers ? peers->deferOrder() : std::nullopt;
  };
  co.deferRecheck = p.cfg.peerHeartbeatInterval;
  co.onWildcardIssued = [weak] {
    if (auto peers = weak.lock()) peers->shareCertificate();
  };
}

/// dns-01: one wildcard certificate, its challenge answered in the gateway's own zone (the DNS
/// server is started before this). The publisher holds the server weakly: an order still
/// unwinding at shutdown must not reach a server that is gone.
void wireDns01(Parts& p, CertManagerOptions& co) {
  co.wildcardDomain = p.cfg.domain;
  std::weak_ptr<dns::DnsServer> weak = p.dns;
  co.publishTxt = [weak](const std::string& name,
                         const std::vector<std::string>& values) -> Result<void> {
    auto d = weak.lock();
    if (!d) return fail(Errc::kInvalidArgument, "the gateway's DNS is not running");
    return d->zone().setChallenge(name, values);
  };
  co.withdrawTxt = [weak](const std::string& name) {
    if (auto d = weak.lock()) d->zone().clearChallenge(name);
  };
  if (p.peers) wirePeerCertificates(p, co);
}

/// ACME: a certificate per deployment host, ordered only for hosts that have a route — or, with
/// dns-01, one wildcard certificate for every host.
Result<void> startAcme(Parts& p, FrontOptions& front, tunnel::TunnelServiceOptions& tunnelOpts) {
  CertManagerOptions co;
  co.dir = p.cfg.dataDir / "acme";
  co.acme.directoryUrl = p.cfg.acmeDirectory;
  co.acme.email = p.cfg.acmeEmail;
  co.acme.caFile = p.cfg.acmeCa;
  co.issuerCaFile = p.cfg.acmeIssuerCa;
  co.challenge = *acme::parseChallengeType(p.cfg.acmeChallenge);
  co.renewBefore = p.cfg.acmeRenewBefore;
  co.maxOrdersPerHour = p.cfg.acmeMaxOrdersPerHour;
  co.mayIssue = [&p](const std::string& name) {
    const std::string dep = deploymentFromHost(name, p.cfg.domain);
    return !dep.empty() && p.routes.find(dep) != nullptr;
  };
  co.sharesOf = [&p](const std::string& name) {
    std::vector<OrderShare> shares;
    const auto* route = p.routes.find(deploymentFromHost(name, p.cfg.domain));
    if (route == nullptr) return shares;
    shares.push_back({"provider " + route->provider.toBase58(),
                      p.cfg.acmeMaxOrdersPerProviderPerHour,
                      "acme_max_orders_per_provider_per_hour"});
    if (!route->requester.empty()) {
      shares.push_back({"requester " + route->requester, p.cfg.acmeMaxOrdersPerRequesterPerHour,
                        "acme_max_orders_per_requester_per_hour"});
    }
    return shares;
  };
  if (co.challenge == acme::ChallengeType::kDns01) wireDns01(p, co);
  auto m = CertManager::open(p.ex, co);
  if (!m) return m.error();
  p.certs = *m;
  if (p.peers) p.peers->attachCertificates(p.certs);
  p.certs->start();
  p.tls = TlsContext::withResolver(p.certs);
  front.acmeHttp01 = [certs = p.certs](std::string_view token) { return certs->http01(token); };
  // New names are ordered at the first client handshake, not when their route registers: a
  // provider that cycles deployments spends no certificates nobody asked for. A route that comes
  // back renews its stored certificate if it is due.
  tunnelOpts.onRoute = [&p](const std::string& dep) {
    p.certs->renewIfDue(dep + "." + p.cfg.domain);
  };
  return {};
}

/// The multiaddr of a public listener on the configured bind address.
Result<net::Multiaddr> publicAddr(const GatewayConfig& cfg, std::uint16_t port) {
  const bool v6 = cfg.bind.find(':') != std::string::npos;
  auto a =
      net::Multiaddr::parse((v6 ? "/ip6/" : "/ip4/") + cfg.bind + "/tcp/" + std::to_string(port));
  if (!a) return a.error().context("bind");
  return a;
}

Result<void> listenAll(Parts& p) {
  auto tunnelAddr = net::Multiaddr::parse(p.cfg.tunnelListen);
  if (!tunnelAddr) return tunnelAddr.error().context("tunnel listen");
  if (auto r = p.host->listen(*tunnelAddr); !r) return r.error();
  auto httpAddr = publicAddr(p.cfg, p.cfg.httpPort);
  if (!httpAddr) return httpAddr.error();
  auto httpBound = p.front->listen(*httpAddr);
  if (!httpBound) return httpBound.error();
  p.httpAddr = *httpBound;
  // URLs show the bound port when port 0 was asked for.
  if (auto t = httpBound->tcpTarget()) p.cfg.httpPort = t->port;
  if (p.tls) {
    auto a = publicAddr(p.cfg, p.cfg.httpsPort);
    if (!a) return a.error();
    auto b = p.front->listenTls(*a, p.tls);
    if (!b) return b.error();
    p.httpsAddr = *b;
  }
  return {};
}

/// The authoritative DNS for the domain, when dns_listen is set (validate() checked the values).
Result<void> startDns(Parts& p) {
  if (p.cfg.dnsListen.empty()) return {};
  const auto serial =
      static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  auto zone = dns::Zone::create(
      dns::ZoneSettings{p.cfg.domain, p.cfg.dnsNs,
                        static_cast<std::uint32_t>(p.cfg.effectiveDnsTtl().count()), serial});
  if (!zone) return zone.error();
  auto addrs = dns::parseAddresses(p.cfg.publicIps);
  if (!addrs) return addrs.error().context("public_ip");
  if (auto r = zone->setAddresses(std::move(*addrs)); !r) return r.error().context("public_ip");
  auto listen = dns::parseListen(p.cfg.dnsListen);
  if (!listen) return listen.error().context("dns_listen");
  const dns::BudgetLimits budget{p.cfg.dnsResponsesPerSecond, p.cfg.dnsResponseBurst,
                                 static_cast<unsigned>(p.cfg.dnsResponseSlip)};
  auto server =
      dns::DnsServer::start(p.ex, *listen, std::make_shared<dns::Zone>(std::move(*zone)), budget);
  if (!server) return server.error();
  p.dns = std::move(*server);
  return {};
}

/// The other gateways of the domain (peer_gateways): their liveness in our DNS answers, and the
/// shared wildcard certificate (wired in startAcme). Needs the DNS (validate() checked).
Result<void> startPeers(Parts& p) {
  if (p.cfg.peerGateways.empty()) return {};
  GatewayPeersOptions o;
  o.domain = p.cfg.domain;
  for (const auto& text : p.cfg.peerGateways) {
    auto a = net::Multiaddr::parse(text);
    if (!a) return a.error().context("peer_gateways");
    o.peers.push_back(std::move(*a));
  }
  auto own = dns::parseAddresses(p.cfg.publicIps);
  if (!own) return own.error().context("public_ip");
  o.ownAddresses = std::move(*own);
  o.liveness = peer::LivenessSettings{p.cfg.peerHeartbeatInterval, p.cfg.peerMissedHeartbeats};
  o.ordersWildcard = p.cfg.tls == "acme" && p.cfg.acmeChallenge == "dns-01";
  auto peers = GatewayPeers::create(p.host, p.dns, std::move(o));
  if (!peers) return peers.error();
  p.peers = std::move(*peers);
  p.peers->install();
  return {};
}

/// The admin listener (observer.hpp), when admin_listen is set.
Result<void> startObserver(Parts& p, const std::string& version) {
  if (!p.metrics) return {};
  ObservedGateway seen{version,   p.identity->peerId(), &p.routes,     p.host.get(), p.hop.get(),
                       &*p.allow, p.front.get(),        p.certs.get(), p.dns.get()};
  auto o = GatewayObserver::start(p.ex, p.cfg.admin, p.metrics, std::move(seen));
  if (!o) return o.error();
  p.observer = std::move(*o);
  return {};
}

/// Closes the parts that exist (after a failed start, some do not).
void closeParts(Parts& p) {
  if (p.peers) p.peers->stop();
  if (p.observer) p.observer->close();
  if (p.dns) p.dns->close();
  if (p.front) p.front->close();
  if (p.host) p.host->close();
  if (p.certs) p.certs->stop();
  if (p.enforcer) p.enforcer->stop();
}

Result<void> startParts(Parts& p, const std::string& version) {
  if (auto r = p.cfg.validate(); !r) return r;
  if (auto r = openDataDir(p); !r) return r;
  makeHost(p, version);
  startRelay(p);
  tunnel::TunnelServiceOptions tunnelOpts;
  tunnelOpts.urlFor = [&p](const std::string& id) { return p.cfg.urlFor(id); };
  tunnelOpts.maxRoutesPerProvider = p.cfg.maxRoutesPerProvider;
  // A provider taken off the allowlist registers nothing more and is served no more, even in
  // the moment before the enforcer closes its connection.
  auto* allow = &*p.allow;
  tunnelOpts.isAllowed = [allow](const crypto::PeerId& peer) { return allow->isTrusted(peer); };
  FrontOptions front = frontOptions(p.cfg);
  front.providerAllowed = [allow](const crypto::PeerId& peer) {
    return allow->isTrustedAsLoaded(peer);  // reloaded by the enforcer each second
  };
  p.enforcer = std::make_shared<AllowlistEnforcer>(p.ex, *p.allow, *p.host, p.routes, p.hop.get());
  p.enforcer->start();
  // DNS before ACME: with dns-01 the certificate's challenge is answered in this zone.
  if (auto r = startDns(p); !r) return r;
  if (auto r = startPeers(p); !r) return r;
  if (p.cfg.tls == "static") {
    auto t = TlsContext::fromFiles(p.cfg.certFile, p.cfg.keyFile);
    if (!t) return t.error();
    p.tls = *t;
  } else if (p.cfg.tls == "acme") {
    if (auto r = startAcme(p, front, tunnelOpts); !r) return r;
  }
  if (p.tls) front.redirectHttpsPort = p.cfg.publicPort != 0 ? p.cfg.publicPort : p.cfg.httpsPort;
  p.tunnels = std::make_shared<tunnel::TunnelService>(p.routes, tunnelOpts);
  p.tunnels->install(*p.host);
  if (!p.cfg.admin.listen.empty()) front.metrics = p.metrics = makeGatewayMetrics();
  p.front = std::make_shared<HttpFront>(p.host, p.routes, front);
  if (auto r = listenAll(p); !r) return r;
  if (p.peers) p.peers->start();
  return startObserver(p, version);
}

}  // namespace

GatewayNode::GatewayNode(std::unique_ptr<Parts> parts) : p_(std::move(parts)) {}

GatewayNode::~GatewayNode() = default;

Result<std::unique_ptr<GatewayNode>> GatewayNode::start(const asio::any_io_executor& ex,
                                                        const GatewayConfig& cfg,
                                                        const std::string& version) {
  auto parts = std::make_unique<Parts>(ex);
  parts->cfg = cfg;
  if (auto r = startParts(*parts, version); !r) {
    closeParts(*parts);  // whatever started before the failure
    return r.error();
  }
  return std::unique_ptr<GatewayNode>(new GatewayNode(std::move(parts)));
}

const crypto::PeerId& GatewayNode::peerId() const { return p_->identity->peerId(); }

const GatewayConfig& GatewayNode::config() const { return p_->cfg; }

std::vector<net::Multiaddr> GatewayNode::tunnelAddrs() const {
  return p_->host->listenAddrsWithId();
}

const net::Multiaddr& GatewayNode::httpAddr() const { return p_->httpAddr; }

const std::optional<net::Multiaddr>& GatewayNode::httpsAddr() const { return p_->httpsAddr; }

std::size_t GatewayNode::allowedProviders() const { return p_->allow->store().peers().size(); }

const std::shared_ptr<net::Host>& GatewayNode::host() const { return p_->host; }

tunnel::RouteTable& GatewayNode::routeTable() const { return p_->routes; }

net::relay::HopService& GatewayNode::hop() const { return *p_->hop; }

const std::shared_ptr<dns::DnsServer>& GatewayNode::dns() const { return p_->dns; }

const std::shared_ptr<GatewayPeers>& GatewayNode::peers() const { return p_->peers; }
const admin::AdminServer* GatewayNode::adminServer() const {
  return p_->observer ? &p_->observer->server() : nullptr;
}

void GatewayNode::close() { closeParts(*p_); }

asio::awaitable<void> GatewayNode::shutdown() {
  close();
  // Connections in progress get a moment to finish; then they are cut.
  co_await p_->front->shutdown(std::chrono::milliseconds(500));
  if (p_->peers) co_await p_->peers->shutdown();
  if (p_->observer) co_await p_->observer->shutdown();
  if (p_->dns) co_await p_->dns->shutdown(std::chrono::milliseconds(100));
  // The host's per-stream handlers (a tunnel's control stream among them) use the route table
  // and the services: they end before the node can be destroyed.
  co_await p_->host->shutdown(std::chrono::milliseconds(100));
}

}  // namespace pc::gateway
