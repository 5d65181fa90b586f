#pragma once
/// The gateway's route table and the tunnel control protocol it serves.
///
/// A route maps a deployment id to the provider connection that serves it. Only providers on the
/// allowlist get a connection at all (the host's gater); on the control stream each
/// RegisterRoute must be a valid signed request of that provider (checkRequest: signature,
/// freshness, no replay) AND its deployment id must be the one that provider mints from the
/// given salt (protocol::deploymentIdFor) — so a provider can never take over another's name.
/// Routes vanish the moment their deployment is unregistered or their provider's tunnel drops.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "net/host.hpp"
#include "protocol/checks.hpp"

namespace pc::gateway {

struct RouteEntry {
  crypto::PeerId provider;
  std::shared_ptr<net::Connection> conn;
  std::string url;
  std::size_t openStreams = 0;  ///< proxy streams in use (bounded per tunnel)
};

class RouteTable {
 public:
  RouteEntry* find(const std::string& deploymentId);
  /// Adds or refreshes a route. Refused (false) when another provider holds the id.
  bool put(const std::string& deploymentId, RouteEntry e);
  void remove(const std::string& deploymentId, const crypto::PeerId& provider);
  /// Removes every route served over `conn` (its tunnel dropped).
  std::size_t removeConnection(const net::Connection* conn);
  [[nodiscard]] std::size_t size() const { return routes_.size(); }
  /// Proxy streams in use per provider connection (for the per-tunnel bound).
  std::map<const net::Connection*, std::size_t>& streamsPerTunnel() { return perTunnel_; }

 private:
  std::map<std::string, RouteEntry> routes_;
  std::map<const net::Connection*, std::size_t> perTunnel_;
};

/// Answers a provider may leave unread on its control stream before its tunnel is ended.
inline constexpr std::size_t kMaxQueuedAnswers = 256;

struct TunnelServiceOptions {
  /// Public URL of a deployment from its id ("https://dep-x.example.net/").
  std::function<std::string(const std::string&)> urlFor;
  /// Silence from a provider for this long ends its tunnel (it heartbeats every 15 s).
  std::chrono::milliseconds deadAfter{60000};
  /// Told about every route registered (or refreshed), e.g. to obtain its certificate.
  std::function<void(const std::string& deploymentId)> onRoute;
};

/// Serves `/peercompute/tunnel/1.0.0`.
class TunnelService : public std::enable_shared_from_this<TunnelService> {
 public:
  TunnelService(RouteTable& routes, TunnelServiceOptions options);
  void install(net::Host& host);
  /// Told about every security-relevant refusal (for logs).
  void onRefusal(std::function<void(const crypto::PeerId&, const std::string&)> f) {
    onRefusal_ = std::move(f);
  }

 private:
  net::asio::awaitable<void> serve(std::shared_ptr<net::yamux::Stream> s,
                                   std::shared_ptr<net::Connection> conn);
  RouteTable& routes_;
  TunnelServiceOptions options_;
  protocol::MemoryReplayCache replay_;
  std::function<void(const crypto::PeerId&, const std::string&)> onRefusal_;
};

}  // namespace pc::gateway
