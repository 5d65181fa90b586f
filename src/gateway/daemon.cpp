#include "gateway/daemon.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <toml++/toml.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "core/fs.hpp"
#include "core/units.hpp"
#include "crypto/identity.hpp"
#include "gateway/certs.hpp"
#include "gateway/http_proxy.hpp"
#include "gateway/routes.hpp"
#include "gateway/tls.hpp"
#include "net/tcp.hpp"
#include "trust/trust_store.hpp"

namespace pc::gateway {

namespace {
int startupError(const std::string& msg) {
  std::cerr << "error: " << msg << "\n";
  return 1;
}
}  // namespace

Result<void> GatewayConfig::validate() const {
  if (domain.empty() || domain.find('/') != std::string::npos ||
      domain.find(':') != std::string::npos) {
    return fail(Errc::kInvalidArgument, "domain: '" + domain + "' is not a DNS name");
  }
  if (tls != "off" && tls != "static" && tls != "acme") {
    return fail(Errc::kInvalidArgument, "tls = " + tls + ": expected off, static or acme");
  }
  if (tls == "static" && (certFile.empty() || keyFile.empty())) {
    return fail(Errc::kInvalidArgument, "tls = static needs cert and key (--cert, --key)");
  }
  if (tls == "acme") {
    if (acmeDirectory.rfind("https://", 0) != 0) {
      return fail(Errc::kInvalidArgument,
                  "tls = acme needs acme_directory (--acme-directory https://…/directory)");
    }
    if (!acme::parseChallengeType(acmeChallenge)) {
      return fail(Errc::kInvalidArgument,
                  "acme_challenge = " + acmeChallenge + ": expected http-01 or tls-alpn-01");
    }
    if (acmeMaxOrdersPerHour == 0) {
      return fail(Errc::kInvalidArgument, "acme_max_orders_per_hour must be at least 1");
    }
  }
  if (tls != "off" && httpsPort == 0) {
    return fail(Errc::kInvalidArgument, "tls = " + tls + " needs https_port (--https-port)");
  }
  if (ratePerIp < 0 || ratePerHost < 0) {
    return fail(Errc::kInvalidArgument, "rate limits must not be negative");
  }
  if (maxStreamsPerTunnel == 0) {
    return fail(Errc::kInvalidArgument, "max_streams_per_tunnel must be at least 1");
  }
  return {};
}

std::string GatewayConfig::urlFor(const std::string& deploymentId) const {
  const bool https = tls != "off";
  const std::uint16_t port = publicPort != 0 ? publicPort : (https ? httpsPort : httpPort);
  std::string url = (https ? "https://" : "http://") + deploymentId + "." + domain;
  if (port != (https ? 443 : 80)) url += ":" + std::to_string(port);
  return url + "/";
}

Result<void> applyToml(std::string_view text, std::string_view source, GatewayConfig& cfg) {
  toml::table t;
  try {
    t = toml::parse(text, source);
  } catch (const toml::parse_error& err) {
    return fail(Errc::kInvalidArgument, std::string(source) + ":" +
                                            std::to_string(err.source().begin.line) + ": " +
                                            std::string(err.description()));
  }
  for (const auto& kv : t) {
    const std::string key(kv.first.str());
    const toml::node& n = kv.second;
    const auto where =
        std::string(source) + ":" + std::to_string(n.source().begin.line) + ": " + key;
    auto str = [&](std::string& out) -> Result<void> {
      auto v = n.value<std::string>();
      if (!v) return fail(Errc::kInvalidArgument, where + ": expected a string");
      out = *v;
      return {};
    };
    auto num = [&](double& out) -> Result<void> {
      auto v = n.value<double>();
      if (!v || *v < 0) return fail(Errc::kInvalidArgument, where + ": expected a number ≥ 0");
      out = *v;
      return {};
    };
    auto port = [&](std::uint16_t& out) -> Result<void> {
      auto v = n.value<std::int64_t>();
      if (!v || *v < 0 || *v > 65535)
        return fail(Errc::kInvalidArgument, where + ": expected 0..65535");
      out = static_cast<std::uint16_t>(*v);
      return {};
    };
    auto dur = [&](std::chrono::seconds& out) -> Result<void> {
      std::string s;
      if (auto i = n.value<std::int64_t>()) {
        s = std::to_string(*i);
      } else if (auto r = str(s); !r) {
        return r;
      }
      auto d = units::parseDuration(s);
      if (!d) return fail(Errc::kInvalidArgument, where + ": " + d.error().message());
      out = std::chrono::duration_cast<std::chrono::seconds>(*d);
      return {};
    };
    Result<void> r;
    if (key == "domain") {
      r = str(cfg.domain);
    } else if (key == "bind") {
      r = str(cfg.bind);
    } else if (key == "http_port") {
      r = port(cfg.httpPort);
    } else if (key == "https_port") {
      r = port(cfg.httpsPort);
    } else if (key == "public_port") {
      r = port(cfg.publicPort);
    } else if (key == "tunnel_listen") {
      r = str(cfg.tunnelListen);
    } else if (key == "data_dir") {
      std::string d;
      r = str(d);
      cfg.dataDir = d;
    } else if (key == "tls") {
      r = str(cfg.tls);
    } else if (key == "cert") {
      r = str(cfg.certFile);
    } else if (key == "key") {
      r = str(cfg.keyFile);
    } else if (key == "acme_directory") {
      r = str(cfg.acmeDirectory);
    } else if (key == "acme_email") {
      r = str(cfg.acmeEmail);
    } else if (key == "acme_ca") {
      r = str(cfg.acmeCa);
    } else if (key == "acme_challenge") {
      r = str(cfg.acmeChallenge);
    } else if (key == "acme_renew_before") {
      r = dur(cfg.acmeRenewBefore);
    } else if (key == "acme_max_orders_per_hour") {
      auto v = n.value<std::int64_t>();
      if (!v || *v < 1 || *v > 100000) {
        return fail(Errc::kInvalidArgument, where + ": expected 1..100000");
      }
      cfg.acmeMaxOrdersPerHour = static_cast<std::size_t>(*v);
    } else if (key == "rate_per_ip") {
      r = num(cfg.ratePerIp);
    } else if (key == "burst_per_ip") {
      r = num(cfg.burstPerIp);
    } else if (key == "rate_per_host") {
      r = num(cfg.ratePerHost);
    } else if (key == "burst_per_host") {
      r = num(cfg.burstPerHost);
    } else if (key == "header_timeout") {
      r = dur(cfg.headerTimeout);
    } else if (key == "idle_timeout") {
      r = dur(cfg.idleTimeout);
    } else if (key == "max_streams_per_tunnel") {
      auto v = n.value<std::int64_t>();
      if (!v || *v < 1 || *v > 65536) {
        return fail(Errc::kInvalidArgument, where + ": expected 1..65536");
      }
      cfg.maxStreamsPerTunnel = static_cast<std::size_t>(*v);
    } else if (key == "max_connections_per_ip") {
      auto v = n.value<std::int64_t>();
      if (!v || *v < 0 || *v > 1000000) {
        return fail(Errc::kInvalidArgument, where + ": expected 0 (unlimited)..1000000");
      }
      cfg.maxConnectionsPerIp = static_cast<std::size_t>(*v);
    } else {
      return fail(Errc::kInvalidArgument, where + ": unknown key");
    }
    if (!r) return r.error();
  }
  return {};
}

Result<void> applyTomlFile(const std::filesystem::path& path, GatewayConfig& cfg) {
  auto text = fs::readFile(path, 1 << 20);
  if (!text) return text.error();
  return applyToml(*text, path.string(), cfg);
}

int runGateway(const GatewayConfig& config, const std::string& version) {
  // The effective settings: the HTTP port becomes the bound one (port 0 picks a free port).
  GatewayConfig cfg = config;
  spdlog::set_default_logger(spdlog::stderr_color_mt("peergateway"));
  spdlog::flush_on(spdlog::level::info);
  if (auto r = cfg.validate(); !r) return startupError(r.error().message());
  if (auto r = fs::ensurePrivateDir(cfg.dataDir); !r) return startupError(r.error().message());
  const auto keyPath = cfg.dataDir / "identity.key";
  auto identity = crypto::Identity::loadOrCreate(keyPath);
  if (!identity) return startupError(identity.error().message());
  // Only allowlisted providers get a tunnel; the list reloads live, a corrupt one stops start-up.
  auto allow = trust::TrustGate::open(cfg.dataDir / kProvidersFile);
  if (!allow) return startupError(allow.error().message());

  net::asio::io_context io(1);
  net::HostConfig hostCfg;
  hostCfg.agentVersion = "peergateway/" + version;
  // Room for every proxy stream a tunnel may carry (the per-tunnel bound is enforced above it).
  hostCfg.yamux.maxStreams = cfg.maxStreamsPerTunnel + 64;
  auto host = net::Host::create(io.get_executor(), *identity, hostCfg);
  host->setGater([&allow](const crypto::PeerId& p) { return allow->isTrusted(p); });
  host->onReject([](const std::optional<crypto::PeerId>& p, const net::Multiaddr& remote,
                    const std::string& why) {
    spdlog::warn("security: refused {} from {}: {}", p ? p->toBase58() : "unauthenticated peer",
                 remote.toString(), why);
  });
  RouteTable routes;
  TunnelServiceOptions tunnelOpts;
  tunnelOpts.urlFor = [&cfg](const std::string& id) { return cfg.urlFor(id); };

  FrontOptions front;
  front.domain = cfg.domain;
  front.headerTimeout = cfg.headerTimeout;
  front.idleTimeout = cfg.idleTimeout;
  front.maxStreamsPerTunnel = cfg.maxStreamsPerTunnel;
  front.maxConnectionsPerIp = cfg.maxConnectionsPerIp;
  front.ratePerIp = cfg.ratePerIp;
  front.burstPerIp = cfg.burstPerIp;
  front.ratePerHost = cfg.ratePerHost;
  front.burstPerHost = cfg.burstPerHost;
  std::shared_ptr<TlsContext> tlsCtx;
  std::shared_ptr<CertManager> certs;
  if (cfg.tls == "static") {
    auto t = TlsContext::fromFiles(cfg.certFile, cfg.keyFile);
    if (!t) return startupError(t.error().message());
    tlsCtx = *t;
  } else if (cfg.tls == "acme") {
    CertManagerOptions co;
    co.dir = cfg.dataDir / "acme";
    co.acme.directoryUrl = cfg.acmeDirectory;
    co.acme.email = cfg.acmeEmail;
    co.acme.caFile = cfg.acmeCa;
    co.challenge = *acme::parseChallengeType(cfg.acmeChallenge);
    co.renewBefore = std::chrono::duration_cast<std::chrono::hours>(cfg.acmeRenewBefore);
    co.maxOrdersPerHour = cfg.acmeMaxOrdersPerHour;
    co.mayIssue = [&routes, &cfg](const std::string& name) {
      const std::string dep = deploymentFromHost(name, cfg.domain);
      return !dep.empty() && routes.find(dep) != nullptr;
    };
    auto m = CertManager::open(io.get_executor(), co);
    if (!m) return startupError(m.error().message());
    certs = *m;
    certs->start();
    tlsCtx = TlsContext::withResolver(certs);
    front.acmeHttp01 = [certs](std::string_view token) { return certs->http01(token); };
    // A new route gets its certificate right away, so its first visitor does not wait.
    tunnelOpts.onRoute = [certs, &cfg](const std::string& dep) {
      certs->ensure(dep + "." + cfg.domain);
    };
  }
  if (tlsCtx) front.redirectHttpsPort = cfg.publicPort != 0 ? cfg.publicPort : cfg.httpsPort;
  auto tunnels = std::make_shared<TunnelService>(routes, tunnelOpts);
  tunnels->install(*host);
  auto http = std::make_shared<HttpFront>(host, routes, front);

  auto tunnelAddr = net::Multiaddr::parse(cfg.tunnelListen);
  if (!tunnelAddr) return startupError("tunnel listen: " + tunnelAddr.error().message());
  if (auto r = host->listen(*tunnelAddr); !r) return startupError(r.error().message());
  const bool v6 = cfg.bind.find(':') != std::string::npos;
  auto httpAddr = net::Multiaddr::parse((v6 ? "/ip6/" : "/ip4/") + cfg.bind + "/tcp/" +
                                        std::to_string(cfg.httpPort));
  if (!httpAddr) return startupError("bind: " + httpAddr.error().message());
  auto httpBound = http->listen(*httpAddr);
  if (!httpBound) return startupError(httpBound.error().message());
  if (auto t = httpBound->tcpTarget()) cfg.httpPort = t->port;
  std::optional<net::Multiaddr> httpsBound;
  if (tlsCtx) {
    auto a = net::Multiaddr::parse((v6 ? "/ip6/" : "/ip4/") + cfg.bind + "/tcp/" +
                                   std::to_string(cfg.httpsPort));
    if (!a) return startupError("bind: " + a.error().message());
    auto b = http->listenTls(*a, tlsCtx);
    if (!b) return startupError(b.error().message());
    httpsBound = *b;
  }

  std::cout << "peergateway " << version << "\nPeer ID: " << identity->peerId().toBase58()
            << std::endl;
  for (const auto& a : host->listenAddrs()) {
    std::cout << "Tunnel listening on " << a.withPeerId(identity->peerId()).toString() << std::endl;
  }
  std::cout << "HTTP listening on " << httpBound->toString() << "; deployments at "
            << cfg.urlFor("<deployment-id>") << std::endl;
  if (httpsBound) {
    std::cout << "HTTPS listening on " << httpsBound->toString() << " (HTTP redirects to it)"
              << std::endl;
  }
  std::cout << "Allowed providers: " << allow->store().peers().size()
            << " (manage with: peergateway providers add <peer-id> --data-dir "
            << cfg.dataDir.string() << ")" << std::endl;

  net::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("received signal {}, shutting down", sig);
    http->close();
    host->close();
    if (certs) certs->stop();
    auto t = std::make_shared<net::asio::steady_timer>(io, std::chrono::milliseconds(200));
    t->async_wait([&io, t](auto) { io.stop(); });
  });
  io.run();
  std::cout << "peergateway stopped" << std::endl;
  return 0;
}

}  // namespace pc::gateway
