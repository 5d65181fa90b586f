#pragma once
/// Reachable without an inbound port: the provider holds a Circuit Relay v2 reservation on its
/// gateway (over the tunnel's connection) and on each `--relay`, keeps them (refresh, and again
/// after a relay restarts), advertises the relayed addresses in identify and tells the daemon
/// (which prints them) whenever they change.
#include <functional>
#include <memory>
#include <vector>

#include "net/host.hpp"
#include "net/relay/keeper.hpp"

namespace pc::provider {

class RelayPresence {
 public:
  using Listener = std::function<void(const std::vector<net::Multiaddr>&)>;
  /// `relays`: each relay's address ending in /p2p/<relay id> (the gateway's among them).
  RelayPresence(std::shared_ptr<net::Host> host, const std::vector<net::Multiaddr>& relays);
  void start();
  void stop();
  /// Called with every relayed address held (`…/p2p-circuit/p2p/<our id>`) when they change.
  void onChange(Listener listener) { listener_ = std::move(listener); }
  /// The relayed addresses held now, ending in /p2p/<our id>.
  [[nodiscard]] std::vector<net::Multiaddr> addrs() const;

 private:
  void changed();

  std::shared_ptr<net::Host> host_;
  std::vector<std::shared_ptr<net::relay::ReservationKeeper>> keepers_;
  Listener listener_;
};

}  // namespace pc::provider
