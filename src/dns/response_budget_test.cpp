#include "dns/response_budget.hpp"

#include <gtest/gtest.h>

namespace pc::dns {
namespace {

namespace ip = boost::asio::ip;
using Verdict = ResponseBudget::Verdict;

TEST(ResponseBudget, ABurstThenSlipsAndDrops) {
  const auto t0 = ResponseBudget::Clock::time_point{} + std::chrono::hours(1);
  ResponseBudget b(BudgetLimits{10, 5, 2});
  const auto src = ip::make_address("192.0.2.7");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b.take(src, t0), Verdict::kAnswer);
  // Over budget: every 2nd is a slip, the rest dropped.
  EXPECT_EQ(b.take(src, t0), Verdict::kDrop);
  EXPECT_EQ(b.take(src, t0), Verdict::kSlip);
  EXPECT_EQ(b.take(src, t0), Verdict::kDrop);
  EXPECT_EQ(b.take(src, t0), Verdict::kSlip);
  // 100 ms later one token is back (10/s).
  EXPECT_EQ(b.take(src, t0 + std::chrono::milliseconds(100)), Verdict::kAnswer);
}

TEST(ResponseBudget, CountsPerIpv4Slash24AndIpv6Slash56) {
  const auto t0 = ResponseBudget::Clock::time_point{} + std::chrono::hours(1);
  ResponseBudget b(BudgetLimits{1, 1, 0});
  EXPECT_EQ(b.take(ip::make_address("192.0.2.1"), t0), Verdict::kAnswer);
  // Same /24 (and the same address IPv4-mapped): the same budget, spent.
  EXPECT_EQ(b.take(ip::make_address("192.0.2.200"), t0), Verdict::kDrop);
  EXPECT_EQ(b.take(ip::make_address("::ffff:192.0.2.9"), t0), Verdict::kDrop);
  EXPECT_EQ(b.take(ip::make_address("192.0.3.1"), t0), Verdict::kAnswer);
  EXPECT_EQ(b.take(ip::make_address("2001:db8:0:100::1"), t0), Verdict::kAnswer);
  EXPECT_EQ(b.take(ip::make_address("2001:db8:0:1ff:ffff::1"), t0), Verdict::kDrop);
  EXPECT_EQ(b.take(ip::make_address("2001:db8:0:200::1"), t0), Verdict::kAnswer);
  EXPECT_EQ(ResponseBudget::blockName(ip::make_address("192.0.2.77")), "192.0.2.0/24");
  EXPECT_EQ(ResponseBudget::blockName(ip::make_address("2001:db8:0:1ab::1")),
            "2001:db8:0:100::/56");
}

TEST(ResponseBudget, ManyBlocksStayBoundedAndShareTheOverflow) {
  auto now = ResponseBudget::Clock::time_point{} + std::chrono::hours(1);
  ResponseBudget b(BudgetLimits{1, 1, 0});
  for (std::size_t i = 0; i < kMaxBudgetBlocks; ++i) {
    const ip::address_v4 a(static_cast<std::uint32_t>(0x0a000000u + (i << 8)));
    ASSERT_EQ(b.take(a, now), Verdict::kAnswer);
  }
  EXPECT_EQ(b.blocks(), kMaxBudgetBlocks);
  // Every tracked block is spent: a new block gets the shared overflow bucket (one answer).
  now += std::chrono::milliseconds(1);
  EXPECT_EQ(b.take(ip::make_address("198.18.0.1"), now), Verdict::kAnswer);
  EXPECT_EQ(b.take(ip::make_address("198.18.1.1"), now), Verdict::kDrop);
  EXPECT_EQ(b.blocks(), kMaxBudgetBlocks);
  // Once they refilled, a sweep forgets them and new blocks get their own buckets.
  now += std::chrono::seconds(5);
  EXPECT_EQ(b.take(ip::make_address("198.18.2.1"), now), Verdict::kAnswer);
  EXPECT_EQ(b.blocks(), 1u);
}

}  // namespace
}  // namespace pc::dns
