// PeerLiveness with a manual clock: every time below is a point given to the table, never the
// wall clock.
#include "gateway/peer_liveness.hpp"

#include <gtest/gtest.h>

#include "crypto/identity.hpp"

namespace pc::gateway::peer {
namespace {

using namespace std::chrono_literals;
using Clock = PeerLiveness::Clock;

/// Three ids in ascending order.
std::vector<crypto::PeerId> sortedIds(std::size_t n) {
  std::vector<crypto::PeerId> ids;
  for (std::size_t i = 0; i < n; ++i) ids.push_back(crypto::Identity::generate().value().peerId());
  std::sort(ids.begin(), ids.end());
  return ids;
}

PeerStatus status(std::uint8_t lastOctet, bool orders = true, std::uint64_t notAfter = 0) {
  PeerStatus s;
  s.addresses.v4.push_back({192, 0, 2, lastOctet});
  s.ordersWildcard = orders;
  s.certNotAfter = notAfter;
  return s;
}

dns::Addresses own() {
  dns::Addresses a;
  a.v4.push_back({192, 0, 2, 1});
  return a;
}

const LivenessSettings kSettings{1000ms, 3};  // dead after 3 s without a heartbeat

TEST(PeerLiveness, AliveOnHeartbeatDeadAfterMissedOnesAliveAgain) {
  const auto ids = sortedIds(2);
  const auto t0 = Clock::time_point{} + 100s;
  PeerLiveness l(ids[0], {ids[1]}, kSettings, t0);
  EXPECT_EQ(l.state(ids[1]), PeerState::kUnknown);
  auto t = l.heard(ids[1], status(2), t0 + 100ms);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->to, PeerState::kAlive);
  EXPECT_FALSE(l.heard(ids[1], status(2), t0 + 1100ms)) << "already alive: no transition";
  EXPECT_EQ(l.liveAddresses(own()).v4.size(), 2u);
  // Heartbeats stop after 1.1 s: still alive at 4.0 s (2.9 s of silence), dead at 4.1 s.
  EXPECT_TRUE(l.tick(t0 + 4000ms).empty());
  auto dead = l.tick(t0 + 4100ms);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].peer, ids[1]);
  EXPECT_EQ(dead[0].to, PeerState::kDead);
  EXPECT_EQ(l.state(ids[1]), PeerState::kDead);
  EXPECT_EQ(l.liveAddresses(own()).v4.size(), 1u) << "a dead peer leaves the answers";
  EXPECT_TRUE(l.tick(t0 + 10s).empty()) << "dead once, not at every tick";
  EXPECT_EQ(l.status(ids[1]), nullptr);
  ASSERT_TRUE(l.heard(ids[1], status(2), t0 + 20s)) << "it came back";
  EXPECT_EQ(l.state(ids[1]), PeerState::kAlive);
  EXPECT_EQ(l.liveAddresses(own()).v4.size(), 2u);
}

TEST(PeerLiveness, NeverHeardIsDeadAfterTheSameTime) {
  const auto ids = sortedIds(2);
  const auto t0 = Clock::time_point{} + 100s;
  PeerLiveness l(ids[1], {ids[0]}, kSettings, t0);
  EXPECT_TRUE(l.tick(t0 + 2999ms).empty());
  EXPECT_EQ(l.tick(t0 + 3000ms).size(), 1u);
  EXPECT_EQ(l.state(ids[0]), PeerState::kDead);
}

// A peer that beats every 5 s (its operator's choice) is judged by its own interval: with ours
// (1 s) it would be dead, and dropped from the DNS answers, between every two heartbeats.
TEST(PeerLiveness, APeerIsJudgedByTheIntervalItAnnounces) {
  const auto ids = sortedIds(2);
  const auto t0 = Clock::time_point{} + 100s;
  PeerLiveness l(ids[0], {ids[1]}, kSettings, t0);
  EXPECT_EQ(l.deadAfter(ids[1]), 3000ms) << "ours while it has said nothing";
  PeerStatus slow = status(2);
  slow.heartbeat = 5000ms;
  ASSERT_TRUE(l.heard(ids[1], slow, t0));
  EXPECT_EQ(l.deadAfter(ids[1]), 15000ms);
  EXPECT_TRUE(l.tick(t0 + 4500ms).empty()) << "one slow interval of silence is not death";
  ASSERT_FALSE(l.heard(ids[1], slow, t0 + 5s));
  EXPECT_TRUE(l.tick(t0 + 19999ms).empty());
  EXPECT_EQ(l.tick(t0 + 20s).size(), 1u) << "three of its intervals after its last heartbeat";
  // A fast one (100 ms) is dead after 300 ms of silence, not after our 3 s.
  PeerStatus fast = status(2);
  fast.heartbeat = 100ms;
  ASSERT_TRUE(l.heard(ids[1], fast, t0 + 30s));
  EXPECT_TRUE(l.tick(t0 + 30299ms).empty());
  EXPECT_EQ(l.tick(t0 + 30300ms).size(), 1u);
}

TEST(PeerLiveness, UnlistedPeersAndSelfAreIgnored) {
  const auto ids = sortedIds(3);
  const auto t0 = Clock::time_point{} + 100s;
  PeerLiveness l(ids[0], {ids[0], ids[1]}, kSettings, t0);
  EXPECT_FALSE(l.isListed(ids[0])) << "self";
  EXPECT_FALSE(l.heard(ids[2], status(3), t0));
  EXPECT_FALSE(l.isListed(ids[2]));
  EXPECT_EQ(l.liveAddresses(own()).v4.size(), 1u);
}

TEST(PeerLiveness, AddressesAreDeduplicatedAndBounded) {
  const auto ids = sortedIds(3);
  const auto t0 = Clock::time_point{} + 100s;
  PeerLiveness l(ids[0], {ids[1], ids[2]}, kSettings, t0);
  l.heard(ids[1], status(1), t0);  // the same address as ours
  PeerStatus v6 = status(9);
  v6.addresses.v6.push_back({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9});
  l.heard(ids[2], v6, t0);
  const auto a = l.liveAddresses(own());
  EXPECT_EQ(a.v4.size(), 2u);
  EXPECT_EQ(a.v6.size(), 1u);
  EXPECT_LE(a.size(), dns::kMaxAddresses);
}

TEST(PeerLiveness, TheLowestLiveOrdererOrders) {
  const auto ids = sortedIds(3);
  const auto t0 = Clock::time_point{} + 100s;
  // The middle gateway: it waits for the lowest while that one is unknown or alive.
  PeerLiveness mid(ids[1], {ids[0], ids[2]}, kSettings, t0);
  EXPECT_EQ(mid.ordererBelowSelf(), ids[0]) << "unknown: it may be the orderer";
  mid.heard(ids[0], status(1), t0 + 100ms);
  mid.heard(ids[2], status(3), t0 + 100ms);
  EXPECT_EQ(mid.ordererBelowSelf(), ids[0]);
  // The lowest dies: the middle one orders; the highest never matters to it.
  mid.heard(ids[2], status(3), t0 + 3500ms);
  mid.tick(t0 + 3500ms);
  EXPECT_EQ(mid.state(ids[0]), PeerState::kDead);
  EXPECT_EQ(mid.ordererBelowSelf(), std::nullopt);
  // It comes back: it orders again.
  mid.heard(ids[0], status(1), t0 + 4s);
  EXPECT_EQ(mid.ordererBelowSelf(), ids[0]);
  // A lower peer that does not order (no dns-01 there) leaves it to us.
  mid.heard(ids[0], status(1, false), t0 + 5s);
  EXPECT_EQ(mid.ordererBelowSelf(), std::nullopt);
  // The lowest id orders whatever the others say.
  PeerLiveness low(ids[0], {ids[1], ids[2]}, kSettings, t0);
  EXPECT_EQ(low.ordererBelowSelf(), std::nullopt);
}

TEST(PeerLiveness, FresherCertificateIsTheLatestLiveOne) {
  const auto ids = sortedIds(3);
  const auto t0 = Clock::time_point{} + 100s;
  PeerLiveness l(ids[0], {ids[1], ids[2]}, kSettings, t0);
  EXPECT_EQ(l.fresherCertificate(0), std::nullopt);
  l.heard(ids[1], status(2, true, 1000), t0);
  l.heard(ids[2], status(3, true, 2000), t0 + 2s);
  EXPECT_EQ(l.fresherCertificate(0), ids[2]);
  EXPECT_EQ(l.fresherCertificate(1500), ids[2]);
  EXPECT_EQ(l.fresherCertificate(2000), std::nullopt) << "not newer than ours";
  // Expired now, or sent and refused: not a reason to wait for it.
  EXPECT_EQ(l.fresherCertificate(0, 2000), std::nullopt) << "expired";
  EXPECT_EQ(l.fresherCertificate(0, 1500), ids[2]) << "the one still valid";
  const auto notIds2 = [&](const crypto::PeerId& id, std::uint64_t) { return id != ids[2]; };
  EXPECT_EQ(l.fresherCertificate(0, 0, notIds2), ids[1]) << "ids[2]'s was refused";
  // The holder of the newest dies: the next one is where to look.
  l.heard(ids[1], status(2, true, 1000), t0 + 4s);
  l.tick(t0 + 5100ms);
  EXPECT_EQ(l.state(ids[2]), PeerState::kDead);
  EXPECT_EQ(l.fresherCertificate(0), ids[1]);
}

}  // namespace
}  // namespace pc::gateway::peer
