#include "cli/live_view.hpp"

#include <gtest/gtest.h>

namespace pc::cli {
namespace {

using protocol::DeploymentState;
using std::chrono::seconds;

PeerStatus running(std::string id, std::int64_t rx, std::int64_t tx) {
  PeerStatus r;
  r.peerId = "12D3KooWprov";
  r.status.deploymentId = std::move(id);
  r.status.state = DeploymentState::kRunning;
  r.status.cpuUsageMillicores = 125;
  r.status.memoryBytes = 16 << 20;
  r.status.memoryLimit = 64 << 20;
  r.status.netRxBytes = rx;
  r.status.netTxBytes = tx;
  return r;
}

const PeerLabel kLabel = [](const std::string&) { return std::string("prov"); };

TEST(LiveView, TopShowsUseAndRatesFromTwoSamples) {
  const auto t0 = std::chrono::steady_clock::time_point{};
  TopView view;
  const std::string first = view.update({t0, {running("dep-a", 1000, 100)}}, kLabel);
  EXPECT_NE(first.find("12.5"), std::string::npos) << first;  // 125 millicores = 12.5 %
  EXPECT_NE(first.find("16 MiB / 64 MiB"), std::string::npos) << first;
  EXPECT_NE(first.find("25.0"), std::string::npos) << first;  // memory %
  EXPECT_NE(first.find(" -"), std::string::npos) << first;    // no rate from one sample
  // A provider that does not say when it sampled: rounds count as samples, by arrival.
  const std::string second =
      view.update({t0 + seconds(2), {running("dep-a", 1000 + 4096, 100 + 2048)}}, kLabel);
  EXPECT_NE(second.find("2 KiB/s"), std::string::npos) << second;  // 4096 B in 2 s
  EXPECT_NE(second.find("1 KiB/s"), std::string::npos) << second;  // 2048 B in 2 s
}

TEST(LiveView, TopRatesSpanTheProvidersSamplesNotTheRefreshes) {
  const auto t0 = std::chrono::steady_clock::time_point{};
  auto at = [](PeerStatus r, std::int64_t statsAtMs) {
    r.status.statsAtMs = statsAtMs;
    return r;
  };
  TopView view;
  (void)view.update({t0, {at(running("dep-a", 0, 0), 10'000)}}, kLabel);
  // The provider's next sample, 5 s after its first, reaches a refresh 2 s later: 10 KiB in 5 s.
  const std::string a =
      view.update({t0 + seconds(2), {at(running("dep-a", 10240, 5120), 15'000)}}, kLabel);
  EXPECT_NE(a.find("2 KiB/s"), std::string::npos) << a;
  EXPECT_NE(a.find("1 KiB/s"), std::string::npos) << a;
  // The next refresh brings the same sample again (cached): the same rates, not zero.
  const std::string b =
      view.update({t0 + seconds(4), {at(running("dep-a", 10240, 5120), 15'000)}}, kLabel);
  EXPECT_NE(b.find("2 KiB/s"), std::string::npos) << b;
  EXPECT_EQ(b.find(" 0 B/s"), std::string::npos) << b;
  // A new sample 5 s on with nothing sent: zero now.
  const std::string c =
      view.update({t0 + seconds(6), {at(running("dep-a", 10240, 5120), 20'000)}}, kLabel);
  EXPECT_NE(c.find("0 B/s"), std::string::npos) << c;
}

TEST(LiveView, TopOmitsWhatIsNotRunningAndRestartedCountersHaveNoRate) {
  const auto t0 = std::chrono::steady_clock::time_point{};
  auto stopped = running("dep-stopped", 0, 0);
  stopped.status.state = DeploymentState::kStopped;
  TopView view;
  (void)view.update({t0, {running("dep-a", 5000, 5000), stopped}}, kLabel);
  const std::string t = view.update({t0 + seconds(1), {running("dep-a", 10, 10), stopped}}, kLabel);
  EXPECT_EQ(t.find("dep-stopped"), std::string::npos) << t;
  EXPECT_EQ(t.find("B/s"), std::string::npos) << t;  // counters went back: the container restarted
}

TEST(LiveView, StatusChangesNameEachTransition) {
  auto a = running("dep-a", 0, 0);
  auto b = running("dep-b", 0, 0);
  auto a2 = a;
  a2.status.state = DeploymentState::kFailed;
  a2.status.exitCode = 137;
  a2.status.error = "killed: out of memory";
  auto c = running("dep-c", 0, 0);
  c.status.state = DeploymentState::kPulling;
  const auto changes = statusChanges({a, b}, {a2, b, c});
  ASSERT_EQ(changes.size(), 2U);
  EXPECT_EQ(changeLine("12:00:00", changes[0], kLabel),
            "12:00:00  dep-a  prov  running → failed (exit 137): killed: out of memory\n");
  EXPECT_EQ(changeLine("12:00:01", changes[1], kLabel), "12:00:01  dep-c  prov  pulling\n");
  const auto gone = statusChanges({a, b}, {b});
  ASSERT_EQ(gone.size(), 1U);
  EXPECT_EQ(gone[0].to, "gone");
  EXPECT_TRUE(statusChanges({a, b}, {a, b}).empty());
  EXPECT_EQ(
      changeJson(7, changes[1]),
      R"({"time":7,"deployment_id":"dep-c","peer_id":"12D3KooWprov","from":null,"to":"pulling"})"
      "\n");
}

}  // namespace
}  // namespace pc::cli
