#pragma once
/// The gateway's public HTTP/1.1 front: parses each request with Beast's parser (16 KiB header
/// limit, strict framing), routes it by Host (`<deployment-id>.<domain>`) to the provider tunnel
/// that serves it, and relays it over one `/peercompute/proxy/1.0.0` stream per public
/// connection. Bodies stream in both directions (never buffered whole; chunked is re-chunked),
/// WebSocket and other upgrades become a raw two-way pipe after the 101, X-Forwarded-For/-Proto/
/// -Host are set by the gateway (client-sent values are replaced: the gateway is the edge),
/// hop-by-hop headers are removed. Unknown host → 404, provider unreachable → 502, over a rate
/// limit → 429 with Retry-After, a tunnel at its stream limit with no idle keep-alive connection
/// to close → 503 (classify.hpp decides, answer.hpp renders). A client that does not finish its
/// request header within the header timeout (slowloris) is cut off.
///
/// The stages of one connection live in http_connection.hpp; this class owns what they share:
/// listeners, connection counts, rate limits, idle keep-alive connections, and the task group
/// every coroutine of the front runs in. Runs on the host's executor (one thread): no locking.
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "gateway/front_options.hpp"
#include "gateway/names.hpp"
#include "gateway/rate_limit.hpp"
#include "gateway/tls.hpp"
#include "net/host.hpp"
#include "net/task_group.hpp"
#include "tunnel/route_table.hpp"

namespace pc::gateway {

class HttpConnection;

/// Who a public connection comes from and how it arrived.
struct PublicClient {
  std::string ip;               ///< the client's address as text (IPv4-mapped shown as IPv4)
  std::string addr;             ///< address and port, for logs
  std::string scheme;           ///< "http" or "https"
  std::uint16_t localPort = 0;  ///< the gateway port it connected to
  std::string sni;              ///< the TLS server name it asked for ("" on plain HTTP or none)
};

class HttpFront : public std::enable_shared_from_this<HttpFront> {
 public:
  /// `routes` must outlive the front and its connections.
  HttpFront(std::shared_ptr<net::Host> host, tunnel::RouteTable& routes, FrontOptions options);
  /// Starts accepting plain HTTP on `addr` (a /ip4|ip6/…/tcp/… multiaddr; port 0 allowed) and
  /// returns the bound address.
  Result<net::Multiaddr> listen(const net::Multiaddr& addr);
  /// Same for HTTPS with `tls` (handshake bounded by the header timeout).
  Result<net::Multiaddr> listenTls(const net::Multiaddr& addr, std::shared_ptr<TlsContext> tls);
  /// Serves one public connection (plain or TLS) until it ends.
  /// Cancel-safe: terminal cancellation ends the connection (its proxy stream is reset and its
  /// counts given back); the request body pump it may have started is a task of the front.
  net::asio::awaitable<void> serve(std::shared_ptr<net::ByteStream> client, PublicClient who);
  /// Stops accepting: closes the listeners. Connections being served go on (see shutdown()).
  void close();
  /// Closes the listeners, then ends every task of the front — accept loops, connections, body
  /// pumps: total cancellation first, terminal after `grace` (an idle keep-alive connection
  /// holds on until then) — and returns once all have ended. Not cancel-safe: the owner's last
  /// step, run to completion.
  net::asio::awaitable<void> shutdown(std::chrono::milliseconds grace);
  [[nodiscard]] std::size_t connections() const { return connections_; }
  [[nodiscard]] const FrontOptions& options() const { return options_; }

 private:
  friend class HttpConnection;
  class IpSlot;
  class IdleMark;
  /// Runs `task()` (returning an awaitable<void>) in the front's task group. The callable holds
  /// the front until after the group has forgotten the task, so the group outlives its tasks.
  template <class F>
  void spawn(F task);
  net::asio::awaitable<void> acceptLoop(std::shared_ptr<net::tcp::acceptor> acceptor,
                                        std::shared_ptr<TlsContext> tls);
  /// Whether an accepted socket from `block` is within the per-address bound (logged if not).
  bool admitAddress(const std::string& block);
  net::asio::awaitable<void> serveTls(net::tcp::socket socket, std::shared_ptr<TlsContext> tls,
                                      PublicClient who);
  /// Serves an accepted connection (TLS when `tls`) while holding its address's slot.
  net::asio::awaitable<void> serveAccepted(net::tcp::socket socket, std::shared_ptr<TlsContext> tls,
                                           PublicClient who, IpSlot slot);
  /// Which idle keep-alive connections may be closed to make room for a claim.
  enum class IdleScope { kTunnel, kClient, kDeployment };
  /// Closes the oldest idle keep-alive connection holding a stream of `claim`'s tunnel (and,
  /// by `scope`, of its client block or deployment); false if none.
  bool evictIdle(const tunnel::StreamClaim& claim, IdleScope scope);

  std::shared_ptr<net::Host> host_;
  tunnel::RouteTable& routes_;
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
  struct IdleEntry {
    std::string clientBlock;
    std::string deploymentId;
    std::function<void()> evict;  ///< emptied once called
  };
  std::map<const net::Connection*, std::list<IdleEntry>> idleByTunnel_;
  bool closed_ = false;
  net::TaskGroup tasks_;  ///< last: its tasks use the members above
};

template <class F>
void HttpFront::spawn(F task) {
  // The callable holds the front (and so the group) until the task has completed.
  tasks_.spawn([self = shared_from_this(), task = std::move(task)]() { return task(); });
}

}  // namespace pc::gateway
