#include "gateway/peers.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>

#include "core/ascii.hpp"
#include "core/time.hpp"
#include "dns/server.hpp"
#include "gateway/certs.hpp"
#include "net/error.hpp"
#include "net/host.hpp"
#include "net/watchdog.hpp"

namespace pc::gateway {

namespace asio = net::asio;
using asio::awaitable;
using Clock = std::chrono::steady_clock;

/// One listed peer: our outbound stream to it (we write, it reads) and what its inbound stream
/// to us set up.
struct GatewayPeers::Link {
  Link(const asio::any_io_executor& ex, crypto::PeerId i, net::Multiaddr a)
      : id(std::move(i)), addr(std::move(a)), wake(ex), redial(ex) {}
  crypto::PeerId id;
  net::Multiaddr addr;
  std::shared_ptr<net::yamux::Stream> out;  ///< connected when set
  std::deque<Bytes> queue;                  ///< frames for `out`; bound: kMaxQueuedFrames
  net::Signal wake;                         ///< a frame was queued
  net::Signal redial;                       ///< the peer reached us: dial it now
  std::shared_ptr<net::yamux::Stream> in;   ///< the peer's stream to us (the newest one)
  bool redialSoon = false;                  ///< set with `redial` (a notify nobody waited for)
  std::string lastFailure;                  ///< last dial failure logged (logged on change)
  std::string refusedDomain;                ///< the other domain last logged (logged on change)
  std::uint32_t sentSeq = 0;                ///< the latest challenge sent on `out`
  std::uint32_t ackedSeq = 0;               ///< the latest challenge it confirmed
  std::set<std::string> challenges;         ///< TXT names it set in our zone
  std::uint64_t refusedNotAfter = 0;        ///< the certificate it sent that we could not take
  std::uint64_t requestedNotAfter = 0;      ///< the certificate last asked of it, and when
  Clock::time_point requestedAt{};
};

namespace {

std::string addressText(const dns::Addresses& a) {
  std::string out;
  auto add = [&out](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  for (const auto& v4 : a.v4) add(boost::asio::ip::address_v4(v4).to_string());
  for (const auto& v6 : a.v6) add(boost::asio::ip::address_v6(v6).to_string());
  return out.empty() ? "none" : out;
}

bool sameAddresses(const dns::Addresses& a, const dns::Addresses& b) {
  return a.v4 == b.v4 && a.v6 == b.v6;
}

std::string shortId(const crypto::PeerId& id) { return id.toBase58(); }

std::uint64_t unixSeconds() { return static_cast<std::uint64_t>(time::unixMillisNow() / 1000); }

awaitable<void> refuseStream(std::shared_ptr<net::yamux::Stream> s) {
  s->reset();
  co_return;
}

}  // namespace

Result<std::shared_ptr<GatewayPeers>> GatewayPeers::create(std::shared_ptr<net::Host> host,
                                                           std::weak_ptr<dns::DnsServer> dns,
                                                           GatewayPeersOptions options) {
  if (options.peers.size() > peer::kMaxPeerGateways) {
    return fail(Errc::kInvalidArgument,
                "peer_gateways: at most " + std::to_string(peer::kMaxPeerGateways) + " peers");
  }
  if (options.ownAddresses.size() > peer::kMaxAddressesPerGateway) {
    return fail(Errc::kInvalidArgument,
                "public_ip: at most " + std::to_string(peer::kMaxAddressesPerGateway) +
                    " addresses per gateway with peer_gateways (every live gateway's addresses "
                    "must fit one answer)");
  }
  std::vector<crypto::PeerId> ids;
  for (const auto& a : options.peers) {
    auto id = a.peerId();
    if (!id) {
      return fail(Errc::kInvalidArgument,
                  "peer_gateways: " + a.toString() + " does not end in /p2p/<peer id>");
    }
    if (*id == host->peerId()) {
      return fail(Errc::kInvalidArgument,
                  "peer_gateways: " + a.toString() + " is this gateway itself");
    }
    if (std::find(ids.begin(), ids.end(), *id) != ids.end()) {
      return fail(Errc::kInvalidArgument, "peer_gateways: " + id->toBase58() + " is listed twice");
    }
    ids.push_back(*id);
  }
  return std::shared_ptr<GatewayPeers>(
      new GatewayPeers(std::move(host), std::move(dns), std::move(options), std::move(ids)));
}

GatewayPeers::GatewayPeers(std::shared_ptr<net::Host> host, std::weak_ptr<dns::DnsServer> dns,
                           GatewayPeersOptions options, std::vector<crypto::PeerId> ids)
    : host_(std::move(host)),
      dns_(std::move(dns)),
      options_(std::move(options)),
      domain_(lowerAscii(options_.domain)),
      liveness_(host_->peerId(), ids, options_.liveness, Clock::now()),
      acked_(host_->executor()),
      tasks_(host_->executor()) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    links_.emplace(ids[i], std::make_unique<Link>(host_->executor(), ids[i], options_.peers[i]));
  }
}

GatewayPeers::~GatewayPeers() = default;

void GatewayPeers::install() {
  // A weak reference: the host owns its handlers, and we hold the host.
  std::weak_ptr<GatewayPeers> weak = shared_from_this();
  host_->setHandler(std::string(kGatewayPeerProtocol),
                    [weak](std::shared_ptr<net::yamux::Stream> s,
                           std::shared_ptr<net::Connection> c) -> awaitable<void> {
                      auto self = weak.lock();
                      return self ? self->serveInbound(std::move(s), std::move(c))
                                  : refuseStream(std::move(s));
                    });
}

void GatewayPeers::start() {
  auto self = shared_from_this();
  for (const auto& [id, link] : links_) {
    tasks_.spawn([self, id = id] { return self->dialLoop(id); });
  }
  tasks_.spawn([self] { return self->tickLoop(); });
  updateZone();
}

void GatewayPeers::stop() {
  stopped_ = true;
  for (auto& [id, link] : links_) {
    if (link->out) link->out->reset();
    if (link->in) link->in->reset();
    link->wake.notify();
    link->redial.notify();
  }
  acked_.notify();
  tasks_.cancel();
}

awaitable<void> GatewayPeers::shutdown() {
  auto self = shared_from_this();
  stop();
  co_await tasks_.join();
}

bool GatewayPeers::isListed(const crypto::PeerId& peer) const { return links_.contains(peer); }

std::vector<crypto::PeerId> GatewayPeers::alivePeers() const { return liveness_.alive(); }

peer::PeerState GatewayPeers::state(const crypto::PeerId& peer) const {
  return liveness_.state(peer);
}

// ---------------------------------------------------------------- our streams to the peers

awaitable<void> GatewayPeers::dialLoop(crypto::PeerId id) {
  auto self = shared_from_this();
  Link& link = *links_.at(id);
  auto backoff = peer::kMinRedial;
  while (!stopped_) {
    std::string failure;
    auto conn = co_await host_->connect(link.addr);
    if (stopped_) co_return;
    if (conn) {
      const std::vector<std::string> protos{std::string(kGatewayPeerProtocol)};
      auto s = co_await host_->newStream(*conn, protos);
      if (stopped_) co_return;
      if (s) {
        spdlog::info("peers: connected to peer gateway {}", shortId(id));
        link.lastFailure.clear();
        backoff = peer::kMinRedial;
        co_await sendLoop(link, *s);
        if (stopped_) co_return;
        failure = "its stream ended";
      } else if (s.error() == net::make_error_code(net::Errc::kNegotiationFailed)) {
        // Mutual trust: it opens the protocol only to the gateways it lists.
        failure =
            "it does not list this gateway; add --peer-gateway <this gateway's tunnel "
            "address>/p2p/" +
            host_->peerId().toBase58() + " there";
      } else {
        failure = s.error().message();
      }
    } else {
      failure = conn.error().message();
    }
    if (failure != link.lastFailure) {
      spdlog::warn("peers: peer gateway {}: {}", shortId(id), failure);
      link.lastFailure = failure;
    }
    if (!link.redialSoon) {
      // The peer reaching us (its stream arrived) cuts the wait short.
      net::Watchdog dog(host_->executor(), backoff, [&link] { link.redial.notify(); });
      co_await link.redial.wait();
    }
    link.redialSoon = false;
    backoff = std::min(backoff * 2, peer::kMaxRedial);
  }
}

awaitable<void> GatewayPeers::sendLoop(Link& link, std::shared_ptr<net::yamux::Stream> stream) {
  link.out = stream;
  link.queue.clear();
  // What the peer missed while no stream was up: the challenge answers still in force (the CA
  // may ask its DNS for them any moment now).
  for (const auto& [name, set] : challenges_) {
    const peer::Message m = set;
    if (auto frame = peer::encode(m)) {
      link.queue.push_back(std::move(*frame));
      link.sentSeq = std::max(link.sentSeq, set.seq);
    }
  }
  const auto ex = host_->executor();
  auto nextBeat = Clock::now();
  while (!stopped_ && link.out == stream) {
    if (Clock::now() >= nextBeat) {
      const peer::Message beat = heartbeat();
      if (auto frame = peer::encode(beat)) {
        link.queue.push_front(std::move(*frame));
      } else {
        spdlog::error("gateway peers: cannot encode a heartbeat: {}", frame.error().message());
      }
      nextBeat = Clock::now() + options_.liveness.heartbeat;
    }
    bool failed = false;
    while (!failed && !link.queue.empty() && link.out == stream) {
      const Bytes frame = std::move(link.queue.front());
      link.queue.pop_front();
      // A peer that stops reading is cut after the time it takes to count it dead.
      net::Watchdog dog(ex, options_.liveness.deadAfter(), [stream] { stream->reset(); });
      const BytesView view(frame);
      auto w = co_await stream->write(view);
      failed = !w;
    }
    if (failed || link.out != stream) break;
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(nextBeat - Clock::now());
    if (wait.count() > 0) {
      net::Watchdog dog(ex, wait, [&link] { link.wake.notify(); });
      co_await link.wake.wait();
    }
  }
  stream->reset();
  if (link.out == stream) link.out.reset();
}

bool GatewayPeers::send(Link& link, const peer::Message& m) {
  if (!link.out) return false;
  auto frame = peer::encode(m);
  if (!frame) {
    spdlog::warn("peers: not sent to {}: {}", shortId(link.id), frame.error().message());
    return false;
  }
  if (link.queue.size() >= peer::kMaxQueuedFrames) {
    spdlog::warn("peers: peer gateway {} is not reading ({} messages queued); reconnecting",
                 shortId(link.id), link.queue.size());
    link.out->reset();
    link.out.reset();
    link.wake.notify();
    return false;
  }
  link.queue.push_back(std::move(*frame));
  link.wake.notify();
  return true;
}

peer::Heartbeat GatewayPeers::heartbeat() const {
  peer::Heartbeat h;
  h.flags = options_.ordersWildcard ? peer::kFlagOrdersWildcard : 0;
  h.domain = domain_;
  h.addresses = options_.ownAddresses;
  // An expired certificate is none: a peer must not wait to fetch it.
  const std::uint64_t notAfter = ourCertNotAfter();
  h.certNotAfter = notAfter > unixSeconds() ? notAfter : 0;
  h.intervalMs = static_cast<std::uint32_t>(options_.liveness.heartbeat.count());
  return h;
}

// ---------------------------------------------------------------- the peers' streams to us

awaitable<void> GatewayPeers::serveInbound(std::shared_ptr<net::yamux::Stream> stream,
                                           std::shared_ptr<net::Connection> conn) {
  auto self = shared_from_this();
  auto it = links_.find(conn->peer);
  // The stream gate admits listed peers only; checked again here, where the protocol is served
  // (an unlisted peer must not set TXT values in our zone or be handed the certificate key).
  if (it == links_.end() || stopped_) {
    spdlog::warn("security: refused a gateway-peer stream from {}: not in peer_gateways",
                 conn->peer.toBase58());
    stream->reset();
    co_return;
  }
  Link& link = *it->second;
  // One stream per peer: a newer one (the peer reconnected) replaces the older.
  if (link.in) link.in->reset();
  link.in = stream;
  if (!link.out) {
    link.redialSoon = true;  // it is up: dial it back now, not after the back-off
    link.redial.notify();
  }
  peer::FrameDecoder decoder;
  std::array<std::uint8_t, 8192> buf{};
  bool first = true;
  std::string why;
  while (!stopped_ && link.in == stream) {
    // Every peer writes at least a heartbeat each interval: silence this long is a dead stream.
    net::Watchdog dog(host_->executor(), liveness_.deadAfter(link.id),
                      [stream] { stream->reset(); });
    auto n = co_await stream->readSome(std::span<std::uint8_t>(buf.data(), buf.size()));
    if (!n || *n == 0) break;
    auto m = decoder.feed(BytesView(buf.data(), *n));
    bool keep = true;
    while (keep && m && *m) {
      keep = onMessage(link, **m, first);
      first = false;
      if (keep) m = decoder.next();
    }
    if (!m) {
      spdlog::warn("peers: peer gateway {} sent a bad message: {}", shortId(link.id),
                   m.error().message());
    }
    if (!m || !keep) break;
  }
  stream->reset();
  if (link.in == stream) link.in.reset();
}

bool GatewayPeers::onMessage(Link& link, peer::Message& m, bool first) {
  if (auto* h = std::get_if<peer::Heartbeat>(&m)) return onHeartbeat(link, *h);
  // Its heartbeat (with the domain) comes first: nothing is taken from a peer before that.
  if (first) {
    spdlog::warn("peers: peer gateway {} did not start with a heartbeat", shortId(link.id));
    return false;
  }
  if (auto* s = std::get_if<peer::ChallengeSet>(&m)) {
    onChallengeSet(link, *s);
  } else if (auto* a = std::get_if<peer::ChallengeAck>(&m)) {
    link.ackedSeq = std::max(link.ackedSeq, a->seq);
    acked_.notify();
  } else if (auto* c = std::get_if<peer::ChallengeClear>(&m)) {
    if (link.challenges.erase(c->name) != 0) {
      if (auto d = dns_.lock()) d->zone().clearChallenge(c->name);
    }
  } else if (std::holds_alternative<peer::CertificateRequest>(m)) {
    auto certs = certs_.lock();
    auto pem = certs ? certs->wildcardPem() : std::nullopt;
    if (pem) {
      spdlog::info("peers: sending the certificate to peer gateway {} (it asked)",
                   shortId(link.id));
      send(link, peer::Certificate{pem->first, pem->second});
    }
  } else if (auto* cert = std::get_if<peer::Certificate>(&m)) {
    onCertificate(link, *cert);
  }
  return true;
}

bool GatewayPeers::onHeartbeat(Link& link, const peer::Heartbeat& h) {
  // Gateways of one domain only: a peer serving another would put its addresses in our answers
  // and could be handed a certificate it must not hold.
  if (h.domain != domain_) {
    if (h.domain != link.refusedDomain) {  // it redials: one line per domain, not per attempt
      spdlog::warn(
          "peers: refused peer gateway {}: it serves domain {}, this gateway serves {} (only "
          "gateways of one domain are peers)",
          shortId(link.id), h.domain, domain_);
      link.refusedDomain = h.domain;
    }
    return false;
  }
  link.refusedDomain.clear();
  const auto* before = liveness_.status(link.id);
  const bool addressesChanged = before == nullptr || !sameAddresses(before->addresses, h.addresses);
  peer::PeerStatus status{h.addresses, (h.flags & peer::kFlagOrdersWildcard) != 0, h.certNotAfter,
                          std::chrono::milliseconds(h.intervalMs)};
  if (auto t = liveness_.heard(link.id, status, Clock::now())) {
    spdlog::info("peers: peer gateway {} is alive (addresses {})", shortId(link.id),
                 addressText(h.addresses));
  }
  if (addressesChanged) updateZone();
  fetchFresherCertificate();
  return true;
}

void GatewayPeers::onChallengeSet(Link& link, const peer::ChallengeSet& s) {
  // A peer may publish DNS-01 answers only (it is trusted with the certificate, not the zone).
  if (!s.name.starts_with(peer::kChallengeLabel)) {
    spdlog::warn("peers: peer gateway {} asked for TXT {}: only {}<name> is accepted",
                 shortId(link.id), s.name, peer::kChallengeLabel);
    return;
  }
  auto d = dns_.lock();
  if (!d) return;
  if (auto r = d->zone().setChallenge(s.name, s.values); !r) {
    spdlog::warn("peers: TXT {} from peer gateway {} not published: {}", s.name, shortId(link.id),
                 r.error().message());
    return;
  }
  link.challenges.insert(s.name);
  spdlog::info("peers: TXT {} published for peer gateway {} ({} value(s))", s.name,
               shortId(link.id), s.values.size());
  send(link, peer::ChallengeAck{s.seq});
}

void GatewayPeers::onCertificate(Link& link, const peer::Certificate& c) {
  auto certs = certs_.lock();
  if (!certs) return;
  auto r = certs->installShared(c.chainPem, c.keyPem, "peer gateway " + shortId(link.id));
  if (!r) {
    spdlog::warn("peers: certificate from peer gateway {} not taken: {}", shortId(link.id),
                 r.error().message());
    // Not asked for again, and no reason to leave the order to it (fresherPeer).
    if (const auto* st = liveness_.status(link.id)) link.refusedNotAfter = st->certNotAfter;
  }
}

// ---------------------------------------------------------------- liveness and DNS

awaitable<void> GatewayPeers::tickLoop() {
  auto self = shared_from_this();
  while (!stopped_) {
    co_await net::sleepFor(options_.liveness.heartbeat);
    if (stopped_) co_return;
    applyTransitions(liveness_.tick(Clock::now()));
    fetchFresherCertificate();
  }
}

void GatewayPeers::applyTransitions(const std::vector<peer::Transition>& changes) {
  if (changes.empty()) return;
  auto d = dns_.lock();
  for (const auto& t : changes) {
    Link& link = *links_.at(t.peer);
    spdlog::warn(
        "peers: peer gateway {} is dead (silent for {} of its heartbeat intervals): DNS no "
        "longer names it",
        shortId(t.peer), options_.liveness.missedBeforeDead);
    // Its challenge answers go with it (it will publish them again if it comes back mid-order).
    for (const auto& name : link.challenges) {
      if (d) d->zone().clearChallenge(name);
    }
    link.challenges.clear();
  }
  acked_.notify();  // a waiting orderer stops waiting for the dead
  updateZone();
}

void GatewayPeers::updateZone() {
  auto d = dns_.lock();
  if (!d) return;
  auto addrs = liveness_.liveAddresses(options_.ownAddresses);
  if (published_ && sameAddresses(*published_, addrs)) return;
  if (auto r = d->zone().setAddresses(addrs); !r) {
    spdlog::warn("peers: DNS answers not changed: {}", r.error().message());
    return;
  }
  spdlog::info("peers: DNS answers for {} now name {}", domain_, addressText(addrs));
  published_ = std::move(addrs);
}

// ---------------------------------------------------------------- the wildcard certificate

void GatewayPeers::attachCertificates(std::weak_ptr<CertManager> certs) {
  certs_ = std::move(certs);
}

std::uint64_t GatewayPeers::ourCertNotAfter() const {
  auto certs = certs_.lock();
  return certs ? certs->wildcardNotAfter() : 0;
}

std::optional<crypto::PeerId> GatewayPeers::fresherPeer() const {
  return liveness_.fresherCertificate(ourCertNotAfter(), unixSeconds(),
                                      [this](const crypto::PeerId& id, std::uint64_t notAfter) {
                                        return links_.at(id)->refusedNotAfter != notAfter;
                                      });
}

std::optional<std::string> GatewayPeers::deferOrder() const {
  for (const auto& [id, link] : links_) {
    if (liveness_.state(id) == peer::PeerState::kUnknown) {
      return "peer gateway " + shortId(id) +
             " has not been heard from yet (it may hold or be ordering it)";
    }
  }
  if (auto p = liveness_.ordererBelowSelf()) {
    return "peer gateway " + shortId(*p) + " orders it (the lowest peer id alive)";
  }
  if (auto p = fresherPeer()) {
    return "peer gateway " + shortId(*p) + " holds a newer one; fetching it";
  }
  return std::nullopt;
}

void GatewayPeers::fetchFresherCertificate() {
  if (certs_.expired()) return;
  auto p = fresherPeer();
  if (!p) return;
  Link& link = *links_.at(*p);
  const std::uint64_t theirs = liveness_.status(*p)->certNotAfter;
  const auto now = Clock::now();
  if (link.requestedNotAfter == theirs && now - link.requestedAt < peer::kCertRequestInterval) {
    return;
  }
  if (send(link, peer::CertificateRequest{})) {
    spdlog::info("peers: asking peer gateway {} for its certificate (it expires later)",
                 shortId(*p));
    link.requestedNotAfter = theirs;
    link.requestedAt = now;
  }
}

void GatewayPeers::publishChallenge(const std::string& name,
                                    const std::vector<std::string>& values) {
  const peer::ChallengeSet msg{++challengeSeq_, lowerAscii(name), values};
  challenges_[msg.name] = msg;
  for (const auto& id : liveness_.alive()) {
    Link& link = *links_.at(id);
    // Counted as sent even when its stream is down: awaitChallenge then waits for the peer's
    // ack of the copy its next stream starts with (sendLoop), or names it at the timeout.
    (void)send(link, msg);
    link.sentSeq = msg.seq;
  }
}

void GatewayPeers::withdrawChallenge(const std::string& name) {
  const peer::ChallengeClear msg{lowerAscii(name)};
  challenges_.erase(msg.name);
  for (auto& [id, link] : links_) send(*link, msg);
}

net::Task<void> GatewayPeers::awaitChallenge() {
  auto self = shared_from_this();
  const auto deadline = Clock::now() + peer::kChallengeAckTimeout;
  for (;;) {
    std::vector<std::string> missing;
    for (const auto& id : liveness_.alive()) {
      const Link& link = *links_.at(id);
      if (link.ackedSeq < link.sentSeq) missing.push_back(shortId(id));
    }
    if (missing.empty() || stopped_) co_return Result<void>{};
    const auto now = Clock::now();
    if (now >= deadline) {
      std::string names;
      for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
      spdlog::warn(
          "peers: {} did not confirm the TXT values within {} s; the CA may not find them there",
          names, peer::kChallengeAckTimeout.count());
      co_return Result<void>{};
    }
    net::Watchdog dog(host_->executor(),
                      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                      [this] { acked_.notify(); });
    co_await acked_.wait();
  }
}

void GatewayPeers::shareCertificate() {
  auto certs = certs_.lock();
  auto pem = certs ? certs->wildcardPem() : std::nullopt;
  if (!pem) return;
  const peer::Message msg = peer::Certificate{pem->first, pem->second};
  for (const auto& id : liveness_.alive()) {
    if (send(*links_.at(id), msg)) {
      spdlog::info("peers: certificate sent to peer gateway {}", shortId(id));
    }
  }
}

}  // namespace pc::gateway
