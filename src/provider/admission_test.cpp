// Admission is pure: these tests give it records and a policy and read its decision and its
// words. Each limit is hit alone, and its refusal names it by its configuration key.
#include "provider/admission.hpp"

#include <gtest/gtest.h>

#include "provider/error.hpp"
#include "runtime/error.hpp"

namespace pc::provider {
namespace {

using protocol::DeploymentState;
constexpr std::uint64_t kMiB = 1ULL << 20;

runtime::Policy policy() {
  runtime::PolicyConfig c;
  c.allowedRegistries = {"127.0.0.1:5055"};
  c.maxCpuMillisPerContainer = 2000;
  c.maxMemoryPerContainer = 1024 * kMiB;
  c.providerCapacity = {4000, 4096 * kMiB, 3};
  c.perRequesterQuota = {2500, 2048 * kMiB, 2};
  return runtime::Policy::create(c).value();
}

DeployParams ask(std::string requester, std::uint32_t cpu, std::uint64_t memory) {
  DeployParams p;
  p.requester = std::move(requester);
  p.image = "127.0.0.1:5055/app:v1";
  p.cpuMillis = cpu;
  p.memoryBytes = memory;
  return p;
}

/// Records: one active deployment per entry, `state` for all.
std::map<std::string, Deployment> held(
    std::vector<std::tuple<std::string, std::uint32_t, std::uint64_t>> uses,
    DeploymentState state = DeploymentState::kRunning) {
  std::map<std::string, Deployment> out;
  int n = 0;
  for (auto& [who, cpu, mem] : uses) {
    Deployment d;
    d.id = "dep-" + std::to_string(n++);
    d.requester = who;
    d.cpuMillis = cpu;
    d.memoryBytes = mem;
    d.state = state;
    out.emplace(d.id, d);
  }
  return out;
}

void expectRefused(const Result<runtime::ImageRef>& r, runtime::Errc code, std::string_view key) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), runtime::make_error_code(code));
  EXPECT_NE(r.error().message().find(key), std::string::npos) << r.error().message();
}

TEST(Admission, AdmitsWhatFitsAndNormalisesTheImage) {
  auto r = decideAdmission(policy(), {}, ask("alice", 1000, 256 * kMiB), false);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->toString(), "127.0.0.1:5055/app:v1");
}

TEST(Admission, ShuttingDownRefusesEverything) {
  auto r = decideAdmission(policy(), {}, ask("alice", 1000, 256 * kMiB), true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kShuttingDown));
  EXPECT_EQ(r.error().message(), "the provider is shutting down; try again once it is back");
}

TEST(Admission, TheImagePolicyComesFirst) {
  auto p = ask("alice", 0, 0);  // would also be an invalid request
  p.image = "docker.io/library/busybox";
  expectRefused(decideAdmission(policy(), {}, p, false), runtime::Errc::kImageNotAllowed,
                "allowed_registries");
  p.image = "Not A Ref";
  auto bad = decideAdmission(policy(), {}, p, false);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), runtime::make_error_code(runtime::Errc::kBadReference));
}

TEST(Admission, PerDeploymentCapsAndMinimums) {
  expectRefused(decideAdmission(policy(), {}, ask("alice", 0, 256 * kMiB), false),
                runtime::Errc::kInvalidSpec, "cpu_millis must be at least 1");
  expectRefused(decideAdmission(policy(), {}, ask("alice", 100, 1 * kMiB), false),
                runtime::Errc::kInvalidSpec, "memory must be at least 6 MiB");
  expectRefused(decideAdmission(policy(), {}, ask("alice", 2001, 256 * kMiB), false),
                runtime::Errc::kLimitExceeded, "the limit max_cpu_per_deployment is 2000m");
  expectRefused(decideAdmission(policy(), {}, ask("alice", 100, 1025 * kMiB), false),
                runtime::Errc::kLimitExceeded, "the limit max_memory_per_deployment is 1024 MiB");
}

TEST(Admission, ProviderTotals) {
  const auto cpu = held({{"bob", 2000, 64 * kMiB}, {"carol", 1500, 64 * kMiB}});
  expectRefused(decideAdmission(policy(), cpu, ask("alice", 1000, 64 * kMiB), false),
                runtime::Errc::kLimitExceeded,
                "provider cpu: asks for 1000m with 3500m already in use but the limit max_cpu is "
                "4000m");
  const auto mem = held({{"bob", 100, 2000 * kMiB}, {"carol", 100, 2000 * kMiB}});
  expectRefused(decideAdmission(policy(), mem, ask("alice", 100, 100 * kMiB), false),
                runtime::Errc::kLimitExceeded, "the limit max_memory is 4096 MiB");
  const auto count =
      held({{"bob", 100, 8 * kMiB}, {"carol", 100, 8 * kMiB}, {"dave", 100, 8 * kMiB}});
  expectRefused(decideAdmission(policy(), count, ask("alice", 100, 8 * kMiB), false),
                runtime::Errc::kLimitExceeded, "the limit max_deployments is 3");
}

TEST(Admission, PerPeerQuota) {
  const auto cpu = held({{"alice", 2000, 8 * kMiB}});
  expectRefused(decideAdmission(policy(), cpu, ask("alice", 600, 8 * kMiB), false),
                runtime::Errc::kLimitExceeded, "the limit max_cpu_per_peer is 2500m");
  const auto mem = held({{"alice", 100, 1100 * kMiB}});
  expectRefused(decideAdmission(policy(), mem, ask("alice", 100, 1000 * kMiB), false),
                runtime::Errc::kLimitExceeded, "the limit max_memory_per_peer is 2048 MiB");
  const auto count = held({{"alice", 100, 8 * kMiB}, {"alice", 100, 8 * kMiB}});
  expectRefused(decideAdmission(policy(), count, ask("alice", 100, 8 * kMiB), false),
                runtime::Errc::kLimitExceeded, "the limit max_per_peer is 2");
  // Another peer still fits where alice's quota is used up.
  EXPECT_TRUE(decideAdmission(policy(), count, ask("bob", 100, 8 * kMiB), false));
}

TEST(Admission, OnlyActiveRecordsHoldCapacity) {
  auto records =
      held({{"alice", 2000, 8 * kMiB}, {"alice", 2000, 8 * kMiB}}, DeploymentState::kFailed);
  for (auto& [id, d] : held({{"alice", 2000, 8 * kMiB}}, DeploymentState::kStopped)) {
    records.emplace(id + "-stopped", d);
  }
  EXPECT_TRUE(decideAdmission(policy(), records, ask("alice", 2000, 8 * kMiB), false));
  // Pending, pulling, starting and stopping hold it: the reservation is made at admission.
  for (auto s : {DeploymentState::kPending, DeploymentState::kPulling, DeploymentState::kStarting,
                 DeploymentState::kStopping}) {
    expectRefused(decideAdmission(policy(), held({{"alice", 2000, 8 * kMiB}}, s),
                                  ask("alice", 1000, 8 * kMiB), false),
                  runtime::Errc::kLimitExceeded, "max_cpu_per_peer");
  }
}

TEST(Admission, UsageCountsAllOrOneRequester) {
  const auto records = held({{"alice", 100, 10 * kMiB}, {"bob", 200, 20 * kMiB}});
  const auto all = usageOf(records, nullptr);
  EXPECT_EQ(all.cpuMillis, 300U);
  EXPECT_EQ(all.memoryBytes, 30 * kMiB);
  EXPECT_EQ(all.containers, 2U);
  const std::string bob = "bob";
  const auto mine = usageOf(records, &bob);
  EXPECT_EQ(mine.cpuMillis, 200U);
  EXPECT_EQ(mine.containers, 1U);
}

}  // namespace
}  // namespace pc::provider
