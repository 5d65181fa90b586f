#include "net/host.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/this_coro.hpp>

#include "net/error.hpp"
#include "net/multistream/negotiate.hpp"
#include "net/ping/ping.hpp"
#include "net/tcp.hpp"
#include "net/watchdog.hpp"

namespace pc::net {
namespace {

/// Counts a connection upgrade in progress for as long as it lives (the connection limit
/// includes handshakes that have not finished yet).
class UpgradeSlot {
 public:
  explicit UpgradeSlot(std::size_t& n) : n_(n) { ++n_; }
  ~UpgradeSlot() { --n_; }
  UpgradeSlot(const UpgradeSlot&) = delete;
  UpgradeSlot& operator=(const UpgradeSlot&) = delete;

 private:
  std::size_t& n_;
};

/// The ping protocol's handler.
asio::awaitable<void> servePing(std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection>) {
  co_await ping::serve(*s);
}

}  // namespace

// ---------------------------------------------------------------- setup

Host::Host(asio::any_io_executor ex, const crypto::Identity& identity, HostConfig config)
    : ex_(std::move(ex)), identity_(identity), config_(std::move(config)), tasks_(ex_) {}

Host::~Host() = default;

std::shared_ptr<Host> Host::create(asio::any_io_executor ex, const crypto::Identity& identity,
                                   HostConfig config) {
  std::shared_ptr<Host> h(new Host(std::move(ex), identity, std::move(config)));
  if (auto k = crypto::x25519::KeyPair::generate()) {
    if (auto sig = noise::signStaticKey(h->identity_, *k)) {
      h->noiseStatic_ = std::move(*k);
      h->noiseStaticSig_ = std::move(*sig);
    }
  }
  h->installDefaultHandlers();
  return h;
}

noise::PreparedKeys Host::handshakeKeys() {
  noise::PreparedKeys k;
  if (noiseStatic_) {
    k.staticKey = &*noiseStatic_;
    k.staticKeySignature = noiseStaticSig_;
  }
  if (spareEphemeral_) {
    k.ephemeral = std::move(spareEphemeral_);
    spareEphemeral_.reset();
  }
  // The next ephemeral key is made now, after this handler returns: while this handshake waits
  // for the network, not while the next one is waiting to start.
  asio::post(ex_, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || self->spareEphemeral_) {
      return;
    }
    if (auto e = crypto::x25519::KeyPair::generate()) {
      self->spareEphemeral_ = std::move(*e);
    }
  });
  return k;
}

void Host::setHandler(std::string protocol, StreamHandler handler) {
  handlers_[std::move(protocol)] = std::move(handler);
}

std::vector<std::string> Host::protocols() const {
  std::vector<std::string> out;
  for (const auto& [p, h] : handlers_) {
    out.push_back(p);
  }
  return out;
}

void Host::addAddrs(const crypto::PeerId& peer, const std::vector<Multiaddr>& addrs) {
  auto& book = addrBook_[peer];
  for (const auto& a : addrs) {
    auto plain = a.withoutPeerId();
    if (std::find(book.begin(), book.end(), plain) == book.end()) {
      book.push_back(plain);
    }
  }
  // Addresses learned from the network (mDNS) keep arriving over a daemon's lifetime: the book
  // keeps the newest kMaxBookAddrsPerPeer so it cannot grow without bound.
  constexpr std::size_t kMaxBookAddrsPerPeer = 32;
  if (book.size() > kMaxBookAddrsPerPeer) {
    book.erase(book.begin(),
               book.begin() + static_cast<std::ptrdiff_t>(book.size() - kMaxBookAddrsPerPeer));
  }
}

UpgradeOptions Host::upgradeOptions(std::optional<Multiaddr> inboundFrom) {
  UpgradeOptions o;
  o.identity = &identity_;
  o.keys = handshakeKeys();
  o.timeout = config_.handshakeTimeout;
  if (gater_) {
    o.admit = [this, from = std::move(inboundFrom)](const crypto::PeerId& peer) {
      if (gater_(peer)) {
        return true;
      }
      if (from) {
        reject(peer, *from, "peer is not trusted");
      }
      return false;
    };
  }
  return o;
}

bool Host::atConnectionLimit() const {
  // Counting handshakes in progress: stops a flood of half-open handshakes from exhausting
  // descriptors and memory.
  return conns_.size() + pendingUpgrades_ >= config_.maxConnections;
}

// ---------------------------------------------------------------- inbound

Result<Multiaddr> Host::listen(const Multiaddr& addr) {
  auto acceptor = listenTcp(ex_, addr, true);  // reuseport: dials leave from the listen port
  if (!acceptor) {
    return acceptor.error();
  }
  auto shared = std::make_shared<tcp::acceptor>(std::move(*acceptor));
  auto bound = toMultiaddr(shared->local_endpoint());
  noteListenPort(addr, shared->local_endpoint().port());
  acceptors_.push_back(shared);
  // Identify advertises what peers can dial: a wildcard becomes the interface addresses.
  for (auto& a : expandWildcard(shared->local_endpoint())) {
    listenAddrs_.push_back(std::move(a));
  }
  tasks_.spawn([self = shared_from_this(), shared] { return self->acceptLoop(shared); });
  return bound;
}

asio::awaitable<void> Host::acceptLoop(std::shared_ptr<tcp::acceptor> acceptor) {
  while (!closed_) {
    auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || closed_) {
        co_return;
      }
      // EMFILE and friends: back off briefly instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      co_await sleepFor(std::chrono::milliseconds(100));
      continue;
    }
    std::unique_ptr<RawConn> raw = std::make_unique<TcpStream>(std::move(socket));
    if (routeExpectedPunch(raw)) continue;
    cutOldestPendingInbound();
    if (atConnectionLimit()) {
      reject(std::nullopt, raw->remoteAddr(),
             "connection limit " + std::to_string(config_.maxConnections) + " reached");
      raw->reset();
      continue;
    }
    tasks_.spawn([self = shared_from_this(), raw = std::move(raw)]() mutable {
      return self->handleInbound(std::move(raw));
    });
  }
}

void Host::cutOldestPendingInbound() {
  // Stops a half-open flood from starving everyone else: the attacker's stalled handshakes
  // hold at most maxPendingInbound slots, and each new arrival pushes out the oldest of them,
  // so a peer that completes its handshake within milliseconds always gets through.
  if (pendingInbound_.size() < config_.maxPendingInbound) {
    return;
  }
  const auto oldest = pendingInbound_.front();
  pendingInbound_.pop_front();
  *oldest.cut = true;
  reject(std::nullopt, oldest.raw->remoteAddr(),
         "handshake not finished while " + std::to_string(config_.maxPendingInbound) +
             " others were pending (oldest cut)");
  oldest.raw->reset();
}

void Host::reject(const std::optional<crypto::PeerId>& peer, const Multiaddr& remote,
                  const std::string& reason) {
  if (onReject_) {
    onReject_(peer, remote, reason);
    return;
  }
  spdlog::warn("refused connection from {} ({}): {}",
               peer ? peer->toBase58() : std::string("unknown peer"), remote.toString(), reason);
}

asio::awaitable<void> Host::handleInbound(std::unique_ptr<RawConn> raw) {
  const UpgradeSlot slot(pendingUpgrades_);
  const auto remote = raw->remoteAddr();
  // Listed while the handshake runs, so that the accept loop can cut it (and then unlist it).
  bool cut = false;
  struct Unlist {
    Host& host;
    bool& cut;
    std::list<PendingInbound>::iterator it;
    ~Unlist() {
      if (!cut) {
        host.pendingInbound_.erase(it);
      }
    }
  } unlist{*this, cut, pendingInbound_.insert(pendingInbound_.end(), {raw.get(), &cut})};
  auto options = upgradeOptions(remote);
  auto sc = co_await upgradeInbound(std::move(raw), std::move(options));
  if (!sc) {
    // A gated peer was reported by the gate itself.
    spdlog::debug("inbound upgrade from {} failed: {}", remote.toString(), sc.error().message());
    co_return;
  }
  if (closed_) {
    co_return;
  }
  addConnection(std::move(*sc), false);
}

// ---------------------------------------------------------------- connections

std::shared_ptr<Connection> Host::addConnection(std::unique_ptr<SecureConn> sc, bool outbound,
                                                std::optional<crypto::PeerId> relay) {
  auto conn = startMuxed(std::move(sc), outbound, config_.yamux, std::move(relay));
  conns_.emplace(conn->peer, conn);
  spdlog::debug("connected to {} ({}, {})", conn->peer.toBase58(), conn->remoteAddr.toString(),
                outbound ? "outbound" : "inbound");
  auto self = shared_from_this();
  tasks_.spawn([self, conn] { return self->serveStreams(conn); });
  if (onConnected_) {
    onConnected_(conn);
  }
  if (config_.identifyOnConnect) {
    tasks_.spawn([self, conn] { return self->identifyOnConnect(conn); });
  }
  return conn;
}

asio::awaitable<void> Host::identifyOnConnect(std::shared_ptr<Connection> conn) {
  auto info = co_await identify(conn);
  if (!info) {
    spdlog::debug("identify {} failed: {}", conn->peer.toBase58(), info.error().message());
    co_return;
  }
  spdlog::debug("identified {} ({}, {} protocols)", conn->peer.toBase58(),
                conn->isRelayed() ? "relayed" : "direct", info->protocols.size());
  for (const auto& l : onIdentified_) l(conn);
}

asio::awaitable<void> Host::serveStreams(std::shared_ptr<Connection> conn) {
  for (;;) {
    auto s = co_await conn->session->acceptStream();
    if (!s) {
      break;
    }
    tasks_.spawn([self = shared_from_this(), s = std::move(*s), conn]() mutable {
      return self->handleStream(std::move(s), conn);
    });
  }
  forget(conn);
  spdlog::debug("disconnected from {}: {}", conn->peer.toBase58(),
                conn->session->closeReason().message());
}

void Host::forget(const std::shared_ptr<Connection>& conn) {
  for (auto [it, end] = conns_.equal_range(conn->peer); it != end; ++it) {
    if (it->second == conn) {
      conns_.erase(it);
      return;
    }
  }
}

asio::awaitable<void> Host::handleStream(std::shared_ptr<yamux::Stream> s,
                                         std::shared_ptr<Connection> conn) {
  yamux::Stream* sp = s.get();
  Watchdog dog(ex_, config_.negotiateTimeout, [sp] { sp->reset(); });
  auto proto = co_await multistream::handle(*s, protocolsFor(*conn));
  dog.disarm();
  if (!proto) {
    spdlog::debug("stream from {}: {}", conn->peer.toBase58(), proto.error().message());
    s->reset();
    co_return;
  }
  s->protocol = *proto;
  auto it = handlers_.find(*proto);
  if (it == handlers_.end()) {
    s->reset();
    co_return;
  }
  auto handler = it->second;  // copy: the map may change while the handler runs
  auto running = handler(std::move(s), std::move(conn));
  co_await std::move(running);
}

std::shared_ptr<Connection> Host::connectionTo(const crypto::PeerId& peer) const {
  std::shared_ptr<Connection> relayed;
  for (auto [it, end] = conns_.equal_range(peer); it != end; ++it) {
    if (!it->second->isOpen()) continue;
    if (!it->second->isRelayed()) return it->second;
    relayed = it->second;
  }
  return relayed;
}

std::vector<std::string> Host::protocolsFor(const Connection& conn) const {
  auto all = protocols();
  if (!streamGate_) return all;
  std::erase_if(all, [&](const std::string& p) { return !streamGate_(conn, p); });
  return all;
}

std::vector<std::shared_ptr<Connection>> Host::connections() const {
  std::vector<std::shared_ptr<Connection>> out;
  for (const auto& [p, c] : conns_) {
    out.push_back(c);
  }
  return out;
}

// ---------------------------------------------------------------- outbound

Task<std::shared_ptr<Connection>> Host::connect(const Multiaddr& addr) {
  auto self = shared_from_this();
  if (addr.isCircuit()) {
    if (!circuitDialer_) {
      co_return fail(Errc::kUnreachable, "cannot dial " + addr.toString() + ": no relay transport");
    }
    co_return co_await circuitDialer_(self, addr);
  }
  const auto expected = addr.peerId();
  if (expected) {
    if (*expected == peerId()) {
      co_return fail(Errc::kUnreachable, "refusing to dial our own peer id");
    }
    if (auto c = connectionTo(*expected)) {
      co_return c;
    }
  }
  if (closed_) {
    co_return fail(Errc::kClosed, "host is closed");
  }
  if (atConnectionLimit()) {
    co_return fail(Errc::kLimit,
                   "connection limit " + std::to_string(config_.maxConnections) + " reached");
  }
  const UpgradeSlot slot(pendingUpgrades_);
  auto raw = co_await dialRaw(addr.withoutPeerId(), config_.dialTimeout);
  if (!raw) {
    co_return raw.error();
  }
  if (closed_) {
    co_return fail(Errc::kClosed, "host is closed");
  }
  // Listed until this coroutine ends; by then the stream belongs to a connection or is gone,
  // and no suspension separates the two.
  struct Unlist {
    std::list<RawConn*>& list;
    std::list<RawConn*>::iterator it;
    ~Unlist() { list.erase(it); }
  } unlist{pendingOutbound_, pendingOutbound_.insert(pendingOutbound_.end(), raw->get())};
  auto options = upgradeOptions(std::nullopt);
  auto sc = co_await upgradeOutbound(std::move(*raw), expected, std::move(options));
  if (!sc) {
    co_return sc.error();
  }
  co_return addConnection(std::move(*sc), true);
}

Error Host::explainClosed(const Connection& conn, Error e) const {
  // With early muxer negotiation a gating remote's refusal shows up on first use: the
  // connection closed before the remote sent a single frame.
  if (conn.session->isClosed() && conn.session->framesReceived() == 0) {
    return gatedByRemote(conn.peer, peerId());
  }
  return e;
}

Task<std::shared_ptr<yamux::Stream>> Host::newStream(const std::shared_ptr<Connection>& conn,
                                                     const std::vector<std::string>& protocols) {
  auto self = shared_from_this();
  auto s = conn->session->openStream();
  if (!s) {
    co_return explainClosed(*conn, s.error());
  }
  yamux::Stream* sp = s->get();
  Watchdog dog(ex_, config_.negotiateTimeout, [sp] { sp->reset(); });
  auto proto = co_await multistream::selectOne(**s, protocols);
  if (!proto) {
    (*s)->reset();
    co_return dog.fired() ? timeoutError("protocol negotiation", config_.negotiateTimeout)
                          : explainClosed(*conn, proto.error());
  }
  (*s)->protocol = *proto;
  co_return std::move(*s);
}

Task<std::shared_ptr<yamux::Stream>> Host::newStream(const crypto::PeerId& peer,
                                                     const std::vector<std::string>& protocols) {
  auto conn = co_await connect(peer);
  if (!conn) {
    co_return conn.error();
  }
  co_return co_await newStream(*conn, protocols);
}

// ---------------------------------------------------------------- identify and ping

net::identify::Message Host::identifyMessage(const Connection& conn) const {
  net::identify::Message m;
  m.publicKey = crypto::encodePublicKey(identity_.publicKey());
  m.info.agentVersion = config_.agentVersion;
  m.info.protocolVersion = std::string(net::identify::kProtocolVersion);
  m.info.protocols = protocols();
  m.info.listenAddrs = listenAddrs_;
  m.info.listenAddrs.insert(m.info.listenAddrs.end(), advertised_.begin(), advertised_.end());
  m.info.observedAddr = conn.remoteAddr;
  return m;
}

void Host::installDefaultHandlers() {
  std::weak_ptr<Host> weak = weak_from_this();
  setHandler(std::string(net::identify::kProtocolId),
             [weak](std::shared_ptr<yamux::Stream> s,
                    std::shared_ptr<Connection> conn) -> asio::awaitable<void> {
               auto self = weak.lock();
               if (!self) {
                 co_return;
               }
               const auto m = self->identifyMessage(*conn);
               co_await net::identify::send(*s, m);
             });
  setHandler(std::string(kPingProtocol), servePing);
}

Task<PeerInfo> Host::identify(const std::shared_ptr<Connection>& conn) {
  auto self = shared_from_this();
  const std::vector<std::string> protos{std::string(net::identify::kProtocolId)};
  auto s = co_await newStream(conn, protos);
  if (!s) {
    co_return s.error();
  }
  auto m = co_await net::identify::receive(**s);
  if (!m) {
    co_return m.error();
  }
  auto info = net::identify::verify(*m, conn->peer);
  if (!info) {
    co_return info.error();
  }
  conn->remoteInfo = *info;
  co_return std::move(*info);
}

Task<std::chrono::microseconds> Host::ping(const std::shared_ptr<Connection>& conn) {
  auto self = shared_from_this();
  auto s = conn->session->openStream();
  if (!s) {
    co_return explainClosed(*conn, s.error());
  }
  yamux::Stream* sp = s->get();
  Watchdog dog(ex_, config_.negotiateTimeout, [sp] { sp->reset(); });
  (*s)->protocol = std::string(kPingProtocol);
  auto step = net::ping::Step::kSend;
  auto rtt = co_await net::ping::roundTrip(**s, step);
  if (!rtt && step == net::ping::Step::kNegotiate) {
    co_return dog.fired() ? timeoutError("ping", config_.negotiateTimeout)
                          : explainClosed(*conn, rtt.error());
  }
  co_return rtt;
}

// ---------------------------------------------------------------- shutdown

void Host::close() {
  closed_ = true;
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  // Handshakes in progress end now too, rather than at their deadline.
  for (auto& pending : pendingInbound_) {
    pending.raw->reset();
  }
  for (auto* raw : pendingOutbound_) {
    raw->reset();
  }
  cancelPunches();
  for (auto& [p, c] : conns_) {
    c->session->close();
  }
}

asio::awaitable<void> Host::shutdown(std::chrono::milliseconds grace) {
  auto self = shared_from_this();
  const auto conns = connections();
  close();
  co_await tasks_.shutdown(grace);
  // Every session was asked to close above and has had the grace period; any still open is
  // closed hard now, and its coroutines are waited for.
  for (const auto& c : conns) {
    co_await c->session->shutdown(std::chrono::milliseconds(0));
  }
}

std::vector<Multiaddr> Host::listenAddrsWithId() const {
  std::vector<Multiaddr> out;
  for (const auto& a : listenAddrs_) out.push_back(a.withPeerId(identity().peerId()));
  return out;
}

}  // namespace pc::net
