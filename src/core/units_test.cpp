#include "core/units.hpp"

#include <gtest/gtest.h>

#include "core/event_budget.hpp"

namespace pc::units {
namespace {

TEST(Units, Bytes) {
  EXPECT_EQ(*parseBytes("256M"), 256ULL << 20);
  EXPECT_EQ(*parseBytes("4G"), 4ULL << 30);
  EXPECT_EQ(*parseBytes("4gib"), 4ULL << 30);
  EXPECT_EQ(*parseBytes("1.5GiB"), 3ULL << 29);
  EXPECT_EQ(*parseBytes("1048576"), 1048576U);
  EXPECT_EQ(*parseBytes("512k"), 512U * 1024);
  EXPECT_FALSE(parseBytes(""));
  EXPECT_FALSE(parseBytes("M"));
  EXPECT_FALSE(parseBytes("-1M"));
  EXPECT_FALSE(parseBytes("12X"));
  EXPECT_FALSE(parseBytes("99999999999999999999T"));
  EXPECT_EQ(formatBytes(256ULL << 20), "256 MiB");
  EXPECT_EQ(formatBytes(3ULL << 29), "1.5 GiB");
  EXPECT_EQ(formatBytes(12), "12 B");
}

TEST(Units, Durations) {
  EXPECT_EQ(parseDuration("30s")->count(), 30000);
  EXPECT_EQ(parseDuration("5m")->count(), 300000);
  EXPECT_EQ(parseDuration("1h30m")->count(), 5400000);
  EXPECT_EQ(parseDuration("250ms")->count(), 250);
  EXPECT_EQ(parseDuration("90")->count(), 90000);
  EXPECT_EQ(parseDuration("1.5s")->count(), 1500);
  EXPECT_FALSE(parseDuration(""));
  EXPECT_FALSE(parseDuration("5x"));
  EXPECT_FALSE(parseDuration("m"));
}

TEST(Units, Cpu) {
  EXPECT_EQ(*parseCpu("0.5"), 500U);
  EXPECT_EQ(*parseCpu("2"), 2000U);
  EXPECT_EQ(*parseCpu("250m"), 250U);
  EXPECT_EQ(*parseCpu("0.125"), 125U);
  EXPECT_FALSE(parseCpu("0"));
  EXPECT_FALSE(parseCpu("0.0001"));
  EXPECT_FALSE(parseCpu("-1"));
  EXPECT_FALSE(parseCpu("1.5m"));
  EXPECT_FALSE(parseCpu("abc"));
}

TEST(EventBudget, AdmitsPerSecondAndCountsTheRest) {
  EventBudget b(2);
  const auto t0 = EventBudget::Clock::now();
  EXPECT_EQ(b.admit(t0), 0u);
  EXPECT_EQ(b.admit(t0), 0u);
  EXPECT_FALSE(b.admit(t0));  // over budget: counted
  EXPECT_FALSE(b.admit(t0 + std::chrono::milliseconds(900)));
  // A new window: admitted again, with the count of what was left out.
  EXPECT_EQ(b.admit(t0 + std::chrono::seconds(1)), 2u);
  EXPECT_EQ(b.admit(t0 + std::chrono::seconds(1)), 0u);
}

}  // namespace
}  // namespace pc::units
