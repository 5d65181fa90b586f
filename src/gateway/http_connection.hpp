#pragma once
/// One public connection served by the HttpFront, as a keep-alive loop of small stages:
///   readHead → classify (classify.hpp) → holdUpstream → exchange
///     (request head upstream; request body pumped by a task of the front while the response is
///      relayed back; or, after a 101, relayUpgrade).
/// Anything the gateway answers itself goes through answer(): render (answer.hpp), send, close.
/// For the gateway's .cpp files only (Beast types).
#include <memory>
#include <string>

#include "gateway/classify.hpp"
#include "gateway/http_proxy.hpp"
#include "gateway/http_relay.hpp"
#include "gateway/metrics.hpp"
#include "gateway/progress_watch.hpp"

namespace pc::gateway {

/// Logs a refused request or connection (smuggling shape, malformed or oversized header, slow
/// client, over a per-address bound) as a security event for the operator: at most 20 lines a
/// second, the rest counted in the next line, so a flood of bad requests cannot become a flood
/// of log lines.
void logSecurityEvent(const std::string& client, const std::string& what);

/// The request body on its way upstream, pumped by a task of the front while the response is
/// relayed. Shared by the connection and that task.
struct BodyPump {
  explicit BodyPump(const net::asio::any_io_executor& ex) : done(ex) {}
  /// Waits until the pump has ended. Cancel-safe (terminal cancellation ends the wait).
  net::asio::awaitable<void> wait();
  net::Signal done;
  bool finished = false;
  bool ok = true;
  std::string badBody;  ///< set when the client's body was malformed (a 400, not a 502)
};

class HttpConnection {
 public:
  /// `front` outlives the connection (serve() holds it).
  HttpConnection(HttpFront& front, std::shared_ptr<net::ByteStream> client, PublicClient who);
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;
  /// Gives the proxy stream back (reset) and its count to the tunnel.
  ~HttpConnection();

  /// Serves requests until the connection ends. Cancel-safe (terminal cancellation ends it; the
  /// destructor gives everything back).
  net::asio::awaitable<void> run();

 private:
  /// What the response relay ended with.
  struct ResponseEnd {
    enum Kind { kClosed, kSwitched, kComplete } kind = kClosed;
    bool keepAlive = false;
    bool upstreamReusable = true;
  };

  net::asio::awaitable<std::shared_ptr<RequestParser>> readHead(bool first);
  std::optional<Refusal> feedHead(RequestParser& parser);
  net::asio::awaitable<bool> waitForRequest(bool headerStarted);
  net::asio::awaitable<bool> forward(const std::shared_ptr<RequestParser>& parser,
                                     const Route& route);
  net::asio::awaitable<std::optional<Refusal>> holdUpstream(const Route& route, Bytes& pending);
  /// Checks `claim` against the tunnel's shares (front_options.hpp), closing an idle keep-alive
  /// connection to make room where one can give way; the refusal when none can.
  std::optional<Refusal> makeRoom(const tunnel::StreamClaim& claim);
  net::asio::awaitable<bool> exchange(const std::shared_ptr<RequestParser>& parser,
                                      const std::string& dep, Bytes& upPending);
  std::shared_ptr<BodyPump> startPump(const std::shared_ptr<RequestParser>& parser,
                                      Bytes& upPending);
  net::asio::awaitable<ResponseEnd> relayResponse(bool headRequest, unsigned version,
                                                  bool keepAlive, const BodyPump& pump,
                                                  const std::string& dep);
  net::asio::awaitable<bool> readResponseHead(ResponseParser& res, const BodyPump& pump,
                                              const std::string& dep);
  net::asio::awaitable<void> relayUpgrade(BodyPump& pump);
  net::asio::awaitable<void> answer(const Classified& c);
  net::asio::awaitable<void> refuse(const Refusal& r);
  net::asio::awaitable<void> sendAndClose(const std::string& msg);
  void releaseUpstream();
  /// Starts the progress deadlines of one exchange (progress_watch.hpp): the relay reads and
  /// writes through upIo_ and clientIo_ from here until endWatch().
  void watchExchange();
  void endWatch();
  /// Counts the current request (metrics.hpp) with the status it was answered with, once.
  void countRequest(const std::string* deploymentId);

  HttpFront& front_;
  net::asio::any_io_executor ex_;
  std::shared_ptr<net::ByteStream> client_;
  PublicClient who_;
  std::string clientBlock_;  ///< limits count per address block (IPv6: /64)
  // Client bytes not parsed yet, and the client's I/O buffer: shared with the body pump, which
  // may outlive a failed exchange by a moment.
  std::shared_ptr<Bytes> in_ = std::make_shared<Bytes>();
  std::shared_ptr<Scratch> clientScratch_ = std::make_shared<Scratch>();
  Scratch upScratch_;
  /// The proxy stream this connection holds across requests, and what it holds it for.
  struct Upstream {
    std::shared_ptr<net::yamux::Stream> stream;
    std::shared_ptr<net::Connection> tunnel;
    std::string deploymentId;
    tunnel::StreamLease lease;  ///< the stream counted against its tunnel's bound
    Bytes in;                   ///< upstream bytes not parsed yet
  } up_;
  /// During an exchange: the proxy stream and the client as watched for progress.
  std::shared_ptr<ProgressWatch> watch_;
  std::shared_ptr<net::ByteStream> upIo_;
  std::shared_ptr<net::ByteStream> clientIo_;
  /// Metrics (null when off); the counters of the deployment last routed to, looked up once per
  /// deployment rather than per request; the status the current request was answered with.
  GatewayMetrics* metrics_;
  std::shared_ptr<DeploymentCounters> series_;
  std::string seriesFor_;
  int status_ = 0;
  std::chrono::steady_clock::time_point began_;  ///< the current request's head was complete
  bool counted_ = false;
};

}  // namespace pc::gateway
