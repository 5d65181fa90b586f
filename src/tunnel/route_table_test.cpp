#include "tunnel/route_table.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "crypto/identity.hpp"

namespace pc::tunnel {
namespace {

crypto::PeerId newPeer() { return crypto::Identity::generate().value().peerId(); }

std::shared_ptr<net::Connection> connectionOf(const crypto::PeerId& p) {
  return std::make_shared<net::Connection>(
      net::Connection{p, {}, {}, false, {}, {}, nullptr, std::nullopt, std::nullopt, false});
}

TEST(RouteTable, AnIdBelongsToTheProviderThatRegisteredItFirst) {
  RouteTable t;
  const auto a = newPeer();
  const auto b = newPeer();
  const auto ca = connectionOf(a);
  EXPECT_TRUE(t.put("dep-x", RouteEntry{a, ca, "u1", ""}));
  EXPECT_FALSE(t.put("dep-x", RouteEntry{b, connectionOf(b), "u2", ""}));
  EXPECT_TRUE(t.put("dep-x", RouteEntry{a, ca, "u3", ""}));  // a refresh
  EXPECT_EQ(t.find("dep-x")->url, "u3");
  t.remove("dep-x", b);  // not b's to remove
  EXPECT_NE(t.find("dep-x"), nullptr);
  EXPECT_TRUE(t.put("dep-y", RouteEntry{a, ca, "u", ""}));
  EXPECT_EQ(t.removeConnection(ca.get()), 2U);
  EXPECT_EQ(t.size(), 0U);
}

TEST(RouteTable, StreamLeasesCountPerTunnelClientAndDeploymentUntilTheyEnd) {
  RouteTable t;
  const auto c1 = connectionOf(newPeer());
  const auto c2 = connectionOf(newPeer());
  const auto use = [&t](const net::Connection* c, const std::string& client,
                        const std::string& dep) {
    const StreamUse u = t.streamsInUse(StreamClaim{c, client, dep});
    return std::vector<std::size_t>{u.tunnel, u.client, u.deployment};
  };
  using V = std::vector<std::size_t>;
  StreamLease l1 = t.leaseStream({c1.get(), "10.0.0.1", "dep-a"});
  {
    StreamLease l2 = t.leaseStream({c1.get(), "10.0.0.1", "dep-b"});
    StreamLease l3 = t.leaseStream({c1.get(), "10.0.0.2", "dep-a"});
    StreamLease other = t.leaseStream({c2.get(), "10.0.0.1", "dep-c"});
    EXPECT_EQ(use(c1.get(), "10.0.0.1", "dep-a"), (V{3, 2, 2}));
    EXPECT_EQ(use(c1.get(), "10.0.0.2", "dep-b"), (V{3, 1, 1}));
    // The client count is per tunnel: the same address on another tunnel is counted apart.
    EXPECT_EQ(use(c2.get(), "10.0.0.1", "dep-c"), (V{1, 1, 1}));
    StreamLease moved = std::move(l2);  // moving does not count twice
    EXPECT_FALSE(l2.held());            // NOLINT(bugprone-use-after-move): checking the move
    EXPECT_EQ(use(c1.get(), "10.0.0.1", "dep-b"), (V{3, 2, 1}));
  }
  EXPECT_EQ(use(c1.get(), "10.0.0.1", "dep-a"), (V{1, 1, 1}));
  EXPECT_EQ(use(c2.get(), "10.0.0.1", "dep-c"), (V{0, 0, 0}));
  l1.reset();
  l1.reset();  // idempotent
  EXPECT_EQ(use(c1.get(), "10.0.0.1", "dep-a"), (V{0, 0, 0}));
  // A lease may outlive its table.
  auto table = std::make_unique<RouteTable>();
  StreamLease late = table->leaseStream({c1.get(), "x", "y"});
  table.reset();
  late.reset();
}

TEST(RouteTable, CountsTheRoutesOfAProvider) {
  RouteTable t;
  const auto p1 = newPeer();
  const auto c1 = connectionOf(p1);
  EXPECT_EQ(t.routesOf(p1), 0U);
  t.put("dep-a", RouteEntry{p1, c1, "u", ""});
  t.put("dep-b", RouteEntry{p1, c1, "u", ""});
  t.put("dep-c", RouteEntry{newPeer(), c1, "u", ""});
  EXPECT_EQ(t.routesOf(p1), 2U);
}

}  // namespace
}  // namespace pc::tunnel
