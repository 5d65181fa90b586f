#include "gateway/allowlist_enforcer.hpp"

#include <spdlog/spdlog.h>

#include "net/host.hpp"
#include "net/relay/hop_service.hpp"
#include "trust/trust_store.hpp"
#include "tunnel/route_table.hpp"

namespace pc::gateway {

AllowlistEnforcer::AllowlistEnforcer(const net::asio::any_io_executor& ex, trust::TrustGate& allow,
                                     net::Host& host, tunnel::RouteTable& routes,
                                     net::relay::HopService* hop, std::chrono::milliseconds period)
    : timer_(ex),
      allow_(allow),
      host_(host),
      routes_(routes),
      hop_(hop),
      period_(period),
      seen_(allow.generation()) {
  for (const auto& p : allow_.store().peers()) providers_.insert(p.id);
}

void AllowlistEnforcer::start() { arm(); }

void AllowlistEnforcer::stop() {
  stopped_ = true;
  timer_.cancel();
}

void AllowlistEnforcer::arm() {
  if (stopped_) {
    return;
  }
  timer_.expires_after(period_);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->stopped_) {
      return;
    }
    self->enforce();
    self->arm();
  });
}

std::size_t AllowlistEnforcer::enforce() {
  (void)allow_.store();  // reloads the list when its file changed
  if (allow_.generation() == seen_) {
    return 0;
  }
  seen_ = allow_.generation();
  std::set<crypto::PeerId> removed = std::move(providers_);
  providers_.clear();
  for (const auto& p : allow_.store().peers()) {
    providers_.insert(p.id);
    removed.erase(p.id);
  }
  // A removed provider's reservation goes even when it is not connected now (no circuit may
  // reach it through us any more).
  for (const auto& peer : removed) {
    if (hop_ != nullptr) hop_->dropReservation(peer);
  }
  std::size_t closed = 0;
  for (const auto& conn : host_.connections()) {
    if (allow_.isTrustedAsLoaded(conn->peer)) {
      continue;
    }
    const bool reserved = hop_ != nullptr && hop_->dropReservation(conn->peer);
    // Removed from the list: its routes go now (requests get 404 at once).
    const std::size_t routes = routes_.removeConnection(conn.get());
    if (!reserved && routes == 0 && !removed.contains(conn->peer)) {
      continue;  // never a provider: a developer dialling through the relay stays connected
    }
    // Its connection closes (the tunnel ends; a reconnect meets the stream gate).
    if (conn->session) {
      conn->session->close();
    }
    ++closed;
    spdlog::warn(
        "security: provider {} removed from the allowlist: connection closed, {} "
        "route(s) dropped{}",
        conn->peer.toBase58(), routes, reserved ? ", relay reservation dropped" : "");
  }
  return closed;
}

}  // namespace pc::gateway
