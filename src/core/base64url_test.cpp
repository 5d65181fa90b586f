#include "core/base64url.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace pc {
namespace {

TEST(Base64url, Rfc4648TestVectors) {
  // RFC 4648 §10, without the padding base64url leaves out.
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, text] : cases) {
    EXPECT_EQ(base64url::encode(plain), text);
    auto d = base64url::decode(text);
    ASSERT_TRUE(d) << text;
    EXPECT_EQ(asString(*d), plain);
  }
}

TEST(Base64url, UsesTheUrlSafeAlphabet) {
  const Bytes b{0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64url::encode(b), "-_-_");
  EXPECT_EQ(base64url::decode("-_-_").value(), b);
  EXPECT_EQ(base64url::encode(Bytes{0xfb, 0xff}), "-_8");
}

TEST(Base64url, RejectsOtherForms) {
  EXPECT_EQ(base64url::decode("Zg==").error(), make_error_code(Errc::kBadCharacter));
  EXPECT_EQ(base64url::decode("+/8").error(), make_error_code(Errc::kBadCharacter));
  EXPECT_EQ(base64url::decode("Zm9vY").error(), make_error_code(Errc::kBadLength));
  EXPECT_EQ(base64url::decode("Zh").error(), make_error_code(Errc::kBadPadding));
  EXPECT_EQ(base64url::decode("Zm9").error(), make_error_code(Errc::kBadPadding));
}

RC_GTEST_PROP(Base64urlProp, RoundTrips, (const std::vector<std::uint8_t>& b)) {
  const std::string text = base64url::encode(b);
  RC_ASSERT(text.size() == (b.size() * 4 + 2) / 3);
  RC_ASSERT(base64url::decode(text).value() == b);
}

}  // namespace
}  // namespace pc
