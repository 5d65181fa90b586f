// Host: hole punching support (DCUtR's transport half). Dials leave from the listen port, a
// punched TCP connection is upgraded in the role DCUtR assigned whatever its direction, and the
// relayed connection it replaces is closed once idle.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "net/error.hpp"
#include "net/host.hpp"
#include "net/tcp.hpp"

namespace pc::net {
namespace {

/// Punches in progress at once (each holds up to dcutr::kMaxCandidates sockets): bounds what a
/// burst of relayed peers can make us dial.
constexpr std::size_t kMaxPunchesInFlight = 16;
/// How often a retired relayed connection is checked for open streams.
constexpr std::chrono::milliseconds kRelayIdlePoll{200};

}  // namespace

struct PunchAttempt {
  PunchAttempt(asio::any_io_executor ex, crypto::PeerId p, std::vector<Multiaddr> a, PunchRole r,
               std::chrono::steady_clock::time_point d)
      : peer(std::move(p)), addrs(std::move(a)), role(r), deadline(d), wake(std::move(ex)) {}
  crypto::PeerId peer;
  std::vector<Multiaddr> addrs;
  PunchRole role;
  std::chrono::steady_clock::time_point deadline;
  std::shared_ptr<Connection> result;
  asio::steady_timer wake;  ///< punch() waits on it; cancelled when `result` is set
};

void Host::noteListenPort(const Multiaddr& requested, std::uint16_t bound) {
  if (listenPort_ != 0) return;
  listenPort_ = bound;
  const auto t = requested.tcpTarget();
  listenPortChosen_ = t && t->port != 0;
}

Task<std::unique_ptr<RawConn>> Host::dialRaw(const Multiaddr& addr,
                                             std::chrono::milliseconds timeout) {
  const bool fromListen =
      listenPort_ != 0 && (config_.dialFrom == HostConfig::DialFrom::kListenPort ||
                           (config_.dialFrom == HostConfig::DialFrom::kAuto && listenPortChosen_));
  // (No co_await inside ?: — GCC 12 miscompiles it.)
  Result<std::unique_ptr<TcpStream>> raw = fail(Errc::kUnreachable, "not dialled");
  if (fromListen) {
    raw = co_await dialTcpFrom(addr, listenPort_, timeout, true);
  } else {
    raw = co_await dialTcp(addr, timeout);
  }
  if (!raw) co_return raw.error();
  std::unique_ptr<RawConn> out = std::move(*raw);
  co_return out;
}

Task<std::shared_ptr<Connection>> Host::connectDirect(const Multiaddr& addr,
                                                      std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  const auto expected = addr.peerId();
  if (!expected || addr.isCircuit()) {
    co_return fail(Errc::kBadMultiaddr,
                   "a direct dial needs ip/tcp/.../p2p/<id>, not " + addr.toString());
  }
  if (closed_) co_return fail(Errc::kClosed, "host is closed");
  const auto plain = addr.withoutPeerId();
  auto raw = co_await dialRaw(plain, timeout);
  if (!raw) co_return raw.error();
  co_return co_await upgradeAs(std::move(*raw), true, *expected, std::nullopt);
}

std::shared_ptr<PunchAttempt> Host::expectPunch(const crypto::PeerId& peer,
                                                std::vector<Multiaddr> addrs, PunchRole role,
                                                std::chrono::milliseconds timeout) {
  std::erase_if(punches_, [](const auto& w) { return w.expired(); });
  if (punches_.size() >= kMaxPunchesInFlight || closed_) return nullptr;
  for (auto& a : addrs) a = a.withoutPeerId();
  auto attempt = std::make_shared<PunchAttempt>(ex_, peer, std::move(addrs), role,
                                                std::chrono::steady_clock::now() + timeout);
  punches_.push_back(attempt);
  return attempt;
}

bool Host::routeExpectedPunch(std::unique_ptr<RawConn>& raw) {
  const auto now = std::chrono::steady_clock::now();
  for (const auto& w : punches_) {
    auto attempt = w.lock();
    if (!attempt || attempt->result || attempt->deadline < now) continue;
    const auto& from = raw->remoteAddr();
    if (std::find(attempt->addrs.begin(), attempt->addrs.end(), from) == attempt->addrs.end()) {
      continue;
    }
    spdlog::debug("punch: accepted {} from {}", from.toString(), attempt->peer.toBase58());
    tasks_.spawn([self = shared_from_this(), r = std::move(raw), attempt]() mutable {
      return self->finishPunch(std::move(r), attempt);
    });
    return true;
  }
  return false;
}

Task<std::shared_ptr<Connection>> Host::punch(std::shared_ptr<PunchAttempt> attempt,
                                              std::chrono::milliseconds delay) {
  auto self = shared_from_this();
  if (!attempt) co_return fail(Errc::kLimit, "too many hole punches in progress");
  if (delay.count() > 0 && !attempt->result) {
    attempt->wake.expires_after(delay);
    co_await attempt->wake.async_wait(kNoThrow);
  }
  if (!attempt->result && !closed_) {
    for (const auto& a : attempt->addrs) {
      tasks_.spawn([self, attempt, a] { return self->dialPunch(attempt, a); });
    }
    attempt->wake.expires_at(attempt->deadline);
    if (!attempt->result) co_await attempt->wake.async_wait(kNoThrow);
  }
  // Later arrivals from these addresses are ordinary connections again.
  attempt->deadline = std::chrono::steady_clock::time_point::min();
  if (attempt->result) co_return attempt->result;
  if (closed_) co_return fail(Errc::kClosed, "host is closed");
  co_return fail(Errc::kTimeout, "hole punch to " + attempt->peer.toBase58() + " failed");
}

asio::awaitable<void> Host::dialPunch(std::shared_ptr<PunchAttempt> attempt, Multiaddr addr) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      attempt->deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0 || listenPort_ == 0) co_return;
  // No ephemeral fallback: only the listen port's mapping can meet the peer's SYN. EADDRNOTAVAIL
  // here usually means the peer's SYN was accepted on this 4-tuple (routeExpectedPunch has it).
  auto raw = co_await dialTcpFrom(addr, listenPort_, left, false);
  if (!raw) {
    spdlog::debug("punch: dial {}: {}", addr.toString(), raw.error().message());
    co_return;
  }
  std::unique_ptr<RawConn> conn = std::move(*raw);
  co_await finishPunch(std::move(conn), std::move(attempt));
}

asio::awaitable<void> Host::finishPunch(std::unique_ptr<RawConn> raw,
                                        std::shared_ptr<PunchAttempt> attempt) {
  if (attempt->result) {
    raw->reset();  // another address won; the peer upgrades the winner too
    co_return;
  }
  const auto remote = raw->remoteAddr();
  auto c = co_await upgradeAs(std::move(raw), attempt->role == PunchRole::kClient, attempt->peer,
                              std::nullopt);
  if (!c) {
    spdlog::debug("punch: upgrade {}: {}", remote.toString(), c.error().message());
    co_return;
  }
  (*c)->upgradedFromRelay = true;
  spdlog::debug("punch: direct connection to {} at {}", attempt->peer.toBase58(),
                remote.toString());
  if (!attempt->result) {
    attempt->result = *c;
    attempt->wake.cancel();
  }
  retireRelayed(attempt->peer);
}

void Host::cancelPunches() {
  for (const auto& w : punches_) {
    if (auto p = w.lock()) p->wake.cancel();
  }
}

void Host::retireRelayed(const crypto::PeerId& peer) {
  for (auto [it, end] = conns_.equal_range(peer); it != end; ++it) {
    auto conn = it->second;
    if (!conn->isRelayed() || !conn->isOpen()) continue;
    if (std::find(retiring_.begin(), retiring_.end(), conn.get()) != retiring_.end()) continue;
    retiring_.push_back(conn.get());
    tasks_.spawn([self = shared_from_this(), conn] { return self->closeRelayedWhenIdle(conn); });
  }
}

asio::awaitable<void> Host::closeRelayedWhenIdle(std::shared_ptr<Connection> relayed) {
  while (!closed_ && relayed->isOpen()) {
    const auto direct = connectionTo(relayed->peer);
    if (!direct || direct->isRelayed()) break;  // the direct connection is gone: keep the relay
    if (relayed->session->streamCount() == 0) {
      spdlog::debug("closing the idle relayed connection to {}", relayed->peer.toBase58());
      relayed->session->close();
      break;
    }
    co_await sleepFor(kRelayIdlePoll);
  }
  std::erase(retiring_, relayed.get());
}

}  // namespace pc::net
