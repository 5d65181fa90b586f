#include "egress/policy.hpp"

#include <unistd.h>

#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>

namespace pc::egress {
namespace {

TEST(EgressPolicy, Modes) {
  EXPECT_EQ(*parseMode("internet"), Mode::kInternet);
  EXPECT_EQ(*parseMode("none"), Mode::kNone);
  EXPECT_FALSE(parseMode("all"));
  EXPECT_FALSE(parseMode("Internet"));
  EXPECT_EQ(narrower(Mode::kInternet, Mode::kNone), Mode::kNone);
  EXPECT_EQ(narrower(Mode::kNone, Mode::kInternet), Mode::kNone);
  EXPECT_EQ(narrower(Mode::kInternet, Mode::kInternet), Mode::kInternet);
}

TEST(EgressPolicy, AllowEntries) {
  auto a = AllowEntry::parse("10.1.2.0/24:443");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->net.toString(), "10.1.2.0/24");
  EXPECT_EQ(a->port, 443);
  EXPECT_EQ(a->toString(), "10.1.2.0/24:443");
  EXPECT_EQ(AllowEntry::parse("10.1.2.7")->toString(), "10.1.2.7/32");
  EXPECT_EQ(AllowEntry::parse("fd00::/8")->toString(), "fd00::/8");
  EXPECT_FALSE(AllowEntry::parse("fd00::/8")->port);
  EXPECT_EQ(AllowEntry::parse("[fd00::/8]:53")->toString(), "[fd00::/8]:53");
  for (const char* bad :
       {"10.1.2.0/24:0", "10.1.2.0/24:65536", "10.1.2.0/24:", "10.1.2.0/24:x", "[fd00::/8]",
        "[fd00::/8]443", "[fd00::/8]:", "10.1.2.3/24", "lan", ":80", "10.0.0.0/8:80:81",
        // wider than a private range; an IPv6 host whose last group may be a port
        "0.0.0.0/0", "::/0", "0.0.0.0/6:443", "fd00::1:443", "fd00::1"}) {
    EXPECT_FALSE(AllowEntry::parse(bad)) << bad;
  }
}

TEST(EgressPolicy, ResolvConf) {
  const auto r = parseResolvConf(
      "# comment\nsearch example.org\nnameserver 10.255.255.53\nnameserver 127.0.0.53\n"
      "nameserver fe80::1%eth0\n  nameserver   192.168.1.1  \nnameserver bogus\n"
      "nameserver 9.9.9.9\n");
  ASSERT_EQ(r.size(), 3U);  // at most three, as the resolver itself reads
  EXPECT_EQ(r[0].to_string(), "10.255.255.53");
  EXPECT_EQ(r[1].to_string(), "fe80::1");
  EXPECT_EQ(r[2].to_string(), "192.168.1.1");
  EXPECT_TRUE(parseResolvConf("").empty());
  EXPECT_TRUE(hostResolvers("/nonexistent/resolv.conf").empty());
}

TEST(EgressPolicy, SystemdResolvedStubMeansItsUpstreamServers) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("pc-resolv-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto write = [&](const char* name, const char* text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  const auto stub = write("stub.conf", "nameserver 127.0.0.53\noptions edns0 trust-ad\n");
  const auto upstream = write("upstream.conf", "nameserver 192.168.1.1\nnameserver 9.9.9.9\n");
  const auto plain = write("plain.conf", "nameserver 10.0.0.2\n");
  const auto r = hostResolvers(stub, upstream);
  ASSERT_EQ(r.size(), 2U);
  EXPECT_EQ(r[0].to_string(), "192.168.1.1");
  // A resolv.conf naming real servers is taken as it is.
  ASSERT_EQ(hostResolvers(plain, upstream).size(), 1U);
  EXPECT_EQ(hostResolvers(plain, upstream)[0].to_string(), "10.0.0.2");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pc::egress
