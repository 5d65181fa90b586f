#pragma once
/// GatewayNode: peergateway's running parts, wired. start() opens the data dir (identity,
/// provider allowlist), starts the libp2p host that providers' tunnels dial (the tunnel and a
/// relay reservation for allowlisted providers only; any peer may relay through a reservation),
/// the Circuit Relay v2 hop service, the route table and tunnel service, TLS (static or ACME) and
/// the public HTTP(S) front. `peergateway` and the tests start a gateway the same way.
///
/// Threading: everything runs on the executor given to start() (one io_context thread).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/peer_id.hpp"
#include "gateway/config.hpp"
#include "net/asio.hpp"
#include "net/multiaddr.hpp"

namespace pc::net {
class Host;
}
namespace pc::net::relay {
class HopService;
}
namespace pc::tunnel {
class RouteTable;
}
namespace pc::dns {
class DnsServer;
class Zone;
}  // namespace pc::dns
namespace pc::admin {
class AdminServer;
}

namespace pc::gateway {

class GatewayPeers;

class GatewayNode {
 public:
  /// Starts a gateway for `cfg` on `ex`. Errors: what failed, naming the file, setting or
  /// address involved (nothing keeps running then).
  static Result<std::unique_ptr<GatewayNode>> start(const net::asio::any_io_executor& ex,
                                                    const GatewayConfig& cfg,
                                                    const std::string& version);
  ~GatewayNode();
  GatewayNode(const GatewayNode&) = delete;
  GatewayNode& operator=(const GatewayNode&) = delete;

  [[nodiscard]] const crypto::PeerId& peerId() const;
  /// The effective settings (the bound HTTP port when 0 was asked for).
  [[nodiscard]] const GatewayConfig& config() const;
  /// Where providers dial, with /p2p/<id>.
  [[nodiscard]] std::vector<net::Multiaddr> tunnelAddrs() const;
  [[nodiscard]] const net::Multiaddr& httpAddr() const;
  [[nodiscard]] const std::optional<net::Multiaddr>& httpsAddr() const;
  /// Providers on the allowlist now.
  [[nodiscard]] std::size_t allowedProviders() const;

  /// The parts, for tests and embedding: the libp2p host providers dial and the route table.
  [[nodiscard]] const std::shared_ptr<net::Host>& host() const;
  [[nodiscard]] tunnel::RouteTable& routeTable() const;
  /// The Circuit Relay v2 hop service (reservations for allowlisted providers).
  [[nodiscard]] net::relay::HopService& hop() const;

  /// The authoritative DNS server (nullptr unless dns_listen is set). Its zone() is where the
  /// ACME DNS-01 code sets TXT values and the address set is replaced.
  [[nodiscard]] const std::shared_ptr<dns::DnsServer>& dns() const;
  /// The other gateways of the domain (nullptr unless peer_gateways is set).
  [[nodiscard]] const std::shared_ptr<GatewayPeers>& peers() const;
  /// The admin listener (null unless admin_listen is set).
  [[nodiscard]] const admin::AdminServer* adminServer() const;

  /// Closes the listeners, the tunnels and ACME at once (no wait).
  void close();
  /// close(), then waits for public connections to end (up to a grace period). Run it to
  /// completion before destroying the node; not cancel-safe.
  net::asio::awaitable<void> shutdown();

  struct Parts;  ///< the wired parts (opaque outside node.cpp)

 private:
  explicit GatewayNode(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> p_;
};

}  // namespace pc::gateway
