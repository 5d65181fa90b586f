#include "gateway/peer_liveness.hpp"

#include <algorithm>

namespace pc::gateway::peer {

PeerLiveness::PeerLiveness(crypto::PeerId self, const std::vector<crypto::PeerId>& peers,
                           LivenessSettings settings, Clock::time_point start)
    : self_(std::move(self)), settings_(settings), start_(start) {
  for (const auto& p : peers) {
    if (p != self_) peers_.emplace(p, Entry{});
  }
}

std::optional<Transition> PeerLiveness::heard(const crypto::PeerId& peer, const PeerStatus& status,
                                              Clock::time_point now) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return std::nullopt;
  Entry& e = it->second;
  e.lastHeard = now;
  e.status = status;
  if (e.state == PeerState::kAlive) return std::nullopt;
  e.state = PeerState::kAlive;
  return Transition{peer, PeerState::kAlive};
}

std::vector<Transition> PeerLiveness::tick(Clock::time_point now) {
  std::vector<Transition> out;
  for (auto& [id, e] : peers_) {
    if (e.state == PeerState::kDead) continue;
    const Clock::time_point since = e.lastHeard.value_or(start_);
    if (now - since >= deadAfter(e)) {
      e.state = PeerState::kDead;
      e.status = PeerStatus{};  // a dead peer's addresses and certificate are not used
      out.push_back(Transition{id, PeerState::kDead});
    }
  }
  return out;
}

std::chrono::milliseconds PeerLiveness::deadAfter(const Entry& e) const {
  if (e.status.heartbeat.count() <= 0) return settings_.deadAfter();
  return e.status.heartbeat * settings_.missedBeforeDead;
}

std::chrono::milliseconds PeerLiveness::deadAfter(const crypto::PeerId& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? settings_.deadAfter() : deadAfter(it->second);
}

PeerState PeerLiveness::state(const crypto::PeerId& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? PeerState::kDead : it->second.state;
}

std::vector<crypto::PeerId> PeerLiveness::alive() const {
  std::vector<crypto::PeerId> out;
  for (const auto& [id, e] : peers_) {
    if (e.state == PeerState::kAlive) out.push_back(id);
  }
  return out;
}

bool PeerLiveness::isListed(const crypto::PeerId& peer) const { return peers_.contains(peer); }

const PeerStatus* PeerLiveness::status(const crypto::PeerId& peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.state != PeerState::kAlive) return nullptr;
  return &it->second.status;
}

namespace {
template <class V, class A>
void addUnique(V& into, const A& a, std::size_t& room) {
  if (room == 0 || std::find(into.begin(), into.end(), a) != into.end()) return;
  into.push_back(a);
  --room;
}
}  // namespace

dns::Addresses PeerLiveness::liveAddresses(const dns::Addresses& own) const {
  dns::Addresses out;
  std::size_t room = dns::kMaxAddresses;
  auto add = [&](const dns::Addresses& a) {
    for (const auto& v4 : a.v4) addUnique(out.v4, v4, room);
    for (const auto& v6 : a.v6) addUnique(out.v6, v6, room);
  };
  add(own);
  for (const auto& [id, e] : peers_) {
    if (e.state == PeerState::kAlive) add(e.status.addresses);
  }
  return out;
}

std::optional<crypto::PeerId> PeerLiveness::ordererBelowSelf() const {
  // peers_ is ordered by id: the first peer below us that is not known to be out of the running
  // (dead, or alive without ordering) is the one we leave the order to.
  for (const auto& [id, e] : peers_) {
    if (!(id < self_)) break;
    if (e.state == PeerState::kUnknown) return id;
    if (e.state == PeerState::kAlive && e.status.ordersWildcard) return id;
  }
  return std::nullopt;
}

std::optional<crypto::PeerId> PeerLiveness::fresherCertificate(std::uint64_t ours,
                                                               std::uint64_t nowSeconds,
                                                               const CertUsable& usable) const {
  std::optional<crypto::PeerId> best;
  std::uint64_t bestNotAfter = ours;
  for (const auto& [id, e] : peers_) {
    const std::uint64_t notAfter = e.status.certNotAfter;
    if (notAfter <= nowSeconds || (usable && !usable(id, notAfter))) continue;
    if (e.state == PeerState::kAlive && notAfter > bestNotAfter) {
      best = id;
      bestNotAfter = e.status.certNotAfter;
    }
  }
  return best;
}

}  // namespace pc::gateway::peer
