// The hop service on real hosts over loopback: a relay (R) running HopService, a target (T)
// that reserves and answers STOP by hand, and a source (S) that sends CONNECT and talks to T
// through the circuit.
#include "net/relay/hop_service.hpp"

#include <gtest/gtest.h>

#include <set>

#include "support/run.hpp"

namespace pc::net::relay {
namespace {
using namespace std::chrono_literals;
using test::run;

/// What the target's STOP handler saw.
struct StopLog {
  std::vector<crypto::PeerId> from;
  std::vector<std::optional<Limit>> limits;
};

// T's STOP handler: reads CONNECT, answers OK, then echoes until EOF and half-closes.
asio::awaitable<void> stopEcho(std::shared_ptr<StopLog> log, std::shared_ptr<yamux::Stream> s,
                               std::shared_ptr<Connection>) {
  auto raw = co_await readLengthPrefixed(*s, kMaxMessageSize);
  if (!raw) co_return;
  auto m = decodeStop(*raw);
  if (!m || m->type != StopMessage::Type::kConnect || !m->peer) {
    s->reset();
    co_return;
  }
  log->from.push_back(m->peer->id);
  log->limits.push_back(m->limit);
  StopMessage ok;
  ok.type = StopMessage::Type::kStatus;
  ok.status = Status::kOk;
  const Bytes bytes = encode(ok);
  if (auto w = co_await writeLengthPrefixed(*s, bytes); !w) co_return;
  std::vector<std::uint8_t> buf(64 * 1024);
  for (;;) {
    auto n = co_await s->readSome(buf);
    if (!n || *n == 0) break;
    if (auto w = co_await s->write(BytesView(buf.data(), *n)); !w) co_return;
  }
  (void)co_await s->closeWrite();
}

/// Opens hop on `c`, sends `req` and returns the answer; the stream is kept in `*keep`.
Task<HopMessage> hopExchange(std::shared_ptr<Host> h, std::shared_ptr<Connection> c, HopMessage req,
                             std::shared_ptr<yamux::Stream>* keep) {
  const std::vector<std::string> protos{std::string(kHopProtocol)};
  auto s = co_await h->newStream(c, protos);
  if (!s) co_return s.error();
  *keep = *s;
  const Bytes bytes = encode(req);
  if (auto w = co_await writeLengthPrefixed(**s, bytes); !w) co_return w.error();
  auto raw = co_await readLengthPrefixed(**s, kMaxMessageSize);
  if (!raw) co_return raw.error();
  co_return decodeHop(*raw);
}

HopMessage reserveMsg() {
  HopMessage m;
  m.type = HopMessage::Type::kReserve;
  return m;
}

HopMessage connectMsg(const crypto::PeerId& target) {
  HopMessage m;
  m.type = HopMessage::Type::kConnect;
  m.peer = Peer{target, {}};
  return m;
}

/// Writes `data`, half-closes, and reads everything back until EOF.
Task<Bytes> roundTrip(std::shared_ptr<yamux::Stream> s, Bytes data) {
  if (auto w = co_await s->write(data); !w) co_return w.error();
  if (auto w = co_await s->closeWrite(); !w) co_return w.error();
  co_return co_await readToEnd(*s, 1 << 24);
}

class HopServiceTest : public ::testing::Test {
 protected:
  asio::io_context io{1};
  crypto::Identity idR = crypto::Identity::generate().value();
  crypto::Identity idT = crypto::Identity::generate().value();
  crypto::Identity idS = crypto::Identity::generate().value();
  std::shared_ptr<Host> r, t, s;
  std::shared_ptr<HopService> hop;
  std::shared_ptr<StopLog> stopLog = std::make_shared<StopLog>();
  std::set<crypto::PeerId> allowed;
  Multiaddr addrR;

  void start(HopLimits limits = {}) {
    r = Host::create(io.get_executor(), idR);
    t = Host::create(io.get_executor(), idT);
    s = Host::create(io.get_executor(), idS);
    allowed.insert(idT.peerId());
    HopServiceOptions o;
    o.limits = limits;
    o.mayReserve = [this](const crypto::PeerId& p) { return allowed.contains(p); };
    o.publicAddrs = {Multiaddr::parse("/ip4/127.0.0.1/tcp/4001").value().withPeerId(idR.peerId())};
    hop = std::make_shared<HopService>(o);
    hop->install(r);
    auto log = stopLog;
    t->setHandler(std::string(kStopProtocol),
                  [log](std::shared_ptr<yamux::Stream> st, std::shared_ptr<Connection> c) {
                    return stopEcho(log, std::move(st), std::move(c));
                  });
    addrR = r->listen(Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value())
                .value()
                .withPeerId(idR.peerId());
  }
  void TearDown() override {
    for (auto& h : {r, t, s}) {
      if (h) h->close();
    }
    test::pump(io, 50ms);
  }

  /// T connects to R and reserves; returns the answer.
  HopMessage reserveT() {
    auto conn = run(io, t->connect(addrR)).value();
    std::shared_ptr<yamux::Stream> keep;
    return run(io, hopExchange(t, conn, reserveMsg(), &keep)).value();
  }
  /// S connects to R and sends CONNECT to T; the hop stream is left in `*keep`.
  HopMessage connectS(std::shared_ptr<yamux::Stream>* keep) {
    auto conn = run(io, s->connect(addrR)).value();
    return run(io, hopExchange(s, conn, connectMsg(idT.peerId()), keep)).value();
  }
};

TEST_F(HopServiceTest, ReserveThenConnectCarriesBytesBothWays) {
  start();
  const HopMessage rsv = reserveT();
  ASSERT_EQ(rsv.status, Status::kOk);
  ASSERT_TRUE(rsv.reservation);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  EXPECT_GT(rsv.reservation->expire, static_cast<std::uint64_t>(now.count()));
  ASSERT_EQ(rsv.reservation->addrs.size(), 1u);
  EXPECT_FALSE(rsv.limit) << "per-circuit limits are off: no Limit at all";
  EXPECT_TRUE(hop->hasReservation(idT.peerId()));

  std::shared_ptr<yamux::Stream> circuit;
  const HopMessage ok = connectS(&circuit);
  ASSERT_EQ(ok.status, Status::kOk);
  EXPECT_FALSE(ok.limit);
  Bytes data(100 * 1024);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 31 + 7);
  auto back = run(io, roundTrip(circuit, data));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, data);
  ASSERT_EQ(stopLog->from.size(), 1u);
  EXPECT_EQ(stopLog->from[0], idS.peerId());
  EXPECT_FALSE(stopLog->limits[0]);
  // Both directions ended: the splice ends and gives its slot back.
  for (int i = 0; i < 200 && hop->openCircuits() != 0; ++i) test::pump(io, 10ms);
  EXPECT_EQ(hop->openCircuits(), 0u);
}

TEST_F(HopServiceTest, ReserveFromPeerNotAllowedIsPermissionDenied) {
  start();
  auto conn = run(io, s->connect(addrR)).value();
  std::shared_ptr<yamux::Stream> keep;
  const HopMessage m = run(io, hopExchange(s, conn, reserveMsg(), &keep)).value();
  EXPECT_EQ(m.status, Status::kPermissionDenied);
  EXPECT_FALSE(m.reservation);
  EXPECT_EQ(hop->reservations(), 0u);
}

TEST_F(HopServiceTest, ConnectWithoutReservationIsNoReservation) {
  start();
  // T is connected but never reserved.
  (void)run(io, t->connect(addrR)).value();
  std::shared_ptr<yamux::Stream> keep;
  EXPECT_EQ(connectS(&keep).status, Status::kNoReservation);
  EXPECT_TRUE(stopLog->from.empty()) << "no STOP without a reservation";
}

TEST_F(HopServiceTest, CircuitsPerReservationOverLimitIsResourceLimitExceeded) {
  HopLimits limits;
  limits.maxCircuitsPerReservation = 1;
  start(limits);
  ASSERT_EQ(reserveT().status, Status::kOk);
  std::shared_ptr<yamux::Stream> first, second;
  ASSERT_EQ(connectS(&first).status, Status::kOk);
  EXPECT_EQ(connectS(&second).status, Status::kResourceLimitExceeded);
  // The first circuit is unaffected.
  const Bytes ping{'p', 'i', 'n', 'g'};
  auto back = run(io, roundTrip(first, ping));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, ping);
}

TEST_F(HopServiceTest, ReservationEndsWhenTargetDisconnects) {
  start();
  ASSERT_EQ(reserveT().status, Status::kOk);
  ASSERT_TRUE(hop->hasReservation(idT.peerId()));
  t->close();
  for (int i = 0; i < 500 && hop->hasReservation(idT.peerId()); ++i) test::pump(io, 10ms);
  EXPECT_FALSE(hop->hasReservation(idT.peerId()));
  std::shared_ptr<yamux::Stream> keep;
  EXPECT_EQ(connectS(&keep).status, Status::kNoReservation);
}

TEST_F(HopServiceTest, RefreshExtendsExpire) {
  start();
  auto conn = run(io, t->connect(addrR)).value();
  std::shared_ptr<yamux::Stream> keep;
  const HopMessage first = run(io, hopExchange(t, conn, reserveMsg(), &keep)).value();
  ASSERT_EQ(first.status, Status::kOk);
  // `expire` is in whole seconds: let the clock pass one.
  test::pump(io, 1100ms);
  const HopMessage again = run(io, hopExchange(t, conn, reserveMsg(), &keep)).value();
  ASSERT_EQ(again.status, Status::kOk);
  EXPECT_GT(again.reservation->expire, first.reservation->expire);
  EXPECT_EQ(hop->reservations(), 1u);
}

TEST_F(HopServiceTest, DroppedReservationRefusesNewCircuits) {
  start();
  ASSERT_EQ(reserveT().status, Status::kOk);
  EXPECT_TRUE(hop->dropReservation(idT.peerId()));
  std::shared_ptr<yamux::Stream> keep;
  EXPECT_EQ(connectS(&keep).status, Status::kNoReservation);
}

TEST_F(HopServiceTest, DataLimitResetsTheCircuitAndIsAnnounced) {
  HopLimits limits;
  limits.circuitDataBytes = 1000;
  start(limits);
  const HopMessage rsv = reserveT();
  ASSERT_EQ(rsv.status, Status::kOk);
  ASSERT_TRUE(rsv.limit);
  EXPECT_EQ(rsv.limit->dataBytes, 1000u);
  std::shared_ptr<yamux::Stream> circuit;
  const HopMessage ok = connectS(&circuit);
  ASSERT_EQ(ok.status, Status::kOk);
  ASSERT_TRUE(ok.limit);
  Bytes data(5000, 0x42);
  auto back = run(io, roundTrip(circuit, data));
  EXPECT_FALSE(back && *back == data) << "5000 bytes passed a 1000-byte circuit limit";
  ASSERT_EQ(stopLog->limits.size(), 1u);
  ASSERT_TRUE(stopLog->limits[0]);
  EXPECT_EQ(stopLog->limits[0]->dataBytes, 1000u);
}

}  // namespace
}  // namespace pc::net::relay
