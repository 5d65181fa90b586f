#include <gtest/gtest.h>

#include "runtime/error.hpp"
#include "runtime/json_lines.hpp"

namespace pc::runtime {
namespace {

TEST(JsonLines, SplitsAcrossFeeds) {
  JsonLineSplitter s;
  std::vector<std::string> out;
  ASSERT_TRUE(s.feed("{\"a\":1}\n{\"b\"", out));
  ASSERT_TRUE(s.feed(":2}\r\n\n  \n{\"c\":3}", out));
  s.finish(out);
  ASSERT_EQ(out.size(), 3U);
  EXPECT_EQ(out[0], "{\"a\":1}");
  EXPECT_EQ(out[1], "{\"b\":2}\r");
  EXPECT_EQ(out[2], "{\"c\":3}");
}

TEST(JsonLines, BoundsOneMessage) {
  JsonLineSplitter s;
  std::vector<std::string> out;
  const std::string big(kMaxJsonMessage / 2 + 1, 'x');
  ASSERT_TRUE(s.feed(big, out));
  auto r = s.feed(big, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kTooLarge));
}

}  // namespace
}  // namespace pc::runtime
