#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/error.hpp"
#include "runtime/image_ref.hpp"

namespace pc::runtime {
namespace {

const std::string kSha = "sha256:" + std::string(64, 'a');

TEST(ImageRef, DockerHubNormalisation) {
  const std::pair<std::string, std::string> cases[] = {
      {"busybox", "docker.io/library/busybox:latest"},
      {"busybox:1.36", "docker.io/library/busybox:1.36"},
      {"library/busybox", "docker.io/library/busybox:latest"},
      {"docker.io/busybox", "docker.io/library/busybox:latest"},
      {"index.docker.io/busybox", "docker.io/library/busybox:latest"},
      {"index.docker.io/acme/app:v1", "docker.io/acme/app:v1"},
      {"acme/app", "docker.io/acme/app:latest"},
      {"acme/team/app:1.0-rc_2", "docker.io/acme/team/app:1.0-rc_2"},
      {"localhost/app", "localhost/app:latest"},
      {"localhost:5000/app:dev", "localhost:5000/app:dev"},
      {"127.0.0.1:5055/peercompute/busybox:test", "127.0.0.1:5055/peercompute/busybox:test"},
      {"ghcr.io/acme/app", "ghcr.io/acme/app:latest"},
      {"[::1]:5000/app", "[::1]:5000/app:latest"},
      {"Registry/app", "Registry/app:latest"},  // upper case first component = a registry host
      {"a.b-c.io/x__y/z--w/q.r", "a.b-c.io/x__y/z--w/q.r:latest"},
      {"busybox@" + kSha, "docker.io/library/busybox@" + kSha},
      {"busybox:1@" + kSha, "docker.io/library/busybox:1@" + kSha},
  };
  for (const auto& [in, want] : cases) {
    auto r = ImageRef::parse(in);
    ASSERT_TRUE(r) << in << ": " << r.error().message();
    EXPECT_EQ(r->toString(), want) << in;
    EXPECT_EQ(ImageRef::parse(r->toString()).value(), *r) << in;
  }
  auto r = ImageRef::parse("localhost:5000/a/b:t").value();
  EXPECT_EQ(r.domain, "localhost:5000");
  EXPECT_EQ(r.path, "a/b");
  EXPECT_EQ(r.tag, "t");
  EXPECT_EQ(r.name(), "localhost:5000/a/b");
}

TEST(ImageRef, RejectsInvalid) {
  const std::string bad[] = {
      "",
      "UPPER",         // docker.io/library/UPPER
      "acme/App",      // upper-case repository
      "busybox:",      // empty tag
      "busybox:.bad",  // tag must start with a word character
      "busybox:" + std::string(129, 'a'),
      "busybox@sha256:abc",                      // short digest
      "busybox@sha256:" + std::string(64, 'A'),  // upper-case hex
      "busybox@md5:" + std::string(32, 'a'),     // unknown algorithm
      "busybox@",
      "/busybox",
      "busybox/",
      "a//b",
      "-a/b",
      "a/-b",
      "a/b-",
      "a/b..c",
      "a/b___c",
      "a b",
      "a\tb",
      "a/b\n",
      "caf\xc3\xa9/x",
      "host:99999/app",  // port out of range
      "host:0/app",
      "-host.io/app",
      "host-.io/app",
      "[zz]/app",
      std::string(64, 'a'),  // bare image id
      "docker.io/" + std::string(250, 'a'),
      std::string(600, 'a'),
      ":tag",
      "@" + kSha,
  };
  for (const auto& in : bad) {
    auto r = ImageRef::parse(in);
    EXPECT_FALSE(r) << "accepted: " << in << " as " << (r ? r->toString() : "");
    if (!r) {
      EXPECT_EQ(r.error(), make_error_code(Errc::kBadReference));
      EXPECT_NE(r.error().message().find("expected [registry/]repository"), std::string::npos);
    }
  }
}

TEST(ImageRef, NameLengthLimitAppliesAfterNormalisation) {
  // "docker.io/library/" + n chars must be <= 255.
  const std::size_t room = 255 - std::string("docker.io/library/").size();
  EXPECT_TRUE(ImageRef::parse(std::string(room, 'a')));
  EXPECT_FALSE(ImageRef::parse(std::string(room + 1, 'a')));
}

RC_GTEST_PROP(ImageRef, NeverCrashesAndRoundTrips, (const std::string& s)) {
  auto r = ImageRef::parse(s);
  if (r) {
    auto again = ImageRef::parse(r->toString());
    RC_ASSERT(again.has_value());
    RC_ASSERT(*again == *r);
  }
}

RC_GTEST_PROP(ImageRef, GeneratedValidReferencesParse, ()) {
  const auto comp = *rc::gen::nonEmpty(rc::gen::container<std::string>(
      rc::gen::elementOf(std::string("abcdefghijklmnopqrstuvwxyz0123456789"))));
  const auto tag = *rc::gen::nonEmpty(
      rc::gen::container<std::string>(rc::gen::elementOf(std::string("abcXYZ019_"))));
  const std::string in =
      "registry.example.com:5000/" + comp.substr(0, 50) + "/x:" + tag.substr(0, 100);
  auto r = ImageRef::parse(in);
  RC_ASSERT(r.has_value());
  RC_ASSERT(r->toString() == in);
}

}  // namespace
}  // namespace pc::runtime
