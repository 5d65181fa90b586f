#pragma once
/// DCUtR hole punching (`/libp2p/dcutr`, libp2p specs relay/DCUtR.md) over a Host: once a relayed
/// connection is identified, the side it reached (B: the relayed connection is inbound) first
/// dials the other's public addresses as an ordinary client (the unilateral upgrade), else
/// exchanges observed addresses with it (CONNECT both ways, B measures the round trip), sends
/// SYNC, and both dial at once from their listen ports (TCP simultaneous open): A, the side that
/// dialled through the relay, as the client, B as the server. A direct connection that comes
/// up takes the new streams (Host::connectionTo) and the relayed one is closed once idle;
/// failures leave the relayed connection as it was (logged at debug only).
#include <chrono>
#include <memory>
#include <vector>

#include "net/dcutr/addresses.hpp"
#include "net/dcutr/messages.hpp"
#include "net/host.hpp"

namespace pc::net::dcutr {

struct CoordinatorConfig {
  /// DCUtR exchanges per relayed connection (each a new stream with new CONNECT/SYNC).
  std::size_t attempts = 3;
  /// One exchange: stream, messages and the punch together.
  std::chrono::milliseconds attemptTimeout{5000};
  /// Dial the remote's listen addresses first (reaches a peer that is not behind a NAT without
  /// any punch, and avoids a role clash at its listener).
  bool unilateral = true;
  std::chrono::milliseconds unilateralTimeout{5000};
  /// Start on every inbound relayed connection once identify shows the remote speaks DCUtR.
  bool autoUpgrade = true;
  AddrPolicy addrs;
};

/// Most addresses direct peers observed us at that we keep (newest first).
inline constexpr std::size_t kMaxObserved = 8;

class Coordinator : public std::enable_shared_from_this<Coordinator> {
 public:
  /// Serves `/libp2p/dcutr` on `host` (as A) and, with autoUpgrade, upgrades inbound relayed
  /// connections (as B). The host keeps the coordinator alive; it holds the host weakly.
  static std::shared_ptr<Coordinator> install(const std::shared_ptr<Host>& host,
                                              CoordinatorConfig config = {});

  /// B's side on `relayed` (an inbound relayed connection): the unilateral dial, then up to
  /// `attempts` punches. Returns the direct connection (upgradedFromRelay set). Errors:
  /// kProtocolError (not an inbound relayed connection), kUnreachable (no usable address of
  /// ours or theirs), kTimeout, the stream's.
  Task<std::shared_ptr<Connection>> upgrade(std::shared_ptr<Connection> relayed);

  /// Records an address a direct peer observed us at (identify's observedAddr). A lying peer
  /// can only make our punches fail, never redirect another peer's traffic: every punched
  /// connection still proves the peer's id.
  void addObserved(const Multiaddr& addr);
  /// What our CONNECT lists (ownCandidates of the observed and listen addresses).
  std::vector<Multiaddr> ownAddrs() const;

 private:
  Coordinator(std::weak_ptr<Host> host, CoordinatorConfig config)
      : host_(std::move(host)), config_(std::move(config)) {}
  void onIdentified(const std::shared_ptr<Connection>& conn);
  /// A's side of one exchange (the stream handler).
  asio::awaitable<void> serve(std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection> conn);
  /// B's side of one exchange.
  Task<std::shared_ptr<Connection>> attempt(std::shared_ptr<Host> host,
                                            std::shared_ptr<Connection> relayed);
  Task<std::shared_ptr<Connection>> unilateral(std::shared_ptr<Host> host,
                                               std::shared_ptr<Connection> relayed);

  std::weak_ptr<Host> host_;
  CoordinatorConfig config_;
  /// Bound: kMaxObserved.
  std::vector<Multiaddr> observed_;
  /// Relayed connections with an exchange in progress (one at a time per connection, as js):
  /// stops a peer from opening streams to make us dial in a loop. Bound: the host's connections.
  std::vector<const Connection*> busy_;
};

}  // namespace pc::net::dcutr
