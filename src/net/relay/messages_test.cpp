#include "net/relay/messages.hpp"

#include <gtest/gtest.h>

#include "core/protobuf.hpp"
#include "crypto/identity.hpp"

namespace pc::net::relay {
namespace {

Bytes hex(std::initializer_list<int> b) {
  Bytes out;
  for (int x : b) {
    out.push_back(static_cast<std::uint8_t>(x));
  }
  return out;
}

crypto::PeerId newPeer() { return crypto::Identity::generate().value().peerId(); }

TEST(RelayMessages, BytesAsTheSpecAndJsWriteThem) {
  // RESERVE carries its type although it is 0 (js refuses a message without one).
  EXPECT_EQ(encode(HopMessage{HopMessage::Type::kReserve, {}, {}, {}, {}}), hex({0x08, 0x00}));
  EXPECT_EQ(encode(HopMessage{HopMessage::Type::kStatus, {}, {}, {}, Status::kOk}),
            hex({0x08, 0x02, 0x28, 0x64}));
  EXPECT_EQ(encode(HopMessage{HopMessage::Type::kStatus, {}, {}, {}, Status::kNoReservation}),
            hex({0x08, 0x02, 0x28, 0xcc, 0x01}));
  EXPECT_EQ(encode(StopMessage{StopMessage::Type::kStatus, {}, {}, Status::kOk}),
            hex({0x08, 0x01, 0x20, 0x64}));
  // A Limit, even an empty one, is written when present: an unlimited circuit must omit it (go
  // marks any present Limit as a limited connection).
  EXPECT_EQ(encode(StopMessage{StopMessage::Type::kConnect, {}, Limit{}, {}}),
            hex({0x08, 0x00, 0x1a, 0x00}));
}

TEST(RelayMessages, HopRoundTripsEveryField) {
  HopMessage m;
  m.type = HopMessage::Type::kStatus;
  const auto relay = newPeer();
  m.reservation =
      Reservation{1700000000,
                  {Multiaddr::parse("/ip4/198.18.0.1/tcp/4001/p2p/" + relay.toBase58()).value()},
                  hex({1, 2, 3})};
  m.limit = Limit{120, 1 << 20};
  m.status = Status::kOk;
  m.peer = Peer{newPeer(), {Multiaddr::parse("/ip4/10.0.0.2/tcp/1").value()}};
  const auto d = decodeHop(encode(m)).value();
  EXPECT_EQ(d.type, HopMessage::Type::kStatus);
  ASSERT_TRUE(d.reservation && d.peer && d.limit && d.status);
  EXPECT_EQ(d.reservation->expire, 1700000000U);
  EXPECT_EQ(d.reservation->addrs, m.reservation->addrs);
  EXPECT_EQ(d.reservation->voucher, hex({1, 2, 3}));
  EXPECT_EQ(*d.limit, (Limit{120, 1 << 20}));
  EXPECT_EQ(*d.status, Status::kOk);
  EXPECT_EQ(d.peer->id, m.peer->id);
  EXPECT_EQ(d.peer->addrs, m.peer->addrs);
  EXPECT_EQ(encode(d), encode(m));
}

TEST(RelayMessages, StopConnectNamesTheSource) {
  const auto src = newPeer();
  const auto d =
      decodeStop(encode(StopMessage{StopMessage::Type::kConnect, Peer{src, {}}, {}, {}})).value();
  EXPECT_EQ(d.type, StopMessage::Type::kConnect);
  ASSERT_TRUE(d.peer);
  EXPECT_EQ(d.peer->id, src);
  EXPECT_FALSE(d.limit);
}

TEST(RelayMessages, MalformedMessagesAreRefused) {
  EXPECT_FALSE(decodeHop({}));                       // no type
  EXPECT_FALSE(decodeHop(hex({0x28, 0x64})));        // a status but no type
  EXPECT_FALSE(decodeHop(hex({0x08, 0x03})));        // unknown hop type
  EXPECT_FALSE(decodeStop(hex({0x08, 0x02})));       // unknown stop type
  EXPECT_FALSE(decodeHop(hex({0x0a, 0x00})));        // type as bytes
  EXPECT_FALSE(decodeHop(hex({0x08, 0x01, 0x12})));  // truncated peer
  // A peer without an id, and one whose id is not a peer id.
  EXPECT_FALSE(decodeHop(hex({0x08, 0x01, 0x12, 0x00})));
  EXPECT_FALSE(decodeHop(hex({0x08, 0x01, 0x12, 0x03, 0x0a, 0x01, 0x00})));
  Bytes big(kMaxMessageSize + 1, 0);
  EXPECT_EQ(decodeHop(big).error().code(), make_error_code(Errc::kTooLarge));
  // Too many addresses.
  Peer p{newPeer(), {}};
  for (std::size_t i = 0; i <= kMaxAddrs; ++i) {
    p.addrs.push_back(Multiaddr::parse("/ip4/10.0.0.1/tcp/" + std::to_string(i + 1)).value());
  }
  EXPECT_EQ(decodeHop(encode(HopMessage{HopMessage::Type::kConnect, p, {}, {}, {}})).error().code(),
            make_error_code(Errc::kTooLarge));
}

TEST(RelayMessages, UnknownFieldsAndStatusesAreKept) {
  Bytes b = hex({0x08, 0x02, 0x28, 0xe7, 0x07});  // status 999
  protobuf::writeBytesField(b, 15, hex({1, 2}));  // a field from a later version
  const auto d = decodeHop(b).value();
  EXPECT_EQ(static_cast<std::uint32_t>(*d.status), 999U);
  EXPECT_EQ(statusName(*d.status), "status 999");
  EXPECT_EQ(statusName(Status::kResourceLimitExceeded), "RESOURCE_LIMIT_EXCEEDED");
}

}  // namespace
}  // namespace pc::net::relay
