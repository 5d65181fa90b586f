// yamux session against a hand-driven raw peer over an in-memory pipe: every frame the session
// sends is read and checked, and hostile frames are injected directly.
#include "net/yamux/session.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "net/error.hpp"
#include "net/tcp.hpp"
#include "support/memory_stream.hpp"
#include "support/run.hpp"

namespace pc::net::yamux {
namespace {
using namespace std::chrono_literals;
using test::run;

/// Shuts `session` down with no grace, pumping `io` until that ends (up to 10 s); whether it did.
bool shutdownNow(asio::io_context& io, Session& session) {
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await session.shutdown(0ms);
        done = true;
      },
      asio::detached);
  for (int i = 0; i < 2000 && !done; ++i) test::pump(io, 5ms);
  return done;
}

struct Frame {
  Header h;
  Bytes data;
};

class RawPeerTest : public ::testing::Test {
 protected:
  asio::io_context io{1};
  std::unique_ptr<ByteStream> raw;
  std::shared_ptr<Session> session;

  void start(Config cfg = {}) {
    auto [a, b] = test::memoryPipe(io.get_executor());
    raw = std::move(a);
    session = std::make_shared<Session>(std::move(b), io.get_executor(), /*client=*/false,
                                        "raw-peer", cfg);
    session->start();
    // The session's first frame is its RTT ping; answer it so keep-alive stays happy.
    auto ping = next();
    ASSERT_EQ(ping.h.type, Type::kPing);
    send({Type::kPing, flags::kAck, 0, ping.h.length});
  }
  void TearDown() override {
    if (session) session->close();
    test::pump(io, 10ms);
  }
  void send(const Header& h, BytesView data = {}) {
    Bytes b;
    encode(h, b);
    append(b, data);
    ASSERT_TRUE(run(io, raw->write(b)));
  }
  Frame next() { return run(io, readFrame(), 10s); }
  /// Frames up to and including the first GoAway (read in one go: once the session has closed,
  /// nothing keeps the io_context running between two next() calls).
  std::vector<Frame> framesUntilGoAway() {
    return run(
        io,
        [this]() -> asio::awaitable<std::vector<Frame>> {
          std::vector<Frame> out;
          do {
            out.push_back(co_await readFrame());
          } while (out.back().h.type != Type::kGoAway);
          co_return out;
        }(),
        10s);
  }
  asio::awaitable<Frame> readFrame() {
    std::array<std::uint8_t, kHeaderSize> hdr{};
    auto r = co_await readExact(*raw, hdr);
    if (!r) co_return Frame{{Type::kGoAway, 0, 0, 0xdead}, {}};
    Frame f{**decode(hdr), {}};
    if (f.h.type == Type::kData && f.h.length > 0) {
      f.data.resize(f.h.length);
      co_await readExact(*raw, f.data);
    }
    co_return f;
  }
  bool closedSoon() {
    for (int i = 0; i < 2000 && !session->isClosed(); ++i) test::pump(io, 5ms);  // ≤ 10 s
    return session->isClosed();
  }
};

TEST_F(RawPeerTest, InboundStreamIsAckedAndDataFlowsBothWays) {
  start();
  send({Type::kWindowUpdate, flags::kSyn, 1, 0});
  auto ack = next();
  EXPECT_EQ(ack.h.type, Type::kWindowUpdate);
  EXPECT_EQ(ack.h.flags, flags::kAck);
  EXPECT_EQ(ack.h.streamId, 1u);
  auto s = run(io, session->acceptStream()).value();
  send({Type::kData, 0, 1, 5}, asBytes("hello"));
  std::array<std::uint8_t, 5> buf{};
  ASSERT_TRUE(run(io, readExact(*s, buf)));
  EXPECT_EQ(asString(buf), "hello");
  ASSERT_TRUE(run(io, s->write(asBytes("world"))));
  auto d = next();
  EXPECT_EQ(d.h.type, Type::kData);
  EXPECT_EQ(asString(d.data), "world");
  // Remote FIN → EOF; our FIN goes out as a zero-length window update.
  send({Type::kWindowUpdate, flags::kFin, 1, 0});
  std::array<std::uint8_t, 1> one{};
  EXPECT_EQ(run(io, s->readSome(one)).value(), 0u);
  ASSERT_TRUE(run(io, s->closeWrite()));
  auto fin = next();
  EXPECT_EQ(fin.h.type, Type::kWindowUpdate);
  EXPECT_EQ(fin.h.flags, flags::kFin);
  EXPECT_EQ(session->streamCount(), 0u);
}

TEST_F(RawPeerTest, WindowViolationClosesWithProtocolError) {
  start();
  send({Type::kWindowUpdate, flags::kSyn, 1, 0});
  (void)next();  // ACK
  Bytes big(Config::kInitialWindow + 1, 'x');
  send({Type::kData, 0, 1, static_cast<std::uint32_t>(big.size())}, big);
  auto ga = next();
  EXPECT_EQ(ga.h.type, Type::kGoAway);
  EXPECT_EQ(ga.h.length, static_cast<std::uint32_t>(GoAwayCode::kProtocolError));
  ASSERT_TRUE(closedSoon());
  EXPECT_NE(session->closeReason().message().find("window"), std::string::npos);
}

TEST_F(RawPeerTest, MalformedHeaderClosesWithProtocolError) {
  start();
  Bytes bad{1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};  // version 1
  ASSERT_TRUE(run(io, raw->write(bad)));
  auto ga = next();
  EXPECT_EQ(ga.h.type, Type::kGoAway);
  EXPECT_EQ(ga.h.length, static_cast<std::uint32_t>(GoAwayCode::kProtocolError));
  EXPECT_TRUE(closedSoon());
}

TEST_F(RawPeerTest, WrongParityStreamIdIsAProtocolError) {
  start();
  send({Type::kWindowUpdate, flags::kSyn, 2, 0});  // the server's parity
  auto ga = next();
  EXPECT_EQ(ga.h.type, Type::kGoAway);
  EXPECT_TRUE(closedSoon());
}

TEST_F(RawPeerTest, StreamLimitsRefuseOnlyTheExtraStream) {
  Config cfg;
  cfg.maxStreams = 2;
  start(cfg);
  for (std::uint32_t id : {1u, 3u, 5u}) send({Type::kWindowUpdate, flags::kSyn, id, 0});
  EXPECT_EQ(next().h.flags, flags::kAck);
  EXPECT_EQ(next().h.flags, flags::kAck);
  auto rst = next();
  EXPECT_EQ(rst.h.streamId, 5u);
  EXPECT_EQ(rst.h.flags, flags::kRst);
  send({Type::kPing, flags::kSyn, 0, 77});
  auto pong = next();
  EXPECT_EQ(pong.h.type, Type::kPing);
  EXPECT_EQ(pong.h.flags, flags::kAck);
  EXPECT_EQ(pong.h.length, 77u);
  EXPECT_FALSE(session->isClosed());
}

TEST_F(RawPeerTest, AcceptBacklogIsBounded) {
  Config cfg;
  cfg.maxAcceptBacklog = 2;
  start(cfg);
  for (std::uint32_t id : {1u, 3u, 5u}) send({Type::kWindowUpdate, flags::kSyn, id, 0});
  (void)next();
  (void)next();
  EXPECT_EQ(next().h.flags, flags::kRst);
}

TEST_F(RawPeerTest, RemoteResetWakesReaderAndWriter) {
  start();
  send({Type::kWindowUpdate, flags::kSyn, 1, 0});
  (void)next();
  auto s = run(io, session->acceptStream()).value();
  send({Type::kWindowUpdate, flags::kRst, 1, 0});
  std::array<std::uint8_t, 4> buf{};
  auto r = run(io, s->readSome(buf));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kReset));
  EXPECT_EQ(run(io, s->write(asBytes("x"))).error(), make_error_code(Errc::kReset));
  // Late data for the reset stream is consumed and ignored, the session lives on.
  send({Type::kData, 0, 1, 3}, asBytes("abc"));
  send({Type::kPing, flags::kSyn, 0, 5});
  EXPECT_EQ(next().h.length, 5u);
}

TEST_F(RawPeerTest, WriterWaitsForWindowAndResumesOnUpdate) {
  start();
  send({Type::kWindowUpdate, flags::kSyn, 1, 0});
  (void)next();
  auto s = run(io, session->acceptStream()).value();
  Bytes data(Config::kInitialWindow + 1000, 'z');
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await s->write(data);
        done = true;
      },
      asio::detached);
  std::size_t got = 0;
  while (got < Config::kInitialWindow) got += next().data.size();
  EXPECT_EQ(got, Config::kInitialWindow);
  test::pump(io, 20ms);
  EXPECT_FALSE(done);  // blocked on the window
  send({Type::kWindowUpdate, 0, 1, 4096});
  EXPECT_EQ(next().data.size(), 1000u);
  test::pump(io, 5ms);
  EXPECT_TRUE(done);
}

TEST_F(RawPeerTest, GoAwayFromRemoteStopsNewStreams) {
  start();
  send({Type::kGoAway, 0, 0, 0});
  test::pump(io, 10ms);
  auto s = session->openStream();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), make_error_code(Errc::kLimit));
}

TEST_F(RawPeerTest, SilentPeerIsDroppedByKeepAlive) {
  Config cfg;
  cfg.keepAliveInterval = 50ms;
  auto [a, b] = test::memoryPipe(io.get_executor());
  raw = std::move(a);
  session = std::make_shared<Session>(std::move(b), io.get_executor(), false, "silent", cfg);
  session->start();  // its pings are never answered
  ASSERT_TRUE(closedSoon());
  EXPECT_EQ(session->closeReason(), make_error_code(Errc::kTimeout));
}

TEST_F(RawPeerTest, PeerThatNeverReadsCannotAnswerKeepAlivePingsBlindly) {
  Config cfg;
  cfg.keepAliveInterval = 50ms;
  cfg.maxPingBurst = 1e9;
  auto [a, b] = test::memoryPipe(io.get_executor());
  raw = std::move(a);
  session = std::make_shared<Session>(std::move(b), io.get_executor(), false, "blind", cfg);
  session->start();
  // It reads nothing, but keeps answering every ping id a counter would have used.
  asio::co_spawn(
      io,
      [this]() -> asio::awaitable<void> {
        while (!session->isClosed()) {
          Bytes answers;
          for (std::uint32_t id = 1; id <= 256; ++id)
            encode({Type::kPing, flags::kAck, 0, id}, answers);
          co_await raw->write(answers);
          co_await sleepFor(10ms);
        }
      },
      asio::detached);
  ASSERT_TRUE(closedSoon());
  EXPECT_EQ(session->closeReason(), make_error_code(Errc::kTimeout));
}

TEST_F(RawPeerTest, ShutdownSendsGoAwayAndEndsTheSessionsCoroutines) {
  start();
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await session->shutdown(5s);
        done = true;
      },
      asio::detached);
  auto f = next();
  EXPECT_EQ(f.h.type, Type::kGoAway);
  EXPECT_EQ(f.h.length, static_cast<std::uint32_t>(GoAwayCode::kNormal));
  for (int i = 0; i < 2000 && !done; ++i) test::pump(io, 5ms);
  EXPECT_TRUE(done);
  EXPECT_TRUE(session->isClosed());
}

TEST_F(RawPeerTest, ShutdownClosesHardAfterTheGrace) {
  start();
  // The peer reads nothing: after the grace the session closes anyway and its loops end.
  EXPECT_TRUE(shutdownNow(io, *session));
  EXPECT_TRUE(session->isClosed());
}

TEST_F(RawPeerTest, PingFloodOverTheRateEndsTheSessionWithAProtocolError) {
  Config cfg;
  cfg.maxPingBurst = 5;  // start() already spent one answering the session's RTT ping
  cfg.maxPingsPerSecond = 0.01;
  start(cfg);
  Bytes flood;
  for (std::uint32_t i = 0; i < 50; ++i) encode({Type::kPing, flags::kSyn, 0, i}, flood);
  ASSERT_TRUE(run(io, raw->write(flood)));
  const auto frames = framesUntilGoAway();
  ASSERT_EQ(frames.size(), 5u);  // 4 pongs, then the GoAway
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(frames[i].h.type, Type::kPing);
    EXPECT_EQ(frames[i].h.length, i);
  }
  EXPECT_EQ(frames[4].h.length, static_cast<std::uint32_t>(GoAwayCode::kProtocolError));
  ASSERT_TRUE(closedSoon());
  EXPECT_NE(session->closeReason().message().find("maxPingsPerSecond"), std::string::npos);
}

TEST_F(RawPeerTest, RefusedSynFloodOverTheRateEndsTheSession) {
  Config cfg;
  cfg.maxStreams = 1;
  cfg.maxRefusedSynBurst = 3;
  cfg.maxRefusedSynsPerSecond = 0.01;
  start(cfg);
  Bytes flood;
  for (std::uint32_t id = 1; id < 40; id += 2)
    encode({Type::kWindowUpdate, flags::kSyn, id, 0}, flood);
  ASSERT_TRUE(run(io, raw->write(flood)));
  int acks = 0, rsts = 0;
  const auto frames = framesUntilGoAway();
  for (const auto& f : frames) {
    acks += f.h.flags == flags::kAck ? 1 : 0;
    rsts += f.h.flags == flags::kRst ? 1 : 0;
  }
  EXPECT_EQ(acks, 1);
  EXPECT_EQ(rsts, 3);
  EXPECT_EQ(frames.back().h.length, static_cast<std::uint32_t>(GoAwayCode::kProtocolError));
  ASSERT_TRUE(closedSoon());
  EXPECT_NE(session->closeReason().message().find("maxRefusedSynsPerSecond"), std::string::npos);
}

TEST_F(RawPeerTest, StreamsOpenedAndResetBeforeOurNextWriteCostNoFrames) {
  start();
  // Opened and reset at once, many times, while we have not written: no ACK is owed to a
  // stream that is gone, so a peer cycling streams without reading makes us queue nothing.
  Bytes cycle;
  for (std::uint32_t id = 1; id < 400; id += 2) {  // under the accept backlog
    encode({Type::kWindowUpdate, flags::kSyn, id, 0}, cycle);
    encode({Type::kWindowUpdate, flags::kRst, id, 0}, cycle);
  }
  encode({Type::kPing, flags::kSyn, 0, 9}, cycle);
  ASSERT_TRUE(run(io, raw->write(cycle)));
  auto f = next();
  EXPECT_EQ(f.h.type, Type::kPing);
  EXPECT_EQ(f.h.length, 9u);
  EXPECT_EQ(session->streamCount(), 0u);
}

/// A connected loopback TCP pair with small kernel buffers, so that a side that does not read
/// soon blocks the other side's writes (as a peer that never reads does over the Internet).
std::pair<std::unique_ptr<TcpStream>, tcp::socket> smallBufferTcpPair(asio::io_context& io) {
  constexpr int kBuffer = 16 * 1024;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  acceptor.set_option(asio::socket_base::receive_buffer_size(kBuffer));
  acceptor.set_option(asio::socket_base::send_buffer_size(kBuffer));
  tcp::socket client(io);
  client.open(tcp::v4());
  client.set_option(asio::socket_base::receive_buffer_size(kBuffer));
  client.set_option(asio::socket_base::send_buffer_size(kBuffer));
  client.connect(acceptor.local_endpoint());
  auto server = std::make_unique<TcpStream>(acceptor.accept());
  return {std::move(server), std::move(client)};
}

TEST(SessionOverTcp, ControlQueueStaysBoundedWhileThePeerFloodsPingsAndNeverReads) {
  asio::io_context io{1};
  auto [ours, peer] = smallBufferTcpPair(io);
  Config cfg;
  cfg.maxQueuedAnswers = 4096;
  cfg.maxPingBurst = 1e9;  // the rate limit is tested above; here only the queue bound acts
  auto session = std::make_shared<Session>(std::move(ours), io.get_executor(), false, "flood", cfg);
  session->start();
  // 1 MiB of pings (87,381), written by a peer that never reads a byte.
  Bytes flood;
  for (std::uint32_t i = 0; flood.size() < 1024 * 1024; ++i) {
    encode({Type::kPing, flags::kSyn, 0, i}, flood);
  }
  bool floodWritten = false;
  asio::async_write(peer, asio::buffer(flood),
                    [&](boost::system::error_code, std::size_t) { floodWritten = true; });
  std::size_t mostQueued = 0;
  // Until the session stops reading (the bound) or has read everything (no bound): the kernel
  // buffers hold far less than 1 MiB, so only an unbounded session gets to read it all.
  for (int i = 0; i < 4000 && !floodWritten && !session->readPaused(); ++i) {
    io.run_one_for(std::chrono::milliseconds(5));
    mostQueued = std::max(mostQueued, session->queuedBytes());
  }
  for (int i = 0; i < 200; ++i) {  // and a while longer: it stays paused
    io.poll();
    mostQueued = std::max(mostQueued, session->queuedBytes());
  }
  EXPECT_FALSE(floodWritten);
  EXPECT_TRUE(session->readPaused());
  EXPECT_FALSE(session->isClosed());
  // The outbox and the batch being written: each at most the bound plus one frame (and the
  // session's own first ping).
  EXPECT_LE(mostQueued, 2 * (cfg.maxQueuedAnswers + kHeaderSize) + kHeaderSize);
  boost::system::error_code ec;
  peer.close(ec);
  EXPECT_TRUE(shutdownNow(io, *session));
}

TEST(SessionOverTcp, TwoPeersSendingHeavilyBothWaysOverSmallBuffersDoNotDeadlock) {
  // Each side uploads and downloads at once with full socket buffers: a reader that paused on
  // "our outbox is big" would wait for its writer, which waits for the other side's reader,
  // which waits the same way. The answer bound must not pause either side here.
  asio::io_context io{1};
  auto [ours, peer] = smallBufferTcpPair(io);
  auto a = std::make_shared<Session>(std::move(ours), io.get_executor(), false, "a");
  auto b = std::make_shared<Session>(std::make_unique<TcpStream>(std::move(peer)),
                                     io.get_executor(), true, "b");
  a->start();
  b->start();
  const Bytes data(8 * 1024 * 1024, 7);
  int done = 0;
  auto exchange = [&](std::shared_ptr<Session> self) -> asio::awaitable<void> {
    auto out = self->openStream().value();
    asio::co_spawn(
        io,
        [&, out]() -> asio::awaitable<void> {
          EXPECT_TRUE(co_await out->write(data));
          co_await out->closeWrite();
        },
        asio::detached);
    auto in = co_await self->acceptStream();
    auto got = co_await readToEnd(**in, data.size());
    EXPECT_EQ(got.value().size(), data.size());
    ++done;
  };
  asio::co_spawn(io, exchange(a), asio::detached);
  asio::co_spawn(io, exchange(b), asio::detached);
  for (int i = 0; i < 12000 && done < 2; ++i) io.run_one_for(5ms);  // safety net: ≤ 60 s
  EXPECT_EQ(done, 2);
  EXPECT_FALSE(a->isClosed());
  EXPECT_FALSE(b->isClosed());
  a->close();
  b->close();
  test::pump(io, 20ms);
}

TEST(SessionPair, ReceiveWindowGrowsForAFastReader) {
  asio::io_context io{1};
  auto [a, b] = test::memoryPipe(io.get_executor());
  // The growth rule compares drain time with the RTT; a generous RTT floor makes "fast
  // reader" true on any machine, sanitizers included, so the test has no timing dependence.
  Config cfg;
  cfg.autoTuneMinRtt = std::chrono::seconds(30);
  auto client = std::make_shared<Session>(std::move(a), io.get_executor(), true, "server", cfg);
  auto server = std::make_shared<Session>(std::move(b), io.get_executor(), false, "client", cfg);
  client->start();
  server->start();
  test::pump(io, 5ms);  // RTT pings
  auto out = client->openStream().value();
  Bytes data(8 * 1024 * 1024, 1);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await out->write(data);
        co_await out->closeWrite();
      },
      asio::detached);
  auto in = run(io, server->acceptStream()).value();
  auto all = run(io, readToEnd(*in, 1 << 30)).value();
  EXPECT_EQ(all.size(), data.size());
  EXPECT_GT(in->receiveWindow(), Config::kInitialWindow);
  EXPECT_LE(in->receiveWindow(), Config{}.maxWindow);
  client->close();
  server->close();
  test::pump(io, 10ms);
}

}  // namespace
}  // namespace pc::net::yamux
