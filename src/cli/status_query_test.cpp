#include "cli/status_query.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace pc::cli {
namespace {

using protocol::DeploymentState;

PeerStatus row(std::string id, DeploymentState s, std::optional<std::int64_t> cpu = {},
               std::optional<std::int64_t> mem = {}) {
  PeerStatus r;
  r.peerId = "12D3KooWprov";
  r.status.deploymentId = std::move(id);
  r.status.state = s;
  r.status.cpuUsageMillicores = cpu;
  r.status.memoryBytes = mem;
  r.status.memoryLimit = 256 << 20;
  return r;
}

TEST(StatusWatch, ReportsEachChangeOnce) {
  StateMap states;
  auto first = stateChanges(states, {row("dep-a", DeploymentState::kPulling)});
  ASSERT_EQ(first.size(), 1U);
  EXPECT_FALSE(first[0].from);
  EXPECT_TRUE(stateChanges(states, {row("dep-a", DeploymentState::kPulling)}).empty());
  auto next = stateChanges(
      states, {row("dep-a", DeploymentState::kRunning), row("dep-b", DeploymentState::kPending)});
  ASSERT_EQ(next.size(), 2U);
  EXPECT_EQ(next[0].from, DeploymentState::kPulling);
  EXPECT_EQ(next[0].to, DeploymentState::kRunning);
  EXPECT_EQ(changeText(next[0], "prov", "17:40:01"), "17:40:01  dep-a  prov  pulling → running");
  EXPECT_EQ(changeText(next[1], "prov", "17:40:01"), "17:40:01  dep-b  prov  → pending");
  // A deployment missing from an answer (a provider that did not answer) is not a change.
  EXPECT_TRUE(stateChanges(states, {}).empty());
  auto failed = row("dep-a", DeploymentState::kFailed);
  failed.status.error = "exit 1";
  const auto c = stateChanges(states, {failed});
  ASSERT_EQ(c.size(), 1U);
  EXPECT_EQ(changeText(c[0], "prov", "t"), "t  dep-a  prov  running → failed (exit 1)");
  const auto j = boost::json::parse(changeJson(c[0], "t"));
  EXPECT_EQ(j.at("from").as_string(), "running");
  EXPECT_EQ(j.at("to").as_string(), "failed");
  EXPECT_EQ(j.at("error").as_string(), "exit 1");
  EXPECT_EQ(j.at("peer_id").as_string(), "12D3KooWprov");
}

TEST(Top, TableShowsCpuAndMemoryOfRunningDeploymentsFirst) {
  const auto text = topTable({row("dep-old", DeploymentState::kStopped),
                              row("dep-run", DeploymentState::kRunning, 1250, 64 << 20)},
                             [](const std::string&) { return std::string("prov"); });
  EXPECT_LT(text.find("dep-run"), text.find("dep-old"));
  EXPECT_NE(text.find("125.0%"), std::string::npos) << text;  // 1250m = 1.25 cores
  EXPECT_NE(text.find("64 MiB / 256 MiB"), std::string::npos) << text;
  EXPECT_NE(text.find("25.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("MEM USAGE / LIMIT"), std::string::npos);
}

}  // namespace
}  // namespace pc::cli
