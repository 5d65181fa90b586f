#include "provider/log_relay.hpp"

#include <gtest/gtest.h>

#include "provider/error.hpp"

namespace pc::provider {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

protocol::LogsRequest logsSince(std::int64_t sinceMs) {
  protocol::LogsRequest r;
  r.deploymentId = "dep-abcdefghijklmnop";
  r.sinceMs = sinceMs;
  return r;
}

// Issue 14 item 9: the wire allows `since` up to 2^53 ms, which overflowed when turned into the
// engine's nanoseconds. It is now refused with the bound before any conversion.
TEST(LogRelay, SinceFarAheadIsRefusedWithTheBound) {
  for (std::int64_t since : {std::int64_t{1} << 53, kNow + kMaxLogSinceAheadMs + 1,
                             std::int64_t{9'300'000'000'000'000}}) {
    auto opts = engineLogOptions(logsSince(since), kNow);
    ASSERT_FALSE(opts) << since;
    EXPECT_EQ(opts.error(), Errc::kBadRequest);
    EXPECT_NE(opts.error().message().find("more than 60 s after this provider's clock"),
              std::string::npos)
        << opts.error().message();
  }
}

TEST(LogRelay, SinceWithinTheBoundIsExact) {
  for (std::int64_t since : {std::int64_t{0}, kNow - 1234, kNow + kMaxLogSinceAheadMs}) {
    auto opts = engineLogOptions(logsSince(since), kNow);
    ASSERT_TRUE(opts) << opts.error().message();
    ASSERT_TRUE(opts->since);
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(opts->since->time_since_epoch())
                  .count(),
              since);
  }
  auto plain = engineLogOptions(protocol::LogsRequest{}, kNow);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->since);
}

}  // namespace
}  // namespace pc::provider
