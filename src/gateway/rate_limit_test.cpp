#include "gateway/rate_limit.hpp"

#include <gtest/gtest.h>

#include "gateway/http_proxy.hpp"

namespace pc::gateway {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, BurstThenRate) {
  RateLimiter r(10, 5);
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.take("a", t0), 0);
  EXPECT_GE(r.take("a", t0), 1);          // burst used up: Retry-After ≥ 1 s
  EXPECT_EQ(r.take("b", t0), 0);          // keys are independent
  EXPECT_EQ(r.take("a", t0 + 110ms), 0);  // one token per 100 ms
  EXPECT_GE(r.take("a", t0 + 120ms), 1);
}

TEST(RateLimiter, RetryAfterCoversTheWait) {
  RateLimiter r(0.5, 1);  // one request per two seconds
  const auto t0 = RateLimiter::Clock::now();
  EXPECT_EQ(r.take("a", t0), 0);
  EXPECT_EQ(r.take("a", t0), 2);
}

TEST(RateLimiter, DisabledAtZero) {
  RateLimiter r(0, 0);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(r.take("a"), 0);
  EXPECT_EQ(r.size(), 0U);
}

TEST(RateLimiter, KeyTableIsBounded) {
  RateLimiter r(1, 1, 100);
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 10'000; ++i) (void)r.take("k" + std::to_string(i), t0);
  EXPECT_LE(r.size(), 100U);
}

TEST(RateLimiter, ClientAddressBlocks) {
  EXPECT_EQ(clientAddressBlock("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(clientAddressBlock("::ffff:203.0.113.7"), "203.0.113.7");
  // One /64 is one client, however many of its addresses it uses.
  EXPECT_EQ(clientAddressBlock("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(clientAddressBlock("2001:db8:1:2:bbbb:cccc:dddd:9"), "2001:db8:1:2::/64");
  EXPECT_NE(clientAddressBlock("2001:db8:1:3::1"), clientAddressBlock("2001:db8:1:2::1"));
  EXPECT_EQ(clientAddressBlock("::1"), "::/64");
  EXPECT_EQ(clientAddressBlock("not an address"), "not an address");
}

TEST(Routing, DeploymentFromHost) {
  EXPECT_EQ(deploymentFromHost("dep-abcdefghijklmnop.localhost:8080", "localhost"),
            "dep-abcdefghijklmnop");
  EXPECT_EQ(deploymentFromHost("DEP-ABCDEFGHIJKLMNOP.Example.NET", "example.net"),
            "dep-abcdefghijklmnop");
  EXPECT_EQ(deploymentFromHost("dep-abcdefghijklmnop.example.net.", "example.net"),
            "dep-abcdefghijklmnop");
  EXPECT_EQ(deploymentFromHost("example.net", "example.net"), "");
  EXPECT_EQ(deploymentFromHost("x.dep-abcdefghijklmnop.example.net", "example.net"), "");
  EXPECT_EQ(deploymentFromHost("dep-abcdefghijklmnop.example.net.evil.com", "example.net"), "");
  EXPECT_EQ(deploymentFromHost("dep-abc.example.net", "example.net"), "");
  EXPECT_EQ(deploymentFromHost("", "example.net"), "");
}

}  // namespace
}  // namespace pc::gateway
