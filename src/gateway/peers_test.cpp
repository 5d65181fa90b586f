// Peer gateways over real loopback sockets: in-process GatewayNodes (started as peergateway
// starts them) peered with --peer-gateway, their DNS zones asked what they answer. Heartbeats
// every 50 ms, dead after 3 missed; every wait is for an event (a zone's answer, a peer's
// state) with a generous deadline, never a sleep standing for one.
#include "gateway/peers.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "crypto/identity.hpp"
#include "dns/server.hpp"
#include "gateway/node.hpp"
#include "net/host.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

namespace pc::gateway {
namespace {

using namespace std::chrono_literals;
namespace asio = net::asio;
namespace wire = net::dns;

/// The A records `node`'s zone answers for a deployment host, as text, sorted.
std::vector<std::string> answersOf(const GatewayNode& node) {
  wire::Message q;
  q.id = 1;
  q.questions.push_back(wire::Question{wire::parseName("dep-x.pc.test").value(), wire::Type::kA,
                                       wire::kClassIn, false});
  const auto r = node.dns()->zone().respond(wire::encode(q).value(), dns::Transport::kUdp);
  const auto m = wire::decode(r.bytes).value();
  std::vector<std::string> out;
  for (const auto& rr : m.answers) {
    const auto& b = std::get<wire::Opaque>(rr.data).bytes;
    if (rr.type == wire::Type::kA && b.size() == 4) {
      out.push_back(boost::asio::ip::address_v4({b[0], b[1], b[2], b[3]}).to_string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

crypto::PeerId idIn(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
  return crypto::Identity::loadOrCreate(dir / "identity.key").value().peerId();
}

GatewayConfig configFor(const std::filesystem::path& dir, const std::string& domain,
                        const std::string& ip, std::vector<std::string> peers) {
  GatewayConfig c;
  c.dataDir = dir;
  c.domain = domain;
  c.bind = "127.0.0.1";
  c.httpPort = 0;
  c.tunnelListen = "/ip4/127.0.0.1/tcp/0";
  c.dnsListen = "127.0.0.1:0";
  c.publicIps = {ip};
  c.peerGateways = std::move(peers);
  c.peerHeartbeatInterval = 50ms;
  c.peerMissedHeartbeats = 3;
  return c;
}

/// Runs the io_context until `done()` holds; false at the deadline (a safety net).
template <class Pred>
bool waitFor(asio::io_context& io, Pred done, std::chrono::seconds deadline = 20s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    io.run_one_for(10ms);
  }
  return true;
}

void stopNode(asio::io_context& io, std::unique_ptr<GatewayNode>& node) {
  test::run(io, [&]() -> asio::awaitable<bool> {
    co_await node->shutdown();
    co_return true;
  }());
  node.reset();
}

using Strings = std::vector<std::string>;

TEST(GatewayPeers, LiveGatewaysInEachOthersDnsDeadOnesLeaveAndComeBack) {
  asio::io_context io(1);
  auto guard = asio::make_work_guard(io);
  test::TempDir tmp;
  const auto dirA = tmp.path() / "a", dirB = tmp.path() / "b", dirC = tmp.path() / "c",
             dirD = tmp.path() / "d";
  const auto idB = idIn(dirB), idD = idIn(dirD);
  // A lists B and D at addresses where nothing listens: A reaches them over the connections
  // they open to it (a dial with /p2p/<id> reuses a live connection).
  const std::string nowhere = "/ip4/127.0.0.1/tcp/9/p2p/";
  auto a = GatewayNode::start(io.get_executor(),
                              configFor(dirA, "pc.test", "192.0.2.1",
                                        {nowhere + idB.toBase58(), nowhere + idD.toBase58()}),
                              "test")
               .value();
  const std::string addrA = a->tunnelAddrs().front().toString();
  EXPECT_EQ(answersOf(*a), Strings{"192.0.2.1"}) << "alone: its own address";

  auto b = GatewayNode::start(io.get_executor(), configFor(dirB, "pc.test", "192.0.2.2", {addrA}),
                              "test")
               .value();
  const Strings both{"192.0.2.1", "192.0.2.2"};
  ASSERT_TRUE(waitFor(io, [&] { return answersOf(*a) == both && answersOf(*b) == both; }))
      << "A answers " << answersOf(*a).size() << ", B " << answersOf(*b).size();
  EXPECT_EQ(a->peers()->alivePeers(), std::vector<crypto::PeerId>{idB});

  // B stops: A's answers drop it once 3 heartbeats are missed.
  stopNode(io, b);
  ASSERT_TRUE(waitFor(io, [&] { return answersOf(*a) == Strings{"192.0.2.1"}; }));
  EXPECT_EQ(a->peers()->state(idB), peer::PeerState::kDead);

  // B restarts (same identity, a new port): both are answered again.
  b = GatewayNode::start(io.get_executor(), configFor(dirB, "pc.test", "192.0.2.2", {addrA}),
                         "test")
          .value();
  ASSERT_TRUE(waitFor(io, [&] { return answersOf(*a) == both && answersOf(*b) == both; }));

  // C lists A, but A does not list C: A refuses its stream (the stream gate) and never dials
  // it, so neither names the other. C counts A dead once the wait for its word is over.
  auto c = GatewayNode::start(io.get_executor(), configFor(dirC, "pc.test", "192.0.2.3", {addrA}),
                              "test")
               .value();
  const auto idA = a->peerId();
  ASSERT_TRUE(waitFor(io, [&] { return c->peers()->state(idA) == peer::PeerState::kDead; }));
  EXPECT_EQ(answersOf(*c), Strings{"192.0.2.3"});
  EXPECT_EQ(answersOf(*a), both);

  // D serves another domain: listed both ways, refused both ways on its first heartbeat.
  auto d = GatewayNode::start(io.get_executor(),
                              configFor(dirD, "other.test", "192.0.2.4", {addrA}), "test")
               .value();
  ASSERT_TRUE(waitFor(io, [&] {
    return d->peers()->state(idA) == peer::PeerState::kDead &&
           a->peers()->state(idD) == peer::PeerState::kDead;
  }));
  EXPECT_EQ(answersOf(*a), both);
  EXPECT_TRUE(d->peers()->alivePeers().empty());

  for (auto* n : {&d, &c, &b, &a}) stopNode(io, *n);
}

TEST(GatewayPeers, SettingsFromToml) {
  GatewayConfig c;
  ASSERT_TRUE(applyToml(R"(peer_gateways = ["/ip4/192.0.2.9/tcp/8443/p2p/12D3KooWAbc"]
peer_heartbeat_interval = "250ms"
peer_missed_heartbeats = 4
peer_dns_ttl = "10s"
)",
                        "gateway.toml", c));
  EXPECT_EQ(c.peerGateways, std::vector<std::string>{"/ip4/192.0.2.9/tcp/8443/p2p/12D3KooWAbc"});
  EXPECT_EQ(c.peerHeartbeatInterval, 250ms);
  EXPECT_EQ(c.peerMissedHeartbeats, 4u);
  EXPECT_EQ(c.peerDnsTtl, 10s);
  GatewayConfig bad;
  auto r = applyToml("peer_missed_heartbeats = 1\n", "gateway.toml", bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("peer_missed_heartbeats"), std::string::npos);
}

TEST(GatewayPeers, ConfigurationErrorsNameTheSetting) {
  test::TempDir tmp;
  auto c = configFor(tmp.path(), "pc.test", "192.0.2.1", {"/ip4/127.0.0.1/tcp/1"});
  auto r = c.validate();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("/p2p/<peer id>"), std::string::npos) << r.error().message();
  c.peerGateways = {"/ip4/127.0.0.1/tcp/1/p2p/" + idIn(tmp.path() / "x").toBase58()};
  c.dnsListen.clear();
  r = c.validate();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("dns_listen"), std::string::npos);
  c.dnsListen = "127.0.0.1:0";
  c.publicIps = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"};
  EXPECT_FALSE(c.validate()) << "over kMaxAddressesPerGateway";
  c.publicIps = {"192.0.2.1"};
  EXPECT_TRUE(c.validate());
  c.tls = "acme";
  c.httpsPort = 8443;
  c.acmeDirectory = "https://ca.example/dir";
  r = c.validate();
  ASSERT_FALSE(r) << "http-01 answers are not shared between gateways";
  EXPECT_NE(r.error().message().find("dns-01"), std::string::npos);
  c.acmeChallenge = "dns-01";
  EXPECT_TRUE(c.validate()) << c.validate().error().message();
  c.tls = "off";
  EXPECT_EQ(c.effectiveDnsTtl(), 5s) << "peer_dns_ttl, shorter than dns_ttl";
  // Its own id in the list is refused at start (the id is known only then).
  asio::io_context io(1);
  const auto self = idIn(tmp.path() / "self");
  auto own = configFor(tmp.path() / "self", "pc.test", "192.0.2.1",
                       {"/ip4/127.0.0.1/tcp/1/p2p/" + self.toBase58()});
  auto n = GatewayNode::start(io.get_executor(), own, "test");
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message().find("this gateway itself"), std::string::npos);
}

}  // namespace
}  // namespace pc::gateway
