#include "cli/table.hpp"

#include <gtest/gtest.h>

namespace pc::cli {
namespace {

TEST(DisplayWidth, AsciiCountsBytes) {
  EXPECT_EQ(displayWidth(""), 0u);
  EXPECT_EQ(displayWidth("dep-abc"), 7u);
}

TEST(DisplayWidth, MultiByteCharactersCountOnce) {
  EXPECT_EQ(displayWidth("é"), 1u);          // 2 bytes
  EXPECT_EQ(displayWidth("…"), 1u);          // 3 bytes
  EXPECT_EQ(displayWidth("…ab12cd34"), 9u);  // peerLabel's shortened id
  EXPECT_EQ(displayWidth("naïve café"), 10u);
}

TEST(DisplayWidth, WideAndEmojiCountTwo) {
  EXPECT_EQ(displayWidth("日本"), 4u);
  EXPECT_EQ(displayWidth("한글"), 4u);
  EXPECT_EQ(displayWidth("Ａ"), 2u);  // fullwidth A
  EXPECT_EQ(displayWidth("🚀x"), 3u);  // 4-byte emoji
  EXPECT_EQ(displayWidth("😀"), 2u);
}

TEST(DisplayWidth, CombiningMarksAddNothing) {
  EXPECT_EQ(displayWidth("e\u0301"), 1u);
  EXPECT_EQ(displayWidth("a\u200Bb"), 2u);
}

TEST(DisplayWidth, InvalidBytesCountOneEach) {
  EXPECT_EQ(displayWidth("\xff\xfe"), 2u);
  EXPECT_EQ(displayWidth("a\xe2\x80"), 3u);     // truncated sequence
  EXPECT_EQ(displayWidth("\xc0\xaf"), 2u);      // overlong '/'
  EXPECT_EQ(displayWidth("\xed\xa0\x80"), 3u);  // a surrogate
}

TEST(Table, PadsToTheWidestCellPlusTwo) {
  Table t({"NAME", "ID"});
  t.addRow({"alice", "1"});
  t.addRow({"b", "22"});
  EXPECT_EQ(t.render(), "NAME   ID\nalice  1\nb      22\n");
}

TEST(Table, PadsByCharactersNotBytes) {
  Table t({"NAME", "PEER"});
  t.addRow({"日本", "x"});
  t.addRow({"…ab", "y"});
  t.addRow({"abcdef", "z"});
  EXPECT_EQ(t.render(),
            "NAME    PEER\n"
            "日本    x\n"
            "…ab     y\n"
            "abcdef  z\n");
}

TEST(Table, HeaderOnlyAndShortRows) {
  EXPECT_EQ(Table({"A", "B"}).render(), "A  B\n");
  Table t({"A", "BB", "C"});
  t.addRow({"xyz"});
  EXPECT_EQ(t.render(), "A    BB  C\nxyz\n");
}

}  // namespace
}  // namespace pc::cli
