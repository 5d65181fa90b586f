#pragma once
/// The settings of the gateway's public HTTP front (http_proxy.hpp), on their own so that the
/// pure request stages (classify.hpp) read them without the front's I/O.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/peer_id.hpp"

namespace pc::gateway {

class GatewayMetrics;

struct FrontOptions {
  std::string domain = "localhost";  ///< routes `<dep-id>.<domain>`
  /// When non-zero, plain-HTTP requests are answered with a 308 redirect to https on this port.
  std::uint16_t redirectHttpsPort = 0;
  std::chrono::milliseconds headerTimeout{10000};
  /// Nothing moved for this long in an exchange (waiting for the response, a silent body or
  /// upgraded connection), or between requests of a keep-alive connection: cut.
  std::chrono::milliseconds idleTimeout{120000};
  /// A write to the client that makes no progress for this long cuts the exchange: a client
  /// that asks for a large body and never reads would otherwise hold its tunnel stream for
  /// ever. (A write is one 64 KiB chunk: the slowest client kept reads ~1 KiB/s at 60 s.)
  std::chrono::milliseconds clientWriteTimeout{60000};
  std::size_t maxHeaderBytes = 16 * 1024;
  /// Proxy streams at once on one provider tunnel (the provider's own bound is similar).
  std::size_t maxStreamsPerTunnel = 1024;
  /// Fair shares of a tunnel's streams: one client address block (IPv6: /64) holds at most
  /// this many and a quarter of maxStreamsPerTunnel, so one host cannot starve a provider;
  /// one deployment holds at most maxStreamsPerDeployment and three quarters of it, so a
  /// busy (or attacked) deployment leaves room to the provider's others. See streamShares().
  std::size_t maxStreamsPerClient = 64;
  std::size_t maxStreamsPerDeployment = 768;
  std::size_t maxConnections = 16384;  ///< public connections at once (file descriptors)
  /// Public connections at once from one client address (an IPv6 client counts per /64, the
  /// block one host usually holds); 0 = unlimited. Keeps one host from taking every descriptor
  /// of `maxConnections`.
  std::size_t maxConnectionsPerIp = 256;
  double ratePerIp = 0;  ///< requests/s per client IP (IPv6: per /64); 0 = unlimited
  double burstPerIp = 0;
  double ratePerHost = 0;  ///< requests/s per deployment; 0 = unlimited
  double burstPerHost = 0;
  /// ACME HTTP-01: the key authorization for a token under /.well-known/acme-challenge/, served
  /// on plain HTTP before any redirect or routing (the CA validates over port 80). A lookup
  /// without I/O: the request classifier calls it.
  std::function<std::optional<std::string>(std::string_view token)> acmeHttp01;
  /// Whether a provider is still on the allowlist (a lookup without I/O); empty allows all.
  std::function<bool(const crypto::PeerId&)> providerAllowed;
  /// Where the front counts requests, bytes and refusals (metrics.hpp); null counts nothing.
  std::shared_ptr<GatewayMetrics> metrics;
};

/// The effective per-client and per-deployment shares of one tunnel's streams (each at least 1).
struct StreamShares {
  std::size_t perTunnel;
  std::size_t perClient;
  std::size_t perDeployment;
};
inline StreamShares streamShares(const FrontOptions& o) {
  const std::size_t t = o.maxStreamsPerTunnel;
  const auto atLeastOne = [](std::size_t n) { return n == 0 ? std::size_t{1} : n; };
  return {t, atLeastOne(std::min(o.maxStreamsPerClient, t / 4)),
          atLeastOne(std::min(o.maxStreamsPerDeployment, t * 3 / 4))};
}

}  // namespace pc::gateway
