#include "tunnel/route_table.hpp"

#include <gtest/gtest.h>

#include "crypto/identity.hpp"

namespace pc::tunnel {
namespace {

crypto::PeerId newPeer() { return crypto::Identity::generate().value().peerId(); }

std::shared_ptr<net::Connection> connectionOf(const crypto::PeerId& p) {
  return std::make_shared<net::Connection>(
      net::Connection{p, {}, {}, false, {}, {}, nullptr, std::nullopt});
}

TEST(RouteTable, AnIdBelongsToTheProviderThatRegisteredItFirst) {
  RouteTable t;
  const auto a = newPeer();
  const auto b = newPeer();
  const auto ca = connectionOf(a);
  EXPECT_TRUE(t.put("dep-x", RouteEntry{a, ca, "u1"}));
  EXPECT_FALSE(t.put("dep-x", RouteEntry{b, connectionOf(b), "u2"}));
  EXPECT_TRUE(t.put("dep-x", RouteEntry{a, ca, "u3"}));  // a refresh
  EXPECT_EQ(t.find("dep-x")->url, "u3");
  t.remove("dep-x", b);  // not b's to remove
  EXPECT_NE(t.find("dep-x"), nullptr);
  EXPECT_TRUE(t.put("dep-y", RouteEntry{a, ca, "u"}));
  EXPECT_EQ(t.removeConnection(ca.get()), 2U);
  EXPECT_EQ(t.size(), 0U);
}

TEST(RouteTable, StreamLeasesCountPerTunnelUntilTheyEnd) {
  RouteTable t;
  const auto c1 = connectionOf(newPeer());
  const auto c2 = connectionOf(newPeer());
  StreamLease l1 = t.leaseStream(c1.get());
  {
    StreamLease l2 = t.leaseStream(c1.get());
    StreamLease other = t.leaseStream(c2.get());
    EXPECT_EQ(t.streamsInUse(c1.get()), 2U);
    EXPECT_EQ(t.streamsInUse(c2.get()), 1U);
    StreamLease moved = std::move(l2);  // moving does not count twice
    EXPECT_FALSE(l2.held());            // NOLINT(bugprone-use-after-move): checking the move
    EXPECT_EQ(t.streamsInUse(c1.get()), 2U);
  }
  EXPECT_EQ(t.streamsInUse(c1.get()), 1U);
  EXPECT_EQ(t.streamsInUse(c2.get()), 0U);
  l1.reset();
  l1.reset();  // idempotent
  EXPECT_EQ(t.streamsInUse(c1.get()), 0U);
  // A lease may outlive its table.
  auto table = std::make_unique<RouteTable>();
  StreamLease late = table->leaseStream(c1.get());
  table.reset();
  late.reset();
}

}  // namespace
}  // namespace pc::tunnel
