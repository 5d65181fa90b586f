#include "egress/firewall.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "support/run.hpp"

namespace pc::egress {
namespace {

// With `netns`, interfaces are looked up in that namespace (where the engine's bridges are),
// not in the provider's own /sys.
TEST(EgressFirewall, InterfacesAreLookedUpInTheEnginesNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "nsenter needs root";
  IptablesOptions o;
  o.netns = "/proc/self/ns/net";
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  auto fw = makeIptablesFirewall(o);
  EXPECT_TRUE(test::run(io, fw->hasInterface("lo")));
  EXPECT_FALSE(test::run(io, fw->hasInterface("pcd-nosuchone")));
  o.netns = "/nonexistent/ns/net";
  auto broken = makeIptablesFirewall(o);
  // An unusable namespace confines nothing: refused.
  EXPECT_FALSE(test::run(io, broken->hasInterface("lo")));
  auto install = broken->install();
  ASSERT_FALSE(install);
  EXPECT_NE(install.error().message().find("nsenter"), std::string::npos)
      << install.error().message();
}

}  // namespace
}  // namespace pc::egress
