#include "net/relay/reservations.hpp"

#include <cstdio>

#include "core/counts.hpp"

namespace pc::net::relay {
namespace {

HopRefusal overLimit(const std::string& what, double bound, const std::string& name) {
  // %g: a fractional rate (0.001 a second) is shown as set, not truncated to 0.
  char v[32];
  std::snprintf(v, sizeof v, "%g", bound);
  return {Status::kResourceLimitExceeded, what + " (" + name + " = " + v + ")"};
}

}  // namespace

CircuitTicket::CircuitTicket(std::shared_ptr<Counts> counts, crypto::PeerId source,
                             crypto::PeerId target)
    : counts_(std::move(counts)), source_(std::move(source)), target_(std::move(target)) {
  ++counts_->toTarget[*target_];
  ++counts_->fromSource[*source_];
}

CircuitTicket& CircuitTicket::operator=(CircuitTicket&& o) noexcept {
  if (this != &o) {
    reset();
    counts_ = std::move(o.counts_);
    source_ = std::move(o.source_);
    target_ = std::move(o.target_);
  }
  return *this;
}

void CircuitTicket::reset() {
  if (!counts_) {
    return;
  }
  countDown(counts_->toTarget, *target_);
  countDown(counts_->fromSource, *source_);
  counts_.reset();
}

ReservationTable::ReservationTable(HopLimits limits, Clock::time_point now)
    : limits_(limits), newCircuits_(limits.newCircuitsPerSecond, limits.newCircuitsBurst, now) {}

ReservationTable::Reserved ReservationTable::reserve(const crypto::PeerId& peer,
                                                     SystemClock::time_point now) {
  // Expired reservations free their slots first: a peer that went away without closing its
  // connection must not hold one for ever.
  std::erase_if(expiry_, [now](const auto& e) { return e.second <= now; });
  if (!expiry_.contains(peer) && expiry_.size() >= limits_.maxReservations) {
    return {0, HopRefusal{Status::kReservationRefused,
                          "the relay holds its " + std::to_string(limits_.maxReservations) +
                              " reservations (relay_max_reservations)"}};
  }
  const auto until = now + limits_.reservationTtl;
  expiry_[peer] = until;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(until.time_since_epoch());
  return {static_cast<std::uint64_t>(secs.count()), std::nullopt};
}

void ReservationTable::release(const crypto::PeerId& peer) { expiry_.erase(peer); }

bool ReservationTable::reserved(const crypto::PeerId& peer, SystemClock::time_point now) const {
  auto it = expiry_.find(peer);
  return it != expiry_.end() && it->second > now;
}

ReservationTable::Admitted ReservationTable::admitCircuit(const crypto::PeerId& source,
                                                          const crypto::PeerId& target,
                                                          SystemClock::time_point now,
                                                          Clock::time_point tick) {
  if (!reserved(target, now)) {
    return {{}, HopRefusal{Status::kNoReservation, "no reservation for " + target.toBase58()}};
  }
  // Each bound stops one party from taking the relay: a source opening circuits without end,
  // many sources crowding one reserved peer, or everyone together faster than the relay can
  // set circuits up.
  if (countOf(counts_->toTarget, target) >= limits_.maxCircuitsPerReservation) {
    return {{},
            overLimit("circuits to " + target.toBase58() + " at their bound",
                      static_cast<double>(limits_.maxCircuitsPerReservation),
                      "relay_max_circuits_per_reservation")};
  }
  if (countOf(counts_->fromSource, source) >= limits_.maxCircuitsPerSource) {
    return {{},
            overLimit("circuits from " + source.toBase58() + " at their bound",
                      static_cast<double>(limits_.maxCircuitsPerSource),
                      "relay_max_circuits_per_source")};
  }
  if (!newCircuits_.take(tick)) {
    return {{},
            overLimit("new circuits over the relay's rate", limits_.newCircuitsPerSecond,
                      "relay_new_circuits_per_second")};
  }
  return {CircuitTicket(counts_, source, target), std::nullopt};
}

std::size_t ReservationTable::circuits() const {
  std::size_t n = 0;
  for (const auto& [peer, count] : counts_->toTarget) {
    n += count;
  }
  return n;
}

std::optional<Limit> ReservationTable::circuitLimit() const {
  if (limits_.circuitDurationSeconds == 0 && limits_.circuitDataBytes == 0) {
    return std::nullopt;  // go-libp2p would mark any Limit, even 0/0, as a limited connection
  }
  return Limit{limits_.circuitDurationSeconds, limits_.circuitDataBytes};
}

}  // namespace pc::net::relay
