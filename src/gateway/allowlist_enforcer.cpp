#include "gateway/allowlist_enforcer.hpp"

#include <spdlog/spdlog.h>

#include "net/host.hpp"
#include "trust/trust_store.hpp"
#include "tunnel/route_table.hpp"

namespace pc::gateway {

AllowlistEnforcer::AllowlistEnforcer(const net::asio::any_io_executor& ex, trust::TrustGate& allow,
                                     net::Host& host, tunnel::RouteTable& routes,
                                     std::chrono::milliseconds period)
    : timer_(ex),
      allow_(allow),
      host_(host),
      routes_(routes),
      period_(period),
      seen_(allow.generation()) {}

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
  std::size_t closed = 0;
  for (const auto& conn : host_.connections()) {
    if (allow_.isTrustedAsLoaded(conn->peer)) {
      continue;
    }
    // Removed from the list: its routes go now (requests get 404 at once), and its connection
    // closes (the tunnel ends; a reconnect meets the gater).
    const std::size_t routes = routes_.removeConnection(conn.get());
    if (conn->session) {
      conn->session->close();
    }
    ++closed;
    spdlog::warn(
        "security: provider {} removed from the allowlist: connection closed, {} "
        "route(s) dropped",
        conn->peer.toBase58(), routes);
  }
  return closed;
}

}  // namespace pc::gateway
