// HttpFront on its own (no tunnel): the answers it gives without a route, and shutdown.
#include "gateway/http_proxy.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>

#include "crypto/identity.hpp"

namespace pc::gateway {
namespace {

namespace asio = net::asio;
using namespace std::chrono_literals;

class Front : public ::testing::Test {
 protected:
  Front() {
    host = net::Host::create(io.get_executor(), crypto::Identity::generate().value());
    options.domain = "example.net";
    front = std::make_shared<HttpFront>(host, routes, options);
    port = front->listen(net::Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value())
               .value()
               .tcpTarget()
               ->port;
  }
  ~Front() override { host->close(); }

  /// Connects a client to the front.
  asio::awaitable<net::tcp::socket> connect() {
    net::tcp::socket s(io);
    const net::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    co_await s.async_connect(ep, asio::use_awaitable);
    co_return s;
  }
  /// Waits (up to 2 s) until the front serves `n` connections.
  asio::awaitable<bool> connectionsReach(std::size_t n) {
    asio::steady_timer t(io);
    for (int i = 0; i < 400 && front->connections() != n; ++i) {
      t.expires_after(5ms);
      co_await t.async_wait(net::kNoThrow);
    }
    co_return front->connections() == n;
  }
  /// Everything the front sends until it closes.
  static asio::awaitable<std::string> readAll(net::tcp::socket& s) {
    std::string out;
    auto [ec, n] = co_await asio::async_read(s, asio::dynamic_buffer(out), net::kNoThrow);
    (void)ec;
    (void)n;
    co_return out;
  }

  asio::io_context io;
  std::shared_ptr<net::Host> host;
  tunnel::RouteTable routes;
  FrontOptions options;
  std::shared_ptr<HttpFront> front;
  std::uint16_t port = 0;
};

TEST_F(Front, AnswersAnUnknownHostWith404AndCloses) {
  std::string reply;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto s = co_await connect();
        const std::string req = "GET / HTTP/1.1\r\nHost: other.example.org\r\n\r\n";
        co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
        reply = co_await readAll(s);
        io.stop();  // the accept loop is left suspended: the io_context ends it
      },
      asio::detached);
  io.run_for(5s);
  EXPECT_EQ(reply.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0U) << reply;
  EXPECT_NE(reply.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(reply.find("Unknown host other.example.org"), std::string::npos);
}

TEST_F(Front, ShutdownEndsIdleConnectionsAndStopsAccepting) {
  bool served = false;
  bool shutDown = false;
  bool refused = false;
  std::string afterShutdown = "unset";
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto s = co_await connect();  // idle: never sends a request
        served = co_await connectionsReach(1);
        co_await front->shutdown(50ms);
        shutDown = true;
        afterShutdown = co_await readAll(s);  // the front closed it without a word
        net::tcp::socket again(io);
        const net::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
        auto [ec] = co_await again.async_connect(ep, net::kNoThrow);
        refused = static_cast<bool>(ec);
      },
      asio::detached);
  io.run_for(5s);
  EXPECT_TRUE(served);
  EXPECT_TRUE(shutDown);
  EXPECT_EQ(afterShutdown, "");
  EXPECT_TRUE(refused);
  EXPECT_EQ(front->connections(), 0U);
}

}  // namespace
}  // namespace pc::gateway
