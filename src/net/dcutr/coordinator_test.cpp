// DCUtR over two Hosts on loopback. No relay exists here: the first connection between the hosts
// is a plain TCP connection that each side marks relayed (Connection::relay) as it comes up, so
// the coordinator, the forced-role upgrade and the expected-punch table all run for real.
#include "net/dcutr/coordinator.hpp"

#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>

#include "net/error.hpp"
#include "net/tcp.hpp"
#include "support/run.hpp"

namespace pc::net::dcutr {
namespace {
using namespace std::chrono_literals;
using test::run;

constexpr const char* kEcho = "/echo/1.0.0";

asio::awaitable<void> echo(std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection>) {
  auto data = co_await readToEnd(*s, 1 << 16);
  if (data) co_await s->write(*data);
  co_await s->closeWrite();
}

std::shared_ptr<Connection> upgradedTo(const Host& h, const crypto::PeerId& peer) {
  for (const auto& c : h.connections()) {
    if (c->peer == peer && c->isOpen() && c->upgradedFromRelay) return c;
  }
  return nullptr;
}

bool relayedOpen(const Host& h) {
  for (const auto& c : h.connections()) {
    if (c->isRelayed() && c->isOpen()) return true;
  }
  return false;
}

class DcutrTest : public ::testing::Test {
 protected:
  asio::io_context io{1};
  crypto::Identity idA = crypto::Identity::generate().value();
  crypto::Identity idB = crypto::Identity::generate().value();
  crypto::Identity idRelay = crypto::Identity::generate().value();
  std::shared_ptr<Host> a, b;
  std::shared_ptr<Coordinator> coordA, coordB;
  Multiaddr addrB;

  /// A dials B; each side marks that first connection relayed (A's outbound, B's inbound).
  void setUpHosts(bool unilateral) { setUpHosts(unilateral, true, true); }
  void setUpHosts(bool unilateral, bool aAllowsLoopback, bool bAutoUpgrade) {
    if (std::getenv("PC_DEBUG")) spdlog::set_level(spdlog::level::debug);
    a = Host::create(io.get_executor(), idA);
    b = Host::create(io.get_executor(), idB);
    CoordinatorConfig cfg;
    cfg.addrs.allowLoopback = true;
    cfg.unilateral = unilateral;
    auto cfgA = cfg;
    cfgA.addrs.allowLoopback = aAllowsLoopback;
    auto cfgB = cfg;
    cfgB.autoUpgrade = bAutoUpgrade;
    cfgB.attemptTimeout = 1s;
    coordA = Coordinator::install(a, cfgA);
    coordB = Coordinator::install(b, cfgB);
    for (auto* h : {&a, &b}) {
      (*h)->setHandler(kEcho, echo);
      (*h)->onConnected([this, first = true](const std::shared_ptr<Connection>& c) mutable {
        if (first) c->relay = idRelay.peerId();
        first = false;
      });
    }
    const auto lo = Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value();
    ASSERT_TRUE(a->listen(lo));
    addrB = b->listen(lo).value().withPeerId(idB.peerId());
  }
  void TearDown() override {
    if (a) a->close();
    if (b) b->close();
    test::pump(io, 50ms);
  }

  /// Dials the "relayed" connection and waits (safety net only) until both sides have a direct
  /// connection upgraded from it and the relayed one is closed.
  asio::awaitable<bool> dialAndWait(bool bothFlagged) {
    auto relayed = co_await a->connect(addrB);
    if (!relayed || !(*relayed)->isRelayed()) co_return false;
    for (int i = 0; i < 400; ++i) {
      const bool direct =
          upgradedTo(*b, idA.peerId()) && (!bothFlagged || upgradedTo(*a, idB.peerId()));
      if (direct && !relayedOpen(*a) && !relayedOpen(*b)) co_return true;
      co_await sleepFor(25ms);
    }
    co_return false;
  }
};

TEST_F(DcutrTest, PunchUpgradesWithDcutrRolesAndRetiresTheRelay) {
  setUpHosts(false);
  ASSERT_TRUE(run(io, dialAndWait(true)));
  const auto onA = upgradedTo(*a, idB.peerId());
  const auto onB = upgradedTo(*b, idA.peerId());
  // A (dialled through the relay) is the client whatever the TCP direction, B the server.
  EXPECT_TRUE(onA->outbound);
  EXPECT_FALSE(onB->outbound);
  EXPECT_EQ(a->connectionTo(idB.peerId()), onA);
  EXPECT_EQ(b->connectionTo(idA.peerId()), onB);
  // New streams run over the punched connection.
  auto got = run(io, [&]() -> asio::awaitable<Result<Bytes>> {
    const std::vector<std::string> protos{kEcho};
    auto s = co_await a->newStream(idB.peerId(), protos);
    if (!s) co_return s.error();
    const Bytes msg{1, 2, 3};
    co_await (*s)->write(msg);
    co_await (*s)->closeWrite();
    co_return co_await readToEnd(**s, 1024);
  }());
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, (Bytes{1, 2, 3}));
}

TEST_F(DcutrTest, UnilateralDialReachesAPublicPeerFirst) {
  setUpHosts(true);
  ASSERT_TRUE(run(io, dialAndWait(false)));
  const auto onB = upgradedTo(*b, idA.peerId());
  EXPECT_TRUE(onB->outbound);  // an ordinary dial: B is the client
  EXPECT_EQ(b->connectionTo(idA.peerId()), onB);
}

TEST_F(DcutrTest, AFailedPunchLeavesTheRelayedConnectionInUse) {
  // A keeps no loopback address: it refuses B's CONNECT, so every attempt fails.
  setUpHosts(false, false, false);
  auto r = run(io, [&]() -> asio::awaitable<Result<std::shared_ptr<Connection>>> {
    auto relayed = co_await a->connect(addrB);
    if (!relayed) co_return relayed.error();
    for (int i = 0; i < 400 && !b->connectionTo(idA.peerId()); ++i) co_await sleepFor(5ms);
    co_return co_await coordB->upgrade(b->connectionTo(idA.peerId()));
  }());
  EXPECT_FALSE(r);
  const auto still = b->connectionTo(idA.peerId());
  ASSERT_TRUE(still);
  EXPECT_TRUE(still->isRelayed());
  EXPECT_TRUE(still->isOpen());
  EXPECT_EQ(upgradedTo(*a, idB.peerId()), nullptr);
  EXPECT_EQ(upgradedTo(*b, idA.peerId()), nullptr);
}

TEST_F(DcutrTest, AnswersNoDcutrStreamOnADirectConnection) {
  a = Host::create(io.get_executor(), idA);
  b = Host::create(io.get_executor(), idB);
  Coordinator::install(a);
  Coordinator::install(b);
  addrB =
      b->listen(Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value()).value().withPeerId(idB.peerId());
  auto r = run(io, [&]() -> asio::awaitable<Result<Bytes>> {
    const std::vector<std::string> protos{std::string(kProtocolId)};
    auto c = co_await a->connect(addrB);
    if (!c) co_return c.error();
    auto s = co_await a->newStream(*c, protos);
    if (!s) co_return s.error();
    co_await (*s)->write(encode(HolePunch{HolePunch::Type::kConnect, {}}));
    co_return co_await readToEnd(**s, 1024);
  }());
  EXPECT_FALSE(r && !r->empty());
}

TEST(HostDialFrom, OrdinaryDialsLeaveFromTheListenPortWhenConfigured) {
  asio::io_context io{1};
  const auto idA = crypto::Identity::generate().value();
  const auto idB = crypto::Identity::generate().value();
  HostConfig cfg;
  cfg.dialFrom = HostConfig::DialFrom::kListenPort;
  auto a = Host::create(io.get_executor(), idA, cfg);
  auto b = Host::create(io.get_executor(), idB);
  const auto lo = Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value();
  ASSERT_TRUE(a->listen(lo));
  const auto addrB = b->listen(lo).value().withPeerId(idB.peerId());
  auto c = run(io, a->connect(addrB));
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ((*c)->localAddr.tcpTarget()->port, a->listenPort());
  // The same 4-tuple again (a second, direct-only dial): an ephemeral port instead.
  auto d = run(io, a->connectDirect(addrB, 2s));
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_NE((*d)->localAddr.tcpTarget()->port, a->listenPort());
  a->close();
  b->close();
  test::pump(io, 20ms);
}

TEST(DialTcpFrom, LeavesFromTheListenPortAndFallsBack) {
  asio::io_context io{1};
  const auto lo = Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value();
  auto ours = listenTcp(io.get_executor(), lo, true).value();
  auto theirs = listenTcp(io.get_executor(), lo).value();
  const auto port = ours.local_endpoint().port();
  const auto target = toMultiaddr(theirs.local_endpoint());
  auto first = run(io, dialTcpFrom(target, port, 2s, false));
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ((*first)->socket().local_endpoint().port(), port);
  // The same 4-tuple cannot exist twice (EADDRNOTAVAIL): an error without the fallback, an
  // ephemeral port with it.
  auto second = run(io, dialTcpFrom(target, port, 2s, false));
  EXPECT_FALSE(second);
  auto third = run(io, dialTcpFrom(target, port, 2s, true));
  ASSERT_TRUE(third) << third.error().message();
  EXPECT_NE((*third)->socket().local_endpoint().port(), port);
}

}  // namespace
}  // namespace pc::net::dcutr
