#include "core/utf8.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace pc {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(utf8::isValid(""));
  EXPECT_TRUE(utf8::isValid("plain ascii\n"));
  EXPECT_TRUE(utf8::isValid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_TRUE(utf8::isValid("\xf4\x8f\xbf\xbf"));                      // U+10FFFF
  EXPECT_TRUE(utf8::isValid("\xed\x9f\xbf\xee\x80\x80"));              // U+D7FF U+E000
  EXPECT_EQ(utf8::sequenceLength("a\xe2\x82\xac", 1), 3U);
}

TEST(Utf8, RejectsWhatRfc3629Forbids) {
  for (std::string_view bad : {"\x80",              // lone continuation byte
                               "\xc0\xaf",          // overlong '/'
                               "\xc1\xbf",          // overlong
                               "\xe0\x80\xaf",      // overlong, three bytes
                               "\xf0\x80\x80\xaf",  // overlong, four bytes
                               "\xed\xa0\x80",      // U+D800, a surrogate
                               "\xed\xbf\xbf",      // U+DFFF
                               "\xf4\x90\x80\x80",  // U+110000
                               "\xf5\x80\x80\x80",  // lead byte above F4
                               "\xe2\x82",          // truncated
                               "\xe2\x28\xa1",      // bad continuation
                               "\xff"}) {
    EXPECT_FALSE(utf8::isValid(bad)) << testing::PrintToString(std::string(bad));
  }
  EXPECT_EQ(utf8::sequenceLength("a", 1), 0U);  // past the end
}

TEST(Utf8, SanitizeReplacesEachInvalidByte) {
  EXPECT_EQ(utf8::sanitize("ok"), "ok");
  EXPECT_EQ(utf8::sanitize("bad \xff byte"), "bad \xef\xbf\xbd byte");
  EXPECT_EQ(utf8::sanitize("\xc0\xaf\xed\xa0\x80ok"),
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdok");
}

TEST(Utf8, DecodeGivesCodePointsAndResynchronises) {
  const std::string_view s = "a\xc3\xa9\xff\xf0\x9f\x98\x80";
  std::size_t i = 0;
  EXPECT_EQ(utf8::decode(s, i), U'a');
  EXPECT_EQ(utf8::decode(s, i), U'\u00e9');
  EXPECT_EQ(utf8::decode(s, i), utf8::kReplacement);
  EXPECT_EQ(i, 4U);
  EXPECT_EQ(utf8::decode(s, i), U'\U0001F600');
  EXPECT_EQ(i, s.size());
}

TEST(Utf8, LengthCountsCharacters) {
  EXPECT_EQ(utf8::length(""), 0U);
  EXPECT_EQ(utf8::length("abc"), 3U);
  EXPECT_EQ(utf8::length("\xc3\xa9t\xc3\xa9"), 3U);  // été
  EXPECT_EQ(utf8::length("\xf0\x9f\x98\x80!"), 2U);  // 😀!
  EXPECT_EQ(utf8::length("a\xff\xc0\xaf"
                         "b"),
            5U);  // each invalid byte counts
}

TEST(Utf8, TruncateCutsAtACharacterBoundary) {
  EXPECT_EQ(utf8::truncate("short", 256), "short");
  const std::string mixed =
      "ab\xe2\x82\xac"
      "cd";  // "ab€cd", 7 bytes
  EXPECT_EQ(utf8::truncate(mixed, 7), mixed);
  EXPECT_EQ(utf8::truncate(mixed, 6), "ab\xe2\x80\xa6");
  EXPECT_EQ(utf8::truncate(mixed, 2), "");
  EXPECT_EQ(utf8::truncate("bad \xff byte", 256), "bad \xef\xbf\xbd byte");
}

RC_GTEST_PROP(Utf8Prop, SanitizedTextIsValidAndValidTextIsKept, (const std::string& s)) {
  const std::string clean = utf8::sanitize(s);
  RC_ASSERT(utf8::isValid(clean));
  RC_ASSERT(utf8::sanitize(clean) == clean);
  if (utf8::isValid(s)) {
    RC_ASSERT(clean == s);
  }
}

RC_GTEST_PROP(Utf8Prop, TruncateStaysWithinTheLimit, (const std::string& s, std::uint8_t max)) {
  const std::string cut = utf8::truncate(s, max);
  RC_ASSERT(cut.size() <= max);
  RC_ASSERT(utf8::isValid(cut));
}

}  // namespace
}  // namespace pc
