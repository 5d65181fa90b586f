// The pure part of a deployment's run: per-layer pull figures folded into one progress report.
#include "provider/deployment_run.hpp"

#include <gtest/gtest.h>

namespace pc::provider {
namespace {

TEST(PullMeter, ReportsThePullAsAWholeOncePerPercent) {
  PullMeter m;
  EXPECT_FALSE(m.update({"", 10, 100}));     // not about a layer
  EXPECT_FALSE(m.update({"latest", 0, 0}));  // no size known yet
  auto r = m.update({"a", 0, 300}).value();
  EXPECT_EQ(r.percent, 0);
  EXPECT_EQ(r.bytesTotal, 300);
  EXPECT_FALSE(r.starting);
  r = m.update({"b", 50, 100}).value();  // 50 of 400
  EXPECT_EQ(r.percent, 12);
  EXPECT_EQ(r.bytesDone, 50);
  EXPECT_EQ(r.bytesTotal, 400);
  EXPECT_FALSE(m.update({"b", 51, 100}));  // still 12 %: no report
  r = m.update({"a", 300, 300}).value();
  EXPECT_EQ(r.percent, 87);
  EXPECT_FALSE(m.reportedComplete());
  r = m.update({"b", 100, 100}).value();
  EXPECT_EQ(r.percent, 100);
  EXPECT_TRUE(m.reportedComplete());
}

TEST(PullMeter, BytesBeyondALayersSizeDoNotCount) {
  PullMeter m;
  auto r = m.update({"a", 500, 100}).value();
  EXPECT_EQ(r.percent, 100);
  EXPECT_EQ(r.bytesDone, 100);
}

}  // namespace
}  // namespace pc::provider
