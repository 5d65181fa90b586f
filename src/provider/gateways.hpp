#pragma once
/// GatewayTunnels: the provider serving through several gateways (`--gateway`, repeatable, up
/// to kMaxGateways). One tunnel::ProviderTunnel per gateway, each dialling, registering and
/// reconnecting on its own, so a gateway that is down delays none of the others; every route
/// is registered on each, withdrawn from each, and registered again on a gateway that comes
/// back. One `/peercompute/proxy/1.0.0` handler serves them all, handing each stream to the
/// tunnel of the gateway it came from. The URLs the gateways answer are kept in a PublicUrls
/// book: the distinct ones, in the configured order of the gateways.
///
/// Threading: the host's executor (one io_context thread); nothing here locks.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/host.hpp"
#include "net/task_group.hpp"
#include "provider/public_urls.hpp"
#include "tunnel/provider_tunnel.hpp"

namespace pc::provider {

/// A route being published now, and how many publishes of it are in flight.
struct RouteInFlight {
  tunnel::Route route;
  int publishes = 0;
};
/// The routes being published now, by deployment id.
using RoutesInFlight = std::map<std::string, RouteInFlight>;

class GatewayTunnels : public std::enable_shared_from_this<GatewayTunnels> {
 public:
  using Routes = std::function<std::vector<tunnel::Route>()>;
  using TargetFor = std::function<std::optional<tunnel::Target>(const std::string&)>;
  /// Told a deployment's URLs (distinct, gateway order) each time a gateway's answer changes
  /// them, after a reconnect too.
  using UrlsListener = std::function<void(const std::string&, const std::vector<std::string>&)>;

  /// One tunnel per entry of `gateways` (each with /p2p/<id>, ids distinct: the config checks
  /// it), all with `options` but their gateway. `routes` and `targetFor` as in ProviderTunnel;
  /// `targetFor` also says whether a deployment still runs (a late answer for one that left is
  /// dropped, so the URL book stays as small as the set of running deployments).
  GatewayTunnels(std::shared_ptr<net::Host> host, const std::vector<net::Multiaddr>& gateways,
                 const tunnel::ProviderTunnelOptions& options, Routes routes, TargetFor targetFor);

  /// Serves `/peercompute/proxy/1.0.0` on the host: a stream from a configured gateway goes to
  /// its tunnel, any other peer's is refused.
  void install();
  /// Starts every tunnel's connect / register / reconnect loop.
  void start();
  /// Stops every tunnel and waits until all their tasks (and the publishes in flight) ended.
  /// Not cancel-safe: the owner's last step.
  net::asio::awaitable<void> shutdown();

  /// Registers `r` on every connected gateway at once and waits for their answers (each
  /// tunnel's publishTimeout at most; an offline gateway answers nothing at once and gets the
  /// route when it connects). Returns the deployment's URLs, empty when no gateway answered.
  /// Cancel-safe: a cancelled wait leaves the registrations in flight.
  net::asio::awaitable<std::vector<std::string>> publish(tunnel::Route r);
  /// Removes the route at every gateway (best effort) and forgets its URLs.
  void withdraw(const std::string& deploymentId);
  void onUrls(UrlsListener f) { onUrls_ = std::move(f); }

  [[nodiscard]] std::size_t size() const { return tunnels_.size(); }
  /// Tunnels with a session now.
  [[nodiscard]] std::size_t connected() const;
  /// Whether the tunnel to gateway `index` (configured order) has a session now.
  [[nodiscard]] bool connected(std::size_t index) const;

 private:
  struct Fanout;
  class FanoutTicket;
  net::asio::awaitable<void> publishOn(std::size_t index, tunnel::Route r, FanoutTicket ticket);
  void answered(std::size_t index, const std::string& id, const std::string& url);
  [[nodiscard]] std::shared_ptr<tunnel::ProviderTunnel> tunnelOf(const crypto::PeerId& peer) const;

  std::shared_ptr<net::Host> host_;
  std::vector<std::shared_ptr<tunnel::ProviderTunnel>> tunnels_;  ///< configured order
  TargetFor targetFor_;
  PublicUrls urls_;
  /// Deployments with a publish in flight (answers for them are kept though their record is not
  /// `running` yet) and their routes, which a tunnel's new session registers too (shared with
  /// the tunnels' route functions, which may be called after this is gone).
  std::shared_ptr<RoutesInFlight> inFlight_;
  UrlsListener onUrls_;
  net::TaskGroup tasks_;  ///< the per-gateway publishes; last: cancelled first
};

}  // namespace pc::provider
