#pragma once
/// The settings of the gateway's public HTTP front (http_proxy.hpp), on their own so that the
/// pure request stages (classify.hpp) read them without the front's I/O.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace pc::gateway {

struct FrontOptions {
  std::string domain = "localhost";  ///< routes `<dep-id>.<domain>`
  /// When non-zero, plain-HTTP requests are answered with a 308 redirect to https on this port.
  std::uint16_t redirectHttpsPort = 0;
  std::chrono::milliseconds headerTimeout{10000};
  std::chrono::milliseconds idleTimeout{120000};
  std::size_t maxHeaderBytes = 16 * 1024;
  std::size_t maxStreamsPerTunnel = 1024;
  std::size_t maxConnections = 16384;  ///< public connections at once (file descriptors)
  /// Public connections at once from one client address (an IPv6 client counts per /64, the
  /// block one host usually holds); 0 = unlimited. Keeps one host from taking every descriptor
  /// of `maxConnections`.
  std::size_t maxConnectionsPerIp = 1024;
  double ratePerIp = 0;  ///< requests/s per client IP (IPv6: per /64); 0 = unlimited
  double burstPerIp = 0;
  double ratePerHost = 0;  ///< requests/s per deployment; 0 = unlimited
  double burstPerHost = 0;
  /// ACME HTTP-01: the key authorization for a token under /.well-known/acme-challenge/, served
  /// on plain HTTP before any redirect or routing (the CA validates over port 80). A lookup
  /// without I/O: the request classifier calls it.
  std::function<std::optional<std::string>(std::string_view token)> acmeHttp01;
};

}  // namespace pc::gateway
