#pragma once
/// The admin listener: a small HTTP/1.1 server (Beast's parser and serializer) that serves the
/// operator's pages — /metrics, the dashboard and its JSON — on its own address, never on a
/// public listener. Every request passes the access rules of access.hpp first; a refusal is a
/// 403 naming the rule, logged (at most kRefusalLogLinesPerSecond lines a second).
///
/// Bounds, each named below: header size, connections at once, one deadline per request (read
/// and answer), GET and HEAD only, no request body. Handlers are plain functions of the request:
/// they run on the daemon's thread, read its state and return the whole response.
///
/// Threading: one executor (the daemon's single io_context thread). Every coroutine is a task of
/// the server's TaskGroup; shutdown() ends them.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "admin/access.hpp"
#include "net/asio.hpp"
#include "net/task_group.hpp"

namespace pc::admin {

/// Bytes of one request head (request line and fields); a longer one is answered 431.
inline constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
/// Connections served at once; more are closed as soon as they are accepted. Clients from
/// elsewhere than loopback (served only with the token, which is checked once a request is read)
/// may take at most kMaxRemoteConnectionsPerAddress each and never the last
/// kLoopbackReservedConnections: a host holding idle connections cannot lock the operator's own
/// tools (and a loopback Prometheus) out.
inline constexpr std::size_t kMaxConnections = 16;
inline constexpr std::size_t kLoopbackReservedConnections = 4;
inline constexpr std::size_t kMaxRemoteConnectionsPerAddress = 4;
static_assert(kLoopbackReservedConnections < kMaxConnections);
/// From the moment the server waits for a request to the end of its answer (a keep-alive client
/// idle for longer is closed; Prometheus reconnects at its next scrape).
inline constexpr std::chrono::seconds kRequestTimeout{10};
/// Refusal log lines a second (the rest are counted in the next line).
inline constexpr unsigned kRefusalLogLinesPerSecond = 5;

struct Request {
  std::string method;
  std::string path;   ///< the target without its query
  std::string query;  ///< after '?', "" when none
};

struct Response {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string name;                 ///< the daemon, for log lines ("peergateway")
  std::optional<AdminToken> token;  ///< none: loopback clients only
  std::map<std::string, Handler, std::less<>> routes;  ///< by exact path
};

class AdminServer : public std::enable_shared_from_this<AdminServer> {
 public:
  /// Binds `at` (port 0: an ephemeral port) and starts serving. Errors: the address is taken or
  /// not ours.
  static Result<std::shared_ptr<AdminServer>> start(const net::asio::any_io_executor& ex,
                                                    const net::tcp::endpoint& at,
                                                    ServerOptions options);
  AdminServer(const net::asio::any_io_executor& ex, ServerOptions options);

  [[nodiscard]] net::tcp::endpoint endpoint() const { return endpoint_; }
  /// Requests refused by the access rules since start.
  [[nodiscard]] std::uint64_t refused() const { return refused_; }
  [[nodiscard]] std::size_t connections() const { return connections_; }
  /// Stops accepting; connections being served finish (see shutdown()).
  void close();
  /// close(), then ends every connection (total cancellation, terminal after `grace`). Not
  /// cancel-safe: the owner's last step.
  net::asio::awaitable<void> shutdown(std::chrono::milliseconds grace);

 private:
  net::asio::awaitable<void> acceptLoop();
  /// A connection's place in the counts, taken when it is accepted and given back at its end.
  struct Slot;
  net::asio::awaitable<void> serve(net::tcp::socket socket, std::shared_ptr<Slot> slot);
  /// Whether a connection just accepted from `remote` may be served now (the bounds above).
  [[nodiscard]] bool admit(const boost::asio::ip::address& remote) const;

  net::asio::any_io_executor ex_;
  ServerOptions options_;
  std::optional<net::tcp::acceptor> acceptor_;
  net::tcp::endpoint endpoint_;
  std::size_t connections_ = 0;
  std::size_t remoteConnections_ = 0;
  std::map<boost::asio::ip::address, std::size_t> perRemoteAddress_;
  std::uint64_t refused_ = 0;
  bool closed_ = false;
  net::TaskGroup tasks_;  ///< last: its tasks use the members above
};

}  // namespace pc::admin
