#include "admin/server.hpp"

#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "admin/assets.hpp"
#include "admin/listen.hpp"
#include "admin/site.hpp"
#include "support/run.hpp"

namespace pc::admin {
namespace {

namespace asio = net::asio;
using net::kNoThrow;
using net::tcp;

const std::string kToken = "0123456789abcdef0123456789abcdef";

/// Sends `request` from `from` (any local address when unspecified) and reads the whole answer.
asio::awaitable<std::string> exchange(tcp::endpoint to, std::string request,
                                      asio::ip::address from = {}) {
  tcp::socket s(co_await asio::this_coro::executor);
  s.open(to.protocol());
  if (!from.is_unspecified()) {
    s.bind(tcp::endpoint(from, 0));
  }
  auto [ec] = co_await s.async_connect(to, kNoThrow);
  if (ec) {
    co_return "connect: " + ec.message();
  }
  co_await asio::async_write(s, asio::buffer(request), kNoThrow);
  std::string out;
  std::array<char, 4096> buf{};
  while (true) {
    auto [rec, n] = co_await s.async_read_some(asio::buffer(buf), kNoThrow);
    out.append(buf.data(), n);
    if (rec) {
      break;
    }
  }
  co_return out;
}

std::string get(std::string_view path, std::string_view extra = "Host: 127.0.0.1\r\n") {
  return "GET " + std::string(path) + " HTTP/1.1\r\n" + std::string(extra) +
         "Connection: close\r\n\r\n";
}

ServerOptions options(std::optional<AdminToken> token = std::nullopt) {
  ServerOptions o;
  o.name = "test";
  o.token = std::move(token);
  o.routes.emplace("/hello", [](const Request& r) {
    return Response{200, "text/plain", "hello " + r.query};
  });
  return o;
}

/// A non-loopback IPv4 address of this machine (eth0's, say), if it has one.
std::optional<asio::ip::address> ownNonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return std::nullopt;
  }
  std::optional<asio::ip::address> out;
  for (auto* i = list; i != nullptr && !out; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) {
      continue;
    }
    sockaddr_in sin{};
    std::memcpy(&sin, i->ifa_addr, sizeof(sin));
    const asio::ip::address_v4 a(ntohl(sin.sin_addr.s_addr));
    if (!a.is_loopback()) {
      out = a;
    }
  }
  ::freeifaddrs(list);
  return out;
}

class AdminServerTest : public ::testing::Test {
 protected:
  std::shared_ptr<AdminServer> start(std::string_view listen, ServerOptions o) {
    return AdminServer::start(io.get_executor(), parseListen(listen).value(), std::move(o)).value();
  }
  /// The server on every address with the token, and where a client from this machine's own
  /// non-loopback address reaches it (nullopt, nothing started: the machine has none).
  std::optional<tcp::endpoint> startForRemoteClients() {
    const auto own = ownNonLoopbackAddress();
    if (!own) return std::nullopt;
    server = start("0.0.0.0:0", options(AdminToken::fromText(kToken).value()));
    return tcp::endpoint(*own, server->endpoint().port());
  }
  void TearDown() override {
    if (server) {
      test::run(io, [this]() -> asio::awaitable<bool> {
        co_await server->shutdown(std::chrono::milliseconds(100));
        co_return true;
      }());
    }
  }
  asio::io_context io{1};
  std::shared_ptr<AdminServer> server;
};

TEST_F(AdminServerTest, ServesRoutesWithSafeHeaders) {
  server = start("127.0.0.1:0", options());
  const auto r = test::run(io, exchange(server->endpoint(), get("/hello?x=1")));
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << r;
  EXPECT_NE(r.find("Cache-Control: no-store"), std::string::npos);
  EXPECT_NE(r.find("X-Frame-Options: DENY"), std::string::npos);
  EXPECT_NE(r.find("Content-Security-Policy: default-src 'none'"), std::string::npos);
  EXPECT_NE(r.find("\r\n\r\nhello x=1"), std::string::npos);
  const auto missing = test::run(io, exchange(server->endpoint(), get("/nope")));
  EXPECT_EQ(missing.rfind("HTTP/1.1 404", 0), 0U) << missing;
  const auto post = test::run(io, exchange(server->endpoint(),
                                           "POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Content-Length: 0\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(post.rfind("HTTP/1.1 405", 0), 0U) << post;
  const auto body = test::run(io, exchange(server->endpoint(),
                                           "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Content-Length: 3\r\n\r\nabc"));
  EXPECT_EQ(body.rfind("HTTP/1.1 400", 0), 0U) << body;  // no request bodies
  const auto big = test::run(
      io, exchange(server->endpoint(), get("/hello", "X-Big: " + std::string(9000, 'a') + "\r\n")));
  EXPECT_EQ(big.rfind("HTTP/1.1 431", 0), 0U) << big.substr(0, 100);
}

TEST_F(AdminServerTest, RefusesRebindingHost) {
  server = start("127.0.0.1:0", options());
  const auto r =
      test::run(io, exchange(server->endpoint(), get("/hello", "Host: evil.example\r\n")));
  EXPECT_EQ(r.rfind("HTTP/1.1 403", 0), 0U) << r;
  EXPECT_NE(r.find("DNS rebinding"), std::string::npos);
  EXPECT_EQ(server->refused(), 1U);
}

TEST_F(AdminServerTest, RefusesNonLoopbackClientWithoutToken) {
  const auto serverAt = startForRemoteClients();
  if (!serverAt) {
    GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  }
  const tcp::endpoint to = *serverAt;
  const auto own = to.address();
  const std::string host = "Host: " + own.to_string() + "\r\n";
  const auto refused = test::run(io, exchange(to, get("/hello", host), own));
  EXPECT_EQ(refused.rfind("HTTP/1.1 403", 0), 0U) << refused;
  EXPECT_NE(refused.find("Bearer"), std::string::npos);
  const auto wrong = test::run(
      io, exchange(to, get("/hello", host + "Authorization: Bearer " + kToken + "0\r\n"), own));
  EXPECT_EQ(wrong.rfind("HTTP/1.1 403", 0), 0U) << wrong;
  const auto allowed = test::run(
      io, exchange(to, get("/hello", host + "Authorization: Bearer " + kToken + "\r\n"), own));
  EXPECT_EQ(allowed.rfind("HTTP/1.1 200", 0), 0U) << allowed;
  EXPECT_EQ(server->refused(), 2U);
}

TEST_F(AdminServerTest, ARemoteHostCannotTakeEveryConnection) {
  const auto serverAt = startForRemoteClients();
  if (!serverAt) {
    GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  }
  const tcp::endpoint remote = *serverAt;
  const auto own = remote.address();
  const auto outcome = test::run(io, [&]() -> asio::awaitable<std::string> {
    const auto ex = co_await asio::this_coro::executor;
    // Idle connections from one non-loopback address, up to its bound, held open.
    std::vector<std::unique_ptr<tcp::socket>> held;
    for (std::size_t i = 0; i < kMaxRemoteConnectionsPerAddress + 1; ++i) {
      held.push_back(std::make_unique<tcp::socket>(ex, tcp::v4()));
      held.back()->bind(tcp::endpoint(own, 0));
      co_await held.back()->async_connect(remote, kNoThrow);
    }
    // The one over the bound is closed at once; the loopback operator is still served.
    std::array<char, 1> b{};
    auto [ec, n] = co_await held.back()->async_read_some(asio::buffer(b), kNoThrow);
    const auto local = co_await exchange(server->endpoint(), get("/hello"));
    co_return std::string(ec ? "closed" : "open") + " " + local.substr(0, 12);
  }());
  EXPECT_EQ(outcome, "closed HTTP/1.1 200");
}

TEST_F(AdminServerTest, SiteServesPagesAndMetrics) {
  AdminSettings settings;
  settings.listen = "127.0.0.1:0";
  SiteOptions site;
  site.daemon = "peergateway";
  site.metrics = [] { return std::string("pc_up 1\n"); };
  site.summary = [] { return std::string(R"({"ok":true})"); };
  server = startSite(io.get_executor(), settings, std::move(site)).value();
  const auto page = test::run(io, exchange(server->endpoint(), get("/")));
  EXPECT_NE(page.find("Content-Type: text/html"), std::string::npos);
  EXPECT_NE(page.find("/assets/peergateway.js"), std::string::npos);
  const auto js = test::run(io, exchange(server->endpoint(), get("/assets/dashboard.js")));
  EXPECT_NE(js.find("Content-Type: text/javascript"), std::string::npos);
  const auto metrics = test::run(io, exchange(server->endpoint(), get("/metrics")));
  EXPECT_NE(metrics.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(metrics.find("pc_up 1"), std::string::npos);
  const auto summary = test::run(io, exchange(server->endpoint(), get("/api/summary")));
  EXPECT_NE(summary.find("application/json"), std::string::npos);
  // Every embedded page names only the listener's own files (nothing from elsewhere).
  for (auto name : assetNames()) {
    std::string body(findAsset(name)->body);
    const std::string svgNamespace = "http://www.w3.org/2000/svg";  // a name, never fetched
    for (auto at = body.find(svgNamespace); at != std::string::npos; at = body.find(svgNamespace)) {
      body.erase(at, svgNamespace.size());
    }
    EXPECT_EQ(body.find("http://"), std::string::npos) << name;
    EXPECT_EQ(body.find("https://"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace pc::admin
