#include "provider/deployment_series.hpp"

#include <gtest/gtest.h>

namespace pc::provider {
namespace {

runtime::Stats use(double cpu, std::uint64_t rx, std::uint64_t mem = 100) {
  runtime::Stats s;
  s.cpuSeconds = cpu;
  s.netRxBytes = rx;
  s.netTxBytes = rx / 2;
  s.memoryBytes = mem;
  s.memoryLimitBytes = 1000;
  return s;
}

std::map<std::string, DeploymentSeries::Usage> byLabel(const DeploymentSeries& d) {
  std::map<std::string, DeploymentSeries::Usage> m;
  for (const auto& [label, u] : d.series()) m[label] = u;
  return m;
}

TEST(DeploymentSeries, OwnLabelsAreKeptWhileRunningAndOtherCountersNeverGoDown) {
  DeploymentSeries d(2);
  d.update({{"dep-a", use(1, 100)}, {"dep-b", use(2, 200)}, {"dep-c", use(3, 300)}});
  auto m = byLabel(d);
  ASSERT_EQ(m.size(), 3u);  // dep-a, dep-b, other (dep-c)
  EXPECT_DOUBLE_EQ(m["other"].cpuSeconds, 3);
  EXPECT_DOUBLE_EQ(m["other"].rxBytes, 300);
  EXPECT_DOUBLE_EQ(m["other"].memoryBytes, 100);

  // dep-c grows, then stops: "other" keeps what it counted (a counter never goes down).
  d.update({{"dep-a", use(1.5, 150)}, {"dep-b", use(2, 200)}, {"dep-c", use(5, 700)}});
  EXPECT_DOUBLE_EQ(byLabel(d)["other"].cpuSeconds, 5);
  d.update({{"dep-a", use(1.5, 150)}, {"dep-b", use(2, 200)}});
  m = byLabel(d);
  EXPECT_DOUBLE_EQ(m["other"].cpuSeconds, 5);
  EXPECT_DOUBLE_EQ(m["other"].rxBytes, 700);
  EXPECT_DOUBLE_EQ(m["other"].memoryBytes, 0);  // a gauge: nobody there now
  EXPECT_DOUBLE_EQ(m["dep-a"].cpuSeconds, 1.5);

  // A labelled deployment stops: its series ends and its room goes to the next one, whose
  // label does not move when a smaller id starts later.
  d.update({{"dep-b", use(2, 200)}, {"dep-d", use(1, 10)}});
  m = byLabel(d);
  EXPECT_TRUE(m.contains("dep-d"));
  EXPECT_FALSE(m.contains("dep-a"));
  d.update({{"dep-0", use(1, 1)}, {"dep-b", use(2, 200)}, {"dep-d", use(2, 20)}});
  m = byLabel(d);
  EXPECT_TRUE(m.contains("dep-d"));
  EXPECT_FALSE(m.contains("dep-0"));
  EXPECT_DOUBLE_EQ(m["other"].cpuSeconds, 6);  // 5, and dep-0's first second
}

TEST(DeploymentSeries, ARestartedContainerInOtherAddsItsNewUse) {
  DeploymentSeries d(0);
  d.update({{"dep-a", use(10, 1000)}});
  d.update({{"dep-a", use(2, 50)}});  // counters went back: the container restarted
  const auto m = byLabel(d);
  EXPECT_DOUBLE_EQ(m.at("other").cpuSeconds, 12);
  EXPECT_DOUBLE_EQ(m.at("other").rxBytes, 1050);
}

TEST(DeploymentSeries, NoOtherSeriesUntilTheBoundIsReached) {
  DeploymentSeries d(4);
  d.update({{"dep-a", use(1, 1)}});
  EXPECT_EQ(d.series().size(), 1u);
}

}  // namespace
}  // namespace pc::provider
