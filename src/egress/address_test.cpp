#include "egress/address.hpp"

#include <gtest/gtest.h>

namespace pc::egress {
namespace {

Address A(const char* s) { return boost::asio::ip::make_address(s); }

bool refused(const char* s) { return refusal(A(s)).has_value(); }

TEST(EgressAddress, EveryRefusedIpv4BlockIsRefusedAtBothEndsAndNotOutside) {
  for (const auto& r : refusedV4()) {
    const auto c = *Cidr::parse(r.cidr);
    const std::uint32_t first = c.network.to_v4().to_uint();
    const std::uint32_t last = first + static_cast<std::uint32_t>((1ULL << (32 - c.prefix)) - 1);
    EXPECT_TRUE(refusal(boost::asio::ip::address_v4(first))) << r.cidr;
    EXPECT_TRUE(refusal(boost::asio::ip::address_v4(last))) << r.cidr;
  }
}

TEST(EgressAddress, NamesEachRange) {
  const std::pair<const char*, const char*> cases[] = {
      {"0.0.0.0", "this network"},
      {"10.1.2.3", "RFC 1918"},
      {"100.64.0.1", "RFC 6598"},
      {"100.127.255.255", "RFC 6598"},
      {"127.0.0.1", "loopback"},
      {"169.254.169.254", "metadata"},
      {"172.16.0.1", "RFC 1918"},
      {"172.31.255.255", "RFC 1918"},
      {"192.0.0.8", "IETF"},
      {"192.0.2.1", "TEST-NET-1"},
      {"192.88.99.1", "6to4"},
      {"192.168.1.1", "RFC 1918"},
      {"198.51.100.7", "TEST-NET-2"},
      {"203.0.113.9", "TEST-NET-3"},
      {"224.0.0.251", "multicast"},
      {"239.255.255.250", "multicast"},
      {"255.255.255.255", "broadcast"},
      {"240.0.0.1", "reserved"},
      {"::1", "not global unicast"},
      {"::", "not global unicast"},
      {"fe80::1", "not global unicast"},
      {"fd12:3456::1", "not global unicast"},
      {"fc00::1", "not global unicast"},
      {"ff02::fb", "not global unicast"},
      {"2001:db8::1", "documentation"},
      {"2001:0::1", "IETF"},
      {"2002:a00:1::1", "6to4"},
      {"3fff::1", "documentation"},
      {"::10.0.0.1", "not global unicast"},
  };
  for (const auto& [addr, what] : cases) {
    auto r = refusal(A(addr));
    ASSERT_TRUE(r) << addr;
    EXPECT_NE(r->find(what), std::string::npos) << addr << ": " << *r;
  }
}

TEST(EgressAddress, PublicAddressesPass) {
  for (const char* a :
       {"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
        "172.15.255.255", "172.32.0.0", "192.167.255.255", "192.169.0.0", "198.18.0.1",
        "198.19.255.255", "223.255.255.255", "2606:4700::1111", "2a00:1450::1", "2001:200::1"}) {
    EXPECT_FALSE(refused(a)) << a;
  }
}

TEST(EgressAddress, MappedAndNat64AreJudgedByTheirIpv4) {
  EXPECT_TRUE(refused("::ffff:10.0.0.1"));
  EXPECT_TRUE(refused("::ffff:169.254.169.254"));
  EXPECT_TRUE(refused("::ffff:127.0.0.1"));
  EXPECT_FALSE(refused("::ffff:8.8.8.8"));
  EXPECT_TRUE(refused("64:ff9b::10.0.0.1"));
  EXPECT_TRUE(refused("64:ff9b::192.168.1.1"));
  EXPECT_FALSE(refused("64:ff9b::8.8.8.8"));
  EXPECT_NE(refusal(A("64:ff9b::a9fe:a9fe"))->find("NAT64"), std::string::npos);
  EXPECT_TRUE(refused("64:ff9b:1::8.8.8.8"));  // local-use NAT64: mapping unknown
}

TEST(EgressCidr, ParsesAndRefusesBadText) {
  EXPECT_EQ(Cidr::parse("10.1.0.0/16")->toString(), "10.1.0.0/16");
  EXPECT_EQ(Cidr::parse("10.1.2.3")->toString(), "10.1.2.3/32");
  EXPECT_EQ(Cidr::parse("FD00::/8")->toString(), "fd00::/8");
  EXPECT_EQ(Cidr::parse("::1")->prefix, 128U);
  for (const char* bad :
       {"", "10.1.2.3/16", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "host.example",
        "fe80::1%eth0", "fd00::/129", "10.0.0.256", "/8"}) {
    EXPECT_FALSE(Cidr::parse(bad)) << bad;
  }
  EXPECT_NE(Cidr::parse("10.1.2.3/16").error().message().find("host bits"), std::string::npos);
}

TEST(EgressCidr, ContainsOnlyItsFamily) {
  const auto c = *Cidr::parse("10.0.0.0/8");
  EXPECT_TRUE(c.contains(A("10.255.0.1")));
  EXPECT_FALSE(c.contains(A("11.0.0.0")));
  EXPECT_FALSE(c.contains(A("::ffff:10.0.0.1")));
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(A("1.2.3.4")));
}

}  // namespace
}  // namespace pc::egress
