#include "admin/exposition.hpp"

#include <gtest/gtest.h>

namespace pc::admin {
namespace {

bool has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(Exposition, TextFormat) {
  Exposition e;
  e.counter("pc_test_requests_total", "Requests", 3, {{"code", "2xx"}});
  e.counter("pc_test_requests_total", "", 1, {{"code", "5xx"}});
  e.gauge("pc_test_open_connections", "Open now", 7);
  e.declare("pc_test_empty_total", "Nothing yet", prometheus::MetricType::Counter);
  Histogram h({0.1, 1});
  h.observe(0.05);
  h.observe(0.1);  // on a bound: counted in that bucket (le = less or equal)
  h.observe(5);
  e.histogram("pc_test_duration_seconds", "Durations", h);
  const auto text = e.text();
  EXPECT_TRUE(has(text, "# HELP pc_test_requests_total Requests\n"));
  EXPECT_TRUE(has(text, "# TYPE pc_test_requests_total counter\n"));
  EXPECT_TRUE(has(text, "pc_test_requests_total{code=\"2xx\"} 3\n"));
  EXPECT_TRUE(has(text, "pc_test_requests_total{code=\"5xx\"} 1\n"));
  EXPECT_TRUE(has(text, "# TYPE pc_test_open_connections gauge\npc_test_open_connections 7\n"));
  EXPECT_TRUE(has(text, "# TYPE pc_test_empty_total counter\n"));
  EXPECT_TRUE(has(text, "pc_test_duration_seconds_bucket{le=\"0.1\"} 2\n"));
  EXPECT_TRUE(has(text, "pc_test_duration_seconds_bucket{le=\"1\"} 2\n"));
  EXPECT_TRUE(has(text, "pc_test_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
  EXPECT_TRUE(has(text, "pc_test_duration_seconds_count 3\n"));
  EXPECT_TRUE(has(text, "pc_test_duration_seconds_sum 5.15"));
}

TEST(Exposition, LabelValuesEscaped) {
  Exposition e;
  e.gauge("pc_test_info", "Info", 1, {{"reason", "a \"quoted\"\nline \\ x"}});
  EXPECT_TRUE(has(e.text(), R"(pc_test_info{reason="a \"quoted\"\nline \\ x"} 1)"));
}

TEST(ExpositionDeathTest, ConventionsAreChecked) {
  Exposition e;
  EXPECT_DEATH(e.counter("pc_test_requests", "no _total", 1), "_total");
  EXPECT_DEATH(e.gauge("pc_test_things_total", "a gauge named like a counter", 1), "_total");
  EXPECT_DEATH(e.gauge("pc-test", "bad name", 1), "metric name");
}

struct Count {
  int n = 0;
};

TEST(BoundedSeries, FoldsValuesPastTheBoundIntoOther) {
  BoundedSeries<Count> s(2);
  s.get("dep-a")->n += 1;
  s.get("dep-b")->n += 1;
  s.get("dep-c")->n += 1;  // past the bound
  s.get("dep-d")->n += 1;
  s.get("dep-a")->n += 1;
  EXPECT_EQ(s.size(), 2U);
  std::map<std::string, int> seen;
  s.forEach([&](const std::string& label, const Count& c) { seen[label] = c.n; });
  EXPECT_EQ(seen, (std::map<std::string, int>{{"dep-a", 2}, {"dep-b", 1}, {"other", 2}}));
}

TEST(BoundedSeries, RetainFreesRoom) {
  BoundedSeries<Count> s(1);
  auto held = s.get("dep-a");
  EXPECT_EQ(s.get("dep-b"), s.get("dep-c"));  // both "other"
  s.retain([](const std::string& v) { return v != "dep-a"; });
  EXPECT_EQ(s.size(), 0U);
  held->n += 1;  // a holder keeps counting into its own entry, which no longer shows
  EXPECT_NE(s.get("dep-b"), s.get("dep-c"));
  EXPECT_EQ(s.size(), 1U);
}

}  // namespace
}  // namespace pc::admin
