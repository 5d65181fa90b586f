// Gateway + reverse tunnel over real loopback sockets: a provider (ProviderNode::start, as
// peercomputed starts it, on the in-memory runtime) dials an in-process gateway
// (GatewayNode::start); the "container" is a small HTTP server in this test. Public clients are
// curl and raw sockets, from the test thread, while the io_context runs on its own thread.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <future>
#include <thread>

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
#include "support/temp_dir.hpp"
#include "trust/trust_store.hpp"
#include "tunnel/route_table.hpp"

namespace pc::gateway {
namespace {

using namespace std::chrono_literals;
namespace asio = net::asio;

std::string hexDigest(const unsigned char* d, unsigned n) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    s += k[d[i] >> 4];
    s += k[d[i] & 15];
  }
  return s;
}

/// The byte at offset i of GET /bytes/N (deterministic, so the client can hash it too).
std::uint8_t patternByte(std::uint64_t i) {
  return static_cast<std::uint8_t>((i * 131 + 7) & 0xff);
}

// ---- the "container": a tiny HTTP/1.1 server on loopback -----------------------------------
// GET /bytes/N → N pattern bytes (Content-Length); POST /sha256 → hex SHA-256 of the body
// (Content-Length or chunked); GET /headers → the request header as received; GET /chunked →
// a chunked response; GET /ws with Upgrade → 101 then echo.
asio::awaitable<void> backendConn(std::shared_ptr<net::TcpStream> s) {
  Bytes in;
  auto readMore = [&]() -> asio::awaitable<bool> {
    std::array<std::uint8_t, 65536> buf{};
    auto n = co_await s->readSome(buf);
    if (!n || *n == 0) co_return false;
    in.insert(in.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    co_return true;
  };
  auto send = [&](const std::string& t) -> asio::awaitable<bool> {
    co_return static_cast<bool>(
        co_await s->write(BytesView(reinterpret_cast<const std::uint8_t*>(t.data()), t.size())));
  };
  while (true) {
    std::size_t end;
    while ((end = std::string_view(reinterpret_cast<const char*>(in.data()), in.size())
                      .find("\r\n\r\n")) == std::string_view::npos) {
      if (!co_await readMore()) co_return;
    }
    const std::string head(reinterpret_cast<const char*>(in.data()), end + 4);
    in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(end + 4));
    std::string lowerHead = head;
    for (auto& c : lowerHead) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string line = head.substr(0, head.find("\r\n"));
    const std::string method = line.substr(0, line.find(' '));
    const std::string path = line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1);
    if (path.starts_with("/bytes/")) {
      const std::uint64_t n = std::stoull(path.substr(7));
      {
        const std::string reply =
            "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(n) + "\r\n\r\n";
        if (!co_await send(reply)) co_return;
      }
      Bytes chunk(64 * 1024);
      for (std::uint64_t off = 0; off < n;) {
        const std::size_t k =
            static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), n - off));
        for (std::size_t i = 0; i < k; ++i) chunk[i] = patternByte(off + i);
        if (!co_await s->write(BytesView(chunk.data(), k))) co_return;
        off += k;
      }
    } else if (path == "/sha256") {
      EVP_MD_CTX* ctx = EVP_MD_CTX_new();
      EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
      if (lowerHead.find("transfer-encoding: chunked") != std::string::npos) {
        while (true) {
          std::size_t eol;
          while ((eol = std::string_view(reinterpret_cast<const char*>(in.data()), in.size())
                            .find("\r\n")) == std::string_view::npos) {
            if (!co_await readMore()) co_return;
          }
          const std::size_t size = std::stoul(
              std::string(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(eol)), nullptr, 16);
          in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(eol + 2));
          while (in.size() < size + 2) {
            if (!co_await readMore()) co_return;
          }
          EVP_DigestUpdate(ctx, in.data(), size);
          in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(size + 2));
          if (size == 0) break;
        }
      } else {
        const auto cl = lowerHead.find("content-length: ");
        std::uint64_t left = cl == std::string::npos ? 0 : std::stoull(lowerHead.substr(cl + 16));
        while (left > 0) {
          if (in.empty() && !co_await readMore()) co_return;
          const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(left, in.size()));
          EVP_DigestUpdate(ctx, in.data(), k);
          in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(k));
          left -= k;
        }
      }
      unsigned char md[32];
      unsigned mdLen = 0;
      EVP_DigestFinal_ex(ctx, md, &mdLen);
      EVP_MD_CTX_free(ctx);
      const std::string body = hexDigest(md, mdLen);
      {
        const std::string reply =
            "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        if (!co_await send(reply)) co_return;
      }
    } else if (path == "/headers") {
      {
        const std::string reply =
            "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(head.size()) + "\r\n\r\n" + head;
        if (!co_await send(reply)) co_return;
      }
    } else if (path == "/chunked") {
      {
        const std::string reply =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\n";
        if (!co_await send(reply)) co_return;
      }
    } else if (path == "/ws" && lowerHead.find("upgrade: websocket") != std::string::npos) {
      {
        const std::string reply =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\n\r\n";
        if (!co_await send(reply)) co_return;
      }
      while (true) {  // raw echo after the handshake
        if (!in.empty()) {
          if (!co_await s->write(in)) co_return;
          in.clear();
        }
        if (!co_await readMore()) co_return;
      }
    } else {
      {
        const std::string reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        if (!co_await send(reply)) co_return;
      }
    }
  }
}

asio::awaitable<void> backendAccept(std::shared_ptr<net::tcp::acceptor> acc) {
  while (true) {
    auto [ec, sock] = co_await acc->async_accept(net::kNoThrow);
    if (ec) co_return;
    asio::co_spawn(acc->get_executor(),
                   backendConn(std::make_shared<net::TcpStream>(std::move(sock))), asio::detached);
  }
}

std::string sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  while (p != nullptr && std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (p != nullptr) ::pclose(p);
  return out;
}

class GatewayTest : public ::testing::Test {
 protected:
  asio::io_context io{1};
  std::thread ioThread;
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

  /// Runs `f` on the io thread and waits for its result.
  template <class F>
  auto onIo(F f) {
    std::promise<decltype(f())> p;
    asio::post(io, [&] { p.set_value(f()); });
    return p.get_future().get();
  }
  template <class T>
  T await(asio::awaitable<T> a) {
    std::promise<T> p;
    asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
      if (e) std::abort();
      p.set_value(std::move(v));
    });
    return p.get_future().get();
  }

  void SetUp() override {
    backend = std::make_shared<net::tcp::acceptor>(
        net::listenTcp(io.get_executor(), net::Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value())
            .value());
    rt.publishedPort = backend->local_endpoint().port();
    rt.images = {"127.0.0.1:5055/app:1"};
    asio::co_spawn(io, backendAccept(backend), asio::detached);

    startGateway();

    startProvider();
    dev = net::Host::create(io.get_executor(), devId);
    ioThread = std::thread([this] { io.run(); });
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
    if (!ioThread.joinable()) {  // SetUp failed before starting it
      ioThread = std::thread([this] { io.run(); });
    }
    if (provNode) {
      await([this]() -> asio::awaitable<int> {
        co_await provNode->shutdown();
        co_return 0;
      }());
    }
    onIo([this] {
      if (gwNode) {
        gwNode->close();
      }
      boost::system::error_code ec;
      backend->close(ec);
      if (dev) {
        dev->close();
      }
      return 0;
    });
    std::this_thread::sleep_for(50ms);
    io.stop();
    ioThread.join();
  }

  static bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  /// Deploys with an exposed port as the developer; returns the DeployResponse.
  protocol::DeployResponse deploy() {
    return await([this]() -> asio::awaitable<protocol::DeployResponse> {
      protocol::DeployRequest req;
      req.header = protocol::newRequestHeader(protocol::unixMillisNow());
      req.image = "127.0.0.1:5055/app:1";
      req.cpuMillicores = 100;
      req.memoryBytes = 32 << 20;
      req.exposePort = 80;
      req.timeoutSeconds = 30;
      protocol::Message m = req;
      (void)protocol::sign(m, devId);
      auto conn = co_await dev->connect(provAddr);
      const std::vector<std::string> protos{std::string(protocol::kDeployProtocol)};
      auto s = co_await dev->newStream(*conn, protos);
      (void)co_await rpc::writeMessage(**s, m);
      rpc::MessageReader reader(**s);
      protocol::DeployResponse out;
      while (true) {
        auto msg = co_await reader.next();
        if (!msg || !*msg) break;
        if (auto* r = std::get_if<protocol::DeployResponse>(&**msg)) out = *r;
      }
      co_return out;
    }());
  }

  std::string stop(const std::string& id) {
    return await([this, id]() -> asio::awaitable<std::string> {
      protocol::Message m =
          protocol::StopRequest{protocol::newRequestHeader(protocol::unixMillisNow()), id, true};
      (void)protocol::sign(m, devId);
      auto conn = co_await dev->connect(provAddr);
      const std::vector<std::string> protos{std::string(protocol::kStopProtocol)};
      auto s = co_await dev->newStream(*conn, protos);
      (void)co_await rpc::writeMessage(**s, m);
      rpc::MessageReader reader(**s);
      auto msg = co_await reader.next();
      co_return msg&&* msg ? std::string(protocol::messageTypeName(protocol::typeOf(**msg)))
                           : std::string("none");
    }());
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

  int rawConnect() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(httpPort);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
    timeval tv{5, 0};
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
  const int fd = rawConnect();
  ASSERT_GE(fd, 0);
  const std::string partial = "GET / HTTP/1.1\r\nHost: x";
  ASSERT_GT(::write(fd, partial.data(), partial.size()), 0);
  char buf[64];
  const auto t0 = std::chrono::steady_clock::now();
  const auto n = ::read(fd, buf, sizeof buf);  // the gateway closes (header timeout 1 s here)
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_LE(n, 0);
  EXPECT_LT(waited, 5s);
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
