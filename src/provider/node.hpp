#pragma once
/// ProviderNode: peercomputed's running parts, wired. start() opens the data dir (identity, trust
/// list, SQLite state, replay cache, audit log), checks the policy, connects the scheduler to the
/// Docker engine, starts the libp2p host (trusted peers, gateways and relays only) on the
/// configured listen addresses, LAN discovery, and a tunnel and a relay reservation per gateway.
/// `peercomputed` and the tests start a provider the same way; a test puts its own runtime in
/// through `NodeDeps`.
///
/// Threading: everything runs on the executor given to start() (one io_context thread).
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/peer_id.hpp"
#include "net/asio.hpp"
#include "net/multiaddr.hpp"
#include "provider/config.hpp"

namespace pc::runtime {
class Runtime;
}
namespace pc::egress {
class Firewall;
}
namespace pc::admin {
class AdminServer;
}

namespace pc::provider {

/// What a caller may supply instead of what start() makes itself, per start (no global):
/// peercomputed passes none; tests pass an in-memory runtime and a short tunnel backoff.
struct NodeDeps {
  /// The container runtime to drive. Null: a DockerRuntime for DOCKER_HOST (or the default
  /// socket) with the config's OCI runtime and network pool. Not owned: it must outlive the node.
  runtime::Runtime* runtime = nullptr;
  /// The firewall that confines deployments (egress/firewall.hpp). Null: iptables and
  /// ip6tables with the config's egress policy and the host's resolvers. Not owned.
  egress::Firewall* firewall = nullptr;
  /// The tunnel's reconnect backoff: the first wait, and the cap it doubles up to. nullopt: the
  /// tunnel's defaults (tunnel::ProviderTunnelOptions).
  std::optional<std::chrono::milliseconds> tunnelMinBackoff;
  std::optional<std::chrono::milliseconds> tunnelMaxBackoff;
};

struct NodeInfo {
  bool createdIdentity = false;    ///< the identity was made by this start
  std::size_t mdnsInterfaces = 0;  ///< 0: LAN discovery off or unavailable
  std::size_t trustedPeers = 0;
};

class ProviderNode {
 public:
  /// Starts a provider for `cfg` (already validated) on `ex`, with `deps` in place of the
  /// defaults. Errors: what failed, naming the file, setting or address involved (nothing keeps
  /// running then).
  static Result<std::unique_ptr<ProviderNode>> start(const net::asio::any_io_executor& ex,
                                                     const ProviderConfig& cfg,
                                                     const std::string& version,
                                                     const NodeDeps& deps = {});
  ~ProviderNode();
  ProviderNode(const ProviderNode&) = delete;
  ProviderNode& operator=(const ProviderNode&) = delete;

  [[nodiscard]] const crypto::PeerId& peerId() const;
  /// The bound listen addresses (port 0 resolved), with /p2p/<id>.
  [[nodiscard]] std::vector<net::Multiaddr> listenAddrs() const;
  [[nodiscard]] const NodeInfo& info() const;
  /// Told the relayed addresses held (`<relay>/p2p-circuit/p2p/<our id>`) each time they change.
  void onRelayedAddrs(std::function<void(const std::vector<net::Multiaddr>&)> listener);
  [[nodiscard]] std::vector<net::Multiaddr> relayedAddrs() const;
  /// Every gateway's tunnel has a session now (false without a gateway configured).
  [[nodiscard]] bool tunnelConnected() const;
  /// How many gateways' tunnels have a session now.
  [[nodiscard]] std::size_t tunnelsConnected() const;
  /// The admin listener (null unless admin_listen is set).
  [[nodiscard]] const admin::AdminServer* adminServer() const;

  /// Stops serving: deployments keep running (they are re-adopted at the next start) unless
  /// stop_on_exit, the tunnel and mDNS stop, connections close with GoAway. Run it to
  /// completion before destroying the node; not cancel-safe.
  net::asio::awaitable<void> shutdown();

  struct Parts;  ///< the wired parts (opaque outside node.cpp)

 private:
  explicit ProviderNode(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> p_;
};

}  // namespace pc::provider
