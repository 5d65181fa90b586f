#include "dns/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>

namespace pc::dns {
namespace {

namespace asio = net::asio;
namespace wire = net::dns;
using boost::asio::ip::udp;
using net::kNoThrow;
using net::tcp;

std::shared_ptr<Zone> zone() {
  auto z = std::make_shared<Zone>(Zone::create(ZoneSettings{"example.org", {}, 60, 1}).value());
  EXPECT_TRUE(z->setAddresses(parseAddresses({"192.0.2.1", "2001:db8::1"}).value()));
  return z;
}

Bytes query(std::uint16_t id, std::string_view name) {
  wire::Message m;
  m.id = id;
  m.questions.push_back(
      wire::Question{wire::parseName(name).value(), wire::Type::kA, wire::kClassIn, false});
  return wire::encode(m).value();
}

/// Runs `body` against a server started with `budget`; fails the test if it takes over 10 s.
template <class Body>
void withServer(BudgetLimits budget, Body body) {
  asio::io_context io(1);
  auto server =
      DnsServer::start(io.get_executor(), parseListen("127.0.0.1:0").value(), zone(), budget)
          .value();
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await body(*server);
        co_await server->shutdown(std::chrono::milliseconds(100));
        done = true;
      },
      asio::detached);
  io.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(done);
}

/// Sends `count` queries from one socket and reads every response the server sent (it counts
/// them: no quiet-period guessing). Loopback does not lose datagrams of this size and number.
asio::awaitable<std::vector<wire::Message>> burst(const DnsServer& server, int count) {
  udp::socket s(co_await asio::this_coro::executor, udp::v4());
  for (int i = 0; i < count; ++i) {
    auto q = query(static_cast<std::uint16_t>(i), "x.example.org");
    co_await s.async_send_to(asio::buffer(q), server.endpoint(), kNoThrow);
  }
  while (server.stats().udpQueries < static_cast<std::uint64_t>(count)) {
    co_await net::sleepFor(std::chrono::milliseconds(1));
  }
  const auto sent = server.stats().udpAnswered + server.stats().udpSlipped;
  std::vector<wire::Message> got;
  std::array<std::uint8_t, 2048> buf{};
  while (got.size() < sent) {
    udp::endpoint from;
    auto [ec, n] = co_await s.async_receive_from(asio::buffer(buf), from, kNoThrow);
    if (ec) break;
    got.push_back(wire::decode(BytesView(buf.data(), n)).value());
  }
  co_return got;
}

TEST(DnsServer, AnswersOverUdpAndTcp) {
  withServer(BudgetLimits{1000, 1000, 2}, [](DnsServer& server) -> asio::awaitable<void> {
    const auto udpAnswers = co_await burst(server, 1);
    EXPECT_EQ(udpAnswers.size(), 1u);
    if (!udpAnswers.empty()) {
      EXPECT_EQ(udpAnswers[0].answers.size(), 1u);
    }

    tcp::socket s(co_await asio::this_coro::executor);
    const tcp::endpoint ep(server.endpoint().address(), server.endpoint().port());
    auto [ec] = co_await s.async_connect(ep, kNoThrow);
    EXPECT_FALSE(ec);
    // Two pipelined queries on one connection, two answers in order.
    Bytes out;
    for (std::uint16_t id : {7, 8}) {
      auto q = query(id, "Y.example.org");
      out.push_back(0);
      out.push_back(static_cast<std::uint8_t>(q.size()));
      append(out, q);
    }
    co_await asio::async_write(s, asio::buffer(out), kNoThrow);
    for (std::uint16_t id : {7, 8}) {
      std::array<std::uint8_t, 2> len{};
      auto [e1, n1] = co_await asio::async_read(s, asio::buffer(len), kNoThrow);
      EXPECT_FALSE(e1);
      Bytes body((static_cast<std::size_t>(len[0]) << 8) | len[1]);
      auto [e2, n2] = co_await asio::async_read(s, asio::buffer(body), kNoThrow);
      EXPECT_FALSE(e2);
      const auto m = wire::decode(body).value();
      EXPECT_EQ(m.id, id);
      EXPECT_EQ(m.answers.size(), 1u);
    }
    EXPECT_EQ(server.stats().tcpQueries, 2u);
  });
}

TEST(DnsServer, ABurstOverTheBudgetGetsFewerAnswersSomeTruncated) {
  withServer(BudgetLimits{1, 10, 2}, [](DnsServer& server) -> asio::awaitable<void> {
    const auto got = co_await burst(server, 100);
    std::size_t full = 0;
    std::size_t truncated = 0;
    for (const auto& m : got) {
      ((m.flags & wire::kFlagTruncated) != 0 ? truncated : full) += 1;
    }
    // The burst (10) and maybe a token or two refilled; half of the rest slipped as TC.
    EXPECT_GE(full, 10u);
    EXPECT_LT(full, 20u);
    EXPECT_GT(truncated, 30u);
    EXPECT_LT(got.size(), 100u);
    EXPECT_EQ(server.stats().udpQueries, 100u);
    EXPECT_EQ(server.stats().udpSlipped + server.stats().udpOverBudget + full, 100u);
  });
}

TEST(DnsServer, TcpConnectionsPerSourceAreBounded) {
  withServer(BudgetLimits{}, [](DnsServer& server) -> asio::awaitable<void> {
    const auto ex = co_await asio::this_coro::executor;
    const tcp::endpoint ep(server.endpoint().address(), server.endpoint().port());
    std::vector<std::unique_ptr<tcp::socket>> held;
    // From two addresses of one /24: one block, one bound (rotating addresses gains nothing).
    for (std::size_t i = 0; i < kMaxTcpConnectionsPerSource + 1; ++i) {
      held.push_back(std::make_unique<tcp::socket>(ex, tcp::v4()));
      const auto from = asio::ip::make_address(i % 2 == 0 ? "127.0.0.1" : "127.0.0.2");
      held.back()->bind(tcp::endpoint(from, 0));
      co_await held.back()->async_connect(ep, kNoThrow);
    }
    // The one over the bound is closed by the server: its read ends at once.
    std::array<std::uint8_t, 1> b{};
    auto [ec, n] = co_await held.back()->async_read_some(asio::buffer(b), kNoThrow);
    EXPECT_TRUE(ec);
    EXPECT_EQ(server.stats().tcpRefused, 1u);
  });
}

TEST(DnsServer, ATcpConnectionIsClosedAfterItsQueryBound) {
  withServer(BudgetLimits{100000, 100000, 2}, [](DnsServer& server) -> asio::awaitable<void> {
    tcp::socket s(co_await asio::this_coro::executor);
    const tcp::endpoint ep(server.endpoint().address(), server.endpoint().port());
    co_await s.async_connect(ep, kNoThrow);
    Bytes out;
    // Exactly the bound (unread bytes at the close would make it a reset, losing answers).
    for (std::size_t i = 0; i < kMaxTcpQueriesPerConnection; ++i) {
      auto q = query(static_cast<std::uint16_t>(i), "z.example.org");
      out.push_back(0);
      out.push_back(static_cast<std::uint8_t>(q.size()));
      append(out, q);
    }
    co_await asio::async_write(s, asio::buffer(out), kNoThrow);
    std::size_t answers = 0;
    while (true) {
      std::array<std::uint8_t, 2> len{};
      auto [e1, n1] = co_await asio::async_read(s, asio::buffer(len), kNoThrow);
      if (e1) break;
      Bytes body((static_cast<std::size_t>(len[0]) << 8) | len[1]);
      auto [e2, n2] = co_await asio::async_read(s, asio::buffer(body), kNoThrow);
      if (e2) break;
      ++answers;
    }
    // Every query up to the bound answered, then the server closed (the read loop above ended on
    // the end of the stream); the client may reconnect.
    EXPECT_EQ(answers, kMaxTcpQueriesPerConnection);
  });
}

TEST(DnsServer, ParsesListenAndAddresses) {
  EXPECT_EQ(parseListen("[::1]:53").value().port(), 53);
  EXPECT_TRUE(parseListen("[::1]:53").value().address().is_v6());
  EXPECT_FALSE(parseListen("127.0.0.1"));
  EXPECT_FALSE(parseListen("127.0.0.1:99999"));
  EXPECT_FALSE(parseListen("host:53"));
  EXPECT_FALSE(parseAddresses({"1.2.3.4", "nope"}));
  EXPECT_EQ(parseAddresses({"1.2.3.4", "::1"}).value().size(), 2u);
}

}  // namespace
}  // namespace pc::dns
