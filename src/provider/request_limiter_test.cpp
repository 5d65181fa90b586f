#include "provider/request_limiter.hpp"

#include <gtest/gtest.h>

#include "provider/error.hpp"

namespace pc::provider {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

// Issue 14 item 5: one peer sending as fast as it can is held to its rate, and another peer is
// served meanwhile. Today's provider takes every signed request it can read.
TEST(RequestLimiter, OnePeerAtItsLimitNeverRefusesAnother) {
  RequestLimiter limiter(RequestLimits{.perSecond = 10, .burst = 40});
  const auto t0 = Clock::time_point{} + 1h;
  int admitted = 0;
  Result<void> last;
  for (int i = 0; i < 1000; ++i) {
    last = limiter.admit("flooder", t0);
    admitted += last ? 1 : 0;
  }
  EXPECT_EQ(admitted, 40);
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error(), Errc::kRateLimited);
  EXPECT_NE(last.error().message().find("10 a second with bursts of 40 (request_rate, "
                                        "request_burst); retry after 101 ms"),
            std::string::npos)
      << last.error().message();
  EXPECT_TRUE(limiter.admit("other", t0));
  // One second later the flooder has its rate again, and no more.
  admitted = 0;
  for (int i = 0; i < 1000; ++i) {
    admitted += limiter.admit("flooder", t0 + 1s) ? 1 : 0;
  }
  EXPECT_EQ(admitted, 10);
}

TEST(RequestLimiter, TrackedPeersAreBounded) {
  RequestLimiter limiter(RequestLimits{.perSecond = 1, .burst = 1});
  const auto t0 = Clock::time_point{} + 1h;
  for (std::size_t i = 0; i < kMaxTrackedRequesters; ++i) {
    ASSERT_TRUE(limiter.admit("p" + std::to_string(i), t0));
  }
  auto busy = limiter.admit("late", t0);
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error(), Errc::kRateLimited);
  // Once the others refilled, their buckets go and the newcomer is served.
  EXPECT_TRUE(limiter.admit("late", t0 + 2s));
  EXPECT_EQ(limiter.tracked(), 1U);
}

TEST(RequestLimiter, DefaultsFitTheReplayShare) {
  EXPECT_TRUE(fitsReplayShare(kDefaultRequestRate, kDefaultRequestBurst,
                              protocol::kDefaultReplayQuotaPerRequester));
  // 28 a second for 360 s is 10,080 ids: more than a peer's share of 10,000.
  EXPECT_FALSE(fitsReplayShare(28, 0, protocol::kDefaultReplayQuotaPerRequester));
}

}  // namespace
}  // namespace pc::provider
