#include "tunnel/provider_tunnel.hpp"

#include <spdlog/spdlog.h>

#include <deque>
#include <optional>
#include <random>

#include "net/error.hpp"
#include "net/pipe.hpp"
#include "net/tcp.hpp"
#include "net/watchdog.hpp"
#include "protocol/signing.hpp"
#include "protocol/stream_protocols.hpp"
#include "rpc/message_stream.hpp"
#include "rpc/message_writer.hpp"
#include "tunnel/error.hpp"
#include "tunnel/proxy_header.hpp"

namespace pc::tunnel {

namespace asio = net::asio;
using asio::awaitable;

struct ProviderTunnel::Session {
  explicit Session(const asio::any_io_executor& ex) : answered(ex) {}
  std::shared_ptr<net::yamux::Stream> stream;
  std::shared_ptr<rpc::MessageWriter> writer;  ///< the only writer on the control stream
  net::Signal answered;             ///< a registration was answered, or the session closed
  std::deque<std::string> pending;  ///< registrations awaiting an answer, in order
  std::map<std::string, std::optional<std::string>> answers;  ///< url, or nullopt if refused
  std::chrono::steady_clock::time_point lastHeard = std::chrono::steady_clock::now();
  bool closed = false;
};

ProviderTunnel::ProviderTunnel(std::shared_ptr<net::Host> host, ProviderTunnelOptions options,
                               std::function<std::vector<Route>()> routes,
                               std::function<std::optional<Target>(const std::string&)> targetFor)
    : host_(std::move(host)),
      options_(std::move(options)),
      gatewayId_(options_.gateway.peerId().value()),
      routes_(std::move(routes)),
      targetFor_(std::move(targetFor)),
      tasks_(host_->executor()) {}

// Every task holds a share of the tunnel, so none is left when this runs.
ProviderTunnel::~ProviderTunnel() = default;

namespace {
/// Control messages (registrations, withdrawals, heartbeats) waiting for a gateway that does
/// not read before the session is ended.
constexpr std::size_t kMaxQueuedControl = 4096;
/// A container on a bridge answers at once or not at all (then the published port is used).
constexpr std::chrono::milliseconds kDirectDialTimeout{1000};
}  // namespace

void ProviderTunnel::start() { tasks_.spawn(runLoop()); }

void ProviderTunnel::stop() {
  stopped_ = true;
  if (session_ && session_->stream) session_->stream->reset();
  tasks_.cancel();
}

awaitable<void> ProviderTunnel::shutdown() {
  auto self = shared_from_this();
  stop();
  co_await tasks_.join();
}

void ProviderTunnel::sendRegister(Session& s, const Route& r) {
  protocol::RegisterRoute reg{protocol::newRequestHeader(protocol::unixMillisNow()), r.deploymentId,
                              r.idSalt, std::nullopt};
  if (!r.requester.empty()) reg.onBehalfOf = r.requester;
  protocol::Message m = std::move(reg);
  if (auto signedOk = protocol::sign(m, host_->identity()); !signedOk) {
    spdlog::warn("tunnel: cannot register {}: {}", r.deploymentId, signedOk.error().message());
    return;
  }
  s.pending.push_back(r.deploymentId);
  s.answers.erase(r.deploymentId);
  send(s, std::move(m));
}

void ProviderTunnel::send(Session& s, protocol::Message m) {
  // A gateway that stops reading ends the session (and a reconnect re-registers everything)
  // rather than letting the queue grow.
  if (!s.writer->push(std::move(m)) && !s.writer->failed() && !s.closed) {
    spdlog::warn("tunnel: the gateway is not reading ({} messages queued); reconnecting",
                 s.writer->queued());
    s.stream->reset();
  }
}

awaitable<std::optional<std::string>> ProviderTunnel::publish(Route r) {
  auto self = shared_from_this();
  auto s = session_;
  if (!s) co_return std::nullopt;
  sendRegister(*s, r);
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer t(host_->executor(), options_.publishTimeout);
  t.async_wait([s, expired](boost::system::error_code ec) {
    if (!ec) {
      *expired = true;
      s->answered.notify();
    }
  });
  while (!stopped_ && !s->closed && !*expired && !s->answers.contains(r.deploymentId)) {
    co_await s->answered.wait();
  }
  t.cancel();
  if (stopped_) co_return std::nullopt;
  auto it = s->answers.find(r.deploymentId);
  co_return it == s->answers.end() ? std::nullopt : it->second;
}

void ProviderTunnel::withdraw(const std::string& deploymentId) {
  auto s = session_;
  if (!s) return;
  protocol::Message m = protocol::UnregisterRoute{
      protocol::newRequestHeader(protocol::unixMillisNow()), deploymentId};
  if (!protocol::sign(m, host_->identity())) return;
  send(*s, std::move(m));
}

awaitable<void> ProviderTunnel::runLoop() {
  auto self = shared_from_this();
  std::mt19937 rng(std::random_device{}());
  auto backoff = options_.minBackoff;
  while (!stopped_) {
    // When the last session began: a dial or handshake that timed out is not a tunnel that
    // stayed up, and must not reset the backoff.
    std::optional<std::chrono::steady_clock::time_point> began;
    auto conn = co_await host_->connect(options_.gateway);
    if (stopped_) co_return;
    if (conn) {
      const std::vector<std::string> protos{std::string(protocol::kTunnelProtocol)};
      auto s = co_await host_->newStream(*conn, protos);
      if (stopped_) co_return;
      if (s) {
        spdlog::info("tunnel: connected to gateway {}", gatewayId_.toBase58());
        began = std::chrono::steady_clock::now();
        co_await runSession(*s);
        if (stopped_) co_return;
        spdlog::warn("tunnel: lost gateway {}; reconnecting", gatewayId_.toBase58());
      } else if (s.error() == net::make_error_code(net::Errc::kNegotiationFailed)) {
        // The gateway lets any peer in for its relay, but opens the tunnel to providers only.
        spdlog::warn(
            "tunnel: gateway {} does not accept us as a provider; its operator can add us with "
            "`peergateway providers add {}`",
            gatewayId_.toBase58(), host_->peerId().toBase58());
      } else {
        spdlog::warn("tunnel: cannot open the tunnel to gateway {}: {}", gatewayId_.toBase58(),
                     s.error().message());
      }
    } else {
      spdlog::warn("tunnel: cannot reach gateway {}: {}", gatewayId_.toBase58(),
                   conn.error().message());
    }
    // A tunnel that stayed up a while starts the next attempt from the minimum again.
    if (began && std::chrono::steady_clock::now() - *began > std::chrono::seconds(10)) {
      backoff = options_.minBackoff;
    }
    // Full jitter in [backoff/2, backoff]: many providers that lost one gateway do not all
    // come back in the same instant.
    std::uniform_int_distribution<long> dist(backoff.count() / 2, backoff.count());
    co_await net::sleepFor(std::chrono::milliseconds(dist(rng)));
    backoff = std::min(backoff * 2, options_.maxBackoff);
  }
}

awaitable<void> ProviderTunnel::heartbeats(std::shared_ptr<Session> s) {
  auto self = shared_from_this();
  const auto hb = options_.heartbeat;
  const auto dead = options_.deadAfter;
  while (!s->closed) {
    co_await net::sleepFor(hb);
    if (s->closed) break;
    if (std::chrono::steady_clock::now() - s->lastHeard > dead) {
      spdlog::warn("tunnel: no word from gateway {} for {} s", gatewayId_.toBase58(),
                   dead.count() / 1000);
      s->stream->reset();
      break;
    }
    send(*s, protocol::Heartbeat{protocol::unixMillisNow()});
  }
}

awaitable<void> ProviderTunnel::runSession(std::shared_ptr<net::yamux::Stream> stream) {
  auto ex = host_->executor();
  auto s = std::make_shared<Session>(ex);
  s->stream = stream;
  s->writer = rpc::MessageWriter::start(ex, stream, kMaxQueuedControl,
                                        rpc::MessageWriter::Overflow::kRefuse);
  session_ = s;
  // Heartbeats, and the dead-gateway check.
  tasks_.spawn(heartbeats(s));
  for (const auto& r : routes_()) sendRegister(*s, r);

  rpc::MessageReader reader(*stream);
  while (!stopped_) {
    auto m = co_await reader.next();
    if (!m || !*m) break;
    s->lastHeard = std::chrono::steady_clock::now();
    if (auto* reg = std::get_if<protocol::RouteRegistered>(&**m)) {
      std::erase(s->pending, reg->deploymentId);
      s->answers[reg->deploymentId] = reg->url;
      if (onUrl_) onUrl_(reg->deploymentId, reg->url);
      s->answered.notify();
    } else if (auto* err = std::get_if<protocol::ErrorMessage>(&**m)) {
      // Answers come in order: an error answers the oldest pending registration.
      if (!s->pending.empty()) {
        const std::string dep = s->pending.front();
        s->pending.pop_front();
        s->answers[dep] = std::nullopt;
        spdlog::warn("tunnel: gateway refused route {}: {} [{}]", dep, err->message, err->code);
      } else {
        spdlog::warn("tunnel: gateway error: {} [{}]", err->message, err->code);
      }
      s->answered.notify();
    }
  }
  s->closed = true;
  s->writer->close();
  s->answered.notify();
  stream->reset();
  if (session_ == s) session_.reset();
}

awaitable<void> ProviderTunnel::serveProxy(std::shared_ptr<net::yamux::Stream> s,
                                           std::shared_ptr<net::Connection> conn) {
  auto self = shared_from_this();
  // Only the configured gateway may open proxy streams: a trusted developer peer must not use
  // the provider as a relay into its loopback ports.
  if (conn->peer != gatewayId_) {
    spdlog::warn("security: proxy stream from {} (not the gateway) refused", conn->peer.toBase58());
    s->reset();
    co_return;
  }
  net::yamux::Stream* sp = s.get();
  net::Watchdog dog(host_->executor(), std::chrono::seconds(10), [sp] { sp->reset(); });
  Bytes buf;
  std::optional<ProxyHeader> header;
  std::size_t used = 0;
  while (!header) {
    std::array<std::uint8_t, kMaxProxyHeader> chunk{};
    auto n = co_await s->readSome(std::span<std::uint8_t>(chunk.data(), chunk.size()));
    if (!n || *n == 0) co_return;
    buf.insert(buf.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(*n));
    auto h = decodeProxyHeader(buf, used);
    if (!h) {
      spdlog::warn("tunnel: bad proxy header from the gateway: {}", h.error().message());
      s->reset();
      co_return;
    }
    header = *h;
    if (!header && buf.size() > kMaxProxyHeader) {
      s->reset();
      co_return;
    }
  }
  dog.disarm();
  const auto target = targetFor_(header->deploymentId);
  if (!target) {
    s->reset();  // the gateway answers 502: the deployment is not running here
    co_return;
  }
  Result<std::unique_ptr<net::TcpStream>> tcp = fail(Errc::kTargetUnreachable, "no address");
  if (target->address && target->containerPort != 0) {
    const auto direct = net::Multiaddr::parse("/ip4/" + *target->address + "/tcp/" +
                                              std::to_string(target->containerPort));
    if (direct) tcp = co_await net::dialTcp(*direct, kDirectDialTimeout);
    if (!tcp) {
      spdlog::debug("tunnel: {} not reachable at {}:{} ({}); using its published port",
                    header->deploymentId, *target->address, target->containerPort,
                    tcp.error().message());
    }
  }
  if (!tcp) {
    const auto published =
        net::Multiaddr::parse("/ip4/127.0.0.1/tcp/" + std::to_string(target->hostPort)).value();
    tcp = co_await net::dialTcp(published, std::chrono::seconds(5));
  }
  if (!tcp) {
    spdlog::warn("tunnel: {} does not answer on 127.0.0.1:{}: {}", header->deploymentId,
                 target->hostPort, tcp.error().message());
    s->reset();
    co_return;
  }
  (void)(*tcp)->socket().set_option(net::tcp::no_delay(true));
  std::shared_ptr<net::ByteStream> local = std::move(*tcp);
  // Bytes that arrived with the header belong to the public connection.
  if (used < buf.size()) {
    if (auto w = co_await local->write(BytesView(buf.data() + used, buf.size() - used)); !w) {
      s->reset();
      co_return;
    }
  }
  (void)co_await net::pipeBoth(s, local, options_.proxyIdle);
}

}  // namespace pc::tunnel
