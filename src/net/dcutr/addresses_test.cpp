#include "net/dcutr/addresses.hpp"

#include <gtest/gtest.h>

#include "crypto/identity.hpp"

namespace pc::net::dcutr {
namespace {

Multiaddr ma(const std::string& text) { return Multiaddr::parse(text).value(); }

std::vector<std::string> texts(const std::vector<Multiaddr>& v) {
  std::vector<std::string> out;
  for (const auto& a : v) out.push_back(a.toString());
  return out;
}

TEST(DcutrAddresses, KeepsPlainTcpAndDropsTheRest) {
  const auto id = crypto::Identity::generate().value().peerId();
  const std::vector<Multiaddr> in{
      ma("/ip4/198.18.0.2/tcp/4001").withPeerId(id),
      ma("/ip4/198.18.0.9/tcp/4001/p2p/" + id.toBase58() + "/p2p-circuit"),  // circuit
      ma("/ip4/127.0.0.1/tcp/4001"),                                         // loopback
      ma("/ip6/fe80::1/tcp/4001"),                                           // link-local
      ma("/ip4/169.254.3.4/tcp/4001"),                                       // link-local
      ma("/ip4/0.0.0.0/tcp/4001"),                                           // unspecified
      ma("/dns4/example.com/tcp/4001"),                                      // not an IP
      ma("/ip4/198.18.0.2/udp/4001/quic-v1"),                                // not TCP
      ma("/ip4/10.1.1.2/tcp/4001"),                                          // private: kept
      ma("/ip6/2001:db8::1/tcp/4001"),
  };
  EXPECT_EQ(texts(selectCandidates(in, {})),
            (std::vector<std::string>{"/ip4/198.18.0.2/tcp/4001", "/ip4/10.1.1.2/tcp/4001",
                                      "/ip6/2001:db8::1/tcp/4001"}));
}

TEST(DcutrAddresses, LoopbackOnlyWhenAllowed) {
  const std::vector<Multiaddr> in{ma("/ip4/127.0.0.1/tcp/4001"), ma("/ip6/::1/tcp/4001")};
  EXPECT_TRUE(selectCandidates(in, {}).empty());
  EXPECT_EQ(selectCandidates(in, AddrPolicy{true}).size(), 2u);
}

TEST(DcutrAddresses, DedupesAndCaps) {
  std::vector<Multiaddr> in;
  const auto id = crypto::Identity::generate().value().peerId();
  in.push_back(ma("/ip4/198.18.0.2/tcp/1"));
  in.push_back(ma("/ip4/198.18.0.2/tcp/1").withPeerId(id));  // same once /p2p is dropped
  for (int port = 2; port < 40; ++port) {
    in.push_back(ma("/ip4/198.18.0.2/tcp/" + std::to_string(port)));
  }
  const auto out = selectCandidates(in, {});
  ASSERT_EQ(out.size(), kMaxCandidates);
  EXPECT_EQ(out[0].toString(), "/ip4/198.18.0.2/tcp/1");
  EXPECT_EQ(out[1].toString(), "/ip4/198.18.0.2/tcp/2");
}

TEST(DcutrAddresses, OwnListIsObservedThenPredictedThenListen) {
  const std::vector<Multiaddr> observed{ma("/ip4/198.18.0.2/tcp/40123"),
                                        ma("/ip4/198.18.0.2/tcp/4001")};
  const std::vector<Multiaddr> listen{ma("/ip4/10.1.1.2/tcp/4001"), ma("/ip4/127.0.0.1/tcp/4001")};
  EXPECT_EQ(texts(ownCandidates(observed, 4001, listen, {})),
            (std::vector<std::string>{"/ip4/198.18.0.2/tcp/40123", "/ip4/198.18.0.2/tcp/4001",
                                      "/ip4/10.1.1.2/tcp/4001"}));
  EXPECT_TRUE(ownCandidates({}, 0, {}, {}).empty());
}

TEST(DcutrAddresses, PrivateNetworksAreKnown) {
  for (const char* a : {"/ip4/10.2.2.2/tcp/1", "/ip4/172.16.0.1/tcp/1", "/ip4/172.31.255.1/tcp/1",
                        "/ip4/192.168.1.5/tcp/1", "/ip4/100.64.0.1/tcp/1", "/ip4/100.127.0.1/tcp/1",
                        "/ip6/fd00::1/tcp/1"}) {
    EXPECT_TRUE(isPrivateNetwork(Multiaddr::parse(a).value())) << a;
  }
  for (const char* a : {"/ip4/198.18.0.3/tcp/1", "/ip4/172.32.0.1/tcp/1", "/ip4/100.128.0.1/tcp/1",
                        "/ip4/8.8.8.8/tcp/1", "/ip6/2001:db8::1/tcp/1", "/ip4/11.0.0.1/tcp/1"}) {
    EXPECT_FALSE(isPrivateNetwork(Multiaddr::parse(a).value())) << a;
  }
}

}  // namespace
}  // namespace pc::net::dcutr
