#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "protocol/error.hpp"
#include "protocol/jcs.hpp"

namespace pc::protocol {
namespace {

std::string canon(std::string_view in) {
  auto r = canonicalizeJson(in);
  EXPECT_TRUE(r) << in << ": " << r.error().message();
  return r ? *r : std::string();
}

// RFC 8785 §3.2.2 sample, with the numbers array replaced by integers (our subset). The string
// and literal parts and their expected output are the RFC's own.
TEST(Jcs, Rfc8785SampleStringsAndLiterals) {
  const std::string in = R"({
    "numbers": [0, -0, 9007199254740991, -9007199254740991, 1000000, 42],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  EXPECT_EQ(canon(in),
            "{\"literals\":[null,true,false],\"numbers\":[0,0,9007199254740991,-9007199254740991,"
            "1000000,42],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

// The RFC's own sample with its floating-point numbers is outside the subset: refused, never
// approximated.
TEST(Jcs, Rfc8785SampleFloatsRejected) {
  const std::string in = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  auto r = canonicalizeJson(in);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kBadJson);
  EXPECT_NE(r.error().message().find("333333333.33333329"), std::string::npos)
      << r.error().message();
}

// RFC 8785 §3.2.3 sorting sample: UTF-16 code unit order (the emoji, a surrogate pair starting
// 0xD83D, sorts before U+FB33 although its UTF-8 bytes sort after).
TEST(Jcs, Rfc8785SortingSample) {
  const std::string in = R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })";
  EXPECT_EQ(canon(in),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
            "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
            "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
            "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST(Jcs, EscapingRules) {
  // Short escapes for the five, \u00xx (lower-case) for other C0 controls, DEL and U+2028 raw,
  // '/' never escaped.
  EXPECT_EQ(canon(R"(["\b\f\n\r\t", "\u0001\u001f", "\u007f\u2028", "a/b"])"),
            "[\"\\b\\f\\n\\r\\t\",\"\\u0001\\u001f\",\"\x7f\xe2\x80\xa8\",\"a/b\"]");
  EXPECT_EQ(canon(R"({"b":[],"a":{}, "c" : { "z":1, "y":[true] } })"),
            R"({"a":{},"b":[],"c":{"y":[true],"z":1}})");
}

TEST(Jcs, RejectsWhatItCannotCanonicalize) {
  for (std::string_view bad : {
           R"({"a":1,"a":2})",           // duplicate member
           R"({"x":{"a":1,"a":1}})",     // nested duplicate
           R"([1.0])",                   // fraction
           R"([1e3])",                   // exponent
           R"([9007199254740992])",      // 2^53
           R"([-9007199254740992])",     // -2^53
           R"([18446744073709551615])",  // uint64
           R"(["\ud800"])",              // lone surrogate
           "[\"\xff\"]",                 // invalid UTF-8
           R"([1,])",                    // trailing comma
           R"([1] [2])",                 // extra data
           R"(// c
              [1])",                     // comment
           "",                           // empty
       }) {
    auto r = canonicalizeJson(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error(), Errc::kBadJson) << bad;
    }
  }
  EXPECT_FALSE(canonicalizeJson(std::string(40, '[') + std::string(40, ']')));
}

RC_GTEST_PROP(JcsProp, Idempotent,
              (const std::map<std::string, std::vector<int>>& m,
               const std::vector<std::string>& strs)) {
  // Build a document from generated keys and strings (escaped byte-wise, so arbitrary bytes
  // become \u00xx; keep only valid-UTF-8 inputs by mapping bytes into ASCII).
  auto esc = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c) & 0x7fU;
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    }
    return out + "\"";
  };
  std::string doc = "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) doc += ",";
    first = false;
    doc += esc(k) + ":[";
    for (std::size_t i = 0; i < v.size(); ++i) doc += (i ? "," : "") + std::to_string(v[i]);
    doc += "]";
  }
  doc += std::string(first ? "" : ",") + "\"\\ud83d\\ude00strs\":[";
  for (std::size_t i = 0; i < strs.size(); ++i) doc += (i ? "," : "") + esc(strs[i]);
  doc += "]}";
  auto once = canonicalizeJson(doc);
  if (!once) {
    // Distinct generated keys can collide after masking to ASCII: a duplicate, rightly refused.
    RC_ASSERT(once.error() == Errc::kBadJson);
    RC_SUCCEED("duplicate after masking");
  }
  auto twice = canonicalizeJson(*once);
  RC_ASSERT(twice.has_value());
  RC_ASSERT(*twice == *once);
}

RC_GTEST_PROP(JcsProp, ArbitraryTextNeverCrashes, (const std::string& text)) {
  auto r = canonicalizeJson(text);
  if (r) RC_ASSERT(canonicalizeJson(*r).value() == *r);
}

}  // namespace
}  // namespace pc::protocol
