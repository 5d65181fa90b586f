#include "core/time.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace pc {
namespace {
using time::fromUnixMillis;
using time::Precision;

TEST(Time, FormatsUtc) {
  EXPECT_EQ(time::formatRfc3339(fromUnixMillis(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(time::formatRfc3339(fromUnixMillis(1'700'000'000'123)), "2023-11-14T22:13:20Z");
  EXPECT_EQ(time::formatRfc3339(fromUnixMillis(1'700'000'000'123), Precision::kMillis),
            "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(time::formatRfc3339(fromUnixMillis(951'782'400'007), Precision::kMillis),
            "2000-02-29T00:00:00.007Z");
  // Before the epoch the text still rounds toward the past.
  EXPECT_EQ(time::formatRfc3339(fromUnixMillis(-1), Precision::kMillis),
            "1969-12-31T23:59:59.999Z");
}

TEST(Time, ParsesRfc3339) {
  auto ms = [](std::string_view t) { return time::toUnixMillis(time::parseRfc3339(t).value()); };
  EXPECT_EQ(ms("2023-11-14T22:13:20Z"), 1'700'000'000'000);
  EXPECT_EQ(ms("2023-11-14T22:13:20.123Z"), 1'700'000'000'123);
  EXPECT_EQ(ms("2023-11-14T22:13:20.123456789Z"), 1'700'000'000'123);
  EXPECT_EQ(ms("2023-11-14T22:13:20.1234567891234Z"), 1'700'000'000'123);
  EXPECT_EQ(ms("2023-11-15T00:13:20+02:00"), 1'700'000'000'000);
  EXPECT_EQ(ms("2023-11-14T21:13:20-01:00"), 1'700'000'000'000);
  EXPECT_EQ(ms("2023-11-14 22:13:20z"), 1'700'000'000'000);
  EXPECT_EQ(ms("2016-12-31T23:59:60Z"), ms("2017-01-01T00:00:00Z"));
  const auto ns = time::parseRfc3339("1970-01-01T00:00:00.000000001Z").value();
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::nanoseconds>(ns.time_since_epoch()).count(), 1);
}

TEST(Time, RefusesOtherText) {
  for (std::string_view bad :
       {"", "2023-11-14", "2023-11-14T22:13:20", "2023-11-14T22:13:20.Z", "2023-13-01T00:00:00Z",
        "2023-02-29T00:00:00Z", "2023-11-14T24:00:00Z", "2023-11-14T22:60:00Z",
        "2023-11-14T22:13:20+0200", "2023-11-14T22:13:20Zjunk", "2023-11-14X22:13:20Z",
        "+023-11-14T22:13:20Z", "2023-1-14T22:13:20Z"}) {
    auto r = time::parseRfc3339(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error(), make_error_code(Errc::kMalformed)) << bad;
    }
  }
  EXPECT_EQ(time::parseRfc3339("0001-01-01T00:00:00Z").error(), make_error_code(Errc::kTooLarge));
}

RC_GTEST_PROP(TimeProp, MillisRoundTripThroughText, ()) {
  // Years 1970..9999 of a nanosecond clock do not fit; stay within ±250 years of the epoch.
  const auto unixMs = *rc::gen::inRange<std::int64_t>(-7'800'000'000'000, 7'800'000'000'000);
  const auto text = time::formatRfc3339(fromUnixMillis(unixMs), Precision::kMillis);
  RC_ASSERT(time::toUnixMillis(time::parseRfc3339(text).value()) == unixMs);
}

}  // namespace
}  // namespace pc
