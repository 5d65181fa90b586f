#pragma once
/// Keeps a reservation on one relay for as long as it runs: reserves, refreshes before the
/// reservation expires (at min(expire − 5 min, half the time left), never sooner than 30 s),
/// and when the relay goes away (its connection closes, it restarts, it refuses) tries again
/// with backoff, reserving anew as soon as it answers. Reports the relayed addresses it holds
/// (`<relay address>/p2p/<relay>/p2p-circuit`) whenever they change.
#include <functional>
#include <memory>
#include <vector>

#include "net/host.hpp"
#include "net/task_group.hpp"

namespace pc::net::relay {

struct KeeperOptions {
  Multiaddr relay;  ///< the relay's address ending in /p2p/<relay id>
  std::chrono::milliseconds minBackoff{500};
  std::chrono::milliseconds maxBackoff{30000};
  /// Called with the relayed addresses held now (empty: none) each time they change.
  std::function<void(const std::vector<Multiaddr>&)> onChange;
};

class ReservationKeeper : public std::enable_shared_from_this<ReservationKeeper> {
 public:
  ReservationKeeper(std::shared_ptr<Host> host, KeeperOptions options);
  void start();
  /// Ends the loop; returns at once.
  void stop();
  [[nodiscard]] const std::vector<Multiaddr>& addrs() const { return addrs_; }

 private:
  asio::awaitable<void> run();
  /// Waits until the reservation is due for a refresh or `conn` closes.
  asio::awaitable<void> holdUntilRefresh(const std::shared_ptr<Connection>& conn,
                                         std::uint64_t expire);
  void setAddrs(std::vector<Multiaddr> addrs);

  std::shared_ptr<Host> host_;
  KeeperOptions options_;
  std::vector<Multiaddr> addrs_;
  bool stopped_ = false;
  TaskGroup tasks_;
};

}  // namespace pc::net::relay
