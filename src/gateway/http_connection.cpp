#include "gateway/http_connection.hpp"

#include <spdlog/spdlog.h>

#include <mutex>

#include "core/event_budget.hpp"
#include "gateway/progress_watch.hpp"
#include "net/pipe.hpp"
#include "net/watchdog.hpp"
#include "protocol/stream_protocols.hpp"
#include "tunnel/proxy_header.hpp"

namespace pc::gateway {

namespace asio = net::asio;
using asio::awaitable;

namespace {
constexpr std::size_t kMaxResponseHeader = 64 * 1024;
}  // namespace

void logSecurityEvent(const std::string& client, const std::string& what) {
  constexpr unsigned kMaxSecurityLinesPerSecond = 20;
  static std::mutex mutex;
  static EventBudget budget(kMaxSecurityLinesPerSecond);
  const std::lock_guard lock(mutex);
  const auto left = budget.admit();
  if (!left) {
    return;
  }
  if (*left > 0) {
    spdlog::warn("security: http {}: refused: {} ({} more refusals not logged)", client, what,
                 *left);
  } else {
    spdlog::warn("security: http {}: refused: {}", client, what);
  }
}

awaitable<void> BodyPump::wait() {
  while (!finished) {
    co_await done.wait();
  }
}

/// Registers a connection as idle on its stream's tunnel for as long as it waits for its next
/// request.
class HttpFront::IdleMark {
 public:
  IdleMark(HttpFront& front, const net::Connection* tunnel, IdleEntry entry)
      : front_(front), tunnel_(tunnel) {
    if (tunnel_ == nullptr) {
      return;  // holds no stream: nothing to give back
    }
    auto& l = front_.idleByTunnel_[tunnel_];
    it_ = l.insert(l.end(), std::move(entry));
    registered_ = true;
  }
  IdleMark(const IdleMark&) = delete;
  IdleMark& operator=(const IdleMark&) = delete;
  ~IdleMark() {
    if (!registered_) {
      return;
    }
    // The entry is ours to erase, evicted (emptied) or not: evictIdle never erases.
    auto m = front_.idleByTunnel_.find(tunnel_);
    m->second.erase(it_);
    if (m->second.empty()) {
      front_.idleByTunnel_.erase(m);
    }
  }

 private:
  HttpFront& front_;
  const net::Connection* tunnel_;
  std::list<IdleEntry>::iterator it_;
  bool registered_ = false;
};

HttpConnection::HttpConnection(HttpFront& front, std::shared_ptr<net::ByteStream> client,
                               PublicClient who)
    : front_(front),
      ex_(front.host_->executor()),
      client_(std::move(client)),
      who_(std::move(who)),
      clientBlock_(clientAddressBlock(who_.ip)),
      metrics_(front.options_.metrics.get()) {}

HttpConnection::~HttpConnection() { releaseUpstream(); }

void HttpConnection::releaseUpstream() {
  up_.lease.reset();
  if (up_.stream) {
    up_.stream->reset();
  }
  up_.stream.reset();
  up_.tunnel.reset();
  up_.deploymentId.clear();
  up_.in.clear();
}

awaitable<void> HttpConnection::run() {
  const RateTake take = [this](RateScope scope, const std::string& key) {
    return (scope == RateScope::kClient ? front_.perIp_ : front_.perHost_).take(key);
  };
  bool first = true;
  while (true) {
    auto parser = co_await readHead(first);
    if (!parser) {
      co_return;
    }
    first = false;
    began_ = std::chrono::steady_clock::now();
    status_ = 0;
    counted_ = false;
    const Arrival from{who_.scheme, clientBlock_, who_.sni};
    const Classified decision =
        classify(parser->get(), from, front_.options_, front_.routes_, take);
    const auto* route = std::get_if<Route>(&decision);
    if (route == nullptr) {
      co_await answer(decision);
      countRequest(nullptr);
      co_return;
    }
    const bool more = co_await forward(parser, *route);
    countRequest(&route->deploymentId);
    if (!more) {
      co_return;
    }
  }
}

// ---- the request head -------------------------------------------------------------------------

awaitable<std::shared_ptr<RequestParser>> HttpConnection::readHead(bool first) {
  const auto& options = front_.options_;
  auto parser = std::make_shared<RequestParser>();
  parser->header_limit(static_cast<std::uint32_t>(options.maxHeaderBytes));
  parser->body_limit(boost::none);
  Bytes& in = *in_;
  net::ByteStream* cp = client_.get();
  // Until a request starts, the idle timeout applies (keep-alive); once its first byte is here
  // (and from accept for the first request), the header timeout: a slowloris client trickling
  // header bytes is cut off.
  bool armedForHeader = first || !in.empty();
  bool headerStarted = !in.empty();
  auto dog = std::make_unique<net::Watchdog>(
      ex_, armedForHeader ? options.headerTimeout : options.idleTimeout, [cp] { cp->reset(); });
  while (!parser->is_header_done()) {
    if (!in.empty()) {
      if (!armedForHeader) {
        dog = std::make_unique<net::Watchdog>(ex_, options.headerTimeout, [cp] { cp->reset(); });
        armedForHeader = true;
      }
      if (auto refusal = feedHead(*parser)) {
        co_await refuse(*refusal);
        co_return nullptr;
      }
      if (parser->is_header_done()) {
        break;
      }
    }
    if (in.empty() && !co_await waitForRequest(headerStarted)) {
      co_return nullptr;
    }
    auto n = co_await readMore(*client_, in, *clientScratch_);
    if (!n || *n == 0) {
      // Closed, or cut by the timeout. Cut with part of a header sent is what a slowloris
      // client looks like: the operator hears of it (a silent preconnect is not logged).
      if (dog->fired() && armedForHeader && headerStarted) {
        logSecurityEvent(who_.addr, "request header not complete within " +
                                        std::to_string(options.headerTimeout.count()) +
                                        " ms (slow client cut)");
        if (metrics_ != nullptr) {
          metrics_->refused(ConnectionRefusal::kSlowHeader, who_.addr);
        }
      }
      co_return nullptr;
    }
    headerStarted = true;
  }
  co_return parser;
}

std::optional<Refusal> HttpConnection::feedHead(RequestParser& parser) {
  Bytes& in = *in_;
  boost::system::error_code ec;
  consume(in, parser.put(asio::buffer(in.data(), in.size()), ec));
  if (parser.is_header_done()) {
    return std::nullopt;
  }
  const std::string tooLarge = "request header over the size limit (431)";
  if (ec == http::error::header_limit) {
    return Refusal{
        Errc::kHeaderTooLarge,
        "The request header exceeds " + std::to_string(front_.options_.maxHeaderBytes) + " bytes.",
        0, tooLarge};
  }
  if (ec && ec != http::error::need_more) {
    return Refusal{Errc::kMalformedRequest, "Malformed request: " + ec.message(), 0,
                   "malformed request: " + ec.message()};
  }
  if (in.size() > front_.options_.maxHeaderBytes) {
    return Refusal{Errc::kHeaderTooLarge, "The request header is too large.", 0, tooLarge};
  }
  return std::nullopt;
}

awaitable<bool> HttpConnection::waitForRequest(bool headerStarted) {
  // Between requests: hold no buffers while the client is idle, and let a request that needs
  // this connection's proxy stream more than we do take it.
  clientScratch_->release();
  upScratch_.release();
  in_->shrink_to_fit();
  up_.in.shrink_to_fit();
  net::ByteStream* cp = client_.get();
  HttpFront::IdleMark idle(front_, headerStarted ? nullptr : up_.tunnel.get(),
                           HttpFront::IdleEntry{clientBlock_, up_.deploymentId, [this, cp] {
                                                  releaseUpstream();
                                                  cp->reset();
                                                }});
  auto r = co_await client_->waitReadable();
  co_return static_cast<bool>(r);
}

// ---- answers the gateway gives itself ---------------------------------------------------------

awaitable<void> HttpConnection::answer(const Classified& c) {
  if (const auto* refusal = std::get_if<Refusal>(&c)) {
    co_await refuse(*refusal);
    co_return;
  }
  const bool redirect = std::holds_alternative<Redirect>(c);
  status_ = redirect ? 308 : 200;
  const std::string msg =
      redirect ? render(std::get<Redirect>(c)) : render(std::get<AcmeAnswer>(c));
  co_await sendAndClose(msg);
}

awaitable<void> HttpConnection::refuse(const Refusal& r) {
  if (!r.logLine.empty()) {
    logSecurityEvent(who_.addr, r.logLine);
  }
  status_ = statusOf(r.why);
  if (metrics_ != nullptr) {
    metrics_->refused(r.why, who_.addr);
  }
  const std::string msg = render(r);
  co_await sendAndClose(msg);
}

awaitable<void> HttpConnection::sendAndClose(const std::string& msg) {
  (void)co_await client_->write(
      BytesView(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()));
  (void)co_await client_->closeWrite();
}

// ---- the exchange -----------------------------------------------------------------------------

awaitable<bool> HttpConnection::forward(const std::shared_ptr<RequestParser>& parser,
                                        const Route& route) {
  Bytes upPending;  // bytes for the proxy stream not written yet
  if (auto refusal = co_await holdUpstream(route, upPending)) {
    co_await refuse(*refusal);
    co_return false;
  }
  co_return co_await exchange(parser, route.deploymentId, upPending);
}

awaitable<std::optional<Refusal>> HttpConnection::holdUpstream(const Route& route, Bytes& pending) {
  const std::string& dep = route.deploymentId;
  if (up_.stream && up_.deploymentId == dep && !up_.stream->session().isClosed()) {
    co_return std::nullopt;  // the stream this connection holds serves this request too
  }
  releaseUpstream();
  tunnel::StreamClaim claim{route.tunnel.get(), clientBlock_, dep};
  if (auto refusal = makeRoom(claim)) {
    co_return refusal;
  }
  // Counted before the stream is opened: the connections that pass makeRoom while this one
  // waits for newStream must see it (else a burst all passes the same check).
  tunnel::StreamLease lease = front_.routes_.leaseStream(std::move(claim));
  const std::vector<std::string> protos{std::string(protocol::kProxyProtocol)};
  auto s = co_await front_.host_->newStream(route.tunnel, protos);
  if (!s) {
    co_return Refusal{Errc::kProviderUnreachable, "The provider of " + dep + " cannot be reached."};
  }
  up_.lease = std::move(lease);
  up_.stream = *s;
  up_.tunnel = route.tunnel;
  up_.deploymentId = dep;
  // The proxy header leaves together with the first request head (one frame).
  pending = tunnel::encodeProxyHeader({dep, who_.addr});
  co_return std::nullopt;
}

std::optional<Refusal> HttpConnection::makeRoom(const tunnel::StreamClaim& claim) {
  // Fair shares of the tunnel, checked client first: one host (however many connections it
  // opens) cannot hold more than its share, and one deployment (however many hosts ask for it)
  // leaves the provider's other deployments theirs. At a bound, an idle keep-alive connection
  // of the same kind gives its stream up first (the client's own before anyone else's).
  const StreamShares shares = streamShares(front_.options_);
  const auto full = [&](std::size_t tunnel::StreamUse::*key, std::size_t bound) {
    return front_.routes_.streamsInUse(claim).*key >= bound;
  };
  if (full(&tunnel::StreamUse::client, shares.perClient) &&
      !front_.evictIdle(claim, HttpFront::IdleScope::kClient)) {
    return Refusal{Errc::kClientStreamShare,
                   "Too many connections from your address to this provider; try again shortly.", 1,
                   "client at its share of " + std::to_string(shares.perClient) +
                       " streams of a provider tunnel (max_streams_per_client)"};
  }
  if (full(&tunnel::StreamUse::deployment, shares.perDeployment) &&
      !front_.evictIdle(claim, HttpFront::IdleScope::kDeployment)) {
    return Refusal{
        Errc::kDeploymentStreamShare,
        "The deployment " + claim.deploymentId + " is at its connection limit; try again shortly.",
        1};
  }
  if (full(&tunnel::StreamUse::tunnel, shares.perTunnel) &&
      !front_.evictIdle(claim, HttpFront::IdleScope::kTunnel)) {
    return Refusal{Errc::kTunnelBusy,
                   "The provider's tunnel is at its connection limit; try again shortly.", 1};
  }
  return std::nullopt;
}

awaitable<bool> HttpConnection::exchange(const std::shared_ptr<RequestParser>& parser,
                                         const std::string& dep, Bytes& upPending) {
  const auto& req = parser->get();
  UpstreamFraming framing;
  framing.version = req.version() == 10 ? 10 : 11;
  framing.chunked = parser->chunked();
  if (auto cl = parser->content_length()) {
    framing.contentLength = *cl;
  }
  framing.upgrade = parser->upgrade();
  const unsigned version = framing.version;
  const std::string host(req[http::field::host]);
  const std::string head =
      upstreamRequestHead(req, framing, Forwarding{who_.ip, who_.scheme, host, who_.localPort});
  upPending.insert(upPending.end(), head.begin(), head.end());
  watchExchange();
  struct EndWatch {
    HttpConnection& c;
    ~EndWatch() { c.endWatch(); }
  } endWatch{*this};
  if (parser->is_done()) {
    if (auto w = co_await upIo_->write(upPending); !w) {
      const Refusal dropped{Errc::kProviderDropped,
                            "The provider of " + dep + " dropped the connection."};
      co_await refuse(dropped);
      co_return false;
    }
    upPending.clear();
  }
  // The request body goes upstream concurrently with the response.
  auto pump = startPump(parser, upPending);
  const bool headRequest = req.method() == http::verb::head;
  const auto end = co_await relayResponse(headRequest, version, parser->keep_alive(), *pump, dep);
  if (end.kind == ResponseEnd::kClosed) {
    co_return false;
  }
  if (end.kind == ResponseEnd::kSwitched) {
    countRequest(&dep);  // its duration ends at the 101, not when the upgraded pipe does
    co_await relayUpgrade(*pump);
    co_return false;
  }
  bool keepAlive = end.keepAlive;
  // The response is complete. A request body still being sent (the server answered early)
  // leaves the connection in an unknown state: close it.
  if (!pump->finished) {
    up_.stream->reset();
    co_await pump->wait();
    keepAlive = false;
  }
  if (!pump->ok || !keepAlive) {
    (void)co_await client_->closeWrite();
    co_return false;
  }
  if (!end.upstreamReusable) {
    releaseUpstream();
  }
  co_return true;
}

std::shared_ptr<BodyPump> HttpConnection::startPump(const std::shared_ptr<RequestParser>& parser,
                                                    Bytes& upPending) {
  auto pump = std::make_shared<BodyPump>(ex_);
  if (parser->is_done()) {
    pump->finished = true;
    return pump;
  }
  // The head goes out with the first body bytes (or before waiting for them).
  auto head = std::make_shared<Bytes>(std::move(upPending));
  front_.spawn([pump, parser, head, client = clientIo_, up = upIo_, in = in_,
                scratch = clientScratch_]() -> awaitable<void> {
    // However the task ends (cancellation included), the connection hears of it.
    struct Finish {
      BodyPump& p;
      ~Finish() {
        p.finished = true;
        p.done.notify();
      }
    } finish{*pump};
    auto r = co_await relayBody(*parser, *client, *in, *up, parser->chunked(), *head, *scratch);
    if (!r) {
      pump->ok = false;
      if (r.error() == make_error_code(Errc::kMalformedBody)) {
        pump->badBody = r.error().message();
      }
      up->reset();
    }
  });
  return pump;
}

void HttpConnection::watchExchange() {
  const auto& options = front_.options_;
  // The callback resets what is stuck: the proxy stream always (its stream goes back to the
  // tunnel), the client too when it is the one not reading (its write would never end).
  auto watch = std::make_shared<ProgressWatch>(
      ex_, options.idleTimeout, options.clientWriteTimeout,
      [up = up_.stream, client = client_, addr = who_.addr, limit = options.clientWriteTimeout,
       metrics = options.metrics](ProgressWatch::Stall why) {
        up->reset();
        if (why == ProgressWatch::Stall::kClientNotReading) {
          client->reset();
          if (metrics) {
            metrics->refused(ConnectionRefusal::kClientNotReading, addr);
          }
          logSecurityEvent(addr, "client read nothing of its response for " +
                                     std::to_string(limit.count()) +
                                     " ms (client_write_timeout): cut");
        }
      });
  watch->start();
  upIo_ = std::make_shared<WatchedStream>(up_.stream, watch, false);
  clientIo_ = std::make_shared<WatchedStream>(client_, watch, true);
  watch_ = std::move(watch);
}

void HttpConnection::countRequest(const std::string* deploymentId) {
  if (metrics_ == nullptr || counted_) {
    return;
  }
  counted_ = true;
  DeploymentCounters* counters = &metrics_->unrouted();
  if (deploymentId != nullptr) {
    if (!series_ || seriesFor_ != *deploymentId) {
      series_ = metrics_->deployment(*deploymentId);  // once per deployment, not per request
      seriesFor_ = *deploymentId;
    }
    counters = series_.get();
  }
  metrics_->requestDone(*counters, status_, std::chrono::steady_clock::now() - began_);
}

void HttpConnection::endWatch() {
  if (watch_) {
    watch_->disarm();
  }
  watch_.reset();
  upIo_.reset();
  clientIo_.reset();
}

// ---- the response -----------------------------------------------------------------------------

awaitable<HttpConnection::ResponseEnd> HttpConnection::relayResponse(bool headRequest,
                                                                     unsigned version,
                                                                     bool keepAlive,
                                                                     const BodyPump& pump,
                                                                     const std::string& dep) {
  while (true) {
    ResponseParser res;
    res.header_limit(kMaxResponseHeader);
    res.body_limit(boost::none);
    if (headRequest) {
      res.skip(true);
    }
    if (!co_await readResponseHead(res, pump, dep)) {
      co_return ResponseEnd{};
    }
    const auto plan = planResponse(res, res.get().base(), version, keepAlive);
    if (!plan) {
      const Refusal invalid{Errc::kBadResponse, "The deployment sent an invalid status code."};
      co_await refuse(invalid);
      co_return ResponseEnd{};
    }
    status_ = static_cast<int>(res.get().result_int());
    Bytes head(plan->head.begin(), plan->head.end());
    if (plan->switched || plan->informational) {
      if (auto w = co_await clientIo_->write(head); !w) {
        co_return ResponseEnd{};
      }
      if (plan->switched) {
        co_return ResponseEnd{ResponseEnd::kSwitched};
      }
      continue;  // 100 Continue and friends: the final response follows
    }
    if (auto r =
            co_await relayBody(res, *upIo_, up_.in, *clientIo_, plan->chunked, head, upScratch_);
        !r) {
      // Either side broke mid-body: nothing sane to add, drop both — the client abortively,
      // so that a body cut short (tunnel lost, provider gone) is an error to it and never
      // passes for a complete close-delimited response.
      client_->reset();
      co_return ResponseEnd{};
    }
    co_return ResponseEnd{ResponseEnd::kComplete, plan->keepAlive, plan->upstreamReusable};
  }
}

awaitable<bool> HttpConnection::readResponseHead(ResponseParser& res, const BodyPump& pump,
                                                 const std::string& dep) {
  Bytes& upIn = up_.in;
  bool gotAny = !upIn.empty();
  while (!res.is_header_done()) {
    if (!upIn.empty()) {
      normalizeHeaderLineEnds(upIn, kMaxResponseHeader);
      boost::system::error_code ec;
      consume(upIn, res.put(asio::buffer(upIn.data(), upIn.size()), ec));
      if (res.is_header_done()) {
        break;
      }
      if (ec && ec != http::error::need_more) {
        const Refusal bad{Errc::kBadResponse, "The deployment sent a malformed response."};
        co_await refuse(bad);
        co_return false;
      }
    }
    auto n = co_await readMore(*upIo_, upIn, upScratch_);
    if (!n || *n == 0) {
      if (!gotAny && !pump.badBody.empty()) {
        // The client's fault, not the deployment's: its body could not be parsed.
        const Refusal badBody{Errc::kMalformedBody, "Malformed request body: " + pump.badBody, 0,
                              "malformed request body: " + pump.badBody};
        co_await refuse(badBody);
      } else if (!gotAny) {
        const Refusal silent{
            Errc::kNoResponse,
            "The deployment " + dep + " did not answer (is it listening on its exposed port?)."};
        co_await refuse(silent);
      }
      co_return false;
    }
    gotAny = true;
  }
  co_return true;
}

awaitable<void> HttpConnection::relayUpgrade(BodyPump& pump) {
  // Upgraded (WebSocket, h2c, …): from here on raw bytes both ways. What either side sent right
  // after the handshake goes first.
  co_await pump.wait();
  if (!in_->empty()) {
    (void)co_await upIo_->write(*in_);
  }
  if (!up_.in.empty()) {
    (void)co_await clientIo_->write(up_.in);
  }
  in_->clear();
  up_.in.clear();
  std::shared_ptr<net::ByteStream> a = clientIo_;
  std::shared_ptr<net::ByteStream> b = upIo_;
  (void)co_await net::pipeBoth(a, b, front_.options_.idleTimeout);
}

}  // namespace pc::gateway
