#pragma once
/// The mDNS discovery service on a UDP socket: answers `_p2p._udp.local PTR` queries with our
/// addresses, queries periodically, and keeps the bounded table of peers heard on the link.
///
/// One IPv4 socket bound to 0.0.0.0:5353 with SO_REUSEADDR and SO_REUSEPORT (so it shares the
/// port with other responders: avahi, js-libp2p, another peercomputed or peerctl), joined to
/// 224.0.0.251 on every interface that is up, multicast-capable and not loopback (re-scanned at
/// every query, so interfaces that appear later are joined). Queries and responses are sent on
/// each interface separately (IP_MULTICAST_IF), a response only on the interface the query came
/// from and only with that interface's addresses. IP_MULTICAST_LOOP is on: other processes on
/// this host hear us; our own responses are recognised (instance name, peer id) and ignored.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <boost/asio/ip/udp.hpp>

#include "net/asio.hpp"
#include "net/mdns/discovery.hpp"
#include "net/task_group.hpp"

namespace pc::net::mdns {

/// Queries from a source port other than 5353 are "legacy unicast" (RFC 6762 §6.7): answered
/// by unicast to that port, at most this many per second in total (a reflection bound).
inline constexpr int kMaxUnicastRepliesPerSecond = 16;
/// RFC 6762 §6: a record is multicast on an interface at most once per second; queries in
/// between are answered together when the second is over.
inline constexpr std::chrono::milliseconds kMinResponseInterval{1000};

struct ServiceConfig {
  std::string serviceName{kServiceName};
  std::uint16_t port = kPort;
  /// Answer queries with our addresses (peercomputed). Off for a node that only looks.
  bool respond = true;
  std::uint32_t ttl = kDefaultTtlSeconds;
  /// Re-query schedule: first query at once, then after firstInterval, doubling up to
  /// maxInterval (kept below the TTL so addresses are refreshed before they expire).
  std::chrono::milliseconds firstInterval{1000};
  std::chrono::milliseconds maxInterval{30000};
  /// When port 5353 cannot be shared: bind an ephemeral port instead and rely on legacy
  /// unicast answers (query-only; peerctl). Otherwise start() fails.
  bool ephemeralFallback = false;
  /// Peers that the table evicts last (trusted peers).
  std::function<bool(const crypto::PeerId&)> preferred;
};

class Service : public std::enable_shared_from_this<Service> {
 public:
  /// Our addresses (with or without /p2p; wildcards are fine): asked at every response.
  using AddrSource = std::function<std::vector<Multiaddr>()>;
  using PeerListener = std::function<void(const DiscoveredPeer&)>;

  /// Opens the socket, joins the group and starts the receive loop and the query schedule on
  /// `ex`. Errors: kUnreachable naming the system call that failed (bind, socket options).
  static Result<std::shared_ptr<Service>> start(asio::any_io_executor ex, crypto::PeerId self,
                                                AddrSource addrs, ServiceConfig config = {});
  ~Service();

  /// Told when a peer or one of its addresses is new (not on every refresh).
  void onPeer(PeerListener listener) { onPeer_ = std::move(listener); }
  /// Peers currently known (expired addresses dropped), sorted by id.
  std::vector<DiscoveredPeer> peers();
  std::optional<DiscoveredPeer> find(const crypto::PeerId& id);
  /// Waits until `id` is known or `timeout` passes. Cancel-safe (returns what is known).
  asio::awaitable<std::optional<DiscoveredPeer>> waitFor(const crypto::PeerId& id,
                                                         std::chrono::milliseconds timeout);
  /// Sends a query on every interface now.
  void queryNow();
  /// Interfaces joined (0: no multicast-capable interface is up).
  std::size_t interfaceCount() const { return ifaces_.size(); }
  std::uint16_t localPort() const { return localPort_; }
  const std::string& peerName() const { return peerName_; }
  /// Sends a goodbye (TTL 0) if we answered, closes the socket, ends the loops. Idempotent.
  void stop();
  /// stop(), then waits until the loops have ended. Not cancel-safe (the owner's last step).
  asio::awaitable<void> shutdown();

 private:
  struct Iface {
    unsigned index = 0;
    std::string name;
    std::vector<asio::ip::address> addrs;
    /// (network address, prefix length) of each address, for on-link checks.
    std::vector<std::pair<asio::ip::address, unsigned>> nets;
    std::chrono::steady_clock::time_point lastResponse{};
    bool responsePending = false;
  };
  Service(asio::any_io_executor ex, crypto::PeerId self, AddrSource addrs, ServiceConfig config);
  Result<void> open();
  void scanInterfaces();
  asio::awaitable<void> receiveLoop();
  asio::awaitable<void> queryLoop();
  void handlePacket(BytesView packet, const asio::ip::udp::endpoint& from, unsigned ifindex);
  void answer(Iface& iface, const Message& query, const asio::ip::udp::endpoint& from);
  void sendResponse(unsigned ifindex, std::uint32_t ttl);
  std::vector<Multiaddr> announceable(const Iface& iface) const;
  void sendOn(const Iface& iface, BytesView packet, const asio::ip::udp::endpoint& to);
  Iface* ifaceByIndex(unsigned index);

  asio::any_io_executor ex_;
  crypto::PeerId self_;
  AddrSource addrs_;
  ServiceConfig config_;
  Name service_;
  std::string peerName_;
  asio::ip::udp::socket socket_;
  std::uint16_t localPort_ = 0;
  std::vector<Iface> ifaces_;
  PeerTable table_;
  PeerListener onPeer_;
  Signal changed_;
  asio::steady_timer queryTimer_;
  int unicastBudget_ = kMaxUnicastRepliesPerSecond;
  std::chrono::steady_clock::time_point unicastWindow_{};
  bool answeredOnce_ = false;
  bool stopped_ = false;
  TaskGroup tasks_;  ///< the receive loop and the query schedule
};

/// True when `addr` lies in one of `nets` ((network, prefix length) pairs). Exposed for tests.
bool onLink(const asio::ip::address& addr,
            const std::vector<std::pair<asio::ip::address, unsigned>>& nets);

}  // namespace pc::net::mdns
