#pragma once
/// The gateway half of the reverse tunnel: serves the `/peercompute/tunnel/1.0.0` control stream
/// that providers open, and keeps the route table (route_table.hpp) in step with it.
///
/// Only providers on the allowlist get a connection at all (the host's gater); on the control
/// stream each RegisterRoute must be a valid signed request of that provider (checkRequest:
/// signature, freshness, no replay) AND its deployment id must be the one that provider mints
/// from the given salt (protocol::deploymentIdFor) — so a provider can never take over another's
/// name. Routes vanish the moment their deployment is unregistered or their provider's tunnel
/// drops.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "net/host.hpp"
#include "protocol/checks.hpp"
#include "tunnel/route_table.hpp"

namespace pc::tunnel {

/// Answers a provider may leave unread on its control stream before its tunnel is ended.
inline constexpr std::size_t kMaxQueuedAnswers = 256;

struct TunnelServiceOptions {
  /// Public URL of a deployment from its id ("https://dep-x.example.net/").
  std::function<std::string(const std::string&)> urlFor;
  /// Silence from a provider for this long ends its tunnel (it heartbeats every 15 s).
  std::chrono::milliseconds deadAfter{60000};
  /// Told about every route registered (or refreshed), e.g. to obtain its certificate.
  std::function<void(const std::string& deploymentId)> onRoute;
  /// Whether the provider is still allowed (checked on every message; empty allows all). A
  /// provider taken off the allowlist has its tunnel ended at its next message.
  std::function<bool(const crypto::PeerId&)> isAllowed;
  /// Routes one provider may hold at once: a provider minting ids cannot grow the route table
  /// (and the certificates asked for its names) without bound.
  std::size_t maxRoutesPerProvider = 256;
};

/// Serves `/peercompute/tunnel/1.0.0`. `routes` must outlive the service.
class TunnelService : public std::enable_shared_from_this<TunnelService> {
 public:
  TunnelService(RouteTable& routes, TunnelServiceOptions options);
  /// Registers the protocol handler on `host` (each control stream is served by the host's
  /// handler coroutine, which holds the service).
  void install(net::Host& host);
  /// Told about every security-relevant refusal (for logs).
  void onRefusal(std::function<void(const crypto::PeerId&, const std::string&)> f) {
    onRefusal_ = std::move(f);
  }

 private:
  /// Why a registration was refused: the code sent back, and the sentence.
  struct Refusal {
    std::string code;
    std::string why;
  };
  /// Checks a registration (id minted by this provider, the per-provider route cap, the id not
  /// another provider's) and adds or refreshes its route; the refusal otherwise.
  std::optional<Refusal> addRoute(const protocol::RegisterRoute& reg,
                                  const std::shared_ptr<net::Connection>& conn);
  net::asio::awaitable<void> serve(std::shared_ptr<net::yamux::Stream> s,
                                   std::shared_ptr<net::Connection> conn);
  RouteTable& routes_;
  TunnelServiceOptions options_;
  protocol::MemoryReplayCache replay_;
  std::function<void(const crypto::PeerId&, const std::string&)> onRefusal_;
};

}  // namespace pc::tunnel
