#include <gtest/gtest.h>

#include "runtime/error.hpp"
#include "runtime/policy.hpp"

namespace pc::runtime {
namespace {

Policy make(std::vector<std::string> allowed) {
  PolicyConfig c;
  c.allowedRegistries = std::move(allowed);
  c.maxCpuMillisPerContainer = 2000;
  c.maxMemoryPerContainer = 1ULL << 30;
  c.providerCapacity = {4000, 4ULL << 30, 3};
  c.perRequesterQuota = {2500, 2ULL << 30, 2};
  return Policy::create(c).value();
}

TEST(Policy, AllowlistByRegistryAndPrefix) {
  auto p = make({"docker.io/library", "127.0.0.1:5055", "ghcr.io/acme"});
  EXPECT_TRUE(p.checkImage("busybox"));
  EXPECT_TRUE(p.checkImage("index.docker.io/library/nginx:1.25"));
  EXPECT_TRUE(p.checkImage("127.0.0.1:5055/anything/at/all:v1"));
  EXPECT_TRUE(p.checkImage("ghcr.io/acme/app"));
  EXPECT_TRUE(p.checkImage("ghcr.io/acme"));
  const std::string denied[] = {
      "acme/app",                  // docker.io/acme is not docker.io/library
      "docker.io/library-evil/x",  // prefix must end on a component boundary
      "ghcr.io/acme-evil/app",
      "ghcr.io.evil.example/acme/app",  // suffix trick on the host
      "127.0.0.1:5056/x",               // other port
      "localhost:5055/x",               // other spelling of the host is another registry
      "evil.io/library/busybox",
  };
  for (const auto& img : denied) {
    auto r = p.checkImage(img);
    ASSERT_FALSE(r) << img;
    EXPECT_EQ(r.error(), make_error_code(Errc::kImageNotAllowed)) << img;
    EXPECT_NE(r.error().message().find("allowed_registries"), std::string::npos);
  }
  auto bad = p.checkImage("Not A Ref");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), make_error_code(Errc::kBadReference));
}

TEST(Policy, EmptyAllowlistAllowsNothing) {
  auto p = make({});
  EXPECT_FALSE(p.checkImage("busybox"));
}

TEST(Policy, InvalidAllowlistEntryIsAConfigError) {
  PolicyConfig c;
  c.allowedRegistries = {"not a registry"};
  auto r = Policy::create(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kInvalidSpec));
  EXPECT_NE(r.error().message().find("not a registry"), std::string::npos);
}

void expectLimit(const Result<void>& r, std::string_view key) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kLimitExceeded));
  EXPECT_NE(r.error().message().find(key), std::string::npos) << r.error().message();
}

TEST(Policy, EveryLimitIsNamed) {
  auto p = make({"docker.io"});
  const std::uint64_t MiB = 1ULL << 20;
  EXPECT_TRUE(p.admit({1000, 256 * MiB}, {}, {}));
  expectLimit(p.admit({2001, 256 * MiB}, {}, {}), "max_cpu_per_deployment");
  expectLimit(p.admit({1000, 1025 * MiB}, {}, {}), "max_memory_per_deployment");
  expectLimit(p.admit({1000, 256 * MiB}, {3500, 0, 0}, {}), "max_cpu");
  expectLimit(p.admit({1000, 1024 * MiB}, {0, 3500 * MiB, 0}, {}), "max_memory");
  expectLimit(p.admit({100, 10 * MiB}, {0, 0, 3}, {}), "max_deployments");
  expectLimit(p.admit({1000, 256 * MiB}, {1600, 0, 1}, {1600, 0, 1}), "max_cpu_per_peer");
  expectLimit(p.admit({100, 1024 * MiB}, {0, 1100 * MiB, 1}, {0, 1100 * MiB, 1}),
              "max_memory_per_peer");
  expectLimit(p.admit({100, 10 * MiB}, {0, 0, 2}, {0, 0, 2}), "max_per_peer");
  // Another requester still fits where this one's quota is exhausted.
  EXPECT_TRUE(p.admit({100, 10 * MiB}, {0, 0, 2}, {0, 0, 0}));
}

TEST(Policy, RejectsZeroAndTinyRequests) {
  auto p = make({"docker.io"});
  auto r = p.admit({0, 64ULL << 20}, {}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kInvalidSpec));
  r = p.admit({100, 1 << 20}, {}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kInvalidSpec));
}

TEST(Policy, NoOverflowWithHugeUsage) {
  auto p = make({"docker.io"});
  expectLimit(p.admit({100, 10ULL << 20}, {UINT64_MAX, 0, 0}, {}), "max_cpu");
  expectLimit(p.admit({100, 10ULL << 20}, {0, UINT64_MAX - 1, 0}, {}), "max_memory");
}

}  // namespace
}  // namespace pc::runtime
