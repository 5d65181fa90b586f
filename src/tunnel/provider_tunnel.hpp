#pragma once
/// The provider side of the reverse tunnel (DESIGN.md "Reverse tunnel and gateway").
///
/// The provider dials the gateway (outbound only: works behind NAT, opens no port), so the tunnel
/// is a libp2p connection — encrypted and authenticated by PeerId both ways. On it:
///  - a `/peercompute/tunnel/1.0.0` control stream that the provider opens: signed RegisterRoute
///    per exposed running deployment (answered with RouteRegistered{url} or Error), UnregisterRoute
///    when one stops, Heartbeat both ways;
///  - `/peercompute/proxy/1.0.0` streams that the gateway opens, one per public connection: a
///    ProxyHeader, then raw bytes that the provider pipes to the deployment's 127.0.0.1 port.
/// After any disconnect it reconnects with jittered exponential backoff (capped) and registers
/// everything again. One tunnel serves one gateway: a provider with several gateways runs one
/// each (provider::GatewayTunnels), every one connecting on its own, and installs the proxy
/// handler once for all of them. Runs on the host's executor; not thread-safe.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "net/host.hpp"
#include "net/task_group.hpp"
#include "protocol/messages.hpp"

namespace pc::tunnel {

struct Route {
  std::string deploymentId;
  std::string idSalt;
  std::uint16_t hostPort = 0;
  std::string requester;  ///< who deployed it (base58 PeerId); empty: not told to the gateway
};

/// Where a proxied connection goes: the container's own address when known (no userland proxy
/// in the way), else — or when that does not answer — the published 127.0.0.1 port.
struct Target {
  std::uint16_t hostPort = 0;
  std::optional<std::string> address;
  std::uint16_t containerPort = 0;
};

struct ProviderTunnelOptions {
  net::Multiaddr gateway;  ///< with /p2p/<gateway id>
  std::chrono::milliseconds minBackoff{250};
  std::chrono::milliseconds maxBackoff{30000};
  std::chrono::milliseconds heartbeat{15000};
  /// Silence from the gateway for this long ends the tunnel (and a reconnect starts).
  std::chrono::milliseconds deadAfter{45000};
  /// How long publish() waits for the gateway's answer.
  std::chrono::milliseconds publishTimeout{3000};
  /// A proxied connection with no bytes either way for this long is closed.
  std::chrono::milliseconds proxyIdle{120000};
};

class ProviderTunnel : public std::enable_shared_from_this<ProviderTunnel> {
 public:
  /// `routes` lists the routes to (re)register after each connect; `targetFor` maps a deployment
  /// to where its exposed port is reached while it is running (nullopt otherwise).
  ProviderTunnel(std::shared_ptr<net::Host> host, ProviderTunnelOptions options,
                 std::function<std::vector<Route>()> routes,
                 std::function<std::optional<Target>(const std::string&)> targetFor);
  ~ProviderTunnel();

  /// The gateway's PeerId (from the multiaddr). The host's gater must admit it.
  const crypto::PeerId& gatewayId() const { return gatewayId_; }
  /// Serves one `/peercompute/proxy/1.0.0` stream that arrived on `conn`: refused unless it
  /// comes from this tunnel's gateway. The owner installs the host's handler, one for all its
  /// tunnels (the host has one handler per protocol). Ends when the proxied connection does.
  net::asio::awaitable<void> serveProxy(std::shared_ptr<net::yamux::Stream> s,
                                        std::shared_ptr<net::Connection> conn);
  /// Starts the connect / register / reconnect loop (a task of this tunnel's group).
  void start();
  /// Ends the session and cancels the tunnel's tasks; returns at once.
  void stop();
  /// stop(), then waits until every task of the tunnel has ended. Not cancel-safe: the owner's
  /// last step.
  net::asio::awaitable<void> shutdown();
  [[nodiscard]] bool connected() const { return session_ != nullptr; }
  /// Registers `r` now when connected and returns its public URL (nullopt when offline, refused
  /// or not answered within publishTimeout; it is registered at the next connect either way).
  /// Cancel-safe: a cancelled wait leaves the registration in flight.
  net::asio::awaitable<std::optional<std::string>> publish(Route r);
  /// Removes the route at the gateway (best effort; the gateway also drops routes on disconnect).
  void withdraw(const std::string& deploymentId);
  /// Told the URL of each route whenever the gateway confirms it (also after reconnects).
  void onUrl(std::function<void(const std::string&, const std::string&)> f) {
    onUrl_ = std::move(f);
  }

 private:
  struct Session;
  net::asio::awaitable<void> runLoop();
  net::asio::awaitable<void> runSession(std::shared_ptr<net::yamux::Stream> s);
  net::asio::awaitable<void> heartbeats(std::shared_ptr<Session> s);
  void sendRegister(Session& s, const Route& r);
  static void send(Session& s, protocol::Message m);

  std::shared_ptr<net::Host> host_;
  ProviderTunnelOptions options_;
  crypto::PeerId gatewayId_;
  std::function<std::vector<Route>()> routes_;
  std::function<std::optional<Target>(const std::string&)> targetFor_;
  std::function<void(const std::string&, const std::string&)> onUrl_;
  std::shared_ptr<Session> session_;
  bool stopped_ = false;
  net::TaskGroup tasks_;  ///< the reconnect loop and the heartbeats; last: cancelled first
};

}  // namespace pc::tunnel
