#include "admin/access.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "admin/listen.hpp"
#include "support/temp_dir.hpp"

namespace pc::admin {
namespace {

using boost::asio::ip::make_address;

const std::string kToken = "0123456789abcdef0123456789abcdef";

AdminToken token() { return AdminToken::fromText(kToken).value(); }

TEST(AdminToken, MatchesOnlyItself) {
  const auto t = token();
  EXPECT_TRUE(t.matches(kToken));
  EXPECT_FALSE(t.matches(kToken + "0"));
  EXPECT_FALSE(t.matches(kToken.substr(1)));
  EXPECT_FALSE(t.matches(""));
  EXPECT_FALSE(AdminToken::fromText("short"));                        // guessable
  EXPECT_FALSE(AdminToken::fromText("0123456789abcdef 0123456789"));  // not one token
  EXPECT_TRUE(AdminToken::fromText(kToken + "\n").value().matches(kToken));
}

TEST(AdminToken, FileMustBePrivate) {
  test::TempDir dir;
  const auto path = dir.path() / "admin.token";
  std::ofstream(path) << kToken << "\n";
  ::chmod(path.c_str(), 0644);
  const auto shared = AdminToken::load(path);
  ASSERT_FALSE(shared);
  EXPECT_NE(shared.error().message().find("chmod 600"), std::string::npos);
  ::chmod(path.c_str(), 0600);
  EXPECT_TRUE(AdminToken::load(path).value().matches(kToken));
  EXPECT_FALSE(AdminToken::load(dir.path() / "missing"));
  // A symbolic link to a private file is refused too (someone else could swap its target).
  std::filesystem::create_symlink(path, dir.path() / "link");
  EXPECT_FALSE(AdminToken::load(dir.path() / "link"));
}

TEST(AdminAccess, LoopbackWithoutToken) {
  EXPECT_EQ(decideAccess({make_address("127.0.0.1"), "", "127.0.0.1:9100"}, nullptr),
            Verdict::kAllowed);
  EXPECT_EQ(decideAccess({make_address("::1"), "", "[::1]:9100"}, nullptr), Verdict::kAllowed);
  EXPECT_EQ(decideAccess({make_address("::ffff:127.0.0.9"), "", "localhost:9100"}, nullptr),
            Verdict::kAllowed);
  EXPECT_EQ(decideAccess({make_address("127.0.0.1"), "", ""}, nullptr), Verdict::kAllowed);
}

TEST(AdminAccess, NonLoopbackRefusedWithoutToken) {
  EXPECT_EQ(decideAccess({make_address("192.0.2.2"), "", "192.0.2.2:9100"}, nullptr),
            Verdict::kNotLoopback);
  EXPECT_EQ(decideAccess({make_address("10.0.0.1"), "Bearer " + kToken, ""}, nullptr),
            Verdict::kNotLoopback);  // no token configured: none is accepted
  EXPECT_EQ(decideAccess({make_address("::ffff:192.0.2.2"), "", ""}, nullptr),
            Verdict::kNotLoopback);
  EXPECT_EQ(decideAccess({make_address("0.0.0.0"), "", ""}, nullptr), Verdict::kNotLoopback);
}

TEST(AdminAccess, TokenOpensOtherAddresses) {
  const auto t = token();
  const auto remote = make_address("192.0.2.2");
  EXPECT_EQ(decideAccess({remote, "Bearer " + kToken, "gw.example.net:9100"}, &t),
            Verdict::kAllowed);
  EXPECT_EQ(decideAccess({remote, "bearer  " + kToken + " ", ""}, &t), Verdict::kAllowed);
  EXPECT_EQ(decideAccess({remote, "", ""}, &t), Verdict::kBadToken);
  EXPECT_EQ(decideAccess({remote, "Bearer " + kToken + "x", ""}, &t), Verdict::kBadToken);
  EXPECT_EQ(decideAccess({remote, "Basic " + kToken, ""}, &t), Verdict::kBadToken);
  // Loopback stays open with a token configured.
  EXPECT_EQ(decideAccess({make_address("127.0.0.1"), "", "localhost"}, &t), Verdict::kAllowed);
}

TEST(AdminAccess, HostMustNameAnAddressOnLoopback) {
  // DNS rebinding: the page's own name, now resolving to 127.0.0.1.
  EXPECT_EQ(decideAccess({make_address("127.0.0.1"), "", "evil.example:9100"}, nullptr),
            Verdict::kBadHost);
  EXPECT_EQ(decideAccess({make_address("127.0.0.1"), "", "localhost.evil.example"}, nullptr),
            Verdict::kBadHost);
  const auto t = token();
  EXPECT_EQ(decideAccess({make_address("127.0.0.1"), "Bearer " + kToken, "evil.example"}, &t),
            Verdict::kAllowed);  // the token is proof enough
}

TEST(AdminAccess, HostAndBearerForms) {
  EXPECT_TRUE(isAddressHost("127.0.0.1"));
  EXPECT_TRUE(isAddressHost("LocalHost:80"));
  EXPECT_TRUE(isAddressHost("[::1]:9100"));
  EXPECT_TRUE(isAddressHost("[2001:db8::1]"));
  EXPECT_FALSE(isAddressHost("[::1"));
  EXPECT_FALSE(isAddressHost("[::1]x"));
  EXPECT_FALSE(isAddressHost("[::]"));
  EXPECT_FALSE(isAddressHost("example.org"));
  EXPECT_FALSE(isAddressHost("127.0.0.1.nip.io"));
  EXPECT_EQ(bearerToken("Bearer abc"), "abc");
  EXPECT_EQ(bearerToken("BEARER abc "), "abc");
  EXPECT_EQ(bearerToken("Bearer"), "");
  EXPECT_EQ(bearerToken("Token abc"), "");
}

TEST(AdminListen, Forms) {
  EXPECT_EQ(parseListen("127.0.0.1:9100").value().port(), 9100);
  EXPECT_TRUE(parseListen("[::1]:0").value().address().is_v6());
  EXPECT_EQ(parseListen("localhost:1").value().address().to_string(), "127.0.0.1");
  EXPECT_EQ(parseListen("0.0.0.0:9").value().address().to_string(), "0.0.0.0");
  EXPECT_FALSE(parseListen("127.0.0.1"));
  EXPECT_FALSE(parseListen("::1:9100"));
  EXPECT_FALSE(parseListen("127.0.0.1:65536"));
  EXPECT_FALSE(parseListen("127.0.0.1:9x"));
  EXPECT_FALSE(parseListen("example.org:9100"));
  EXPECT_FALSE(parseListen(":9100"));
}

}  // namespace
}  // namespace pc::admin
