// Relayed connections end to end on loopback, with the real pieces on every side: a relay (R)
// running HopService, a target (T) that keeps a reservation with ReservationKeeper and answers
// STOP (installRelayTransport), and sources that dial T through R by its /p2p-circuit address.
#include "net/relay/client.hpp"

#include <gtest/gtest.h>

#include <set>

#include "net/relay/hop_service.hpp"
#include "net/relay/keeper.hpp"
#include "support/run.hpp"

namespace pc::net::relay {
namespace {
using namespace std::chrono_literals;
using test::run;

class RelayClientTest : public ::testing::Test {
 protected:
  asio::io_context io{1};
  crypto::Identity idR = crypto::Identity::generate().value();
  crypto::Identity idT = crypto::Identity::generate().value();
  crypto::Identity idS = crypto::Identity::generate().value();  ///< trusted by T
  crypto::Identity idX = crypto::Identity::generate().value();  ///< a stranger to T
  std::shared_ptr<Host> r, t, s, x;
  std::shared_ptr<HopService> hop;
  std::shared_ptr<ReservationKeeper> keeper;
  std::vector<Multiaddr> relayed;  ///< what the keeper reported last
  std::vector<std::string> refusals;
  Multiaddr addrR;

  void startRelay(std::uint16_t port = 0) {
    r = Host::create(io.get_executor(), idR);
    HopServiceOptions o;
    o.mayReserve = [this](const crypto::PeerId& p) { return p == idT.peerId(); };
    hop = std::make_shared<HopService>(o);
    hop->install(r);
    addrR = r->listen(Multiaddr::parse("/ip4/127.0.0.1/tcp/" + std::to_string(port)).value())
                .value()
                .withPeerId(idR.peerId());
  }
  void SetUp() override {
    startRelay();
    t = Host::create(io.get_executor(), idT);
    t->setGater([this](const crypto::PeerId& p) { return p == idS.peerId() || p == idR.peerId(); });
    t->onReject(
        [this](const std::optional<crypto::PeerId>&, const Multiaddr& remote,
               const std::string& why) { refusals.push_back(remote.toString() + " " + why); });
    installRelayTransport(*t);
    for (auto* h : {&s, &x}) {
      *h = Host::create(io.get_executor(), h == &s ? idS : idX);
      installRelayTransport(**h);
    }
    KeeperOptions k;
    k.relay = addrR;
    k.minBackoff = 50ms;
    k.maxBackoff = 200ms;
    k.onChange = [this](const std::vector<Multiaddr>& a) { relayed = a; };
    keeper = std::make_shared<ReservationKeeper>(t, k);
    keeper->start();
  }
  void TearDown() override {
    keeper->stop();
    for (auto& h : {r, t, s, x}) {
      if (h) h->close();
    }
    test::pump(io, 50ms);
  }
  bool waitFor(const std::function<bool()>& cond) {
    for (int i = 0; i < 500 && !cond(); ++i) test::pump(io, 10ms);
    return cond();
  }
  Multiaddr targetAddr() const { return relayed.at(0).withPeerId(idT.peerId()); }
};

TEST_F(RelayClientTest, ATrustedPeerReachesTheTargetThroughTheRelay) {
  ASSERT_TRUE(waitFor([&] { return !relayed.empty(); }));
  EXPECT_EQ(relayed[0], circuitAddr(addrR));
  auto conn = run(io, s->connect(targetAddr()));
  ASSERT_TRUE(conn) << conn.error().message();
  EXPECT_EQ((*conn)->peer, idT.peerId());
  ASSERT_TRUE((*conn)->relay);
  EXPECT_EQ(*(*conn)->relay, idR.peerId());
  auto rtt = run(io, s->ping(*conn));
  EXPECT_TRUE(rtt) << rtt.error().message();
  // The target sees the same connection as relayed, from the source it proved to be.
  ASSERT_TRUE(waitFor([&] { return t->connectionTo(idS.peerId()) != nullptr; }));
  EXPECT_TRUE(t->connectionTo(idS.peerId())->isRelayed());
}

TEST_F(RelayClientTest, AStrangerIsGatedAfterTheRelayedHandshakeAndTheRefusalNamesTheRelay) {
  ASSERT_TRUE(waitFor([&] { return !relayed.empty(); }));
  auto conn = run(io, x->connect(targetAddr()));
  // The stranger's handshake completes (Noise runs end to end); the target then refuses it.
  if (conn) {
    auto rtt = run(io, x->ping(*conn));
    EXPECT_FALSE(rtt);
  }
  ASSERT_TRUE(waitFor([&] { return !refusals.empty(); }));
  EXPECT_NE(refusals[0].find("/p2p/" + idR.peerId().toBase58() + "/p2p-circuit"), std::string::npos)
      << refusals[0];
  EXPECT_EQ(t->connectionTo(idX.peerId()), nullptr);
}

TEST_F(RelayClientTest, NoReservationIsAClearError) {
  // Dial a peer that never reserved: the relay answers NO_RESERVATION.
  const auto nobody = crypto::Identity::generate().value().peerId();
  auto conn = run(io, s->connect(circuitAddr(addrR).withPeerId(nobody)));
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.error(), make_error_code(Errc::kUnreachable));
  EXPECT_NE(conn.error().message().find("NO_RESERVATION"), std::string::npos)
      << conn.error().message();
}

TEST_F(RelayClientTest, TheKeeperReservesAgainAfterTheRelayRestarts) {
  ASSERT_TRUE(waitFor([&] { return !relayed.empty(); }));
  const auto port = addrR.tcpTarget()->port;
  r->close();
  ASSERT_TRUE(waitFor([&] { return relayed.empty(); })) << "the lost reservation is reported";
  test::pump(io, 100ms);
  startRelay(port);  // the same address, a new process's state: no reservation held
  ASSERT_TRUE(waitFor([&] { return !relayed.empty(); }));
  EXPECT_TRUE(hop->hasReservation(idT.peerId()));
  auto conn = run(io, s->connect(targetAddr()));
  EXPECT_TRUE(conn) << conn.error().message();
}

TEST_F(RelayClientTest, HalfAnAddressIsRefusedWithTheFormItNeeds) {
  auto conn = run(io, s->connect(circuitAddr(addrR)));  // no /p2p/<target>
  ASSERT_FALSE(conn);
  EXPECT_NE(conn.error().message().find("/p2p-circuit/p2p/<peer>"), std::string::npos);
}

}  // namespace
}  // namespace pc::net::relay
