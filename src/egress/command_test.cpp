#include "egress/command.hpp"

#include <gtest/gtest.h>

#include "egress/error.hpp"

namespace pc::egress {
namespace {

using namespace std::chrono_literals;

TEST(EgressCommand, FeedsStdinAndCollectsBothOutputs) {
  auto r = runCommand({"sh", "-c", "cat; echo oops >&2; exit 3"}, "hello\n", 10s);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->out, "hello\n");
  EXPECT_EQ(r->err, "oops\n");
  EXPECT_EQ(r->exitCode, 3);
}

TEST(EgressCommand, LargeInputAndOutput) {
  const std::string big(1 << 20, 'x');
  auto r = runCommand({"cat"}, big, 10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.size(), big.size());
}

TEST(EgressCommand, MissingProgramAndTimeout) {
  auto r = runCommand({"/nonexistent/iptables-save"}, "", 10s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kCommandFailed);
  auto slow = runCommand({"sleep", "30"}, "", 100ms);
  ASSERT_FALSE(slow);
  EXPECT_NE(slow.error().message().find("killed"), std::string::npos);
}

TEST(EgressCommand, ChildThatIgnoresItsInput) {
  auto r = runCommand({"true"}, std::string(1 << 20, 'x'), 10s);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->exitCode, 0);
}

}  // namespace
}  // namespace pc::egress
