// Gateway + reverse tunnel over real loopback sockets: a provider (ProviderNode::start, as
// peercomputed starts it, on the in-memory runtime) dials an in-process gateway
// (GatewayNode::start); the "container" is the test HTTP backend (support/http_backend.hpp).
// Public clients are curl and raw sockets, from the test thread, while the io_context runs on
// its own thread.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/fs.hpp"
#include "gateway/http_proxy.hpp"
#include "gateway/node.hpp"
#include "gateway/tls.hpp"
#include "net/tcp.hpp"
#include "protocol/signing.hpp"
#include "protocol/stream_protocols.hpp"
#include "provider/config.hpp"
#include "provider/node.hpp"
#include "rpc/message_stream.hpp"
#include "support/fake_firewall.hpp"
#include "support/fake_runtime.hpp"
#include "support/http_backend.hpp"
#include "support/io_thread_test.hpp"
#include "support/provider_client.hpp"
#include "support/temp_dir.hpp"
#include "trust/trust_store.hpp"
#include "tunnel/route_table.hpp"

namespace pc::gateway {
namespace {

using namespace std::chrono_literals;
namespace asio = net::asio;
using test::patternByte;

std::string sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  while (p != nullptr && std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (p != nullptr) ::pclose(p);
  return out;
}

class GatewayTest : public test::IoThreadTest {
 protected:
  test::TempDir dir;
  crypto::Identity provId = crypto::Identity::generate().value();
  crypto::Identity devId = crypto::Identity::generate().value();
  crypto::Identity otherProvId = crypto::Identity::generate().value();
  test::FakeRuntime rt{io.get_executor()};  ///< declared before the provider: it outlives it
  test::FakeFirewall firewall;              ///< likewise
  std::shared_ptr<net::Host> gw, dev;
  std::unique_ptr<GatewayNode> gwNode;               ///< the gateway, wired as peergateway wires it
  std::unique_ptr<provider::ProviderNode> provNode;  ///< the provider, wired as peercomputed
  tunnel::RouteTable* routesPtr = nullptr;
  std::shared_ptr<net::tcp::acceptor> backend;
  net::Multiaddr provAddr, gwAddr;
  std::uint16_t httpPort = 0;

  void SetUp() override {
    backend = test::startHttpBackend(io.get_executor());
    rt.publishedPort = backend->local_endpoint().port();
    rt.images = {"127.0.0.1:5055/app:1"};
    startGateway();
    startProvider();
    dev = net::Host::create(io.get_executor(), devId);
    startIoThread();
    waitFor([this] { return onIo([this] { return provNode->tunnelConnected(); }); });
  }

  /// The provider as peercomputed starts it, on the in-memory runtime: the developer on its
  /// trust list, the gateway above as its gateway, a short tunnel backoff (the reconnect test).
  void startProvider() {
    const auto provDir = dir.path() / "prov";
    ASSERT_TRUE(fs::ensurePrivateDir(provDir));
    ASSERT_TRUE(provId.save(provDir / "identity.key"));
    const trust::TrustedPeer developer{devId.peerId(), "dev", {}, trust::nowRfc3339()};
    ASSERT_TRUE(trust::TrustStore::modify(provDir / trust::TrustStore::kFileName,
                                          [&](trust::TrustStore& s) { return s.add(developer); }));
    provider::ProviderConfig cfg;
    cfg.dataDir = provDir;
    cfg.listen = {"/ip4/127.0.0.1/tcp/0"};
    cfg.allowedRegistries = {"127.0.0.1:5055"};
    cfg.gateway = gwAddr.toString();
    cfg.mdns = false;
    provider::NodeDeps deps;
    deps.runtime = &rt;
    deps.firewall = &firewall;
    deps.tunnelMinBackoff = 50ms;
    deps.tunnelMaxBackoff = 400ms;
    auto node = provider::ProviderNode::start(io.get_executor(), cfg, "test", deps);
    ASSERT_TRUE(node) << node.error().message();
    provNode = std::move(*node);
    provAddr = provNode->listenAddrs().front();
  }

  /// The gateway as peergateway starts it: both providers on its allowlist, loopback ports.
  void startGateway() {
    const auto gwDir = dir.path() / "gw";
    ASSERT_TRUE(fs::ensurePrivateDir(gwDir));
    for (const auto* id : {&provId, &otherProvId}) {
      const trust::TrustedPeer p{
          id->peerId(), "p-" + id->peerId().toBase58().substr(46), {}, trust::nowRfc3339()};
      ASSERT_TRUE(trust::TrustStore::modify(gwDir / kProvidersFile,
                                            [&](trust::TrustStore& s) { return s.add(p); }));
    }
    GatewayConfig cfg;
    cfg.dataDir = gwDir;
    cfg.bind = "127.0.0.1";
    cfg.httpPort = 0;
    cfg.tunnelListen = "/ip4/127.0.0.1/tcp/0";
    cfg.headerTimeout = 1s;
    cfg.ratePerIp = 0;
    cfg.ratePerHost = 0;
    gwNode = GatewayNode::start(io.get_executor(), cfg, "test").value();
    gw = gwNode->host();
    routesPtr = &gwNode->routeTable();
    gwAddr = gwNode->tunnelAddrs().front();
    httpPort = gwNode->config().httpPort;
  }
  tunnel::RouteTable& routes() { return *routesPtr; }

  void TearDown() override {
    startIoThread();  // when SetUp failed before starting it
    if (provNode) {
      await([this]() -> asio::awaitable<int> {
        co_await provNode->shutdown();
        co_return 0;
      }());
    }
    onIo([this] {
      if (gwNode) gwNode->close();
      boost::system::error_code ec;
      backend->close(ec);
      if (dev) dev->close();
      return 0;
    });
    stopIoThread();
  }

  /// Deploys with an exposed port as the developer; returns the DeployResponse.
  protocol::DeployResponse deploy() {
    const auto msgs = await(test::askProvider(*dev, provAddr, devId,
                                              test::smallDeployRequest("127.0.0.1:5055/app:1"),
                                              protocol::kDeployProtocol));
    return test::lastOf<protocol::DeployResponse>(msgs);
  }

  /// Stops `id`; the type name of the provider's first answer ("none" without one).
  std::string stop(const std::string& id) {
    protocol::Message m =
        protocol::StopRequest{protocol::newRequestHeader(protocol::unixMillisNow()), id, true};
    const auto msgs = await(test::askProvider(*dev, provAddr, devId, m, protocol::kStopProtocol));
    return msgs.empty() ? std::string("none")
                        : std::string(protocol::messageTypeName(protocol::typeOf(msgs.front())));
  }

  std::string curl(const std::string& args) {
    return sh("curl -s --max-time 20 " + args + " 2>&1");
  }
  std::string base(const std::string& dep) {
    return "http://" + dep + ".localhost:" + std::to_string(httpPort);
  }
  /// --resolve keeps curl from asking a resolver about *.localhost.
  std::string resolve(const std::string& dep) {
    return "--resolve " + dep + ".localhost:" + std::to_string(httpPort) + ":127.0.0.1 ";
  }

  /// A raw client socket to the gateway's HTTP port; reads give up after `recvTimeout` (a
  /// safety net for a hung test).
  int rawConnect(std::chrono::seconds recvTimeout = 5s) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(httpPort);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
    timeval tv{static_cast<time_t>(recvTimeout.count()), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }
};

TEST_F(GatewayTest, DeployGetsAPublicUrlAndServesThroughTheTunnel) {
  const auto r = deploy();
  ASSERT_EQ(r.state, protocol::DeploymentState::kRunning) << r.error.value_or("");
  ASSERT_TRUE(r.url);
  EXPECT_EQ(*r.url, base(r.deploymentId) + "/");
  const std::string dep = r.deploymentId;
  EXPECT_EQ(curl(resolve(dep) + base(dep) + "/bytes/5"), std::string("\x07\x8a\x0d\x90\x13", 5));
  // The provider tells the gateway whose deployment it is (each developer's certificate share).
  ASSERT_NE(routesPtr->find(dep), nullptr);
  EXPECT_EQ(routesPtr->find(dep)->requester, devId.peerId().toBase58());

  // Forwarding headers are set by the gateway; a client's own X-Forwarded-For is replaced.
  const auto headers =
      curl(resolve(dep) + "-H 'X-Forwarded-For: 6.6.6.6' " + base(dep) + "/headers");
  EXPECT_NE(headers.find("X-Forwarded-For: 127.0.0.1\r\n"), std::string::npos) << headers;
  EXPECT_EQ(headers.find("6.6.6.6"), std::string::npos) << headers;
  EXPECT_NE(headers.find("X-Forwarded-Proto: http\r\n"), std::string::npos);
  EXPECT_NE(headers.find("X-Forwarded-Host: " + dep + ".localhost:"), std::string::npos);

  // Chunked responses are re-chunked (extensions dropped), and keep-alive carries on.
  EXPECT_EQ(curl(resolve(dep) + base(dep) + "/chunked " + base(dep) + "/chunked"),
            "hello worldhello world");
}

TEST_F(GatewayTest, LargeBodiesStreamBothWays) {
  const auto r = deploy();
  ASSERT_EQ(r.state, protocol::DeploymentState::kRunning);
  const std::string dep = r.deploymentId;
  // 100 MiB down, hashed by curl's receiver; and the same bytes up, hashed by the backend.
  const std::string file = (dir.path() / "up.bin").string();
  {
    FILE* f = std::fopen(file.c_str(), "wb");
    Bytes chunk(1 << 20);
    for (std::uint64_t off = 0; off < (100ULL << 20); off += chunk.size()) {
      for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = patternByte(off + i);
      std::fwrite(chunk.data(), 1, chunk.size(), f);
    }
    std::fclose(f);
  }
  const std::string expected = sh("sha256sum " + file + " | cut -c1-64");
  const std::string down = sh("curl -s --max-time 60 " + resolve(dep) + base(dep) +
                              "/bytes/104857600 | sha256sum | cut -c1-64");
  EXPECT_EQ(down, expected);
  const std::string up =
      curl(resolve(dep) + "--data-binary @" + file + " " + base(dep) + "/sha256");
  EXPECT_EQ(up + "\n", expected);
  // Chunked upload (no length known up front).
  const std::string upChunked =
      curl(resolve(dep) + "-H 'Transfer-Encoding: chunked' --data-binary @" + file + " " +
           base(dep) + "/sha256");
  EXPECT_EQ(upChunked + "\n", expected);
}

TEST_F(GatewayTest, WebSocketUpgradePassesThrough) {
  const auto r = deploy();
  ASSERT_EQ(r.state, protocol::DeploymentState::kRunning);
  const int fd = rawConnect();
  ASSERT_GE(fd, 0);
  const std::string req =
      "GET /ws HTTP/1.1\r\nHost: " + r.deploymentId +
      ".localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n") == std::string::npos) {
    const auto n = ::read(fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(got.rfind("HTTP/1.1 101", 0), 0U) << got;
  got.erase(0, got.find("\r\n\r\n") + 4);
  const std::string payload("\x81\x05hello-any-bytes-\x00\xff", 20);
  ASSERT_EQ(::write(fd, payload.data(), payload.size()), static_cast<ssize_t>(payload.size()));
  while (got.size() < payload.size()) {
    const auto n = ::read(fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(got, payload);
  ::close(fd);
}

TEST_F(GatewayTest, ErrorsAndStopping) {
  // Unknown host → 404, at once.
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' " + resolve("dep-aaaaaaaaaaaaaaaa") +
                 base("dep-aaaaaaaaaaaaaaaa") + "/"),
            "404");
  EXPECT_EQ(
      curl("-o /dev/null -w '%{http_code}' http://127.0.0.1:" + std::to_string(httpPort) + "/"),
      "404");
  const auto r = deploy();
  ASSERT_EQ(r.state, protocol::DeploymentState::kRunning);
  const std::string dep = r.deploymentId;
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' " + resolve(dep) + base(dep) + "/headers"), "200");
  // Stopping the deployment removes its route: 404 right after the stop answers.
  EXPECT_EQ(stop(dep), "stop_response");
  EXPECT_TRUE(waitFor([&] { return onIo([&] { return routes().find(dep) == nullptr; }); }, 2s));
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' " + resolve(dep) + base(dep) + "/headers"), "404");
}

TEST_F(GatewayTest, SmugglingAndOversizedHeadersAreRefused) {
  const auto r = deploy();
  ASSERT_EQ(r.state, protocol::DeploymentState::kRunning);
  auto rawStatus = [&](const std::string& req) {
    const int fd = rawConnect();
    (void)::write(fd, req.data(), req.size());
    char buf[512];
    const auto n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    return n > 12 ? std::string(buf + 9, 3) : std::string("none");
  };
  const std::string host = "Host: " + r.deploymentId + ".localhost\r\n";
  EXPECT_EQ(rawStatus("POST /sha256 HTTP/1.1\r\n" + host +
                      "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            "400");
  EXPECT_EQ(rawStatus("POST /sha256 HTTP/1.1\r\n" + host +
                      "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello"),
            "400");
  EXPECT_EQ(rawStatus("POST /sha256 HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n"),
            "501");
  // A malformed chunk size is the client's fault: 400, not a 502 blaming the deployment.
  EXPECT_EQ(rawStatus("POST /sha256 HTTP/1.1\r\n" + host +
                      "Transfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n"),
            "400");
  EXPECT_EQ(
      rawStatus("GET / HTTP/1.1\r\n" + host + "X-Big: " + std::string(20000, 'a') + "\r\n\r\n"),
      "431");
}

TEST_F(GatewayTest, HttpsWithAStaticCertificate) {
  const auto r = deploy();
  ASSERT_EQ(r.state, protocol::DeploymentState::kRunning);
  const std::string d = dir.path().string();
  sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "
     "/CN=pc.test -addext 'subjectAltName=DNS:*.pc.test' -keyout " +
     d + "/key.pem -out " + d + "/cert.pem 2>&1");
  auto tls = TlsContext::fromFiles(d + "/cert.pem", d + "/key.pem");
  ASSERT_TRUE(tls) << tls.error().message();
  EXPECT_FALSE(TlsContext::fromFiles(d + "/cert.pem", d + "/missing.pem"));
  FrontOptions o;
  o.domain = "pc.test";
  o.redirectHttpsPort = 0;
  auto tlsFront = std::make_shared<HttpFront>(gw, routes(), o);
  const auto port = onIo([&] {
    return tlsFront->listenTls(net::Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value(), *tls)
        .value()
        .tcpTarget()
        ->port;
  });
  const std::string host = r.deploymentId + ".pc.test:" + std::to_string(port);
  // curl verifies the chain and the name against the certificate.
  const auto out = curl("--cacert " + d + "/cert.pem --resolve " + host + ":127.0.0.1 https://" +
                        host + "/headers");
  EXPECT_NE(out.find("X-Forwarded-Proto: https"), std::string::npos) << out;
  // Plain HTTP on the TLS port is refused by the handshake, not answered in clear.
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' http://127.0.0.1:" + std::to_string(port) + "/"),
            "000");
  // A plain-HTTP front with a redirect sends clients to https.
  FrontOptions ro;
  ro.domain = "pc.test";
  ro.redirectHttpsPort = port;
  auto redirect = std::make_shared<HttpFront>(gw, routes(), ro);
  const auto rport = onIo([&] {
    return redirect->listen(net::Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value())
        .value()
        .tcpTarget()
        ->port;
  });
  const auto loc =
      curl("-o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: " + r.deploymentId +
           ".pc.test' http://127.0.0.1:" + std::to_string(rport) + "/x?y=1");
  EXPECT_EQ(loc, "308 https://" + host + "/x?y=1");
  onIo([&] {
    tlsFront->close();
    redirect->close();
    return 0;
  });
}

TEST_F(GatewayTest, SlowlorisIsCutAtTheHeaderTimeout) {
  const int fd = rawConnect(60s);
  ASSERT_GE(fd, 0);
  const std::string partial = "GET / HTTP/1.1\r\nHost: x";
  ASSERT_GT(::write(fd, partial.data(), partial.size()), 0);
  char buf[64];
  // The gateway cuts the connection (header timeout 1 s here, an abortive close): a reset or an
  // end of stream, not an answer and not the client's own receive timeout (60 s, a safety net).
  const auto n = ::read(fd, buf, sizeof buf);
  const int err = errno;
  EXPECT_TRUE(n == 0 || (n < 0 && err == ECONNRESET)) << n << " " << std::strerror(err);
  ::close(fd);
}

TEST_F(GatewayTest, AProviderCannotClaimAnotherProvidersDeployment) {
  const auto r = deploy();
  ASSERT_EQ(r.state, protocol::DeploymentState::kRunning);
  // Another allowlisted provider registers the same id with a salt of its own choosing.
  auto answer = await([this, dep = r.deploymentId]() -> asio::awaitable<std::string> {
    auto other = net::Host::create(io.get_executor(), otherProvId);
    auto conn = co_await other->connect(gwAddr);
    if (!conn) co_return "connect failed";
    const std::vector<std::string> protos{std::string(protocol::kTunnelProtocol)};
    auto s = co_await other->newStream(*conn, protos);
    protocol::Message m =
        protocol::RegisterRoute{protocol::newRequestHeader(protocol::unixMillisNow()), dep,
                                protocol::newDeploymentSalt(), std::nullopt};
    (void)protocol::sign(m, otherProvId);
    (void)co_await rpc::writeMessage(**s, m);
    rpc::MessageReader reader(**s);
    auto msg = co_await reader.next();
    other->close();
    if (!msg || !*msg) co_return "no answer";
    if (auto* e = std::get_if<protocol::ErrorMessage>(&**msg)) co_return e->code;
    co_return "accepted";
  }());
  EXPECT_EQ(answer, "not_your_deployment");
  // The real route is untouched.
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' " + resolve(r.deploymentId) +
                 base(r.deploymentId) + "/headers"),
            "200");
}

TEST_F(GatewayTest, RoutesComeBackAfterTheGatewayRestarts) {
  const auto r = deploy();
  ASSERT_EQ(r.state, protocol::DeploymentState::kRunning);
  // Drop every tunnel connection (what a gateway restart looks like to the provider) and
  // forget the routes.
  onIo([this] {
    for (auto& c : gw->connections()) c->session->close();
    return 0;
  });
  EXPECT_TRUE(
      waitFor([&] { return onIo([&] { return routes().find(r.deploymentId) == nullptr; }); }, 2s));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(
      waitFor([&] { return onIo([&] { return routes().find(r.deploymentId) != nullptr; }); }, 5s));
  std::printf("route back after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - t0)
                                         .count()));
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' " + resolve(r.deploymentId) +
                 base(r.deploymentId) + "/headers"),
            "200");
}

TEST_F(GatewayTest, ManyConcurrentClients) {
  const auto r = deploy();
  ASSERT_EQ(r.state, protocol::DeploymentState::kRunning);
  // 500 clients connected at once, each with its request in flight before any is answered.
  constexpr int kClients = 500;
  std::vector<int> fds;
  const std::string req = "GET /bytes/1000 HTTP/1.1\r\nHost: " + r.deploymentId +
                          ".localhost\r\nConnection: close\r\n\r\n";
  for (int i = 0; i < kClients; ++i) {
    const int fd = rawConnect();
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
    fds.push_back(fd);
  }
  int ok = 0;
  for (int fd : fds) {
    std::string got;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    const auto body = got.find("\r\n\r\n");
    if (got.rfind("HTTP/1.1 200", 0) == 0 && body != std::string::npos &&
        got.size() - body - 4 == 1000) {
      ++ok;
    }
  }
  EXPECT_EQ(ok, kClients);
}

}  // namespace
}  // namespace pc::gateway
