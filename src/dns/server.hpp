#pragma once
/// DnsServer: serves a Zone over UDP and TCP on one address (RFC 1035 §4.2, RFC 7766). UDP
/// responses are charged to the source block's ResponseBudget (reflection/amplification); TCP,
/// which a forged source cannot complete, is bounded by connection counts and an idle timeout
/// instead. The answers themselves come from Zone::respond (pure, tested and fuzzed alone).
///
/// Threading: everything runs on the executor given to start() (one thread); the Zone is read
/// there and must be changed there only.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "core/event_budget.hpp"
#include "dns/response_budget.hpp"
#include "dns/udp_batch.hpp"
#include "dns/zone.hpp"
#include "net/asio.hpp"
#include "net/task_group.hpp"

namespace pc::dns {

/// TCP: connections at once, per source block (the response budget's IPv4 /24 or IPv6 /56, so
/// rotating addresses within a site gains nothing), how long one may sit between messages
/// (RFC 7766 §6.2.3 advises seconds, not minutes), and queries per connection (a client keeping
/// its connections busy still gives its slots back). Each bound stops one client holding the
/// sockets every resolver needs, those the UDP slip sends to TCP included.
inline constexpr std::size_t kMaxTcpConnections = 256;
inline constexpr std::size_t kMaxTcpConnectionsPerSource = 8;
inline constexpr std::chrono::seconds kTcpIdleTimeout{10};
inline constexpr std::size_t kMaxTcpQueriesPerConnection = 100;
static_assert(kMaxTcpConnectionsPerSource <= kMaxTcpConnections);
/// Log lines a second about sources over budget or refused connections.
inline constexpr unsigned kDnsLogLinesPerSecond = 2;

/// Counters (tests, benchmarks).
struct ServerStats {
  std::uint64_t udpQueries = 0;
  std::uint64_t udpAnswered = 0;
  std::uint64_t udpSlipped = 0;     ///< over budget: sent as TC=1
  std::uint64_t udpOverBudget = 0;  ///< over budget: dropped
  std::uint64_t tcpConnections = 0;
  std::uint64_t tcpRefused = 0;  ///< over a connection bound
  std::uint64_t tcpQueries = 0;
  std::array<std::uint64_t, kOutcomeCount> udpOutcomes{};  ///< by Outcome (zone.hpp)
  std::array<std::uint64_t, kOutcomeCount> tcpOutcomes{};
};

/// "127.0.0.1:53", "[::1]:5353" → an endpoint. Errors name the text.
Result<boost::asio::ip::udp::endpoint> parseListen(std::string_view text);
/// IPv4 and IPv6 literals → the A/AAAA set. Errors name the first bad one or too many.
Result<Addresses> parseAddresses(const std::vector<std::string>& ips);

class DnsServer : public std::enable_shared_from_this<DnsServer> {
 public:
  /// Binds UDP and TCP on `listen` (port 0: one ephemeral port, the same for both) and starts
  /// serving `zone`. Errors: the address is taken or not ours.
  static Result<std::shared_ptr<DnsServer>> start(const net::asio::any_io_executor& ex,
                                                  const boost::asio::ip::udp::endpoint& listen,
                                                  std::shared_ptr<Zone> zone, BudgetLimits budget);
  DnsServer(const net::asio::any_io_executor& ex, std::shared_ptr<Zone> zone, BudgetLimits budget);

  /// The bound address (UDP and TCP share it).
  [[nodiscard]] boost::asio::ip::udp::endpoint endpoint() const { return endpoint_; }
  [[nodiscard]] const ServerStats& stats() const { return stats_; }
  [[nodiscard]] Zone& zone() const { return *zone_; }

  /// Closes the sockets (no wait).
  void close();
  /// close(), then ends every task (TCP connections get `grace`). Not cancel-safe: run it to
  /// completion before dropping the server.
  net::asio::awaitable<void> shutdown(std::chrono::milliseconds grace);

 private:
  class SourceSlot;
  Result<void> bind(const boost::asio::ip::udp::endpoint& listen);
  Result<void> bindOnce(const boost::asio::ip::udp::endpoint& listen);
  net::asio::awaitable<void> udpLoop();
  /// The response to one datagram (empty: send nothing), charged to its source's budget.
  Bytes answerDatagram(BytesView query, const boost::asio::ip::udp::endpoint& from);
  net::asio::awaitable<void> acceptLoop();
  net::asio::awaitable<void> serveTcp(std::shared_ptr<net::tcp::socket> socket,
                                      std::shared_ptr<SourceSlot> slot);
  void logOverBudget(const boost::asio::ip::address& source);

  net::asio::any_io_executor ex_;
  std::shared_ptr<Zone> zone_;
  ResponseBudget budget_;
  boost::asio::ip::udp::socket udp_;
  net::tcp::acceptor tcp_;
  boost::asio::ip::udp::endpoint endpoint_;
  bool tcpPortTaken_ = false;  ///< the last bind found the UDP port taken for TCP
  std::map<ResponseBudget::Key, std::size_t> tcpPerSource_;  ///< open connections by block
  std::size_t tcpOpen_ = 0;
  ServerStats stats_{};
  EventBudget logBudget_{kDnsLogLinesPerSecond};
  bool closed_ = false;
  net::TaskGroup tasks_;
};

}  // namespace pc::dns
