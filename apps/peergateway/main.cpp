#include <CLI/CLI.hpp>
#include <iostream>

#include "core/fs.hpp"
#include "core/units.hpp"
#include "gateway/daemon.hpp"
#include "trust/trust_store.hpp"

namespace {

int fail(const std::string& msg) {
  std::cerr << "error: " << msg << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "peergateway — public HTTP ingress for Peer Compute deployments, over reverse tunnels\n\n"
      "Settings come from the defaults, then <data-dir>/gateway.toml (or --config), then flags."};
  app.set_version_flag("--version", std::string("peergateway ") + PC_VERSION);
  pc::gateway::GatewayConfig cfg;
  std::string dataDir, configFile, domain, bind, tunnelListen, tls, cert, key, acmeDir, acmeEmail,
      acmeCa, acmeChallenge, headerTimeout, idleTimeout;
  int httpPort = -1, httpsPort = -1, publicPort = -1;
  double rateIp = -1, burstIp = -1, rateHost = -1, burstHost = -1;
  std::size_t maxStreams = 0;
  long long maxPerIp = -1;
  app.add_option("--data-dir", dataDir,
                 "State directory: identity, allowed_providers.json, gateway.toml "
                 "(default: $PEERCOMPUTE_HOME or ~/.peercompute)");
  app.add_option("--config", configFile, "TOML config file");
  app.add_option("--domain", domain,
                 "Deployments are served at <deployment-id>.<domain> (default localhost)");
  app.add_option("--bind", bind, "Address of the public listeners (default 0.0.0.0)");
  app.add_option("--http-port", httpPort, "Public HTTP port (default 8080; 0 picks one)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--https-port", httpsPort, "Public HTTPS port (with --tls static|acme)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--public-port", publicPort, "Port shown in public URLs (default: the HTTP port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--tunnel-listen", tunnelListen,
                 "Multiaddr providers dial (default /ip4/0.0.0.0/tcp/8443)");
  app.add_option("--tls", tls,
                 "off | static (one certificate, e.g. a wildcard) | acme (a certificate per "
                 "deployment host, issued on demand)");
  app.add_option("--cert", cert, "Certificate chain (PEM) for --tls static");
  app.add_option("--key", key, "Private key (PEM) for --tls static");
  app.add_option("--acme-directory", acmeDir,
                 "ACME directory URL for --tls acme (e.g. "
                 "https://acme-v02.api.letsencrypt.org/directory)");
  app.add_option("--acme-email", acmeEmail, "ACME account e-mail");
  app.add_option("--acme-ca", acmeCa,
                 "CA certificate (PEM) to trust for the ACME server itself (test CAs; default: "
                 "the system store)");
  app.add_option("--acme-challenge", acmeChallenge,
                 "http-01 (validated on the HTTP port, default) | tls-alpn-01 (on the HTTPS port)");
  app.add_option("--rate-per-ip", rateIp, "Requests/s per client IP (default 100; 0 = unlimited)");
  app.add_option("--burst-per-ip", burstIp, "Burst per client IP (default 200)");
  app.add_option("--rate-per-host", rateHost,
                 "Requests/s per deployment (default 1000; 0 = unlimited)");
  app.add_option("--burst-per-host", burstHost, "Burst per deployment (default 2000)");
  app.add_option("--header-timeout", headerTimeout, "Time to send a request header (default 10s)");
  app.add_option("--idle-timeout", idleTimeout, "Idle connection timeout (default 120s)");
  app.add_option("--max-streams-per-tunnel", maxStreams,
                 "Public connections at once per provider tunnel (default 1024)");
  app.add_option("--max-connections-per-ip", maxPerIp,
                 "Public connections at once from one client address, IPv6 per /64 (default "
                 "1024; 0 = unlimited)")
      ->check(CLI::Range(0LL, 1000000LL));

  auto* providers = app.add_subcommand("providers", "Manage the providers allowed to open tunnels");
  std::string provId, provName, provOut = "table";
  auto* add = providers->add_subcommand("add", "Allow a provider (its Peer ID)");
  add->add_option("peer-id", provId, "Provider Peer ID")->required();
  add->add_option("--name", provName, "A name for it");
  auto* rm = providers->add_subcommand("remove", "Disallow a provider (its routes go at once)");
  rm->alias("rm");
  rm->add_option("provider", provId, "Peer ID or name")->required();
  auto* ls = providers->add_subcommand("list", "List allowed providers");
  ls->alias("ls");
  providers->require_subcommand(1);
  CLI11_PARSE(app, argc, argv);

  cfg.dataDir = dataDir.empty() ? pc::fs::defaultHome() : std::filesystem::path(dataDir);
  const auto listPath = cfg.dataDir / pc::gateway::kProvidersFile;
  if (providers->parsed()) {
    if (add->parsed()) {
      auto id = pc::crypto::PeerId::parse(provId);
      if (!id) return fail("'" + provId + "': " + id.error().message());
      pc::trust::TrustedPeer p{
          *id,
          provName.empty() ? "provider-" + provId.substr(provId.size() - 6) : provName,
          {},
          pc::trust::nowRfc3339()};
      auto r = pc::trust::TrustStore::modify(listPath,
                                             [&](pc::trust::TrustStore& s) { return s.add(p); });
      if (!r) return fail(r.error().message());
      std::cout << "Allowed provider " << id->toBase58() << " as '" << p.name << "'\n";
      return 0;
    }
    if (rm->parsed()) {
      auto r = pc::trust::TrustStore::modify(listPath,
                                             [&](pc::trust::TrustStore& s) -> pc::Result<void> {
                                               auto removed = s.remove(provId);
                                               if (!removed) return removed.error();
                                               return {};
                                             });
      if (!r) return fail(r.error().message());
      std::cout << "Removed provider " << provId << "\n";
      return 0;
    }
    auto s = pc::trust::TrustStore::load(listPath);
    if (!s) return fail(s.error().message());
    for (const auto& p : s->peers())
      std::cout << p.name << "\t" << p.id.toBase58() << "\t" << p.addedAt << "\n";
    if (s->peers().empty())
      std::cout << "no providers allowed yet: peergateway providers add <peer-id>\n";
    return 0;
  }

  const std::filesystem::path cfgPath =
      configFile.empty() ? cfg.dataDir / "gateway.toml" : std::filesystem::path(configFile);
  if (!configFile.empty() || std::filesystem::exists(cfgPath)) {
    if (auto r = pc::gateway::applyTomlFile(cfgPath, cfg); !r) return fail(r.error().message());
    if (!dataDir.empty()) cfg.dataDir = dataDir;
  }
  if (!domain.empty()) cfg.domain = domain;
  if (!bind.empty()) cfg.bind = bind;
  if (httpPort >= 0) cfg.httpPort = static_cast<std::uint16_t>(httpPort);
  if (httpsPort >= 0) cfg.httpsPort = static_cast<std::uint16_t>(httpsPort);
  if (publicPort >= 0) cfg.publicPort = static_cast<std::uint16_t>(publicPort);
  if (!tunnelListen.empty()) cfg.tunnelListen = tunnelListen;
  if (!tls.empty()) cfg.tls = tls;
  if (!cert.empty()) cfg.certFile = cert;
  if (!key.empty()) cfg.keyFile = key;
  if (!acmeDir.empty()) cfg.acmeDirectory = acmeDir;
  if (!acmeEmail.empty()) cfg.acmeEmail = acmeEmail;
  if (!acmeCa.empty()) cfg.acmeCa = acmeCa;
  if (!acmeChallenge.empty()) cfg.acmeChallenge = acmeChallenge;
  if (rateIp >= 0) cfg.ratePerIp = rateIp;
  if (burstIp >= 0) cfg.burstPerIp = burstIp;
  if (rateHost >= 0) cfg.ratePerHost = rateHost;
  if (burstHost >= 0) cfg.burstPerHost = burstHost;
  if (maxStreams > 0) cfg.maxStreamsPerTunnel = maxStreams;
  if (maxPerIp >= 0) cfg.maxConnectionsPerIp = static_cast<std::size_t>(maxPerIp);
  for (auto [text, out] :
       {std::pair{&headerTimeout, &cfg.headerTimeout}, std::pair{&idleTimeout, &cfg.idleTimeout}}) {
    if (text->empty()) continue;
    auto d = pc::units::parseDuration(*text);
    if (!d) return fail(d.error().message());
    *out = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  return pc::gateway::runGateway(cfg, PC_VERSION);
}
