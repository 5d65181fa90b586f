#pragma once
/// The relay's bookkeeping (the hop service's decisions, without I/O): which peers hold a
/// reservation and until when, and which circuits may open. Every refusal names the limit, and
/// maps to the status code the spec gives it, so the hop service answers and logs from one
/// decision. Pure and single-threaded (the host's executor); time comes from the caller.
///
/// Named limits (HopLimits): reservations at once; circuits at once to one reserved peer and from
/// one source peer; new circuits a second across the relay. Per-circuit duration and data limits
/// are announced in the spec's Limit and enforced by the splice; they are off by default (a
/// relayed `logs -f` may run for hours), and an unlimited circuit announces no Limit at all.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/token_bucket.hpp"
#include "crypto/peer_id.hpp"
#include "net/relay/messages.hpp"

namespace pc::net::relay {

struct HopLimits {
  std::size_t maxReservations = 128;           ///< peers holding a reservation at once
  std::chrono::seconds reservationTtl{3600};   ///< a reservation lasts this long unless refreshed
  std::size_t maxCircuitsPerReservation = 16;  ///< circuits open at once to one reserved peer
  std::size_t maxCircuitsPerSource = 8;        ///< circuits open at once from one source peer
  double newCircuitsPerSecond = 32;            ///< circuits opened a second, relay-wide
  double newCircuitsBurst = 64;
  std::uint32_t circuitDurationSeconds = 0;  ///< per circuit; 0 = no limit
  std::uint64_t circuitDataBytes = 0;        ///< per circuit; 0 = no limit
};

/// A refusal: the status the spec answers it with, and the sentence (naming the limit) to log.
struct HopRefusal {
  Status status;
  std::string why;
};

class ReservationTable;

/// One open circuit counted against its limits for as long as the ticket lives. May outlive
/// the table (the counts are shared).
class CircuitTicket {
 public:
  CircuitTicket() = default;
  CircuitTicket(CircuitTicket&&) noexcept = default;
  CircuitTicket& operator=(CircuitTicket&& o) noexcept;
  CircuitTicket(const CircuitTicket&) = delete;
  CircuitTicket& operator=(const CircuitTicket&) = delete;
  ~CircuitTicket() { reset(); }
  /// Gives the circuit's counts back now (idempotent).
  void reset();

 private:
  friend class ReservationTable;
  struct Counts {
    std::map<crypto::PeerId, std::size_t> toTarget;
    std::map<crypto::PeerId, std::size_t> fromSource;
  };
  CircuitTicket(std::shared_ptr<Counts> counts, crypto::PeerId source, crypto::PeerId target);
  std::shared_ptr<Counts> counts_;
  std::optional<crypto::PeerId> source_;
  std::optional<crypto::PeerId> target_;
};

class ReservationTable {
 public:
  using SystemClock = std::chrono::system_clock;
  using Clock = TokenBucket::Clock;

  explicit ReservationTable(HopLimits limits = {}, Clock::time_point now = Clock::now());

  /// What reserve() decided: the expiry (UNIX seconds), or the refusal.
  struct Reserved {
    std::uint64_t expire = 0;
    std::optional<HopRefusal> refused;
  };
  /// Grants or refreshes `peer`'s reservation (the caller has checked that the peer may hold
  /// one, e.g. the gateway's allowlist). Refused with RESERVATION_REFUSED when maxReservations
  /// other peers hold one.
  Reserved reserve(const crypto::PeerId& peer, SystemClock::time_point now);
  /// Drops `peer`'s reservation (its connection closed: the spec ends it then).
  void release(const crypto::PeerId& peer);
  /// Whether `peer` holds a reservation that has not expired.
  [[nodiscard]] bool reserved(const crypto::PeerId& peer, SystemClock::time_point now) const;
  [[nodiscard]] std::size_t size() const { return expiry_.size(); }
  /// Circuits open now (tickets alive).
  [[nodiscard]] std::size_t circuits() const;

  /// What admitCircuit() decided: a ticket, or the refusal.
  struct Admitted {
    CircuitTicket ticket;
    std::optional<HopRefusal> refused;
  };
  /// Admits a circuit from `source` to `target`: NO_RESERVATION when the target holds none (or
  /// it expired), RESOURCE_LIMIT_EXCEEDED naming the limit when the target or the source is at
  /// its bound or the relay over its rate. The ticket counts the circuit until it ends.
  Admitted admitCircuit(const crypto::PeerId& source, const crypto::PeerId& target,
                        SystemClock::time_point now, Clock::time_point tick = Clock::now());
  /// The Limit to announce for a circuit: none when both per-circuit limits are off.
  [[nodiscard]] std::optional<Limit> circuitLimit() const;

 private:
  HopLimits limits_;
  std::map<crypto::PeerId, SystemClock::time_point> expiry_;
  std::shared_ptr<CircuitTicket::Counts> counts_ = std::make_shared<CircuitTicket::Counts>();
  TokenBucket newCircuits_;
};

}  // namespace pc::net::relay
