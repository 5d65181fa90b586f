#pragma once
/// The gateway's public HTTP/1.1 front: parses each request with Beast's parser (16 KiB header
/// limit, strict framing), routes it by Host (`<deployment-id>.<domain>`) to the provider tunnel
/// that serves it, and relays it over one `/peercompute/proxy/1.0.0` stream per public
/// connection. Bodies stream in both directions (never buffered whole; chunked is re-chunked),
/// WebSocket and other upgrades become a raw two-way pipe after the 101, X-Forwarded-For/-Proto/
/// -Host are set by the gateway (client-sent values are replaced: the gateway is the edge),
/// hop-by-hop headers are removed. Unknown host → 404, provider unreachable → 502, over a rate
/// limit → 429 with Retry-After, a tunnel at its stream limit with no idle keep-alive connection
/// to close → 503. A client that does not
/// finish its request header within the header timeout (slowloris) is cut off.
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "gateway/rate_limit.hpp"
#include "gateway/routes.hpp"
#include "gateway/tls.hpp"
#include "net/host.hpp"

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
  /// on plain HTTP before any redirect or routing (the CA validates over port 80).
  std::function<std::optional<std::string>(std::string_view token)> acmeHttp01;
};

class HttpFront : public std::enable_shared_from_this<HttpFront> {
 public:
  HttpFront(std::shared_ptr<net::Host> host, RouteTable& routes, FrontOptions options);
  /// Starts accepting plain HTTP on `addr` (a /ip4|ip6/…/tcp/… multiaddr; port 0 allowed) and
  /// returns the bound address.
  Result<net::Multiaddr> listen(const net::Multiaddr& addr);
  /// Same for HTTPS with `tls` (handshake bounded by the header timeout).
  Result<net::Multiaddr> listenTls(const net::Multiaddr& addr, std::shared_ptr<TlsContext> tls);
  /// Serves one public connection (plain or TLS) until it ends. `scheme` is "http" or "https".
  net::asio::awaitable<void> serve(std::shared_ptr<net::ByteStream> client, std::string clientIp,
                                   std::string clientAddr, std::string scheme);
  void close();
  [[nodiscard]] std::size_t connections() const { return connections_; }
  [[nodiscard]] const FrontOptions& options() const { return options_; }

 private:
  struct Exchange;
  class IpSlot;
  class IdleMark;
  net::asio::awaitable<void> acceptLoop(std::shared_ptr<net::tcp::acceptor> acceptor,
                                        std::shared_ptr<TlsContext> tls);
  net::asio::awaitable<void> serveTls(net::tcp::socket socket, std::shared_ptr<TlsContext> tls,
                                      std::string clientIp, std::string clientAddr);
  /// Serves an accepted connection (TLS when `tls`) while holding its address's slot.
  net::asio::awaitable<void> serveAccepted(net::tcp::socket socket, std::shared_ptr<TlsContext> tls,
                                           std::string clientIp, std::string clientAddr,
                                           IpSlot slot);
  std::shared_ptr<net::Host> host_;
  RouteTable& routes_;
  FrontOptions options_;
  RateLimiter perIp_;
  RateLimiter perHost_;
  std::vector<std::shared_ptr<net::tcp::acceptor>> acceptors_;
  std::size_t connections_ = 0;
  std::unordered_map<std::string, std::size_t> perIpConnections_;  ///< by address block
  /// Keep-alive connections idle between requests while holding a proxy stream, oldest first,
  /// per tunnel; each entry gives its stream back and closes the client. A request that finds
  /// its tunnel at the stream bound closes the oldest of these rather than answering 503 (an
  /// idle keep-alive connection may be closed at any time; clients reconnect).
  std::map<const net::Connection*, std::list<std::function<void()>>> idleByTunnel_;
  bool evictIdle(const net::Connection* tunnel);
  bool closed_ = false;
};

/// The block a client address counts in for per-client limits (connections, requests/s): the
/// address itself for IPv4 (an IPv4-mapped IPv6 address counts as its IPv4 address), its /64 for
/// IPv6 — one host usually holds a whole /64, so counting single addresses would let it multiply
/// every per-client limit by 2^64. Anything unparsable is its own block.
std::string clientAddressBlock(const std::string& ip);

/// The deployment id a Host header names under `domain` ("dep-x.localhost:8080" → "dep-x"), or
/// empty when it names none. Case-insensitive; the port is ignored.
std::string deploymentFromHost(std::string_view host, std::string_view domain);

}  // namespace pc::gateway
