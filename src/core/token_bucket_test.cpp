#include "core/token_bucket.hpp"

#include <gtest/gtest.h>

namespace pc {
namespace {
using namespace std::chrono_literals;

TEST(TokenBucket, AdmitsTheBurstThenTheRate) {
  const auto t0 = TokenBucket::Clock::time_point{} + 1h;
  TokenBucket b(10, 3, t0);
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0));         // burst spent
  EXPECT_FALSE(b.take(t0 + 50ms));  // half a token
  EXPECT_TRUE(b.take(t0 + 100ms));  // one token per 100 ms
  EXPECT_FALSE(b.take(t0 + 100ms));
}

TEST(TokenBucket, RefillStopsAtTheBurst) {
  const auto t0 = TokenBucket::Clock::time_point{} + 1h;
  TokenBucket b(1000, 2, t0);
  EXPECT_DOUBLE_EQ(b.available(t0 + 1h), 2.0);
  EXPECT_TRUE(b.take(t0 + 1h));
  EXPECT_TRUE(b.take(t0 + 1h));
  EXPECT_FALSE(b.take(t0 + 1h));
}

TEST(TokenBucket, RefusedEventsTakeNothingAndTimeGoingBackIsIgnored) {
  const auto t0 = TokenBucket::Clock::time_point{} + 1h;
  TokenBucket b(1, 1, t0);
  EXPECT_TRUE(b.take(t0));
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(b.take(t0 + 500ms));
  }
  EXPECT_FALSE(b.take(t0 - 10s));
  EXPECT_TRUE(b.take(t0 + 1s));  // refusals did not push the next token further away
}

TEST(TokenBucket, DegenerateSettingsStillAdmitOne) {
  const auto t0 = TokenBucket::Clock::time_point{} + 1h;
  TokenBucket b(0, 0, t0);
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0 + 1h));
}

}  // namespace
TEST(TokenBucket, RetryAfterAndFull) {
  const auto t0 = TokenBucket::Clock::time_point{} + 1h;
  TokenBucket b(2, 3, t0);
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0));
  EXPECT_EQ(b.retryAfter(t0), 501ms);
  EXPECT_FALSE(b.take(t0 + 499ms));
  EXPECT_TRUE(b.take(t0 + 500ms));
  EXPECT_FALSE(b.full(t0 + 500ms));
  EXPECT_TRUE(b.full(t0 + 2s));
  // A clock that goes back adds nothing.
  EXPECT_FALSE(b.take(t0));
}

}  // namespace pc
