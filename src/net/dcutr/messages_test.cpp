#include "net/dcutr/messages.hpp"

#include <gtest/gtest.h>

namespace pc::net::dcutr {
namespace {

TEST(DcutrMessages, BytesAsTheSpecWritesThem) {
  // SYNC carries no addresses (js sends an empty list): 08 ac 02.
  EXPECT_EQ(encode(HolePunch{HolePunch::Type::kSync, {}}), (Bytes{0x08, 0xac, 0x02}));
  const auto a = Multiaddr::parse("/ip4/198.18.0.7/tcp/4001").value();
  Bytes expected{0x08, 0x64, 0x12, static_cast<std::uint8_t>(a.toBytes().size())};
  append(expected, a.toBytes());
  EXPECT_EQ(encode(HolePunch{HolePunch::Type::kConnect, {a}}), expected);
}

TEST(DcutrMessages, RoundTripsAndSkipsAddressesItCannotRead) {
  const auto a = Multiaddr::parse("/ip4/10.0.0.2/tcp/4001").value();
  const auto b = Multiaddr::parse("/ip6/::1/tcp/1").value();
  auto bytes = encode(HolePunch{HolePunch::Type::kConnect, {a, b}});
  // An address of a transport we do not know, and a field from a later version.
  bytes.insert(bytes.end(), {0x12, 0x02, 0xff, 0x7f, 0x7a, 0x01, 0x00});
  const auto d = decode(bytes).value();
  EXPECT_EQ(d.type, HolePunch::Type::kConnect);
  EXPECT_EQ(d.observedAddrs, (std::vector<Multiaddr>{a, b}));
}

TEST(DcutrMessages, MalformedMessagesAreRefused) {
  EXPECT_FALSE(decode({}));                                   // no type
  EXPECT_FALSE(decode(Bytes{0x08, 0x01}));                    // unknown type
  EXPECT_FALSE(decode(Bytes{0x0a, 0x00}));                    // type as bytes
  EXPECT_FALSE(decode(Bytes{0x08, 0x64, 0x10, 0x01}));        // an address as a varint
  EXPECT_FALSE(decode(Bytes{0x08, 0x64, 0x12, 0x05, 0x04}));  // truncated
  EXPECT_EQ(decode(Bytes(kMaxMessageSize + 1, 0)).error().code(), make_error_code(Errc::kTooLarge));
  HolePunch many{HolePunch::Type::kConnect, {}};
  for (std::size_t i = 0; i <= kMaxAddrs; ++i) {
    many.observedAddrs.push_back(
        Multiaddr::parse("/ip4/10.0.0.1/tcp/" + std::to_string(i + 1)).value());
  }
  EXPECT_EQ(decode(encode(many)).error().code(), make_error_code(Errc::kTooLarge));
}

}  // namespace
}  // namespace pc::net::dcutr
