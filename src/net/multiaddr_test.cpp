#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "net/multiaddr.hpp"

namespace pc::net {
namespace {

constexpr const char* kPeer = "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB";

TEST(Multiaddr, RelayedAddressesSplitIntoRelayAndTarget) {
  const std::string relay = "/ip4/198.18.0.1/tcp/4001/p2p/" + std::string(kPeer);
  const std::string target = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
  auto full = Multiaddr::parse(relay + "/p2p-circuit/p2p/" + target).value();
  ASSERT_TRUE(full.isCircuit());
  auto c = full.circuit();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->relay.toString(), relay);
  EXPECT_EQ(c->relayId.toBase58(), kPeer);
  ASSERT_TRUE(c->target);
  EXPECT_EQ(c->target->toBase58(), target);
  // Without the target's id (a listen address, or `peers add --addr` naming it elsewhere).
  c = Multiaddr::parse(relay + "/p2p-circuit").value().circuit();
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->target);
  // Not relayed addresses this side can use.
  EXPECT_FALSE(Multiaddr::parse(relay).value().circuit());
  EXPECT_FALSE(Multiaddr::parse(relay).value().isCircuit());
  EXPECT_FALSE(Multiaddr::parse("/p2p-circuit/p2p/" + target).value().circuit());      // no relay
  EXPECT_FALSE(Multiaddr::parse("/ip4/1.2.3.4/tcp/1/p2p-circuit").value().circuit());  // no id
  EXPECT_FALSE(Multiaddr::parse(relay + "/p2p-circuit/p2p/" + target + "/p2p-circuit/p2p/" + target)
                   .value()
                   .circuit());  // two hops
  EXPECT_FALSE(Multiaddr::parse(relay + "/p2p-circuit/ip4/1.2.3.4/tcp/1").value().circuit());
}

TEST(Multiaddr, TextAndBinaryVectors) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"/ip4/127.0.0.1/tcp/4001", "047f000001060fa1"},
      {"/ip4/1.2.3.4/udp/4001/quic-v1", "04010203049102 0fa1cc03"},
      {"/ip6/::1/tcp/0", "2900000000000000000000000000000001060000"},
      {"/dns4/example.com/tcp/443", "360b6578616d706c652e636f6d0601bb"},
      {"/dns/localhost/tcp/80", "35096c6f63616c686f737406 0050"},
      {"/dns6/a.b/udp/53", "3703612e62 9102 0035"},
      {"/ip4/127.0.0.1/tcp/4001/p2p-circuit", "047f000001060fa1 a202"},
  };
  for (auto [text, hexWithSpaces] : cases) {
    std::string h;
    for (char c : hexWithSpaces)
      if (c != ' ') h += c;
    auto ma = Multiaddr::parse(text);
    ASSERT_TRUE(ma) << text << ": " << ma.error().message();
    EXPECT_EQ(toHex(ma->toBytes()), h) << text;
    EXPECT_EQ(ma->toString(), text);
    auto back = Multiaddr::fromBytes(ma->toBytes());
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, *ma);
  }
}

TEST(Multiaddr, PeerIdComponent) {
  auto ma = Multiaddr::parse(std::string("/ip4/10.0.0.1/tcp/9000/p2p/") + kPeer).value();
  ASSERT_TRUE(ma.peerId());
  EXPECT_EQ(ma.peerId()->toBase58(), kPeer);
  EXPECT_EQ(ma.withoutPeerId().toString(), "/ip4/10.0.0.1/tcp/9000");
  EXPECT_EQ(ma.withoutPeerId().withPeerId(*ma.peerId()), ma);
  EXPECT_EQ(Multiaddr::fromBytes(ma.toBytes()).value(), ma);
  // The historical /ipfs/ name is accepted and printed as /p2p/.
  EXPECT_EQ(Multiaddr::parse(std::string("/ipfs/") + kPeer).value().toString(),
            std::string("/p2p/") + kPeer);
  auto t = ma.tcpTarget();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "10.0.0.1");
  EXPECT_EQ(t->port, 9000);
  EXPECT_FALSE(Multiaddr::parse("/ip4/1.2.3.4/udp/1/quic-v1").value().tcpTarget());
}

TEST(Multiaddr, ErrorsNameTheComponent) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"ip4/1.2.3.4", "start with '/'"},
      {"/ip4/256.1.1.1/tcp/1", "ip4"},
      {"/ip4/1.2.3/tcp/1", "ip4"},
      {"/ip6/:::/tcp/1", "ip6"},
      {"/ip4/1.2.3.4/tcp/65536", "tcp port"},
      {"/ip4/1.2.3.4/tcp/-1", "tcp port"},
      {"/ip4/1.2.3.4/tcp/08", "tcp port"},
      {"/ip4/1.2.3.4/tcp", "tcp needs a value"},
      {"/ip4/1.2.3.4/udp/x", "udp port"},
      {"/foo/1", "unknown protocol 'foo'"},
      {"/ip4/1.2.3.4//tcp/1", "empty protocol"},
      {"/dns4/a b/tcp/1", "dns4"},
      {"/p2p/notapeer", "p2p"},
      {"/", "empty protocol"},
  };
  for (auto [text, needle] : cases) {
    auto r = Multiaddr::parse(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error(), make_error_code(Errc::kBadMultiaddr));
    EXPECT_NE(r.error().message().find(needle), std::string::npos)
        << text << " -> " << r.error().message();
  }
}

TEST(Multiaddr, BinaryErrors) {
  auto bytes = [](std::string_view h) { return fromHex(h).value(); };
  EXPECT_FALSE(Multiaddr::fromBytes(bytes("")));
  EXPECT_FALSE(Multiaddr::fromBytes(bytes("047f0000")));    // truncated ip4
  EXPECT_FALSE(Multiaddr::fromBytes(bytes("06")));          // truncated port
  EXPECT_FALSE(Multiaddr::fromBytes(bytes("3605616263")));  // dns4 length past end
  EXPECT_FALSE(Multiaddr::fromBytes(bytes("3603612f62")));  // '/' inside a name
  EXPECT_FALSE(Multiaddr::fromBytes(bytes("a50302abcd")));  // p2p with a bad multihash
  auto unknown = Multiaddr::fromBytes(bytes("7f00"));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("127"), std::string::npos);
  Bytes many;
  for (int i = 0; i < 17; ++i) append(many, bytes("047f000001"));
  EXPECT_FALSE(Multiaddr::fromBytes(many));
}

RC_GTEST_PROP(MultiaddrProp, GeneratedAddressesRoundTrip,
              (std::uint32_t ip, std::uint16_t port, bool udp, bool withPeer)) {
  std::string text = "/ip4/" + std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) +
                     "." + std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255) +
                     (udp ? "/udp/" : "/tcp/") + std::to_string(port);
  if (withPeer) text += std::string("/p2p/") + kPeer;
  auto ma = Multiaddr::parse(text);
  RC_ASSERT(ma.has_value());
  RC_ASSERT(ma->toString() == text);
  RC_ASSERT(Multiaddr::fromBytes(ma->toBytes()).value() == *ma);
}

RC_GTEST_PROP(MultiaddrProp, DecodersNeverCrash, (std::vector<std::uint8_t> b, std::string t)) {
  auto m = Multiaddr::fromBytes(b);
  if (m) RC_ASSERT(Multiaddr::fromBytes(m->toBytes()).value() == *m);
  (void)Multiaddr::parse(t);
  (void)Multiaddr::parse("/" + t);
}

}  // namespace
}  // namespace pc::net
