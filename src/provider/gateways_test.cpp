// A provider serving through two gateways, over real loopback sockets: the provider
// (ProviderNode::start, as peercomputed starts it, on the in-memory runtime) and two in-process
// gateways (GatewayNode::start, as peergateway starts them); the "container" is the test HTTP
// backend (support/http_backend.hpp), and public requests are raw sockets from the test thread
// while the io_context runs on its own thread.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/fs.hpp"
#include "gateway/node.hpp"
#include "net/tcp.hpp"
#include "protocol/signing.hpp"
#include "protocol/stream_protocols.hpp"
#include "provider/node.hpp"
#include "rpc/message_stream.hpp"
#include "support/fake_firewall.hpp"
#include "support/fake_runtime.hpp"
#include "support/http_backend.hpp"
#include "support/io_thread_test.hpp"
#include "support/provider_client.hpp"
#include "support/temp_dir.hpp"
#include "trust/trust_store.hpp"
#include "tunnel/proxy_header.hpp"
#include "tunnel/route_table.hpp"

namespace pc::provider {
namespace {

using namespace std::chrono_literals;
namespace asio = net::asio;

/// GET / with `host` from 127.0.0.1:`port`; the whole answer ("" when nothing answers). The
/// receive timeout is a safety net for a hung test, not a timing assertion.
std::string httpGet(std::uint16_t port, const std::string& host) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return got;
}

class GatewaysTest : public test::IoThreadTest {
 protected:
  test::TempDir dir;
  crypto::Identity provId = crypto::Identity::generate().value();
  crypto::Identity devId = crypto::Identity::generate().value();
  test::FakeRuntime rt{io.get_executor()};  ///< declared before the provider: it outlives it
  test::FakeFirewall firewall;              ///< likewise
  std::shared_ptr<net::Host> dev;
  std::unique_ptr<gateway::GatewayNode> gws[2];
  std::unique_ptr<ProviderNode> prov;
  std::shared_ptr<net::tcp::acceptor> backend;
  net::Multiaddr provAddr;

  /// Gateway `i` as peergateway starts it: the provider on its allowlist, `domain`, URLs on
  /// port 8080 whatever port it binds (so gateways of one domain answer one URL), its tunnel on
  /// `tunnelListen` (port 0 unless it restarts where it was).
  std::unique_ptr<gateway::GatewayNode> startGateway(
      int i, const std::string& domain, const std::string& tunnelListen = "/ip4/127.0.0.1/tcp/0") {
    const auto gwDir = dir.path() / ("gw" + std::to_string(i));
    EXPECT_TRUE(fs::ensurePrivateDir(gwDir));
    const trust::TrustedPeer p{provId.peerId(), "prov", {}, trust::nowRfc3339()};
    EXPECT_TRUE(trust::TrustStore::modify(
        gwDir / gateway::kProvidersFile,
        [&](trust::TrustStore& s) { return s.isTrusted(p.id) ? Result<void>{} : s.add(p); }));
    gateway::GatewayConfig cfg;
    cfg.dataDir = gwDir;
    cfg.domain = domain;
    cfg.bind = "127.0.0.1";
    cfg.httpPort = 0;
    cfg.publicPort = 8080;
    cfg.tunnelListen = tunnelListen;
    cfg.headerTimeout = 2s;
    cfg.ratePerIp = 0;
    cfg.ratePerHost = 0;
    return gateway::GatewayNode::start(io.get_executor(), cfg, "test").value();
  }

  void startProvider() {
    const auto provDir = dir.path() / "prov";
    ASSERT_TRUE(fs::ensurePrivateDir(provDir));
    ASSERT_TRUE(provId.save(provDir / "identity.key"));
    const trust::TrustedPeer developer{devId.peerId(), "dev", {}, trust::nowRfc3339()};
    ASSERT_TRUE(trust::TrustStore::modify(provDir / trust::TrustStore::kFileName,
                                          [&](trust::TrustStore& s) { return s.add(developer); }));
    ProviderConfig cfg;
    cfg.dataDir = provDir;
    cfg.listen = {"/ip4/127.0.0.1/tcp/0"};
    cfg.allowedRegistries = {"127.0.0.1:5055"};
    // The first through the list, the second through the old single-gateway key.
    cfg.gateways = {gws[0]->tunnelAddrs().front().toString()};
    cfg.gateway = gws[1]->tunnelAddrs().front().toString();
    cfg.mdns = false;
    NodeDeps deps;
    deps.runtime = &rt;
    deps.firewall = &firewall;
    deps.tunnelMinBackoff = 50ms;
    deps.tunnelMaxBackoff = 400ms;
    auto node = ProviderNode::start(io.get_executor(), cfg, "test", deps);
    ASSERT_TRUE(node) << node.error().message();
    prov = std::move(*node);
    provAddr = prov->listenAddrs().front();
  }

  /// Two gateways (`domainB` for the second), the provider, the developer; both tunnels up.
  void start(const std::string& domainB) {
    backend = test::startHttpBackend(io.get_executor());
    rt.publishedPort = backend->local_endpoint().port();
    rt.images = {"127.0.0.1:5055/app:1"};
    gws[0] = startGateway(0, "a.test");
    gws[1] = startGateway(1, domainB);
    startProvider();
    dev = net::Host::create(io.get_executor(), devId);
    startIoThread();
    ASSERT_TRUE(waitFor([this] { return onIo([this] { return prov->tunnelsConnected() == 2; }); }));
  }

  void TearDown() override {
    startIoThread();  // when start() failed before starting it
    if (prov) {
      await([this]() -> asio::awaitable<int> {
        co_await prov->shutdown();
        co_return 0;
      }());
    }
    onIo([this] {
      for (auto& g : gws) {
        if (g) g->close();
      }
      boost::system::error_code ec;
      if (backend) backend->close(ec);
      if (dev) dev->close();
      return 0;
    });
    stopIoThread();
  }

  /// Sends `m` (signed by the developer) on `proto`; the last answer of type T.
  template <class T>
  T ask(protocol::Message m, std::string_view proto) {
    return test::lastOf<T>(await(test::askProvider(*dev, provAddr, devId, std::move(m), proto)));
  }
  protocol::DeployResponse deploy() {
    return ask<protocol::DeployResponse>(test::smallDeployRequest("127.0.0.1:5055/app:1"),
                                         protocol::kDeployProtocol);
  }
  protocol::DeploymentStatus status(const std::string& id) {
    protocol::StatusRequest req{protocol::newRequestHeader(protocol::unixMillisNow()), id};
    auto r = ask<protocol::StatusResponse>(req, protocol::kStatusProtocol);
    return r.deployments.empty() ? protocol::DeploymentStatus{} : r.deployments.front();
  }
  std::string stop(const std::string& id) {
    protocol::StopRequest req{protocol::newRequestHeader(protocol::unixMillisNow()), id, true};
    return std::string(
        protocol::toString(ask<protocol::StopResponse>(req, protocol::kStopProtocol).state));
  }

  bool routed(int gw, const std::string& dep) {
    return onIo([&] { return gws[gw] && gws[gw]->routeTable().find(dep) != nullptr; });
  }
  /// A public request for `dep` through gateway `gw` reaches the deployment.
  bool servedThrough(int gw, const std::string& dep, const std::string& domain) {
    const auto port = onIo([&] { return gws[gw]->config().httpPort; });
    const auto got = httpGet(port, dep + "." + domain);
    return got.rfind("HTTP/1.1 200", 0) == 0 && got.ends_with(test::kBackendBody);
  }
};

TEST_F(GatewaysTest, EveryRouteOnEveryGatewayAndOneUrlForOneDomain) {
  start("a.test");
  const auto r = deploy();
  ASSERT_EQ(r.state, protocol::DeploymentState::kRunning) << r.error.value_or("");
  const std::string dep = r.deploymentId;
  // Both gateways serve the domain: one URL, and no list (the answer an older peerctl reads).
  EXPECT_EQ(r.url, "http://" + dep + ".a.test:8080/");
  EXPECT_TRUE(r.urls.empty());
  ASSERT_TRUE(waitFor([&] { return routed(0, dep) && routed(1, dep); }));
  EXPECT_TRUE(servedThrough(0, dep, "a.test"));
  EXPECT_TRUE(servedThrough(1, dep, "a.test"));
  EXPECT_EQ(status(dep).url, r.url);
  EXPECT_TRUE(status(dep).urls.empty());

  // A relay reservation on each gateway: one relayed address per gateway.
  ASSERT_TRUE(waitFor([&] { return onIo([&] { return prov->relayedAddrs().size() == 2; }); }));
  const auto relayed = onIo([&] { return prov->relayedAddrs(); });
  for (int g = 0; g < 2; ++g) {
    const auto id = onIo([&] { return gws[g]->peerId().toBase58(); });
    EXPECT_EQ(std::count_if(relayed.begin(), relayed.end(),
                            [&](const net::Multiaddr& a) {
                              return a.toString().find("/p2p/" + id + "/p2p-circuit/") !=
                                     std::string::npos;
                            }),
              1)
        << id;
  }

  // Proxy streams come from the gateways only: a trusted developer opening one is refused
  // (it would reach the provider's loopback ports), and the deployment sees nothing of it.
  const auto proxied = await([this, dep]() -> asio::awaitable<std::string> {
    auto conn = co_await dev->connect(provAddr);
    const std::vector<std::string> protos{std::string(protocol::kProxyProtocol)};
    auto s = co_await dev->newStream(*conn, protos);
    if (!s) co_return "refused at negotiation";
    const auto header = tunnel::encodeProxyHeader({dep, "127.0.0.1:1"});
    (void)co_await (*s)->write(header);
    const std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    (void)co_await (*s)->write(
        BytesView(reinterpret_cast<const std::uint8_t*>(req.data()), req.size()));
    std::array<std::uint8_t, 256> buf{};
    auto n = co_await (*s)->readSome(buf);
    co_return n&&* n > 0 ? std::string(reinterpret_cast<const char*>(buf.data()), *n)
                         : std::string("refused");
  }());
  EXPECT_TRUE(proxied == "refused" || proxied == "refused at negotiation") << proxied;

  // Stopping withdraws the route from both.
  EXPECT_EQ(stop(dep), "stopped");
  EXPECT_TRUE(waitFor([&] { return !routed(0, dep) && !routed(1, dep); }));
}

TEST_F(GatewaysTest, GatewaysOfTwoDomainsGiveEveryUrl) {
  start("b.test");
  const auto r = deploy();
  ASSERT_EQ(r.state, protocol::DeploymentState::kRunning) << r.error.value_or("");
  const std::string dep = r.deploymentId;
  const std::string a = "http://" + dep + ".a.test:8080/", b = "http://" + dep + ".b.test:8080/";
  // `url` stays the first gateway's; `urls` lists both, in the configured order.
  EXPECT_EQ(r.url, a);
  EXPECT_EQ(r.urls, (std::vector<std::string>{a, b}));
  const auto st = status(dep);
  EXPECT_EQ(st.url, a);
  EXPECT_EQ(st.urls, (std::vector<std::string>{a, b}));
  EXPECT_TRUE(servedThrough(0, dep, "a.test"));
  EXPECT_TRUE(servedThrough(1, dep, "b.test"));
}

TEST_F(GatewaysTest, ADeadGatewayBlocksNoneAndGetsItsRoutesWhenItReturns) {
  start("a.test");
  const auto first = deploy();
  ASSERT_EQ(first.state, protocol::DeploymentState::kRunning);
  ASSERT_TRUE(
      waitFor([&] { return routed(0, first.deploymentId) && routed(1, first.deploymentId); }));
  const std::string tunnelB = onIo([&] { return gws[1]->tunnelAddrs().front().toString(); });

  // Gateway B goes away. Its tunnel port is then held by a stand-in that closes every
  // connection at once (a dead gateway), counting how often the provider dials it.
  await([this]() -> asio::awaitable<int> {
    co_await gws[1]->shutdown();
    co_return 0;
  }());
  const std::string listen = tunnelB.substr(0, tunnelB.find("/p2p/"));
  auto dials = std::make_shared<int>(0);
  auto deadB = onIo([&] {
    gws[1].reset();
    auto acc = std::make_shared<net::tcp::acceptor>(
        net::listenTcp(io.get_executor(), net::Multiaddr::parse(listen).value()).value());
    asio::co_spawn(
        io,
        [acc, dials]() -> asio::awaitable<void> {
          while (true) {
            auto [ec, sock] = co_await acc->async_accept(net::kNoThrow);
            if (ec) co_return;
            ++*dials;  // closed at once: the dial fails like one to a dead gateway
          }
        },
        asio::detached);
    return acc;
  });
  ASSERT_TRUE(waitFor([&] { return onIo([&] { return prov->tunnelsConnected() == 1; }); }));
  // A keeps serving, and a deploy now is answered and routed on A alone.
  EXPECT_TRUE(servedThrough(0, first.deploymentId, "a.test"));
  const auto second = deploy();
  ASSERT_EQ(second.state, protocol::DeploymentState::kRunning);
  EXPECT_EQ(second.url, "http://" + second.deploymentId + ".a.test:8080/");
  EXPECT_TRUE(routed(0, second.deploymentId));
  EXPECT_TRUE(servedThrough(0, second.deploymentId, "a.test"));

  // The provider keeps dialling the dead gateway (each tunnel reconnects on its own).
  ASSERT_TRUE(waitFor([&] { return onIo([&] { return *dials >= 3; }); }));
  EXPECT_EQ(onIo([&] { return prov->tunnelsConnected(); }), 1U);

  // B comes back where it was (same identity and tunnel address): the provider reconnects and
  // registers every running deployment there again.
  onIo([&] {
    boost::system::error_code ec;
    deadB->close(ec);
    gws[1] = startGateway(1, "a.test", listen);
    return 0;
  });
  ASSERT_TRUE(waitFor([&] { return onIo([&] { return prov->tunnelsConnected() == 2; }); }));
  EXPECT_TRUE(
      waitFor([&] { return routed(1, first.deploymentId) && routed(1, second.deploymentId); }));
  EXPECT_TRUE(servedThrough(1, first.deploymentId, "a.test"));
  EXPECT_TRUE(servedThrough(1, second.deploymentId, "a.test"));
  EXPECT_EQ(status(second.deploymentId).url, second.url);
}

}  // namespace
}  // namespace pc::provider
