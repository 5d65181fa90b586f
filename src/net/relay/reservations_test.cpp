#include "net/relay/reservations.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "crypto/identity.hpp"

namespace pc::net::relay {
namespace {

using namespace std::chrono_literals;
using Sys = ReservationTable::SystemClock;

crypto::PeerId newPeer() { return crypto::Identity::generate().value().peerId(); }

const Sys::time_point kNow = Sys::time_point{} + std::chrono::seconds(1'800'000'000);

TEST(Reservations, GrantRefreshExpireAndRelease) {
  HopLimits l;
  l.maxReservations = 2;
  l.reservationTtl = 60s;
  ReservationTable t(l);
  const auto a = newPeer();
  const auto b = newPeer();
  const auto c = newPeer();
  auto r = t.reserve(a, kNow);
  ASSERT_FALSE(r.refused);
  EXPECT_EQ(r.expire, 1'800'000'060U);
  EXPECT_FALSE(t.reserve(b, kNow).refused);
  // Full: a third peer is refused with the spec's code, naming the limit.
  r = t.reserve(c, kNow);
  ASSERT_TRUE(r.refused);
  EXPECT_EQ(r.refused->status, Status::kReservationRefused);
  EXPECT_NE(r.refused->why.find("relay_max_reservations"), std::string::npos);
  // A refresh of a held one is always granted, with a later expiry.
  r = t.reserve(a, kNow + 30s);
  ASSERT_FALSE(r.refused);
  EXPECT_EQ(r.expire, 1'800'000'090U);
  // b's expired: its slot goes to c.
  EXPECT_FALSE(t.reserved(b, kNow + 61s));
  EXPECT_FALSE(t.reserve(c, kNow + 61s).refused);
  t.release(a);
  EXPECT_FALSE(t.reserved(a, kNow + 61s));
  EXPECT_TRUE(t.reserved(c, kNow + 61s));
}

TEST(Reservations, CircuitsNeedAReservationAndStayWithinTheirBounds) {
  HopLimits l;
  l.maxCircuitsPerReservation = 3;
  l.maxCircuitsPerSource = 2;
  const auto tick = ReservationTable::Clock::time_point{} + 1h;
  ReservationTable t(l, tick);
  const auto target = newPeer();
  const auto s1 = newPeer();
  const auto s2 = newPeer();
  auto no = t.admitCircuit(s1, target, kNow, tick);
  ASSERT_TRUE(no.refused);
  EXPECT_EQ(no.refused->status, Status::kNoReservation);
  ASSERT_FALSE(t.reserve(target, kNow).refused);
  std::vector<CircuitTicket> open;
  for (const auto* src : {&s1, &s1}) {
    auto a = t.admitCircuit(*src, target, kNow, tick);
    ASSERT_FALSE(a.refused);
    open.push_back(std::move(a.ticket));
  }
  auto third = t.admitCircuit(s1, target, kNow, tick);  // s1 holds its 2
  ASSERT_TRUE(third.refused);
  EXPECT_EQ(third.refused->status, Status::kResourceLimitExceeded);
  EXPECT_NE(third.refused->why.find("max_circuits_per_source"), std::string::npos);
  auto a = t.admitCircuit(s2, target, kNow, tick);
  ASSERT_FALSE(a.refused);
  open.push_back(std::move(a.ticket));
  auto full = t.admitCircuit(s2, target, kNow, tick);  // the target holds its 3
  ASSERT_TRUE(full.refused);
  EXPECT_NE(full.refused->why.find("max_circuits_per_reservation"), std::string::npos);
  // A circuit that ends gives its counts back.
  open.front().reset();
  EXPECT_FALSE(t.admitCircuit(s2, target, kNow, tick).refused);
}

TEST(Reservations, NewCircuitsAreRateLimitedRelayWide) {
  HopLimits l;
  l.newCircuitsPerSecond = 1;
  l.newCircuitsBurst = 2;
  const auto tick = ReservationTable::Clock::time_point{} + 1h;
  ReservationTable t(l, tick);
  const auto target = newPeer();
  ASSERT_FALSE(t.reserve(target, kNow).refused);
  // Tickets that end at once: only the rate can refuse.
  EXPECT_FALSE(t.admitCircuit(newPeer(), target, kNow, tick).refused);
  EXPECT_FALSE(t.admitCircuit(newPeer(), target, kNow, tick).refused);
  auto over = t.admitCircuit(newPeer(), target, kNow, tick);
  ASSERT_TRUE(over.refused);
  EXPECT_NE(over.refused->why.find("relay_new_circuits_per_second = 1)"), std::string::npos);
  EXPECT_FALSE(t.admitCircuit(newPeer(), target, kNow, tick + 1s).refused);
}

TEST(Reservations, AFractionalRateIsNamedAsSet) {
  HopLimits l;
  l.newCircuitsPerSecond = 0.001;
  l.newCircuitsBurst = 1;
  const auto tick = ReservationTable::Clock::time_point{} + 1h;
  ReservationTable t(l, tick);
  const auto target = newPeer();
  ASSERT_FALSE(t.reserve(target, kNow).refused);
  EXPECT_FALSE(t.admitCircuit(newPeer(), target, kNow, tick).refused);
  auto over = t.admitCircuit(newPeer(), target, kNow, tick);
  ASSERT_TRUE(over.refused);
  EXPECT_NE(over.refused->why.find("relay_new_circuits_per_second = 0.001)"), std::string::npos);
}

TEST(Reservations, AnUnlimitedCircuitAnnouncesNoLimit) {
  EXPECT_FALSE(ReservationTable().circuitLimit());
  HopLimits l;
  l.circuitDurationSeconds = 120;
  EXPECT_EQ(ReservationTable(l).circuitLimit(), (Limit{120, 0}));
}

TEST(Reservations, ATicketMayOutliveItsTable) {
  const auto target = newPeer();
  auto t = std::make_unique<ReservationTable>();
  ASSERT_FALSE(t->reserve(target, kNow).refused);
  auto a = t->admitCircuit(newPeer(), target, kNow);
  ASSERT_FALSE(a.refused);
  t.reset();
  a.ticket.reset();
}

}  // namespace
}  // namespace pc::net::relay
