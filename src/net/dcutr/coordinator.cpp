#include "net/dcutr/coordinator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "net/error.hpp"
#include "net/watchdog.hpp"

namespace pc::net::dcutr {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds sinceMs(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
}

/// Reads one HolePunch of `type`. Errors: the stream's, kTooLarge, kProtocolError.
Task<HolePunch> readMessage(ByteStream& s, HolePunch::Type type) {
  auto bytes = co_await readLengthPrefixed(s, kMaxMessageSize);
  if (!bytes) co_return bytes.error();
  auto m = decode(*bytes);
  if (!m) co_return m.error();
  if (m->type != type) co_return fail(Errc::kProtocolError, "unexpected DCUtR message type");
  co_return std::move(*m);
}

Task<void> writeMessage(ByteStream& s, HolePunch::Type type, std::vector<Multiaddr> addrs) {
  const HolePunch m{type, std::move(addrs)};
  const auto bytes = encode(m);
  co_return co_await writeLengthPrefixed(s, bytes);
}

/// Marks `conn` busy for as long as it lives.
struct Busy {
  std::vector<const Connection*>& list;
  const Connection* conn;
  ~Busy() { std::erase(list, conn); }
};

}  // namespace

std::shared_ptr<Coordinator> Coordinator::install(const std::shared_ptr<Host>& host,
                                                  CoordinatorConfig config) {
  std::shared_ptr<Coordinator> c(new Coordinator(host, std::move(config)));
  host->setHandler(std::string(kProtocolId),
                   [c](std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection> conn) {
                     return c->serve(std::move(s), std::move(conn));
                   });
  host->onIdentified([c](const std::shared_ptr<Connection>& conn) { c->onIdentified(conn); });
  return c;
}

void Coordinator::addObserved(const Multiaddr& addr) {
  std::erase(observed_, addr);
  observed_.insert(observed_.begin(), addr);
  if (observed_.size() > kMaxObserved) observed_.resize(kMaxObserved);
}

std::vector<Multiaddr> Coordinator::ownAddrs() const {
  auto host = host_.lock();
  if (!host) return {};
  return ownCandidates(observed_, host->listenPort(), host->listenAddrs(), config_.addrs);
}

void Coordinator::onIdentified(const std::shared_ptr<Connection>& conn) {
  const auto& info = conn->remoteInfo;
  if (!info) return;
  if (!conn->isRelayed()) {
    // Only a direct peer sees the address our NAT maps us to; a relay's view would be its own.
    if (info->observedAddr) addObserved(info->observedAddr->withoutPeerId());
    return;
  }
  const bool speaksDcutr = std::find(info->protocols.begin(), info->protocols.end(), kProtocolId) !=
                           info->protocols.end();
  auto host = host_.lock();
  if (!config_.autoUpgrade || conn->outbound || !speaksDcutr || !host) {
    spdlog::debug("dcutr: not upgrading the relayed connection to {} (outbound {}, speaks {})",
                  conn->peer.toBase58(), conn->outbound, speaksDcutr);
    return;
  }
  // In the host's task group: shutdown() waits for (or cancels) a punch in progress.
  host->spawn([self = shared_from_this(), conn]() -> asio::awaitable<void> {
    const auto t0 = Clock::now();
    auto c = co_await self->upgrade(conn);
    if (!c) {
      spdlog::debug("dcutr with {}: {}", conn->peer.toBase58(), c.error().message());
    } else {
      spdlog::debug("dcutr with {}: direct after {} ms", conn->peer.toBase58(),
                    sinceMs(t0).count());
    }
  });
}

Task<std::shared_ptr<Connection>> Coordinator::upgrade(std::shared_ptr<Connection> relayed) {
  auto self = shared_from_this();
  auto host = host_.lock();
  if (!host) co_return fail(Errc::kClosed, "host is gone");
  if (!relayed->isRelayed() || relayed->outbound) {
    co_return fail(Errc::kProtocolError, "DCUtR starts on an inbound relayed connection");
  }
  if (config_.unilateral) {
    if (auto c = co_await unilateral(host, relayed)) co_return c;
  }
  Error last = fail(Errc::kUnreachable, "no attempt made");
  for (std::size_t i = 0; i < config_.attempts && relayed->isOpen(); ++i) {
    auto c = co_await attempt(host, relayed);
    if (c) co_return c;
    spdlog::debug("dcutr attempt {} with {}: {}", i + 1, relayed->peer.toBase58(),
                  c.error().message());
    last = c.error();
  }
  co_return last;
}

Task<std::shared_ptr<Connection>> Coordinator::unilateral(std::shared_ptr<Host> host,
                                                          std::shared_ptr<Connection> relayed) {
  const auto listen =
      relayed->remoteInfo ? relayed->remoteInfo->listenAddrs : std::vector<Multiaddr>{};
  for (const auto& a : selectCandidates(listen, config_.addrs)) {
    // A private address of the peer's LAN is not reachable from ours (the peer came through a
    // relay): routers drop such SYNs without a word, and waiting out the dial would delay the
    // punch by unilateralTimeout. The punch below still tries them (they help on one LAN).
    if (isPrivateNetwork(a)) continue;
    const auto target = a.withPeerId(relayed->peer);
    auto c = co_await host->connectDirect(target, config_.unilateralTimeout);
    if (!c) {
      spdlog::debug("dcutr: direct dial {}: {}", a.toString(), c.error().message());
      continue;
    }
    (*c)->upgradedFromRelay = true;
    host->retireRelayed(relayed->peer);
    co_return std::move(*c);
  }
  co_return fail(Errc::kUnreachable, "no public address of the peer answered");
}

Task<std::shared_ptr<Connection>> Coordinator::attempt(std::shared_ptr<Host> host,
                                                       std::shared_ptr<Connection> relayed) {
  auto self = shared_from_this();
  const auto t0 = Clock::now();
  auto own = ownAddrs();
  if (own.empty()) co_return fail(Errc::kUnreachable, "no address of ours to punch to");
  const std::vector<std::string> protos{std::string(kProtocolId)};
  auto s = co_await host->newStream(relayed, protos);
  if (!s) co_return s.error();
  const auto stream = std::move(*s);
  yamux::Stream* sp = stream.get();
  Watchdog dog(host->executor(), config_.attemptTimeout, [sp] { sp->reset(); });
  if (auto w = co_await writeMessage(*stream, HolePunch::Type::kConnect, own); !w) {
    co_return w.error();
  }
  const auto sent = Clock::now();
  auto reply = co_await readMessage(*stream, HolePunch::Type::kConnect);
  if (!reply) co_return reply.error();
  const auto rtt = sinceMs(sent);
  auto theirs = selectCandidates(reply->observedAddrs, config_.addrs);
  if (theirs.empty()) {
    stream->reset();
    co_return fail(Errc::kUnreachable, "the peer sent no address we can punch to");
  }
  const auto left = config_.attemptTimeout - sinceMs(t0);
  auto punch = host->expectPunch(relayed->peer, std::move(theirs), PunchRole::kServer, left);
  if (auto w = co_await writeMessage(*stream, HolePunch::Type::kSync, {}); !w) co_return w.error();
  dog.disarm();
  stream->reset();  // nothing more to say; frees the relayed connection's stream at once
  co_return co_await host->punch(std::move(punch), rtt / 2);
}

asio::awaitable<void> Coordinator::serve(std::shared_ptr<yamux::Stream> s,
                                         std::shared_ptr<Connection> conn) {
  auto self = shared_from_this();
  auto host = host_.lock();
  // go's A does the same: a stream on a direct connection, or on a relayed one we did not dial,
  // is someone probing us into dialing, never a legitimate upgrade; one exchange at a time per
  // connection.
  if (!host || !conn->isRelayed() || !conn->outbound ||
      std::find(busy_.begin(), busy_.end(), conn.get()) != busy_.end()) {
    s->reset();
    co_return;
  }
  busy_.push_back(conn.get());
  const Busy busy{busy_, conn.get()};
  const auto t0 = Clock::now();
  yamux::Stream* sp = s.get();
  Watchdog dog(host->executor(), config_.attemptTimeout, [sp] { sp->reset(); });
  auto connect = co_await readMessage(*s, HolePunch::Type::kConnect);
  if (!connect) co_return;
  auto theirs = selectCandidates(connect->observedAddrs, config_.addrs);
  auto own = ownAddrs();
  if (theirs.empty() || own.empty()) {
    spdlog::debug("dcutr from {}: no usable address", conn->peer.toBase58());
    s->reset();
    co_return;
  }
  // Expected from now on: B's SYN may reach our listener before its SYNC reaches us.
  auto punch =
      host->expectPunch(conn->peer, std::move(theirs), PunchRole::kClient, config_.attemptTimeout);
  if (auto w = co_await writeMessage(*s, HolePunch::Type::kConnect, own); !w) co_return;
  auto sync = co_await readMessage(*s, HolePunch::Type::kSync);
  dog.disarm();
  s->reset();
  if (!sync) co_return;
  auto c = co_await host->punch(std::move(punch), std::chrono::milliseconds(0));
  if (!c) {
    spdlog::debug("dcutr punch to {} after {} ms: {}", conn->peer.toBase58(), sinceMs(t0).count(),
                  c.error().message());
  }
}

}  // namespace pc::net::dcutr
