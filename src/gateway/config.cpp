#include "gateway/config.hpp"

#include <algorithm>
#include <limits>

#include "admin/listen.hpp"
#include "config/binder.hpp"
#include "core/ascii.hpp"
#include "core/units.hpp"
#include "dns/server.hpp"
#include "gateway/acme.hpp"
#include "gateway/peer_codec.hpp"
#include "net/multiaddr.hpp"

namespace pc::gateway {

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
      return fail(Errc::kInvalidArgument, "acme_challenge = " + acmeChallenge +
                                              ": expected http-01, tls-alpn-01 or dns-01");
    }
    // dns-01: the certificate for *.<domain> and <domain> is validated through this gateway's
    // own zone, so the zone must be served and the domain be a real one.
    if (acmeChallenge == "dns-01" && (dnsListen.empty() || !acme::isValidHostName(domain))) {
      return fail(Errc::kInvalidArgument,
                  "acme_challenge = dns-01 needs dns_listen (--dns-listen ADDR:PORT) and domain "
                  "(--domain, the zone this gateway's DNS serves; '" +
                      domain + "' is not one)");
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
  if (relayReservationTtl.count() <= 0) {
    return fail(Errc::kInvalidArgument, "relay_reservation_ttl must be positive");
  }
  if (relayCircuitDurationLimit.count() < 0 ||
      relayCircuitDurationLimit.count() > std::numeric_limits<std::uint32_t>::max()) {
    return fail(Errc::kInvalidArgument, "relay_circuit_duration_limit is out of range");
  }
  if (auto r = validateDns(); !r) return r;
  if (auto r = validatePeers(); !r) return r;
  if (auto r = admin.validate(); !r) return r;
  // The admin pages are never served on a public listener (admin/access.hpp).
  if (auto ep = admin::parseListen(admin.listen);
      ep && ep->port() != 0 && (ep->port() == httpPort || ep->port() == httpsPort)) {
    return fail(Errc::kInvalidArgument,
                "admin_listen must not use the public HTTP(S) port " + std::to_string(ep->port()));
  }
  if (clientWriteTimeout.count() <= 0 || idleTimeout.count() <= 0) {
    return fail(Errc::kInvalidArgument, "idle_timeout and client_write_timeout must be positive");
  }
  return {};
}

Result<void> GatewayConfig::validateDns() const {
  if (dnsListen.empty()) {
    if (!publicIps.empty() || !dnsNs.empty()) {
      return fail(Errc::kInvalidArgument, "public_ip and dns_ns need dns_listen (--dns-listen)");
    }
    return {};
  }
  if (auto r = dns::parseListen(dnsListen); !r) return r.error().context("dns_listen");
  if (publicIps.empty()) {
    return fail(Errc::kInvalidArgument,
                "dns_listen needs the gateway's public addresses (--public-ip, repeatable)");
  }
  if (auto r = dns::parseAddresses(publicIps); !r) return r.error().context("public_ip");
  if (dnsTtl.count() < 0 || dnsTtl.count() > 86400) {
    return fail(Errc::kInvalidArgument, "dns_ttl must be 0 to 86400 seconds");
  }
  if (auto z = dns::Zone::create(dns::ZoneSettings{domain, dnsNs, 0, 1}); !z) return z.error();
  return {};
}

Result<void> GatewayConfig::validatePeers() const {
  if (peerGateways.empty()) return {};
  // The domain travels in every heartbeat, whose codec takes host names only: a domain it
  // cannot carry would leave the peers without heartbeats (and each other for dead).
  if (!acme::isValidHostName(lowerAscii(domain))) {
    return fail(Errc::kInvalidArgument,
                "peer_gateways needs a domain that is a DNS host name (letters, digits, '-' and "
                "'.', at most 253 characters): '" +
                    domain + "'");
  }
  // The gateways of a domain find each other's liveness through their DNS answers: without
  // the DNS there is nothing to share.
  if (dnsListen.empty()) {
    return fail(Errc::kInvalidArgument,
                "peer_gateways needs dns_listen (--dns-listen ADDR:PORT) and public_ip: the "
                "gateways of a domain share its DNS answers");
  }
  // The domain's DNS sends a CA's validation to any of the gateways: only DNS-01 answers are
  // shared among them (an HTTP-01 or TLS-ALPN-01 answer sits at the gateway that ordered).
  if (tls == "acme" && acmeChallenge != "dns-01") {
    return fail(Errc::kInvalidArgument,
                "peer_gateways with tls = acme needs acme_challenge = dns-01 (--acme-challenge "
                "dns-01): the CA may reach any gateway of the domain, and only DNS-01 answers are "
                "shared");
  }
  if (peerGateways.size() > peer::kMaxPeerGateways) {
    return fail(Errc::kInvalidArgument,
                "peer_gateways: at most " + std::to_string(peer::kMaxPeerGateways) + " peers");
  }
  if (publicIps.size() > peer::kMaxAddressesPerGateway) {
    return fail(Errc::kInvalidArgument, "public_ip: at most " +
                                            std::to_string(peer::kMaxAddressesPerGateway) +
                                            " addresses per gateway with peer_gateways");
  }
  std::vector<std::string> seen;
  for (const auto& text : peerGateways) {
    auto a = net::Multiaddr::parse(text);
    if (!a) return a.error().context("peer_gateways: " + text);
    auto id = a->peerId();
    if (!id || !a->tcpTarget()) {
      return fail(Errc::kInvalidArgument, "peer_gateways: " + text +
                                              " must be a peer gateway's tunnel address ending "
                                              "in /p2p/<peer id>");
    }
    if (std::find(seen.begin(), seen.end(), id->toBase58()) != seen.end()) {
      return fail(Errc::kInvalidArgument, "peer_gateways: " + id->toBase58() + " listed twice");
    }
    seen.push_back(id->toBase58());
  }
  // The range a heartbeat can announce (peers judge our silence by it).
  if (peerHeartbeatInterval < std::chrono::milliseconds(peer::kMinHeartbeatMs) ||
      peerHeartbeatInterval > std::chrono::milliseconds(peer::kMaxHeartbeatMs)) {
    return fail(Errc::kInvalidArgument, "peer_heartbeat_interval must be 10ms to 60s");
  }
  if (peerDnsTtl.count() < 0 || peerDnsTtl.count() > 3600) {
    return fail(Errc::kInvalidArgument, "peer_dns_ttl must be 0 to 3600 seconds");
  }
  return {};
}

std::chrono::seconds GatewayConfig::effectiveDnsTtl() const {
  return peerGateways.empty() ? dnsTtl : std::min(dnsTtl, peerDnsTtl);
}

std::string GatewayConfig::urlFor(const std::string& deploymentId) const {
  const bool https = tls != "off";
  const std::uint16_t port = publicPort != 0 ? publicPort : (https ? httpsPort : httpPort);
  std::string url = (https ? "https://" : "http://") + deploymentId + "." + domain;
  if (port != (https ? 443 : 80)) url += ":" + std::to_string(port);
  return url + "/";
}

namespace {

void bindRelaySettings(config::Binder& b, GatewayConfig& cfg) {
  using config::integer;
  using config::number;
  using config::seconds;
  b.value("relay_max_reservations", "--relay-max-reservations",
          "Relay reservations held at once, one per provider (default 128)",
          integer(cfg.relayMaxReservations, 1, 1000000));
  b.value("relay_reservation_ttl", "--relay-reservation-ttl",
          "A relay reservation lasts this long unless refreshed (default 1h)",
          seconds(cfg.relayReservationTtl));
  b.value("relay_max_circuits_per_reservation", "--relay-max-circuits-per-reservation",
          "Relayed connections at once to one provider (default 16)",
          integer(cfg.relayMaxCircuitsPerReservation, 1, 1000000));
  b.value("relay_max_circuits_per_source", "--relay-max-circuits-per-source",
          "Relayed connections at once from one peer (default 8)",
          integer(cfg.relayMaxCircuitsPerSource, 1, 1000000));
  b.value("relay_new_circuits_per_second", "--relay-new-circuits-per-second",
          "Relayed connections opened a second, gateway-wide (default 32)",
          number(cfg.relayNewCircuitsPerSecond, 0.001));
  b.value("relay_circuit_duration_limit", "--relay-circuit-duration-limit",
          "Reset a relayed connection after this long (default 0 = off)",
          seconds(cfg.relayCircuitDurationLimit));
  b.value("relay_circuit_data_limit", "--relay-circuit-data-limit",
          "Reset a relayed connection after this many bytes in one direction (default 0 = off)",
          config::bytes(cfg.relayCircuitDataLimit));
  b.value("relay_max_connections_per_ip", "--relay-max-connections-per-ip",
          "Libp2p connections at once from one IP of peers that are not providers (default 8; "
          "0 = unlimited)",
          integer(cfg.relayMaxConnectionsPerIp, 0, 1000000));
}

void bindDnsSettings(config::Binder& b, GatewayConfig& cfg) {
  using config::integer;
  using config::number;
  b.text("dns_listen", "--dns-listen",
         "Serve authoritative DNS for --domain on ADDR:PORT, UDP and TCP (default off)",
         cfg.dnsListen);
  b.list("public_ip", "--public-ip",
         "A public address of this gateway, IPv4 or IPv6 (repeatable): the A/AAAA answers for "
         "the domain and every name under it",
         cfg.publicIps);
  b.list("dns_ns", "--dns-ns", "NS names of the zone (repeatable; default ns1.<domain>)",
         cfg.dnsNs);
  b.value("dns_ttl", "--dns-ttl", "TTL of the A/AAAA/TXT answers (default 60s)",
          config::seconds(cfg.dnsTtl));
  b.value("dns_responses_per_second", "--dns-responses-per-second",
          "UDP responses a second to one source block, IPv4 /24 or IPv6 /56 (default 50)",
          number(cfg.dnsResponsesPerSecond, 0.001));
  b.value("dns_response_burst", "--dns-response-burst",
          "Burst of UDP responses to one source block (default 100)",
          number(cfg.dnsResponseBurst, 1));
  b.value("dns_response_slip", "--dns-response-slip",
          "Over the budget, 1 in this many responses is sent truncated so real clients retry "
          "over TCP (default 2; 0 = drop all)",
          integer(cfg.dnsResponseSlip, 0, 100));
}

void bindPeerSettings(config::Binder& b, GatewayConfig& cfg) {
  b.list("peer_gateways", "--peer-gateway",
         "Another gateway of this domain, <tunnel multiaddr>/p2p/<peer id> (repeatable; it must "
         "list this gateway too): their DNS answers name every live one, and with --tls acme "
         "--acme-challenge dns-01 they share one certificate",
         cfg.peerGateways);
  b.value("peer_heartbeat_interval", "--peer-heartbeat-interval",
          "Heartbeat to each peer gateway this often (default 1s)",
          [&cfg](std::string_view text) -> Result<void> {
            auto d = units::parseDuration(text);
            if (!d) return d.error();
            cfg.peerHeartbeatInterval = *d;
            return {};
          });
  b.value("peer_missed_heartbeats", "--peer-missed-heartbeats",
          "A peer gateway that misses this many heartbeats is dead and leaves the DNS answers "
          "(default 3)",
          config::integer(cfg.peerMissedHeartbeats, 2, 100));
  b.value("peer_dns_ttl", "--peer-dns-ttl",
          "TTL of the A/AAAA answers with peer gateways, if shorter than dns_ttl (default 5s)",
          config::seconds(cfg.peerDnsTtl));
}

}  // namespace

void bindSettings(config::Binder& b, GatewayConfig& cfg) {
  using config::integer;
  using config::number;
  using config::port;
  using config::seconds;
  b.path("data_dir", "--data-dir",
         "State directory: identity, allowed_providers.json, gateway.toml "
         "(default: $PEERCOMPUTE_HOME or ~/.peercompute)",
         cfg.dataDir);
  b.text("domain", "--domain",
         "Deployments are served at <deployment-id>.<domain> (default localhost)", cfg.domain);
  b.text("bind", "--bind", "Address of the public listeners (default 0.0.0.0)", cfg.bind);
  b.value("http_port", "--http-port", "Public HTTP port (default 8080; 0 picks one)",
          port(cfg.httpPort));
  b.value("https_port", "--https-port", "Public HTTPS port (with --tls static|acme)",
          port(cfg.httpsPort));
  b.value("public_port", "--public-port", "Port shown in public URLs (default: the HTTP port)",
          port(cfg.publicPort));
  b.text("tunnel_listen", "--tunnel-listen",
         "Multiaddr providers dial (default /ip4/0.0.0.0/tcp/8443)", cfg.tunnelListen);
  b.text("tls", "--tls",
         "off | static (one certificate, e.g. a wildcard) | acme (from an ACME CA: a certificate "
         "per deployment host issued on demand, or one wildcard with --acme-challenge dns-01)",
         cfg.tls);
  b.text("cert", "--cert", "Certificate chain (PEM) for --tls static", cfg.certFile);
  b.text("key", "--key", "Private key (PEM) for --tls static", cfg.keyFile);
  b.text("acme_directory", "--acme-directory",
         "ACME directory URL for --tls acme (e.g. "
         "https://acme-v02.api.letsencrypt.org/directory)",
         cfg.acmeDirectory);
  b.text("acme_email", "--acme-email", "ACME account e-mail", cfg.acmeEmail);
  b.text("acme_ca", "--acme-ca",
         "CA certificate (PEM) to trust for the ACME server itself (test CAs; default: the "
         "system store)",
         cfg.acmeCa);
  b.text("acme_issuer_ca", "--acme-issuer-ca",
         "Root certificates (PEM) a wildcard certificate received from a peer gateway must "
         "chain to (a test CA's; default: the system store)",
         cfg.acmeIssuerCa);
  b.text("acme_challenge", "--acme-challenge",
         "http-01 (validated on the HTTP port, default) | tls-alpn-01 (on the HTTPS port), both "
         "a certificate per host | dns-01 (one certificate for *.<domain> and <domain>, "
         "validated in this gateway's DNS; needs --dns-listen)",
         cfg.acmeChallenge);
  b.value("acme_renew_before", "", "", seconds(cfg.acmeRenewBefore));
  b.value("acme_max_orders_per_hour", "", "", integer(cfg.acmeMaxOrdersPerHour, 1, 100000));
  b.value("acme_max_orders_per_provider_per_hour", "", "",
          integer(cfg.acmeMaxOrdersPerProviderPerHour, 1, 100000));
  b.value("acme_max_orders_per_requester_per_hour", "", "",
          integer(cfg.acmeMaxOrdersPerRequesterPerHour, 1, 100000));
  b.value("rate_per_ip", "--rate-per-ip", "Requests/s per client IP (default 100; 0 = unlimited)",
          number(cfg.ratePerIp, 0));
  b.value("burst_per_ip", "--burst-per-ip", "Burst per client IP (default 200)",
          number(cfg.burstPerIp, 0));
  b.value("rate_per_host", "--rate-per-host",
          "Requests/s per deployment (default 1000; 0 = unlimited)", number(cfg.ratePerHost, 0));
  b.value("burst_per_host", "--burst-per-host", "Burst per deployment (default 2000)",
          number(cfg.burstPerHost, 0));
  b.value("header_timeout", "--header-timeout", "Time to send a request header (default 10s)",
          seconds(cfg.headerTimeout));
  b.value("idle_timeout", "--idle-timeout", "Idle connection timeout (default 120s)",
          seconds(cfg.idleTimeout));
  b.value("client_write_timeout", "--client-write-timeout",
          "Cut a client that takes none of its response for this long (default 60s)",
          seconds(cfg.clientWriteTimeout));
  b.value("max_streams_per_tunnel", "--max-streams-per-tunnel",
          "Public connections at once per provider tunnel (default 1024)",
          integer(cfg.maxStreamsPerTunnel, 1, 65536));
  b.value("max_streams_per_client", "--max-streams-per-client",
          "Of those, at most this many (and a quarter of the tunnel) for one client address "
          "(default 64)",
          integer(cfg.maxStreamsPerClient, 1, 65536));
  b.value("max_streams_per_deployment", "--max-streams-per-deployment",
          "Of those, at most this many (and three quarters of the tunnel) for one deployment "
          "(default 768)",
          integer(cfg.maxStreamsPerDeployment, 1, 65536));
  b.value("max_connections_per_ip", "--max-connections-per-ip",
          "Public connections at once from one client address, IPv6 per /64 (default 256; 0 = "
          "unlimited)",
          integer(cfg.maxConnectionsPerIp, 0, 1000000));
  b.value("max_routes_per_provider", "--max-routes-per-provider",
          "Deployments one provider may have served at once (default 256)",
          integer(cfg.maxRoutesPerProvider, 1, 1000000));
  bindRelaySettings(b, cfg);
  bindDnsSettings(b, cfg);
  bindPeerSettings(b, cfg);
  admin::bindAdminSettings(b, cfg.admin);
}

Result<void> applyToml(std::string_view text, std::string_view source, GatewayConfig& cfg) {
  config::Binder b;
  bindSettings(b, cfg);
  return b.applyToml(text, source);
}

}  // namespace pc::gateway
