#pragma once
/// The gateway's admin listener (admin/site.hpp) wired to its parts: /metrics reads the request
/// counters (metrics.hpp) and the live state — routes, tunnels, relay, ACME, DNS — at scrape
/// time; /api/summary feeds the dashboard; a sampler ticks once a second for the rates.
///
/// Threading: the gateway's executor (one thread), like the parts it reads.
#include <chrono>
#include <memory>
#include <string>

#include "admin/settings.hpp"
#include "admin/site.hpp"
#include "crypto/peer_id.hpp"
#include "net/asio.hpp"

namespace pc::net {
class Host;
}
namespace pc::net::relay {
class HopService;
}
namespace pc::tunnel {
class RouteTable;
}
namespace pc::trust {
class TrustGate;
}
namespace pc::dns {
class DnsServer;
}
namespace pc::admin {
class Exposition;
}  // namespace pc::admin

namespace pc::gateway {

class GatewayMetrics;
class CertManager;
class HttpFront;

/// The request-path counters the front is given when the admin listener is on (a factory, so that
/// the node need not see metrics.hpp).
std::shared_ptr<GatewayMetrics> makeGatewayMetrics();

/// What the observer reads. Each part outlives the observer (the node owns them all and shuts
/// the observer down first); the optional ones may be null.
struct ObservedGateway {
  std::string version;
  crypto::PeerId peerId;
  const tunnel::RouteTable* routes = nullptr;
  const net::Host* host = nullptr;
  const net::relay::HopService* hop = nullptr;
  trust::TrustGate* allow = nullptr;
  const HttpFront* front = nullptr;
  const CertManager* certs = nullptr;   ///< null without ACME
  const dns::DnsServer* dns = nullptr;  ///< null without dns_listen
};

class GatewayObserver : public std::enable_shared_from_this<GatewayObserver> {
 public:
  /// Starts the admin listener of `settings` and the sampler. Errors: the listener's (token
  /// file, address).
  static Result<std::shared_ptr<GatewayObserver>> start(const net::asio::any_io_executor& ex,
                                                        const admin::AdminSettings& settings,
                                                        std::shared_ptr<GatewayMetrics> metrics,
                                                        ObservedGateway parts);
  GatewayObserver(const net::asio::any_io_executor& ex, std::shared_ptr<GatewayMetrics> metrics,
                  ObservedGateway parts);
  ~GatewayObserver();

  /// The exposition text and the dashboard JSON (what /metrics and /api/summary serve).
  [[nodiscard]] std::string metricsText() const;
  [[nodiscard]] std::string summaryJson() const;
  [[nodiscard]] const admin::AdminServer& server() const { return site_.server(); }
  /// Once a second: rates, and the series of deployments whose route is gone are dropped.
  void tick();

  /// Stops the listener and the sampler at once.
  void close();
  /// close(), then waits for the listener's connections and the sampler to end. Not
  /// cancel-safe: the owner's last step.
  net::asio::awaitable<void> shutdown();

 private:
  void addRequestFamilies(admin::Exposition& e) const;
  void addStateFamilies(admin::Exposition& e) const;
  net::asio::awaitable<void> sampleLoop();

  net::asio::any_io_executor ex_;
  std::shared_ptr<GatewayMetrics> metrics_;
  ObservedGateway parts_;
  std::chrono::steady_clock::time_point started_;
  admin::Site site_;  ///< the listener and the sampler
};

}  // namespace pc::gateway
