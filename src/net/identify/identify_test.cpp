#include "net/identify/identify.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <boost/asio/io_context.hpp>

#include "core/protobuf.hpp"
#include "crypto/identity.hpp"
#include "net/error.hpp"
#include "support/memory_stream.hpp"
#include "support/run.hpp"

namespace pc::net::identify {
namespace {

Multiaddr addr(const char* text) { return Multiaddr::parse(text).value(); }

Message sample() {
  Message m;
  m.publicKey = Bytes{8, 1, 18, 2, 0xAA, 0xBB};
  m.info.agentVersion = "peercompute/0.1.0";
  m.info.protocolVersion = std::string(kProtocolVersion);
  m.info.protocols = {"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"};
  m.info.listenAddrs = {addr("/ip4/192.0.2.1/tcp/4001"), addr("/ip6/::1/tcp/4001")};
  m.info.observedAddr = addr("/ip4/198.51.100.7/tcp/50000");
  return m;
}

void expectSame(const Message& a, const Message& b) {
  EXPECT_EQ(a.publicKey, b.publicKey);
  EXPECT_EQ(a.info.agentVersion, b.info.agentVersion);
  EXPECT_EQ(a.info.protocolVersion, b.info.protocolVersion);
  EXPECT_EQ(a.info.protocols, b.info.protocols);
  EXPECT_EQ(a.info.listenAddrs, b.info.listenAddrs);
  EXPECT_EQ(a.info.observedAddr, b.info.observedAddr);
}

TEST(Identify, RoundTrips) {
  const auto m = sample();
  auto decoded = decode(encode(m));
  ASSERT_TRUE(decoded) << decoded.error().message();
  expectSame(m, *decoded);
}

TEST(Identify, EmptyMessageDecodes) {
  auto m = decode({});
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->info.protocols.empty());
  EXPECT_FALSE(m->info.observedAddr);
}

TEST(Identify, SkipsUnknownAddressesScalarsAndFields) {
  Bytes in;
  protobuf::writeBytesField(in, 2, Bytes{0xFF, 0xFF, 0x03});  // no such multiaddr protocol
  protobuf::writeBytesField(in, 2, addr("/ip4/192.0.2.1/tcp/1").toBytes());
  protobuf::writeVarintField(in, 6, 7);                        // wrong wire type: skipped
  protobuf::writeBytesField(in, 8, asBytes("signed record"));  // future field
  protobuf::writeBytesField(in, 4, Bytes{0xFF});               // unparseable observed address
  auto m = decode(in);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->info.listenAddrs.size(), 1u);
  EXPECT_EQ(m->info.listenAddrs[0], addr("/ip4/192.0.2.1/tcp/1"));
  EXPECT_TRUE(m->info.agentVersion.empty());
  EXPECT_FALSE(m->info.observedAddr);
}

TEST(Identify, RejectsTruncatedFields) {
  auto full = encode(sample());
  full.pop_back();
  EXPECT_EQ(decode(full).error(), make_error_code(Errc::kProtocolError));
}

TEST(Identify, BoundsListsFieldsAndSize) {
  Bytes protocols;
  for (std::size_t i = 0; i <= kMaxEntries; ++i) {
    protobuf::writeBytesField(protocols, 3, asBytes("/p"));
  }
  EXPECT_EQ(decode(protocols).error(), make_error_code(Errc::kTooLarge));

  Bytes addrs;
  const auto a = addr("/ip4/192.0.2.1/tcp/1").toBytes();
  for (std::size_t i = 0; i <= kMaxEntries; ++i) {
    protobuf::writeBytesField(addrs, 2, a);
  }
  EXPECT_EQ(decode(addrs).error(), make_error_code(Errc::kTooLarge));

  Bytes fields;
  for (std::size_t i = 0; i <= kMaxFields; ++i) {
    protobuf::writeVarintField(fields, 9, 1);
  }
  EXPECT_EQ(decode(fields).error(), make_error_code(Errc::kTooLarge));

  const Bytes huge(kMaxSize + 1, 0);
  EXPECT_EQ(decode(huge).error(), make_error_code(Errc::kTooLarge));
}

TEST(Identify, VerifyChecksTheKeyAgainstThePeer) {
  const auto id = crypto::Identity::generate().value();
  const auto other = crypto::Identity::generate().value();
  Message m = sample();
  m.publicKey = crypto::encodePublicKey(id.publicKey());
  auto info = verify(m, id.peerId());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->agentVersion, "peercompute/0.1.0");
  EXPECT_EQ(verify(m, other.peerId()).error(), make_error_code(Errc::kProtocolError));
  m.publicKey = Bytes{1, 2, 3};
  EXPECT_EQ(verify(m, id.peerId()).error(), make_error_code(Errc::kProtocolError));
  m.publicKey.clear();  // no key: nothing to contradict
  EXPECT_TRUE(verify(m, other.peerId()));
}

TEST(Identify, SendThenReceiveOverAStream) {
  asio::io_context io;
  auto pipe = test::memoryPipe(io.get_executor());
  auto& a = pipe.first;
  auto& b = pipe.second;
  const auto m = sample();
  Result<void> sent = fail(Errc::kClosed, "not sent");
  // A named reference, not a structured binding: clang 14 cannot capture bindings in lambdas.
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { sent = co_await send(*a, m); }, asio::detached);
  auto got = test::run(io, receive(*b));
  ASSERT_TRUE(got) << got.error().message();
  expectSame(m, *got);
  EXPECT_TRUE(sent) << sent.error().message();
}

RC_GTEST_PROP(IdentifyProp, RoundTripsAnyMessage,
              (std::string agent, std::string version, std::vector<std::string> protocols,
               std::vector<std::uint8_t> key)) {
  RC_PRE(protocols.size() <= kMaxEntries);
  Message m;
  m.publicKey = key;
  m.info.agentVersion = agent;
  m.info.protocolVersion = version;
  m.info.protocols = protocols;
  auto decoded = decode(encode(m));
  RC_ASSERT(decoded.has_value());
  RC_ASSERT(decoded->publicKey == m.publicKey);
  RC_ASSERT(decoded->info.agentVersion == agent);
  RC_ASSERT(decoded->info.protocolVersion == version);
  RC_ASSERT(decoded->info.protocols == protocols);
}

RC_GTEST_PROP(IdentifyProp, DecodeNeverCrashes, (std::vector<std::uint8_t> in)) {
  (void)decode(in);
}

}  // namespace
}  // namespace pc::net::identify
