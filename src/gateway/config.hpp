#pragma once
/// peergateway's configuration: defaults, then `<data-dir>/gateway.toml` (or `--config FILE`),
/// then command-line flags — each later source overrides the earlier one key by key. Unknown
/// keys are errors.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "admin/settings.hpp"
#include "core/error.hpp"

namespace pc::config {
class Binder;
}

namespace pc::gateway {

struct GatewayConfig {
  std::string domain = "localhost";  ///< deployments are <deployment-id>.<domain>
  std::string bind = "0.0.0.0";      ///< address of the public listeners
  std::uint16_t httpPort = 8080;
  std::uint16_t httpsPort = 0;  ///< 0 = no HTTPS listener (TLS: see the gateway issue)
  std::string tunnelListen = "/ip4/0.0.0.0/tcp/8443";
  std::filesystem::path dataDir;
  std::string tls = "off";  ///< off | static | acme
  std::string certFile;
  std::string keyFile;
  std::string acmeDirectory;
  std::string acmeEmail;
  std::string acmeCa;  ///< CA (PEM) trusted for the ACME server (test CAs)
  /// Roots (PEM) a wildcard certificate from a peer gateway must chain to ("" = the system's).
  std::string acmeIssuerCa;
  /// http-01 | tls-alpn-01 (a certificate per host) | dns-01 (one wildcard; needs dns_listen)
  std::string acmeChallenge = "http-01";
  std::chrono::seconds acmeRenewBefore{30 * 24 * 3600};
  std::size_t acmeMaxOrdersPerHour = 20;
  /// One provider's share of the order budget (its deployments' names count against it).
  std::size_t acmeMaxOrdersPerProviderPerHour = 5;
  /// One developer's share, across every provider they deploy on (as the provider reports it).
  std::size_t acmeMaxOrdersPerRequesterPerHour = 3;
  double ratePerIp = 100;  ///< requests/s per client IP (0 = unlimited)
  double burstPerIp = 200;
  double ratePerHost = 1000;  ///< requests/s per deployment (0 = unlimited)
  double burstPerHost = 2000;
  std::chrono::seconds headerTimeout{10};
  std::chrono::seconds idleTimeout{120};
  /// A response write the client does not take for this long cuts the exchange.
  std::chrono::seconds clientWriteTimeout{60};
  std::size_t maxStreamsPerTunnel = 1024;
  std::size_t maxStreamsPerClient = 64;       ///< one address block's share of a tunnel
  std::size_t maxStreamsPerDeployment = 768;  ///< one deployment's share of its tunnel
  std::size_t maxConnectionsPerIp = 256;      ///< per client address (IPv6: per /64); 0 = unlimited
  std::size_t maxRoutesPerProvider = 256;     ///< deployments one provider may register
  /// Port shown in public URLs (0: the HTTP port; useful behind a port-forward).
  std::uint16_t publicPort = 0;
  /// Circuit Relay v2 (hop): reservations are for allowlisted providers only; anyone may
  /// connect through one.
  std::size_t relayMaxReservations = 128;
  std::chrono::seconds relayReservationTtl{3600};
  std::size_t relayMaxCircuitsPerReservation = 16;
  std::size_t relayMaxCircuitsPerSource = 8;
  double relayNewCircuitsPerSecond = 32;
  std::chrono::seconds relayCircuitDurationLimit{0};  ///< per circuit; 0 = off
  std::uint64_t relayCircuitDataLimit = 0;            ///< bytes per circuit and direction; 0 = off
  /// Libp2p connections at once from one IP of peers that are not providers (developers
  /// dialling through the relay); 0 = unlimited.
  std::size_t relayMaxConnectionsPerIp = 8;
  /// Authoritative DNS for `domain` (src/dns): "ADDR:PORT" for UDP and TCP; empty = off.
  std::string dnsListen;
  /// The gateway's public addresses, IPv4 and IPv6: the A/AAAA answers for every name in the
  /// zone. Needed with dns_listen.
  std::vector<std::string> publicIps;
  /// NS names of the zone (default: ns1.<domain>).
  std::vector<std::string> dnsNs;
  std::chrono::seconds dnsTtl{60};  ///< A/AAAA/TXT TTL: short, so a changed address set spreads
  /// The response budget per source block (IPv4 /24, IPv6 /56) over UDP: responses a second,
  /// the burst, and 1 in `dnsResponseSlip` responses over it sent truncated (0: all dropped).
  double dnsResponsesPerSecond = 50;
  double dnsResponseBurst = 100;
  std::size_t dnsResponseSlip = 2;
  /// The other gateways of this domain, each "<multiaddr>/p2p/<peer id>" of its tunnel
  /// listener (peers.hpp). Needs dns_listen; each of them must list this gateway too.
  std::vector<std::string> peerGateways;
  /// A heartbeat to each peer gateway this often; one that misses `peerMissedHeartbeats` in a
  /// row is dead and leaves the DNS answers.
  std::chrono::milliseconds peerHeartbeatInterval{1000};
  std::uint32_t peerMissedHeartbeats = 3;
  /// A/AAAA/TXT TTL while peer gateways are set (instead of dns_ttl when shorter): how long a
  /// resolver may keep naming a gateway that died.
  std::chrono::seconds peerDnsTtl{5};
  /// The admin listener (/metrics, the dashboard) and the log format (admin/settings.hpp).
  admin::AdminSettings admin;

  [[nodiscard]] Result<void> validate() const;
  [[nodiscard]] Result<void> validateDns() const;
  [[nodiscard]] Result<void> validatePeers() const;
  /// The TTL the zone's A/AAAA/TXT answers carry (dns_ttl, or peer_dns_ttl with peers).
  [[nodiscard]] std::chrono::seconds effectiveDnsTtl() const;
  /// "http://<id>.<domain>:<port>/" (no port when it is the scheme's default).
  [[nodiscard]] std::string urlFor(const std::string& deploymentId) const;
};

/// Declares every setting of `cfg` on `b` (TOML keys: domain, bind, http_port, https_port,
/// public_port, tunnel_listen, data_dir, tls, cert, key, acme_directory, acme_email, acme_ca,
/// acme_issuer_ca, acme_challenge, acme_renew_before, acme_max_orders_per_hour, rate_per_ip,
/// burst_per_ip, rate_per_host, burst_per_host, header_timeout, idle_timeout, client_write_timeout,
/// max_streams_per_tunnel, max_streams_per_client, max_streams_per_deployment,
/// max_connections_per_ip, max_routes_per_provider, relay_max_reservations,
/// relay_reservation_ttl, relay_max_circuits_per_reservation, relay_max_circuits_per_source,
/// relay_new_circuits_per_second, relay_circuit_duration_limit, relay_circuit_data_limit,
/// relay_max_connections_per_ip, dns_listen, public_ip, dns_ns, dns_ttl,
/// dns_responses_per_second, dns_response_burst, dns_response_slip, peer_gateways,
/// peer_heartbeat_interval, peer_missed_heartbeats, peer_dns_ttl, admin_listen, admin_token_file,
/// log_format), most with a flag of the same name (peer_gateways: --peer-gateway, repeatable).
void bindSettings(config::Binder& b, GatewayConfig& cfg);

/// Applies TOML text over `cfg` (tests). Errors name the file, line and key.
Result<void> applyToml(std::string_view text, std::string_view source, GatewayConfig& cfg);

/// The allowlist file of providers in a gateway data dir.
inline constexpr const char* kProvidersFile = "allowed_providers.json";

}  // namespace pc::gateway
