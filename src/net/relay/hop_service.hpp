#pragma once
/// The Circuit Relay v2 hop service (libp2p specs relay/circuit-v2.md): a host that runs it lets
/// peers it allows RESERVE a slot, and lets anyone CONNECT through a reservation to the reserved
/// peer. The relay opens STOP on the target's existing direct connection (it never dials), and
/// after both sides answered OK splices the hop stream and the stop stream into one byte pipe
/// (it sees only the ciphertext of the connection upgraded over it).
///
/// Decisions come from ReservationTable (named limits, spec status codes); this file does the
/// I/O. Every refusal is logged (warn) naming the limit or the rule; circuits open and close at
/// info. A reservation ends at its expiry, when the peer's connection it was made on closes,
/// or when the owner drops it (the gateway, for a provider taken off its allowlist).
///
/// Threading: the host's executor; no locks.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "net/host.hpp"
#include "net/relay/reservations.hpp"

namespace pc::net::relay {

struct HopServiceOptions {
  HopLimits limits;
  /// Who may hold a reservation (the gateway: its provider allowlist). Unset: nobody.
  std::function<bool(const crypto::PeerId&)> mayReserve;
  /// The relay's public addresses announced in Reservation.addrs (with /p2p/<relay>); may be
  /// empty (the client then uses the address it dialled).
  std::vector<Multiaddr> publicAddrs;
  /// The whole hop exchange (read the request; for CONNECT open STOP and hear its answer): a
  /// peer that stalls it is reset (stops slow-loris hop streams from holding the relay).
  std::chrono::milliseconds exchangeTimeout{30000};
  /// A circuit on which nothing moved either way for this long is reset. Relayed connections
  /// carry yamux keep-alive pings (every 30 s), so only a dead circuit goes this quiet.
  std::chrono::milliseconds circuitIdleTimeout{std::chrono::minutes(5)};
};

class HopService : public std::enable_shared_from_this<HopService> {
 public:
  explicit HopService(HopServiceOptions options);
  /// Handles the hop protocol on `host` (the service keeps a weak reference to it).
  void install(const std::shared_ptr<Host>& host);

  /// Ends `peer`'s reservation now (no new circuits to it; open ones run on). Returns whether
  /// it held one.
  bool dropReservation(const crypto::PeerId& peer);
  /// Whether `peer` holds a live reservation.
  [[nodiscard]] bool hasReservation(const crypto::PeerId& peer) const;
  [[nodiscard]] std::size_t reservations() const { return table_.size(); }
  /// Circuits relayed now.
  [[nodiscard]] std::size_t circuits() const { return table_.circuits(); }
  /// Circuits being spliced now.
  [[nodiscard]] std::size_t openCircuits() const { return circuits_; }

 private:
  asio::awaitable<void> serve(std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection> conn);
  /// Answers a RESERVE; on OK returns true (the caller then watches the connection).
  asio::awaitable<bool> reserve(yamux::Stream& s, const std::shared_ptr<Connection>& conn);
  /// Ends the reservation made on `conn` when it closes (the spec ties it to the connection).
  asio::awaitable<void> watchReservation(std::shared_ptr<Connection> conn);
  asio::awaitable<void> connect(std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection> conn,
                                const HopMessage& req);
  /// Opens STOP on `target`'s connection and returns the stream once the target answered OK.
  Task<std::shared_ptr<yamux::Stream>> openStop(const std::shared_ptr<Connection>& target,
                                                const crypto::PeerId& source);
  /// The live direct connection `target` reserved on (or any live direct one), or null.
  std::shared_ptr<Connection> targetConnection(const crypto::PeerId& target) const;
  asio::awaitable<void> splice(std::shared_ptr<yamux::Stream> src,
                               std::shared_ptr<yamux::Stream> dst, const crypto::PeerId& source,
                               const crypto::PeerId& target);

  HopServiceOptions options_;
  std::weak_ptr<Host> host_;
  ReservationTable table_;
  /// The connection each reservation was made on. Bound: HopLimits::maxReservations.
  std::map<crypto::PeerId, std::weak_ptr<Connection>> reservedOn_;
  std::size_t circuits_ = 0;
};

}  // namespace pc::net::relay
