// HttpFront against an in-process provider host that answers proxy streams itself (no
// scheduler, no tunnel service): the answers the front gives without a route, the per-tunnel
// stream bound (idle keep-alive eviction, then 503), and shutdown.
#include "gateway/http_proxy.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>

#include "crypto/identity.hpp"
#include "protocol/stream_protocols.hpp"
#include "tunnel/proxy_header.hpp"

namespace pc::gateway {
namespace {

namespace asio = net::asio;
using namespace std::chrono_literals;

class Front : public ::testing::Test {
 protected:
  Front() {
    host = net::Host::create(io.get_executor(), gwId);
    options.domain = "example.net";
    front = std::make_shared<HttpFront>(host, routes, options);
    port = front->listen(net::Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value())
               .value()
               .tcpTarget()
               ->port;
  }
  ~Front() override {
    host->close();
    if (provider) {
      provider->close();
    }
  }

  /// Connects a client to the front, from `source` (any 127.0.0.0/8 address).
  asio::awaitable<net::tcp::socket> connect(const char* source = "127.0.0.1") {
    net::tcp::socket s(io);
    s.open(net::tcp::v4());
    s.bind(net::tcp::endpoint(asio::ip::make_address(source), 0));
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
  /// Waits (up to 2 s) until `n` proxy streams are leased on the provider's tunnel.
  asio::awaitable<bool> streamsReach(std::size_t n) {
    asio::steady_timer t(io);
    const auto inUse = [this] { return routes.streamsInUse({tunnelConn.get(), "", ""}).tunnel; };
    for (int i = 0; i < 400 && inUse() != n; ++i) {
      t.expires_after(5ms);
      co_await t.async_wait(net::kNoThrow);
    }
    co_return inUse() == n;
  }
  /// Everything the front sends until it closes.
  static asio::awaitable<std::string> readAll(net::tcp::socket& s) {
    std::string out;
    auto [ec, n] = co_await asio::async_read(s, asio::dynamic_buffer(out), net::kNoThrow);
    (void)ec;
    (void)n;
    co_return out;
  }

  /// A provider whose proxy streams answer every request "ok" (keep-alive), except a request for
  /// /stall, which is never answered, and /big, answered with an endless body. Its routes are
  /// `kDep` and `kOther` on a tunnel the gateway dialed.
  asio::awaitable<void> startProvider() {
    provider = net::Host::create(io.get_executor(), provId);
    provider->setHandler(std::string(protocol::kProxyProtocol),
                         [](std::shared_ptr<net::yamux::Stream> s,
                            std::shared_ptr<net::Connection>) { return answerOk(std::move(s)); });
    const auto addr =
        provider->listen(net::Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value()).value();
    const auto dial = addr.withPeerId(provId.peerId());
    auto conn = co_await host->connect(dial);
    tunnelConn = conn.value();
    routes.put(kDep, tunnel::RouteEntry{provId.peerId(), tunnelConn, "http://x/", ""});
    routes.put(kOther, tunnel::RouteEntry{provId.peerId(), tunnelConn, "http://y/", ""});
  }
  static asio::awaitable<void> answerBig(net::yamux::Stream& s) {
    static constexpr std::string_view kHead =
        "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n";
    auto w = co_await s.write(
        BytesView(reinterpret_cast<const std::uint8_t*>(kHead.data()), kHead.size()));
    const std::vector<std::uint8_t> chunk(64 * 1024, 'z');
    while (w) {
      w = co_await s.write(chunk);
    }
  }
  static asio::awaitable<void> answerOk(std::shared_ptr<net::yamux::Stream> s) {
    std::string in;
    std::uint8_t buf[4096];
    while (true) {
      auto n = co_await s->readSome(buf);
      if (!n || *n == 0) {
        co_return;
      }
      in.append(reinterpret_cast<const char*>(buf), *n);
      for (auto end = in.find("\r\n\r\n"); end != std::string::npos; end = in.find("\r\n\r\n")) {
        const bool stall = in.find("GET /stall ") != std::string::npos;
        const bool big = in.find("GET /big ") != std::string::npos;
        in.erase(0, end + 4);
        if (big) {
          co_await answerBig(*s);
          co_return;
        }
        if (stall) {
          continue;
        }
        static constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        auto w = co_await s->write(
            BytesView(reinterpret_cast<const std::uint8_t*>(kOk.data()), kOk.size()));
        if (!w) {
          co_return;
        }
      }
    }
  }
  /// Sends a GET for `target` to the deployment and returns the status line's code (the whole
  /// answer for a 200 is read; others close the connection).
  asio::awaitable<std::string> get(net::tcp::socket& s, std::string_view target,
                                   const std::string& dep = kDep) {
    const std::string req =
        "GET " + std::string(target) + " HTTP/1.1\r\nHost: " + dep + ".example.net\r\n\r\n";
    co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
    std::string out;
    auto [ec, n] =
        co_await asio::async_read_until(s, asio::dynamic_buffer(out), "\r\n\r\n", net::kNoThrow);
    if (ec) {
      co_return "closed";
    }
    if (out.rfind("HTTP/1.1 200 OK\r\n", 0) == 0 && out.size() < n + 2) {
      auto [ec2, m] = co_await asio::async_read(
          s, asio::dynamic_buffer(out), asio::transfer_exactly(n + 2 - out.size()), net::kNoThrow);
      (void)ec2;
      (void)m;
    }
    co_return out.substr(9, 3) +
        (out.find("Retry-After: 1\r\n") != std::string::npos ? " retry" : "");
  }

  /// Sends a request for `target` that will hold its stream (not read here).
  asio::awaitable<void> send(net::tcp::socket& s, std::string_view target) {
    const std::string req =
        "GET " + std::string(target) + " HTTP/1.1\r\nHost: " + kDep + ".example.net\r\n\r\n";
    co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
  }
  /// Replaces the front with one using `o`.
  void restartFront(const FrontOptions& o) {
    front = std::make_shared<HttpFront>(host, routes, o);
    port = front->listen(net::Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value())
               .value()
               .tcpTarget()
               ->port;
  }

  inline static const std::string kDep = "dep-abcdefghijklmnop";
  inline static const std::string kOther = "dep-bbbbbbbbbbbbbbbb";
  crypto::Identity gwId = crypto::Identity::generate().value();
  crypto::Identity provId = crypto::Identity::generate().value();
  asio::io_context io;
  std::shared_ptr<net::Host> host;
  std::shared_ptr<net::Host> provider;
  std::shared_ptr<net::Connection> tunnelConn;
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

TEST_F(Front, AtTheStreamBoundAnIdleKeepAliveConnectionIsClosedThenRequestsGet503) {
  front = std::make_shared<HttpFront>(host, routes, [&] {
    auto o = options;
    o.maxStreamsPerTunnel = 1;
    return o;
  }());
  port = front->listen(net::Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value())
             .value()
             .tcpTarget()
             ->port;
  std::vector<std::string> got;
  std::string evicted;
  bool held = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await startProvider();
        auto a = co_await connect();
        got.push_back(co_await get(a, "/"));  // a now idles, holding the only stream
        auto b = co_await connect();
        got.push_back(co_await get(b, "/"));  // takes a's stream: a is closed
        evicted = co_await readAll(a);
        auto c = co_await connect();
        const std::string stall = "GET /stall HTTP/1.1\r\nHost: " + kDep + ".example.net\r\n\r\n";
        co_await asio::async_write(c, asio::buffer(stall), asio::use_awaitable);
        evicted += co_await readAll(b);  // c took b's stream; its request is never answered
        held = co_await streamsReach(1);
        auto d = co_await connect();
        got.push_back(co_await get(d, "/"));  // nothing idle to close
        io.stop();
      },
      asio::detached);
  io.run_for(10s);
  // With one stream per tunnel, the client's own share (also one) is what refuses d: 429.
  const std::vector<std::string> expected{"200", "200", "429 retry"};
  EXPECT_EQ(got, expected);
  EXPECT_EQ(evicted, "");
  EXPECT_TRUE(held);
}

TEST_F(Front, OneAddressAndOneDeploymentHoldOnlyTheirShareOfATunnel) {
  // 8 streams: 2 per client address, 6 per deployment.
  auto o = options;
  o.maxStreamsPerTunnel = 8;
  restartFront(o);
  std::vector<std::string> got;
  std::vector<net::tcp::socket> held;
  bool counted = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await startProvider();
        for (const char* src :
             {"127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3"}) {
          held.push_back(co_await connect(src));
          co_await send(held.back(), "/stall");  // never answered: holds a stream
        }
        counted = co_await streamsReach(6);
        auto a = co_await connect("127.0.0.1");
        got.push_back(co_await get(a, "/"));  // its address holds its 2
        auto b = co_await connect("127.0.0.4");
        got.push_back(co_await get(b, "/"));  // the deployment holds its 6
        auto c = co_await connect("127.0.0.4");
        got.push_back(co_await get(c, "/", kOther));  // the provider's other deployment: served
        io.stop();
      },
      asio::detached);
  io.run_for(10s);
  EXPECT_TRUE(counted);
  const std::vector<std::string> expected{"429 retry", "503 retry", "200"};
  EXPECT_EQ(got, expected);
}

TEST_F(Front, AClientThatStopsReadingIsCutAndItsStreamGivenBack) {
  auto o = options;
  o.clientWriteTimeout = 200ms;
  restartFront(o);
  bool holding = false;
  bool released = false;
  std::size_t received = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await startProvider();
        auto s = co_await connect();
        s.set_option(asio::socket_base::receive_buffer_size(4096));
        co_await send(s, "/big");  // an endless body, never read past the first bytes
        holding = co_await streamsReach(1);
        released = co_await streamsReach(0);
        std::string out;
        auto [ec, n] = co_await asio::async_read(s, asio::dynamic_buffer(out), net::kNoThrow);
        (void)ec;
        received = n;
        io.stop();
      },
      asio::detached);
  io.run_for(20s);
  EXPECT_TRUE(holding);
  EXPECT_TRUE(released);                       // cut by the write deadline (else held for ever)
  EXPECT_LT(received, std::size_t{64} << 20);  // what sat in buffers, then the cut
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
