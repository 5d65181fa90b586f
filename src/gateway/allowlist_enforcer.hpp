#pragma once
/// Keeps the gateway's provider connections in step with its allowlist. The host's stream gate
/// lets only allowlisted providers open the tunnel, and the hop service lets only them reserve,
/// when they ask; without this, `peergateway providers remove` would leave a live tunnel and
/// relay reservation up (still registering, serving deployments and receiving circuits) until
/// they happened to drop. Every `period` the list is checked (a stat of the file); when a new
/// list takes effect, every peer no longer on it that was a provider (on the previous list, or
/// holding routes or a reservation) loses its reservation, its routes and its connections at
/// once. Other peers that are not on the list — developers connected to dial through the relay
/// — keep their connections (they can open only hop CONNECT, identify and ping). The tunnel
/// service and the HTTP front also check each registration and each proxied request against
/// the list, so nothing slips through between two checks.
#include <chrono>
#include <memory>
#include <set>

#include "crypto/peer_id.hpp"

#include "net/asio.hpp"

namespace pc::net {
class Host;
}
namespace pc::net::relay {
class HopService;
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
  /// `allow`, `host`, `routes` and `hop` (may be null) must outlive the enforcer (or its
  /// stop()).
  AllowlistEnforcer(const net::asio::any_io_executor& ex, trust::TrustGate& allow, net::Host& host,
                    tunnel::RouteTable& routes, net::relay::HopService* hop = nullptr,
                    std::chrono::milliseconds period = std::chrono::seconds(1));
  /// Starts the periodic check.
  void start();
  /// Stops it (idempotent).
  void stop();
  /// Checks now: reloads the list if it changed and, if a new list took effect, closes what it
  /// no longer allows from removed providers. Returns the number of connections closed.
  std::size_t enforce();

 private:
  void arm();
  net::asio::steady_timer timer_;
  trust::TrustGate& allow_;
  net::Host& host_;
  tunnel::RouteTable& routes_;
  net::relay::HopService* hop_;
  /// The providers on the list as last taken into effect. Bound: the allowlist's size.
  std::set<crypto::PeerId> providers_;
  std::chrono::milliseconds period_;
  std::uint64_t seen_;
  bool stopped_ = false;
};

}  // namespace pc::gateway
