#include "egress/firewall.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace pc::egress {
namespace {

// With `netns`, interfaces are looked up in that namespace (where the engine's bridges are),
// not in the provider's own /sys.
TEST(EgressFirewall, InterfacesAreLookedUpInTheEnginesNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "nsenter needs root";
  IptablesOptions o;
  o.netns = "/proc/self/ns/net";
  auto fw = makeIptablesFirewall(o);
  EXPECT_TRUE(fw->hasInterface("lo"));
  EXPECT_FALSE(fw->hasInterface("pcd-nosuchone"));
  o.netns = "/nonexistent/ns/net";
  auto broken = makeIptablesFirewall(o);
  EXPECT_FALSE(broken->hasInterface("lo"));  // an unusable namespace confines nothing: refused
  auto install = broken->install();
  ASSERT_FALSE(install);
  EXPECT_NE(install.error().message().find("nsenter"), std::string::npos)
      << install.error().message();
}

}  // namespace
}  // namespace pc::egress
