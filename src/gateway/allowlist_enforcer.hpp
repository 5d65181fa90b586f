#pragma once
/// Keeps the gateway's provider connections in step with its allowlist. The host's gater only
/// admits allowlisted providers when they connect; without this, `peergateway providers remove`
/// would leave a live tunnel up (still registering and serving deployments) until it happened
/// to drop. Every `period` the list is checked (a stat of the file); when a new list takes
/// effect, every connection of a peer no longer on it is closed and its routes dropped at once.
/// The tunnel service and the HTTP front also check each registration and each proxied request
/// against the list, so nothing slips through between two checks.
#include <chrono>
#include <memory>

#include "net/asio.hpp"

namespace pc::net {
class Host;
}
namespace pc::trust {
class TrustGate;
}
namespace pc::tunnel {
class RouteTable;
}

namespace pc::gateway {

class AllowlistEnforcer : public std::enable_shared_from_this<AllowlistEnforcer> {
 public:
  /// `allow`, `host` and `routes` must outlive the enforcer (or its stop()).
  AllowlistEnforcer(const net::asio::any_io_executor& ex, trust::TrustGate& allow, net::Host& host,
                    tunnel::RouteTable& routes,
                    std::chrono::milliseconds period = std::chrono::seconds(1));
  /// Starts the periodic check.
  void start();
  /// Stops it (idempotent).
  void stop();
  /// Checks now: reloads the list if it changed and, if a new list took effect, closes what it
  /// no longer allows. Returns the number of connections closed.
  std::size_t enforce();

 private:
  void arm();
  net::asio::steady_timer timer_;
  trust::TrustGate& allow_;
  net::Host& host_;
  tunnel::RouteTable& routes_;
  std::chrono::milliseconds period_;
  std::uint64_t seen_;
  bool stopped_ = false;
};

}  // namespace pc::gateway
