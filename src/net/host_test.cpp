#include "net/host.hpp"
#include "net/tcp.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include "crypto/hash.hpp"
#include "net/error.hpp"
#include "net/multistream/negotiate.hpp"
#include "support/run.hpp"

namespace pc::net {
namespace {
using namespace std::chrono_literals;
using test::run;

constexpr const char* kEcho = "/echo/1.0.0";

// Echoes every byte until the remote closes its write side, then closes ours.
asio::awaitable<void> echo(std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection>) {
  std::vector<std::uint8_t> buf(64 * 1024);
  for (;;) {
    auto n = co_await s->readSome(buf);
    if (!n || *n == 0) break;
    if (auto w = co_await s->write(BytesView(buf.data(), *n)); !w) co_return;
  }
  co_await s->closeWrite();
}

class HostTest : public ::testing::Test {
 protected:
  asio::io_context io{1};
  crypto::Identity idA = crypto::Identity::generate().value();
  crypto::Identity idB = crypto::Identity::generate().value();
  std::shared_ptr<Host> a, b;
  Multiaddr addrA;

  void SetUp() override {
    a = Host::create(io.get_executor(), idA);
    b = Host::create(io.get_executor(), idB);
    a->setHandler(kEcho, echo);
    b->setHandler(kEcho, echo);
    addrA = a->listen(Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value())
                .value()
                .withPeerId(idA.peerId());
  }
  void TearDown() override {
    a->close();
    b->close();
    test::pump(io, 20ms);
  }
};

// Writes `data` on a fresh echo stream, closes, and returns everything read back.
asio::awaitable<Result<Bytes>> echoRoundTrip(std::shared_ptr<Host> h, std::shared_ptr<Connection> c,
                                             Bytes data) {
  const std::vector<std::string> protos{kEcho};
  auto s = co_await h->newStream(c, protos);
  if (!s) co_return s.error();
  Bytes got;
  auto reader = [](std::shared_ptr<yamux::Stream> st, Bytes& out) -> asio::awaitable<Result<void>> {
    auto r = co_await readToEnd(*st, 1 << 30);
    if (!r) co_return r.error();
    out = std::move(*r);
    co_return Result<void>{};
  };
  // Read concurrently with writing: a large echo deadlocks on flow control otherwise.
  bool readDone = false;
  Result<void> readResult = Result<void>{};
  asio::co_spawn(
      co_await asio::this_coro::executor,
      [&]() -> asio::awaitable<void> {
        readResult = co_await reader(*s, got);
        readDone = true;
      },
      asio::detached);
  if (auto w = co_await (*s)->write(data); !w) co_return w.error();
  co_await (*s)->closeWrite();
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (!readDone) {
    t.expires_after(1ms);
    co_await t.async_wait(kNoThrow);
  }
  if (!readResult) co_return readResult.error();
  co_return got;
}

TEST_F(HostTest, ConnectPingIdentify) {
  auto conn = run(io, b->connect(addrA)).value();
  EXPECT_EQ(conn->peer, idA.peerId());
  EXPECT_EQ(conn->security, "/noise");
  EXPECT_EQ(conn->muxer, "/yamux/1.0.0");
  auto rtt = run(io, b->ping(conn));
  ASSERT_TRUE(rtt) << rtt.error().message();
  auto info = run(io, b->identify(conn));
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->agentVersion, "peercompute/0.1.0");
  EXPECT_NE(std::find(info->protocols.begin(), info->protocols.end(), "/ipfs/ping/1.0.0"),
            info->protocols.end());
  EXPECT_NE(std::find(info->protocols.begin(), info->protocols.end(), kEcho),
            info->protocols.end());
  ASSERT_EQ(info->listenAddrs.size(), 1u);
  EXPECT_EQ(info->listenAddrs[0], addrA.withoutPeerId());
  ASSERT_TRUE(info->observedAddr);
  EXPECT_EQ(*info->observedAddr, conn->localAddr);
  // A second connect to the same peer reuses the connection.
  EXPECT_EQ(run(io, b->connect(addrA)).value(), conn);
}

TEST_F(HostTest, EchoManyConcurrentStreams) {
  auto conn = run(io, b->connect(addrA)).value();
  constexpr int kStreams = 100;
  int ok = 0, done = 0;
  for (int i = 0; i < kStreams; ++i) {
    Bytes data(1000 + 523 * i);
    for (std::size_t j = 0; j < data.size(); ++j) data[j] = static_cast<std::uint8_t>(i * 7 + j);
    asio::co_spawn(
        io,
        [&, data]() -> asio::awaitable<void> {
          auto got = co_await echoRoundTrip(b, conn, data);
          if (got && *got == data) ++ok;
          ++done;
        },
        asio::detached);
  }
  run(io, [&]() -> asio::awaitable<int> {
    asio::steady_timer t(io);
    while (done < kStreams) {
      t.expires_after(2ms);
      co_await t.async_wait(kNoThrow);
    }
    co_return 0;
  }());
  EXPECT_EQ(ok, kStreams);
}

TEST_F(HostTest, LargeTransferKeepsIntegrity) {
  auto conn = run(io, b->connect(addrA)).value();
  Bytes data(16 * 1024 * 1024);
  std::uint32_t x = 12345;
  for (auto& byte : data) {
    x = x * 1664525 + 1013904223;
    byte = static_cast<std::uint8_t>(x >> 24);
  }
  auto got = run(io, echoRoundTrip(b, conn, data));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(crypto::sha256(*got), crypto::sha256(data));
}

TEST_F(HostTest, ResetIsSeenByTheOtherSide) {
  bool sawReset = false;
  bool handlerDone = false;
  a->setHandler(
      "/reset-observer/1.0.0",
      [&](std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection>) -> asio::awaitable<void> {
        std::array<std::uint8_t, 16> buf{};
        auto n = co_await s->readSome(buf);
        sawReset = !n && n.error() == make_error_code(Errc::kReset);
        handlerDone = true;
      });
  auto conn = run(io, b->connect(addrA)).value();
  auto s = run(io, b->newStream(conn, {"/reset-observer/1.0.0"})).value();
  s->reset();
  run(io, [&]() -> asio::awaitable<int> {
    asio::steady_timer t(io);
    while (!handlerDone) {
      t.expires_after(1ms);
      co_await t.async_wait(kNoThrow);
    }
    co_return 0;
  }());
  EXPECT_TRUE(sawReset);
}

TEST_F(HostTest, UnsupportedProtocolFailsNegotiation) {
  auto conn = run(io, b->connect(addrA)).value();
  auto s = run(io, b->newStream(conn, {"/nope/1.0.0", "/also-nope/2.0.0"}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), make_error_code(Errc::kNegotiationFailed));
  // The connection survives a failed negotiation.
  EXPECT_TRUE(run(io, b->ping(conn)));
}

TEST_F(HostTest, UntrustedPeerIsDisconnectedBeforeTheMuxer) {
  std::vector<std::string> rejected;
  a->setGater([&](const crypto::PeerId& p) { return p != idB.peerId(); });
  a->onReject(
      [&](const std::optional<crypto::PeerId>& p, const Multiaddr&, const std::string& why) {
        rejected.push_back((p ? p->toBase58() : "?") + ": " + why);
      });
  // With early muxer negotiation the dialer's handshake completes before the listener's
  // verdict reaches it; the refusal surfaces on first use, as kGated with a clear message.
  auto conn = run(io, b->connect(addrA));
  if (conn) {
    auto s = run(io, b->newStream(*conn, {"/ipfs/ping/1.0.0"}));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), make_error_code(Errc::kGated));
    EXPECT_NE(s.error().message().find("does not trust us"), std::string::npos);
  } else {
    EXPECT_EQ(conn.error(), make_error_code(Errc::kGated));
  }
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_NE(rejected[0].find(idB.peerId().toBase58()), std::string::npos);
  EXPECT_TRUE(a->connections().empty());
  EXPECT_EQ(a->config().maxConnections, 400u);  // the documented default
}

TEST_F(HostTest, DialerGatesTheRemoteToo) {
  b->setGater([](const crypto::PeerId&) { return false; });
  auto conn = run(io, b->connect(addrA));
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.error(), make_error_code(Errc::kGated));
}

TEST_F(HostTest, PeerIdMismatchIsRefused) {
  auto other = crypto::Identity::generate().value();
  auto conn = run(io, b->connect(addrA.withPeerId(other.peerId())));
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.error(), make_error_code(Errc::kPeerIdMismatch));
}

TEST_F(HostTest, StalledHandshakeIsCutAtTheDeadline) {
  HostConfig cfg;
  cfg.handshakeTimeout = 200ms;
  auto c = Host::create(io.get_executor(), idB, cfg);
  auto addr = c->listen(Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value()).value();
  // A raw TCP client that connects and never speaks.
  auto raw = run(io, dialTcp(addr, 1000ms)).value();
  std::array<std::uint8_t, 256> buf{};
  auto ended = run(io, [&]() -> asio::awaitable<bool> {
    for (;;) {  // the listener's multistream header arrives first, then EOF
      auto n = co_await raw->readSome(buf);
      if (!n || *n == 0) co_return true;
    }
  }());
  EXPECT_TRUE(ended);
  c->close();
}

TEST_F(HostTest, StalledHandshakesCannotLockOutAPeer) {
  // A half-open flood larger than the connection limit: each new arrival cuts the oldest
  // unfinished handshake, so a peer that completes its handshake promptly still gets in.
  HostConfig cfg;
  cfg.maxConnections = 8;
  cfg.maxPendingInbound = 4;
  auto c = Host::create(io.get_executor(), idB, cfg);
  auto addr = c->listen(Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value()).value();
  std::vector<std::unique_ptr<TcpStream>> stalled;
  for (int i = 0; i < 20; ++i) stalled.push_back(run(io, dialTcp(addr, 1000ms)).value());
  run(io, [&]() -> asio::awaitable<bool> {
    co_await sleepFor(50ms);  // let the listener accept them all
    co_return true;
  }());
  auto a = Host::create(io.get_executor(), idA, {});
  auto conn = run(io, a->connect(addr.withPeerId(idB.peerId())));
  ASSERT_TRUE(conn) << conn.error().message();
  EXPECT_TRUE(run(io, a->ping(*conn)));
  a->close();
  c->close();
}

TEST_F(HostTest, OnlyNoiseIsOfferedNeverPlaintext) {
  // A peer asking for an unencrypted channel (or any other security protocol) is told "na": no
  // libp2p byte after multistream ever travels in the clear.
  auto c = Host::create(io.get_executor(), idB, {});
  auto addr = c->listen(Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value()).value();
  auto raw = run(io, dialTcp(addr, 1000ms)).value();
  Bytes hello;
  multistream::encodeProposal("/multistream/1.0.0", hello);
  multistream::encodeProposal("/plaintext/2.0.0", hello);
  ASSERT_TRUE(run(io, raw->write(hello)));
  std::string got;
  run(io, [&]() -> asio::awaitable<bool> {
    std::array<std::uint8_t, 256> buf{};
    while (got.find("na\n") == std::string::npos) {
      auto n = co_await raw->readSome(buf);
      if (!n || *n == 0) co_return false;
      got.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    co_return true;
  }());
  EXPECT_NE(got.find("/multistream/1.0.0\n"), std::string::npos);
  EXPECT_NE(got.find("na\n"), std::string::npos);
  EXPECT_EQ(got.find("/plaintext"), std::string::npos);
  c->close();
}

TEST_F(HostTest, StreamLimitRefusesOnlyTheExtraStreams) {
  HostConfig cfg;
  cfg.yamux.maxStreams = 4;
  auto c = Host::create(io.get_executor(), idB, cfg);
  bool release = false;
  c->setHandler(
      "/hold/1.0.0",
      [&](std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection>) -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor);
        while (!release) {
          t.expires_after(1ms);
          co_await t.async_wait(kNoThrow);
        }
        co_await s->closeWrite();
      });
  auto addr =
      c->listen(Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value()).value().withPeerId(idB.peerId());
  auto conn = run(io, a->connect(addr)).value();
  std::vector<std::shared_ptr<yamux::Stream>> held;
  int refused = 0;
  for (int i = 0; i < 6; ++i) {
    auto s = run(io, a->newStream(conn, {"/hold/1.0.0"}));
    if (s)
      held.push_back(*s);
    else
      ++refused;
  }
  EXPECT_EQ(held.size(), 4u);
  EXPECT_EQ(refused, 2);
  release = true;
  held.clear();  // dropping open streams resets them, freeing their slots on the remote
  test::pump(io, 20ms);
  auto rtt = run(io, a->ping(conn));  // the connection survived the refusals
  EXPECT_TRUE(rtt) << rtt.error().message();
  c->close();
}

TEST_F(HostTest, ShutdownCancelsHandlersThatDoNotEndByThemselves) {
  auto c = Host::create(io.get_executor(), idB);
  bool handlerEnded = false;
  c->setHandler(
      "/stuck/1.0.0",
      [&](std::shared_ptr<yamux::Stream>, std::shared_ptr<Connection>) -> asio::awaitable<void> {
        struct Mark {
          bool& b;
          ~Mark() { b = true; }
        } mark{handlerEnded};
        // Waits on nothing the host knows about: only cancellation ends it.
        asio::steady_timer t(co_await asio::this_coro::executor,
                             asio::steady_timer::time_point::max());
        co_await t.async_wait(kNoThrow);
        co_await t.async_wait(kNoThrow);
      });
  auto addr =
      c->listen(Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value()).value().withPeerId(idB.peerId());
  auto conn = run(io, a->connect(addr)).value();
  auto s = run(io, a->newStream(conn, {"/stuck/1.0.0"})).value();
  test::pump(io, 20ms);
  EXPECT_GT(c->taskCount(), 0u);
  run(io, [&]() -> asio::awaitable<bool> {
    co_await c->shutdown(50ms);
    co_return true;
  }());
  EXPECT_TRUE(handlerEnded);
  EXPECT_EQ(c->taskCount(), 0u);
  for (const auto& cc : c->connections()) {
    EXPECT_FALSE(cc->isOpen());
  }
}

}  // namespace
}  // namespace pc::net
