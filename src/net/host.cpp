#include "net/host.hpp"

#include <spdlog/spdlog.h>

#include <openssl/rand.h>
#include <boost/asio/this_coro.hpp>

#include "core/protobuf.hpp"
#include "net/error.hpp"
#include "net/multistream/negotiate.hpp"
#include "net/watchdog.hpp"

namespace pc::net {

Error Host::explainClosed(const Connection& conn, Error e) const {
  // With early muxer negotiation a gating remote's refusal shows up on first use: the
  // connection closed before the remote sent a single frame.
  if (conn.session->isClosed() && conn.session->framesReceived() == 0)
    return gatedByRemote(conn.peer);
  return e;
}

Error Host::gatedByRemote(const crypto::PeerId& peer) const {
  // A gating peer closes right after the handshake, which is all we can observe of it.
  return fail(Errc::kGated, "the remote " + peer.toBase58() +
                                " closed the connection after the handshake: it probably does not "
                                "trust us (" +
                                peerId().toBase58() +
                                "); its operator can add us with `peerctl peers add`");
}

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

Error timeoutError(const char* what, std::chrono::milliseconds t) {
  return fail(Errc::kTimeout,
              std::string(what) + " did not finish within " + std::to_string(t.count()) + " ms");
}

}  // namespace

// ---------------------------------------------------------------- identify codec

Bytes encodeIdentify(const IdentifyMessage& m) {
  Bytes out;
  protobuf::writeBytesField(out, 1, m.publicKey);
  for (const auto& a : m.info.listenAddrs) protobuf::writeBytesField(out, 2, a.toBytes());
  for (const auto& p : m.info.protocols) protobuf::writeBytesField(out, 3, asBytes(p));
  if (m.info.observedAddr) protobuf::writeBytesField(out, 4, m.info.observedAddr->toBytes());
  protobuf::writeBytesField(out, 5, asBytes(m.info.protocolVersion));
  protobuf::writeBytesField(out, 6, asBytes(m.info.agentVersion));
  return out;
}

Result<IdentifyMessage> decodeIdentify(BytesView in) {
  if (in.size() > kMaxIdentifySize) return fail(Errc::kTooLarge, "identify message too large");
  IdentifyMessage m;
  protobuf::Reader r(in);
  std::size_t entries = 0;
  for (;;) {
    auto f = r.next();
    if (!f) return fail(Errc::kProtocolError, "identify: " + f.error().message());
    if (!*f) break;
    const auto& field = **f;
    if (++entries > 4 * kMaxIdentifyEntries)
      return fail(Errc::kTooLarge, "identify: too many fields");
    if (field.type != protobuf::WireType::kLengthDelimited) continue;  // unknown scalar fields
    switch (field.number) {
      case 1:
        m.publicKey.assign(field.bytes.begin(), field.bytes.end());
        break;
      case 2:
        if (m.info.listenAddrs.size() >= kMaxIdentifyEntries)
          return fail(Errc::kTooLarge, "identify: too many addresses");
        if (auto a = Multiaddr::fromBytes(field.bytes)) m.info.listenAddrs.push_back(std::move(*a));
        break;
      case 3:
        if (m.info.protocols.size() >= kMaxIdentifyEntries)
          return fail(Errc::kTooLarge, "identify: too many protocols");
        m.info.protocols.emplace_back(asString(field.bytes));
        break;
      case 4:
        if (auto a = Multiaddr::fromBytes(field.bytes)) m.info.observedAddr = std::move(*a);
        break;
      case 5:
        m.info.protocolVersion = std::string(asString(field.bytes));
        break;
      case 6:
        m.info.agentVersion = std::string(asString(field.bytes));
        break;
      default:
        break;  // signedPeerRecord and future fields
    }
  }
  return m;
}

// ---------------------------------------------------------------- Host

Host::Host(asio::any_io_executor ex, const crypto::Identity& identity, HostConfig config)
    : ex_(std::move(ex)), identity_(identity), config_(std::move(config)) {}

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
    if (!self || self->spareEphemeral_) return;
    if (auto e = crypto::x25519::KeyPair::generate()) self->spareEphemeral_ = std::move(*e);
  });
  return k;
}

void Host::setHandler(std::string protocol, StreamHandler handler) {
  handlers_[std::move(protocol)] = std::move(handler);
}

std::vector<std::string> Host::protocols() const {
  std::vector<std::string> out;
  for (const auto& [p, h] : handlers_) out.push_back(p);
  return out;
}

void Host::addAddrs(const crypto::PeerId& peer, const std::vector<Multiaddr>& addrs) {
  auto& book = addrBook_[peer];
  for (const auto& a : addrs) {
    auto plain = a.withoutPeerId();
    if (std::find(book.begin(), book.end(), plain) == book.end()) book.push_back(plain);
  }
  // Addresses learned from the network (mDNS) keep arriving over a daemon's lifetime: the book
  // keeps the newest kMaxBookAddrsPerPeer so it cannot grow without bound.
  constexpr std::size_t kMaxBookAddrsPerPeer = 32;
  if (book.size() > kMaxBookAddrsPerPeer) {
    book.erase(book.begin(),
               book.begin() + static_cast<std::ptrdiff_t>(book.size() - kMaxBookAddrsPerPeer));
  }
}

Result<Multiaddr> Host::listen(const Multiaddr& addr) {
  auto acceptor = listenTcp(ex_, addr);
  if (!acceptor) return acceptor.error();
  auto shared = std::make_shared<tcp::acceptor>(std::move(*acceptor));
  auto bound = toMultiaddr(shared->local_endpoint());
  acceptors_.push_back(shared);
  // Identify advertises what peers can dial: a wildcard becomes the interface addresses.
  for (auto& a : expandWildcard(shared->local_endpoint())) listenAddrs_.push_back(std::move(a));
  asio::co_spawn(
      ex_, [self = shared_from_this(), shared]() { return self->acceptLoop(shared); },
      asio::detached);
  return bound;
}

asio::awaitable<void> Host::acceptLoop(std::shared_ptr<tcp::acceptor> acceptor) {
  auto self = shared_from_this();
  while (!closed_) {
    auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || closed_) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer t(ex_, std::chrono::milliseconds(100));
      co_await t.async_wait(kNoThrow);
      continue;
    }
    auto raw = std::make_unique<TcpStream>(std::move(socket));
    // Stops a half-open flood from starving everyone else: the attacker's stalled handshakes
    // hold at most maxPendingInbound slots, and each new arrival pushes out the oldest of them,
    // so a peer that completes its handshake within milliseconds always gets through.
    if (pendingInbound_.size() >= config_.maxPendingInbound) {
      const auto oldest = pendingInbound_.front();
      pendingInbound_.pop_front();
      *oldest.second = true;
      reject(std::nullopt, oldest.first->remoteAddr(),
             "handshake not finished while " + std::to_string(config_.maxPendingInbound) +
                 " others were pending (oldest cut)");
      oldest.first->reset();
    }
    // Connection limit, counting handshakes in progress: stops a flood of half-open handshakes
    // from exhausting descriptors and memory.
    if (conns_.size() + pendingUpgrades_ >= config_.maxConnections) {
      reject(std::nullopt, raw->remoteAddr(),
             "connection limit " + std::to_string(config_.maxConnections) + " reached");
      raw->reset();
      continue;
    }
    asio::co_spawn(ex_, handleInbound(std::move(raw)), asio::detached);
  }
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

asio::awaitable<void> Host::handleInbound(std::unique_ptr<TcpStream> raw) {
  auto self = shared_from_this();
  const UpgradeSlot slot(pendingUpgrades_);
  const auto remote = raw->remoteAddr();
  TcpStream* rawPtr = raw.get();
  std::unique_ptr<SecureConn> sc;
  // Listed while the handshake runs, so that the accept loop can cut it (see acceptLoop).
  bool unlisted = false;  // set by the accept loop when it cuts this handshake
  struct Unlist {
    Host& host;
    bool& unlisted;
    std::list<std::pair<TcpStream*, bool*>>::iterator it;
    void operator()() {
      if (!unlisted) host.pendingInbound_.erase(it);
      unlisted = true;
    }
    ~Unlist() { (*this)(); }
  } unlist{*this, unlisted, pendingInbound_.insert(pendingInbound_.end(), {rawPtr, &unlisted})};
  Watchdog dog(ex_, config_.handshakeTimeout, [rawPtr] { rawPtr->reset(); });
  auto secured = co_await secureInbound(std::move(raw), identity_, handshakeKeys());
  if (!secured) {
    spdlog::debug("inbound handshake from {} failed: {}", remote.toString(),
                  dog.fired() ? timeoutError("handshake", config_.handshakeTimeout).message()
                              : secured.error().message());
    co_return;
  }
  sc = std::move(*secured);
  // Gating happens here, after Noise proved who the peer is and before a single muxer byte:
  // an untrusted peer never reaches any protocol handler.
  const auto peer = sc->remotePeer();
  if (gater_ && !gater_(peer)) {
    reject(peer, remote, "peer is not trusted");
    sc->reset();
    co_return;
  }
  if (!sc->earlyMuxer()) {
    const std::vector<std::string> muxers{std::string(yamux::kProtocolId)};
    auto muxer = co_await multistream::handle(*sc, muxers);
    if (!muxer) {
      spdlog::debug("inbound muxer negotiation with {} failed: {}", peer.toBase58(),
                    muxer.error().message());
      sc->reset();
      co_return;
    }
  }
  dog.disarm();
  unlist();
  if (closed_) co_return;
  addConnection(std::move(sc), false);
}

std::shared_ptr<Connection> Host::addConnection(std::unique_ptr<SecureConn> sc, bool outbound) {
  auto conn = std::make_shared<Connection>(Connection{
      sc->remotePeer(), sc->raw().localAddr(), sc->raw().remoteAddr(), outbound,
      std::string(noise::kProtocolId), std::string(yamux::kProtocolId), nullptr, std::nullopt});
  auto ex = sc->raw().socket().get_executor();
  conn->session = std::make_shared<yamux::Session>(std::move(sc), ex, outbound,
                                                   conn->peer.toBase58(), config_.yamux);
  conn->session->start();
  conns_.emplace(conn->peer, conn);
  spdlog::debug("connected to {} ({}, {})", conn->peer.toBase58(), conn->remoteAddr.toString(),
                outbound ? "outbound" : "inbound");
  asio::co_spawn(ex_, serveStreams(conn), asio::detached);
  if (onConnected_) onConnected_(conn);
  if (config_.identifyOnConnect) {
    asio::co_spawn(
        ex_,
        [self = shared_from_this(), conn]() -> asio::awaitable<void> {
          auto info = co_await self->identify(conn);
          if (!info)
            spdlog::debug("identify {} failed: {}", conn->peer.toBase58(), info.error().message());
        },
        asio::detached);
  }
  return conn;
}

asio::awaitable<void> Host::serveStreams(std::shared_ptr<Connection> conn) {
  auto self = shared_from_this();
  for (;;) {
    auto s = co_await conn->session->acceptStream();
    if (!s) break;
    asio::co_spawn(ex_, handleStream(std::move(*s), conn), asio::detached);
  }
  // The session ended: forget the connection.
  for (auto [it, end] = conns_.equal_range(conn->peer); it != end; ++it) {
    if (it->second == conn) {
      conns_.erase(it);
      break;
    }
  }
  spdlog::debug("disconnected from {}: {}", conn->peer.toBase58(),
                conn->session->closeReason().message());
}

asio::awaitable<void> Host::handleStream(std::shared_ptr<yamux::Stream> s,
                                         std::shared_ptr<Connection> conn) {
  auto self = shared_from_this();
  yamux::Stream* sp = s.get();
  Watchdog dog(ex_, config_.negotiateTimeout, [sp] { sp->reset(); });
  auto proto = co_await multistream::handle(*s, protocols());
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
  co_await handler(std::move(s), std::move(conn));
}

std::shared_ptr<Connection> Host::connectionTo(const crypto::PeerId& peer) const {
  for (auto [it, end] = conns_.equal_range(peer); it != end; ++it) {
    if (it->second->isOpen()) return it->second;
  }
  return nullptr;
}

std::vector<std::shared_ptr<Connection>> Host::connections() const {
  std::vector<std::shared_ptr<Connection>> out;
  for (const auto& [p, c] : conns_) out.push_back(c);
  return out;
}

Task<std::shared_ptr<Connection>> Host::connect(const Multiaddr& addr) {
  auto self = shared_from_this();
  const auto expected = addr.peerId();
  if (expected) {
    if (*expected == peerId())
      co_return fail(Errc::kUnreachable, "refusing to dial our own peer id");
    if (auto c = connectionTo(*expected)) co_return c;
  }
  if (closed_) co_return fail(Errc::kClosed, "host is closed");
  if (conns_.size() + pendingUpgrades_ >= config_.maxConnections) {
    co_return fail(Errc::kLimit,
                   "connection limit " + std::to_string(config_.maxConnections) + " reached");
  }
  const UpgradeSlot slot(pendingUpgrades_);
  auto raw = co_await dialTcp(addr.withoutPeerId(), config_.dialTimeout);
  if (!raw) co_return raw.error();
  TcpStream* rawPtr = raw->get();
  if (closed_) co_return fail(Errc::kClosed, "host is closed");
  // Listed until this coroutine ends; by then the stream belongs to a connection or is gone,
  // and no suspension separates the two.
  struct Unlist {
    std::list<TcpStream*>& list;
    std::list<TcpStream*>::iterator it;
    ~Unlist() { list.erase(it); }
  } unlist{pendingOutbound_, pendingOutbound_.insert(pendingOutbound_.end(), rawPtr)};
  Watchdog dog(ex_, config_.handshakeTimeout, [rawPtr] { rawPtr->reset(); });
  auto sc = co_await secureOutbound(std::move(*raw), identity_, expected, handshakeKeys());
  if (!sc)
    co_return dog.fired() ? timeoutError("security handshake", config_.handshakeTimeout)
                          : sc.error();
  const auto peer = (*sc)->remotePeer();
  if (gater_ && !gater_(peer)) {
    (*sc)->reset();
    co_return fail(Errc::kGated, "remote " + peer.toBase58() + " is not a trusted peer");
  }
  if (!(*sc)->earlyMuxer()) {
    const std::vector<std::string> muxers{std::string(yamux::kProtocolId)};
    auto muxer = co_await multistream::selectOne(**sc, muxers);
    if (!muxer) {
      if (dog.fired()) co_return timeoutError("muxer negotiation", config_.handshakeTimeout);
      if (muxer.error() == make_error_code(Errc::kClosed)) co_return gatedByRemote(peer);
      co_return muxer.error();
    }
  }
  dog.disarm();
  co_return addConnection(std::move(*sc), true);
}

Task<std::shared_ptr<Connection>> Host::connect(const crypto::PeerId& peer) {
  if (auto c = connectionTo(peer)) co_return c;
  auto it = addrBook_.find(peer);
  if (it == addrBook_.end() || it->second.empty()) {
    co_return fail(Errc::kUnreachable, "no known address for " + peer.toBase58());
  }
  const auto addrs = it->second;  // copy: the book may change while we dial
  std::string errors;
  for (const auto& a : addrs) {
    auto c = co_await connect(a.withPeerId(peer));
    if (c) co_return c;
    errors += (errors.empty() ? "" : "; ") + a.toString() + ": " + c.error().message();
  }
  co_return fail(Errc::kUnreachable, "cannot reach " + peer.toBase58() + " (" + errors + ")");
}

Task<std::shared_ptr<yamux::Stream>> Host::newStream(const std::shared_ptr<Connection>& conn,
                                                     const std::vector<std::string>& protocols) {
  auto self = shared_from_this();
  auto s = conn->session->openStream();
  if (!s) co_return explainClosed(*conn, s.error());
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
  if (!conn) co_return conn.error();
  co_return co_await newStream(*conn, protocols);
}

void Host::installDefaultHandlers() {
  std::weak_ptr<Host> weak = weak_from_this();
  setHandler(std::string(kIdentifyProtocol),
             [weak](std::shared_ptr<yamux::Stream> s,
                    std::shared_ptr<Connection> conn) -> asio::awaitable<void> {
               auto self = weak.lock();
               if (!self) co_return;
               IdentifyMessage m;
               m.publicKey = crypto::encodePublicKey(self->identity_.publicKey());
               m.info.agentVersion = self->config_.agentVersion;
               m.info.protocolVersion = "ipfs/0.1.0";
               m.info.protocols = self->protocols();
               m.info.listenAddrs = self->listenAddrs_;
               m.info.observedAddr = conn->remoteAddr;
               if (auto r = co_await writeLengthPrefixed(*s, encodeIdentify(m)); r)
                 co_await s->closeWrite();
             });
  setHandler(
      std::string(kPingProtocol),
      [](std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection>) -> asio::awaitable<void> {
        // Echo 32-byte pings until the remote closes; anything else ends the stream.
        std::array<std::uint8_t, 32> buf{};
        for (;;) {
          auto r = co_await readExact(*s, buf);
          if (!r) break;
          if (auto w = co_await s->write(buf); !w) break;
        }
        co_await s->closeWrite();
      });
}

Task<PeerInfo> Host::identify(const std::shared_ptr<Connection>& conn) {
  auto self = shared_from_this();
  const std::vector<std::string> protos{std::string(kIdentifyProtocol)};
  auto s = co_await newStream(conn, protos);
  if (!s) co_return s.error();
  auto msg = co_await readLengthPrefixed(**s, kMaxIdentifySize);
  co_await (*s)->closeWrite();
  if (!msg) co_return msg.error();
  auto m = decodeIdentify(*msg);
  if (!m) co_return m.error();
  // The advertised key must be the one the connection authenticated; otherwise the peer is
  // lying about itself.
  if (!m->publicKey.empty()) {
    auto key = crypto::decodePublicKey(m->publicKey);
    if (!key || crypto::PeerId::fromPublicKey(*key) != conn->peer) {
      co_return fail(Errc::kProtocolError,
                     "identify: public key does not match the connection's peer id");
    }
  }
  conn->remoteInfo = m->info;
  co_return m->info;
}

Task<std::chrono::microseconds> Host::ping(const std::shared_ptr<Connection>& conn) {
  auto self = shared_from_this();
  // Optimistic negotiation: proposal and ping payload leave in one flight, the confirmation is
  // read back before the echo. One round trip instead of two; a remote without ping answers
  // "na" and the ping fails either way.
  auto s = conn->session->openStream();
  if (!s) co_return explainClosed(*conn, s.error());
  yamux::Stream* sp = s->get();
  Watchdog dog(ex_, config_.negotiateTimeout, [sp] { sp->reset(); });
  std::array<std::uint8_t, 32> out{}, in{};
  RAND_bytes(out.data(), static_cast<int>(out.size()));
  Bytes flight;
  multistream::encodeProposal(kPingProtocol, flight);
  append(flight, out);
  const auto start = std::chrono::steady_clock::now();
  if (auto w = co_await (*s)->write(flight); !w) co_return w.error();
  if (auto r = co_await multistream::readConfirmation(**s, kPingProtocol); !r) {
    co_return dog.fired() ? timeoutError("ping", config_.negotiateTimeout)
                          : explainClosed(*conn, r.error());
  }
  (*s)->protocol = std::string(kPingProtocol);
  if (auto r = co_await readExact(**s, in); !r) co_return r.error();
  const auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  co_await (*s)->closeWrite();
  if (in != out) co_return fail(Errc::kProtocolError, "ping reply does not match");
  co_return rtt;
}

void Host::close() {
  closed_ = true;
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  // Handshakes in progress end now too, rather than at their deadline.
  for (auto& [raw, cut] : pendingInbound_) raw->reset();
  for (auto* raw : pendingOutbound_) raw->reset();
  for (auto& [p, c] : conns_) c->session->close();
}

}  // namespace pc::net
