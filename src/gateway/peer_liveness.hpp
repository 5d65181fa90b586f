#pragma once
/// Which peer gateways are alive, as a pure table: every call is given the time, so the tests
/// drive it with a manual clock. peers.cpp feeds it the heartbeats that arrive and ticks it.
///
/// A listed peer starts *unknown*. Its first heartbeat makes it *alive*; no word from it for
/// missedBeforeDead of *its* heartbeat intervals (each heartbeat says how often it beats, so
/// gateways with different settings judge each other fairly) makes it *dead*, and so does never
/// having been heard `deadAfter()` (ours) after the table was made (a gateway starting alone
/// does not wait for ever). A dead peer's next heartbeat makes it alive again.
///
/// From that it answers the two questions a domain's gateways share: which public addresses the
/// DNS names (its own and the live peers'), and which gateway orders the wildcard certificate:
/// the one with the lowest peer id among the live gateways that order (the heartbeat flag).
/// While a lower-id peer is still unknown nobody below it is sure, so no one orders yet: that
/// wait is what lets a restarted gateway hear (and fetch) its peers' certificate first.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crypto/peer_id.hpp"
#include "dns/zone.hpp"

namespace pc::gateway::peer {

struct LivenessSettings {
  /// A heartbeat is sent (and the table ticked) this often.
  std::chrono::milliseconds heartbeat{1000};
  /// Heartbeats missed before a peer counts as dead.
  unsigned missedBeforeDead = 3;
  [[nodiscard]] std::chrono::milliseconds deadAfter() const { return heartbeat * missedBeforeDead; }
};

enum class PeerState { kUnknown, kAlive, kDead };

/// What a peer's latest heartbeat said.
struct PeerStatus {
  dns::Addresses addresses;
  bool ordersWildcard = false;
  std::uint64_t certNotAfter = 0;          ///< unix seconds, 0 = no certificate
  std::chrono::milliseconds heartbeat{0};  ///< the peer's own interval (0: not said, ours)
};

/// A change tick() or heard() made.
struct Transition {
  crypto::PeerId peer;
  PeerState to = PeerState::kAlive;
};

class PeerLiveness {
 public:
  using Clock = std::chrono::steady_clock;

  /// `self` is this gateway; `peers` the listed peer gateways (self among them is ignored).
  PeerLiveness(crypto::PeerId self, const std::vector<crypto::PeerId>& peers,
               LivenessSettings settings, Clock::time_point start);

  /// A heartbeat from `peer` at `now` (its domain already checked). Returns the transition
  /// when it came alive; an unlisted peer is ignored.
  std::optional<Transition> heard(const crypto::PeerId& peer, const PeerStatus& status,
                                  Clock::time_point now);
  /// Marks peers dead whose last word is older than deadAfter() at `now` (or that were never
  /// heard by then); returns those transitions.
  std::vector<Transition> tick(Clock::time_point now);

  [[nodiscard]] PeerState state(const crypto::PeerId& peer) const;
  /// How long `peer` may be silent before it counts as dead: missedBeforeDead of the interval
  /// its last heartbeat announced (ours while it has announced none).
  [[nodiscard]] std::chrono::milliseconds deadAfter(const crypto::PeerId& peer) const;
  [[nodiscard]] std::vector<crypto::PeerId> alive() const;
  [[nodiscard]] bool isListed(const crypto::PeerId& peer) const;
  /// The latest status of a live peer (nullptr when it is not alive).
  [[nodiscard]] const PeerStatus* status(const crypto::PeerId& peer) const;

  /// `own` plus the addresses of every live peer, without duplicates, at most
  /// dns::kMaxAddresses (guaranteed by the per-gateway bound: see peer_codec.hpp).
  [[nodiscard]] dns::Addresses liveAddresses(const dns::Addresses& own) const;

  /// For a gateway that orders: who orders the wildcard certificate now — this gateway
  /// (nullopt), or the peer below it that it waits for (the lowest id that is alive and
  /// orders, or still unknown).
  [[nodiscard]] std::optional<crypto::PeerId> ordererBelowSelf() const;
  /// The live peer whose certificate expires last, when that is later than `ours` (unix
  /// seconds, 0 = none): where to fetch a fresher certificate from. A certificate already
  /// expired at `nowSeconds`, or one `usable` rejects (we were sent it and could not take it),
  /// does not count: deferring to it would stall the order for good.
  using CertUsable = std::function<bool(const crypto::PeerId&, std::uint64_t notAfter)>;
  [[nodiscard]] std::optional<crypto::PeerId> fresherCertificate(
      std::uint64_t ours, std::uint64_t nowSeconds = 0, const CertUsable& usable = {}) const;

  [[nodiscard]] const LivenessSettings& settings() const { return settings_; }

 private:
  struct Entry {
    PeerState state = PeerState::kUnknown;
    std::optional<Clock::time_point> lastHeard;
    PeerStatus status;
  };
  [[nodiscard]] std::chrono::milliseconds deadAfter(const Entry& e) const;
  crypto::PeerId self_;
  LivenessSettings settings_;
  Clock::time_point start_;
  std::map<crypto::PeerId, Entry> peers_;  ///< ordered by id: the orderer is the first that may
};

}  // namespace pc::gateway::peer
