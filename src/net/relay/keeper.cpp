#include "net/relay/keeper.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "net/relay/client.hpp"

namespace pc::net::relay {
namespace {

using std::chrono::seconds;

/// When to refresh a reservation expiring at `expire` (UNIX seconds), from now.
seconds refreshIn(std::uint64_t expire) {
  constexpr seconds kMinRefresh{30};
  const auto now =
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch());
  const auto left = seconds(static_cast<std::int64_t>(expire)) - now;
  if (left <= kMinRefresh) {
    spdlog::warn("relay: reservation expires in {} s (a clock skew with the relay?)", left.count());
    return kMinRefresh;
  }
  return std::max(kMinRefresh, std::min(left - seconds(300), left / 2));
}

/// The relayed addresses a reservation gives: through the address we dialled, and through each
/// public address the relay told us (with its /p2p/<id>), without repeats.
std::vector<Multiaddr> relayedAddrs(const Multiaddr& dialled, const crypto::PeerId& relayId,
                                    const std::vector<Multiaddr>& told) {
  std::vector<Multiaddr> out{circuitAddr(dialled)};
  for (const auto& a : told) {
    if (a.isCircuit()) continue;
    auto c = circuitAddr(a.withPeerId(relayId));
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

ReservationKeeper::ReservationKeeper(std::shared_ptr<Host> host, KeeperOptions options)
    : host_(std::move(host)), options_(std::move(options)), tasks_(host_->executor()) {}

void ReservationKeeper::start() {
  tasks_.spawn([self = shared_from_this()] { return self->run(); });
}

void ReservationKeeper::stop() {
  stopped_ = true;
  tasks_.cancel();
}

void ReservationKeeper::setAddrs(std::vector<Multiaddr> addrs) {
  if (addrs == addrs_) return;
  addrs_ = std::move(addrs);
  if (options_.onChange) options_.onChange(addrs_);
}

asio::awaitable<void> ReservationKeeper::run() {
  const auto relayId = options_.relay.peerId();
  if (!relayId) {
    spdlog::error("relay {}: the address needs /p2p/<relay id>", options_.relay.toString());
    co_return;
  }
  auto backoff = options_.minBackoff;
  std::string lastError;
  asio::steady_timer timer(host_->executor());
  while (!stopped_) {
    auto conn = co_await host_->connect(options_.relay);
    Result<Reserved> r = Reserved{};
    if (conn) {
      r = co_await reserve(*host_, *conn);
    } else {
      r = conn.error();
    }
    if (stopped_) break;
    if (!r) {
      setAddrs({});
      // One line per change of cause: a relay that stays down does not flood the log.
      if (r.error().message() != lastError) {
        lastError = r.error().message();
        spdlog::warn("relay {}: no reservation: {} (retrying)", options_.relay.toString(),
                     lastError);
      }
      timer.expires_after(backoff);
      co_await timer.async_wait(kNoThrow);
      backoff = std::min(backoff * 2, options_.maxBackoff);
      continue;
    }
    lastError.clear();
    backoff = options_.minBackoff;
    if (addrs_.empty()) {
      spdlog::info("relay {}: reserved (expires at {})", options_.relay.toString(), r->expire);
    }
    setAddrs(relayedAddrs(options_.relay, *relayId, r->relayAddrs));
    co_await holdUntilRefresh(*conn, r->expire);
  }
}

asio::awaitable<void> ReservationKeeper::holdUntilRefresh(const std::shared_ptr<Connection>& conn,
                                                          std::uint64_t expire) {
  // Checked each second: a relay that restarts is reserved on again within about a second of
  // answering.
  const auto due = std::chrono::steady_clock::now() + refreshIn(expire);
  asio::steady_timer tick(host_->executor());
  while (!stopped_ && conn->isOpen() && std::chrono::steady_clock::now() < due) {
    tick.expires_after(std::chrono::seconds(1));
    co_await tick.async_wait(kNoThrow);
  }
  if (!conn->isOpen() && !stopped_) {
    spdlog::info("relay {}: connection lost; reserving again", options_.relay.toString());
    setAddrs({});
  }
}

}  // namespace pc::net::relay
