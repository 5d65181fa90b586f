#include "provider/config.hpp"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "config/binder.hpp"
#include "crypto/identity.hpp"

namespace pc::provider {
namespace {

/// A gateway address with a fresh peer id on `port`.
std::string gatewayAt(int port) {
  return "/ip4/127.0.0.1/tcp/" + std::to_string(port) + "/p2p/" +
         crypto::Identity::generate().value().peerId().toBase58();
}

/// Applies `toml`, then the command line `args`, as peercomputed does.
Result<void> fileThenFlags(ProviderConfig& c, const std::string& toml,
                           std::vector<std::string> args) {
  config::Binder b;
  bindSettings(b, c);
  if (auto r = b.applyToml(toml, "p.toml"); !r) return r;
  CLI::App app;
  b.addFlags(app);
  std::vector<const char*> argv{"peercomputed"};
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return b.applyFlags();
}

TEST(ProviderConfig, DefaultsAreValid) {
  ProviderConfig c;
  EXPECT_TRUE(c.validate());
  EXPECT_EQ(c.maxCpuMillis, 4000U);
  EXPECT_EQ(c.maxMemoryBytes, 4ULL << 30);
  EXPECT_EQ(c.maxDeployments, 10U);
  const auto p = c.policy();
  EXPECT_EQ(p.providerCapacity.containers, 10U);
  EXPECT_EQ(p.perRequesterQuota.containers, 5U);
  EXPECT_EQ(p.perRequesterQuota.cpuMillis, 4000U);
}

TEST(ProviderConfig, TomlOverridesKeyByKey) {
  ProviderConfig c;
  auto r = applyToml(R"(
listen = ["/ip4/127.0.0.1/tcp/0"]
max_cpu = 2
max_memory = "1G"
max_deployments = 3
max_per_peer = 1
max_connections = 2000
network_pool = "10.213.0.0/16"
allowed_registries = ["127.0.0.1:5055"]
runtime = "runsc"
stop_on_exit = true
stop_grace = "3s"
mdns = false
)",
                     "test.toml", c);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(c.listen, std::vector<std::string>{"/ip4/127.0.0.1/tcp/0"});
  EXPECT_EQ(c.maxCpuMillis, 2000U);
  EXPECT_EQ(c.maxMemoryBytes, 1ULL << 30);
  EXPECT_EQ(c.maxDeployments, 3U);
  EXPECT_EQ(c.maxPerPeer, 1U);
  EXPECT_EQ(c.maxConnections, 2000U);
  EXPECT_EQ(c.networkPool, "10.213.0.0/16");
  EXPECT_EQ(c.ociRuntime, "runsc");
  EXPECT_TRUE(c.stopOnExit);
  EXPECT_EQ(c.stopGrace.count(), 3);
  EXPECT_FALSE(c.mdns);
  EXPECT_TRUE(c.validate());
}

TEST(ProviderConfig, RequestRateAndReplayShares) {
  ProviderConfig c;
  EXPECT_EQ(c.requestRate, 10.0);
  EXPECT_EQ(c.requestBurst, 40U);
  EXPECT_EQ(c.replayLimits().perRequester, 10'000U);
  EXPECT_EQ(c.replayLimits().capacity, 100'000U);
  ASSERT_TRUE(
      applyToml("request_rate = 2.5\nrequest_burst = 5\nreplay_quota_per_peer = 1000\n"
                "replay_cache_capacity = 2000\n",
                "p.toml", c));
  EXPECT_TRUE(c.validate());
  EXPECT_EQ(c.requestLimits().perSecond, 2.5);
  EXPECT_EQ(c.requestLimits().burst, 5U);
  EXPECT_EQ(c.replayLimits().perRequester, 1000U);
  EXPECT_EQ(c.replayLimits().capacity, 2000U);
  // A peer within its rate must never reach its replay share: 3 a second for 360 s is 1080.
  ASSERT_TRUE(applyToml("request_rate = 3\n", "p.toml", c));
  auto r = c.validate();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("replay_quota_per_peer"), std::string::npos);
  c = ProviderConfig{};
  ASSERT_TRUE(applyToml("replay_quota_per_peer = 200000\n", "p.toml", c));
  EXPECT_FALSE(c.validate());
  c = ProviderConfig{};
  ASSERT_TRUE(applyToml("request_rate = 0\n", "p.toml", c));
  EXPECT_FALSE(c.validate());
  EXPECT_FALSE(applyToml("replay_cache_capacity = 0\n", "p.toml", c));
}

TEST(ProviderConfig, ImageQuota) {
  ProviderConfig c;
  EXPECT_EQ(c.imageQuota().maxImageSize, 2ULL << 30);
  EXPECT_EQ(c.imageQuota().maxBytesPerPeer, 4ULL << 30);
  ASSERT_TRUE(
      applyToml("max_image_size = \"300M\"\nmax_image_bytes_per_peer = \"1G\"\n", "p.toml", c));
  EXPECT_TRUE(c.validate());
  EXPECT_EQ(c.imageQuota().maxImageSize, 300ULL << 20);
  EXPECT_EQ(c.imageQuota().maxBytesPerPeer, 1ULL << 30);
  ASSERT_TRUE(applyToml("max_image_size = \"1K\"\n", "p.toml", c));
  auto r = c.validate();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("max_image_size"), std::string::npos);
  EXPECT_FALSE(applyToml("max_image_bytes_per_peer = \"lots\"\n", "p.toml", c));
}

TEST(ProviderConfig, PullPolicy) {
  ProviderConfig c;
  EXPECT_FALSE(c.alwaysPull);  // as-requested
  ASSERT_TRUE(applyToml("pull_policy = \"always\"\n", "p.toml", c));
  EXPECT_TRUE(c.alwaysPull);
  ASSERT_TRUE(applyToml("pull_policy = \"as-requested\"\n", "p.toml", c));
  EXPECT_FALSE(c.alwaysPull);
  auto r = applyToml("pull_policy = \"never\"\n", "p.toml", c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("p.toml:1: pull_policy"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("(as-requested, always)"), std::string::npos)
      << r.error().message();
}

TEST(ProviderConfig, Egress) {
  ProviderConfig c;
  EXPECT_EQ(c.egressPolicy().value().mode, egress::Mode::kInternet);
  auto r = applyToml(R"(
egress = "none"
egress_allow = ["10.77.2.0/24:7002"]
egress_deny = ["198.18.0.0/15"]
egress_check_interval = "2s"
engine_netns = "/proc/1/ns/net"
)",
                     "test.toml", c);
  ASSERT_TRUE(r) << r.error().message();
  auto p = c.egressPolicy();
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->mode, egress::Mode::kNone);
  EXPECT_EQ(p->allow.size(), 1U);
  EXPECT_EQ(p->deny.size(), 1U);
  EXPECT_EQ(c.egressCheckInterval, std::chrono::seconds(2));
  EXPECT_EQ(c.engineNetns, "/proc/1/ns/net");
  ProviderConfig bad;
  // Refused when read or when turned into a policy, never taken as "internet".
  const bool read = static_cast<bool>(applyToml("egress = \"lan\"\n", "test.toml", bad));
  EXPECT_FALSE(read && bad.egressPolicy());
}

TEST(ProviderConfig, CpuReadsTheFormsOfDeploy) {
  // The same forms as `peerctl deploy --cpu`: a bare number is cores.
  for (const auto& [text, millis] : {std::pair{"4", 4000U}, std::pair{"\"500m\"", 500U},
                                     std::pair{"2.5", 2500U}, std::pair{"\"0.5\"", 500U}}) {
    ProviderConfig c;
    auto r = applyToml(std::string("max_cpu = ") + text + "\n", "p.toml", c);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(c.maxCpuMillis, millis) << text;
  }
  ProviderConfig c;
  EXPECT_FALSE(applyToml("max_cpu = \"lots\"\n", "p.toml", c));
}

TEST(ProviderConfig, ErrorsNameFileLineAndKey) {
  ProviderConfig c;
  auto r = applyToml("max_cpu = 1\nmax_memroy = \"1G\"\n", "p.toml", c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("p.toml:2: max_memroy: unknown key"), std::string::npos)
      << r.error().message();
  r = applyToml("max_memory = \"lots\"\n", "p.toml", c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("max_memory"), std::string::npos);
  r = applyToml("max_deployments = \"x\"\n", "p.toml", c);
  ASSERT_FALSE(r);
  r = applyToml("listen = [\n", "p.toml", c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("p.toml:"), std::string::npos);
}

TEST(ProviderConfig, GatewayIsRepeatable) {
  const std::string a = gatewayAt(1), b = gatewayAt(2), old = gatewayAt(3);
  ProviderConfig c;
  ASSERT_TRUE(fileThenFlags(c, "", {"--gateway", a, "--gateway", b}));
  EXPECT_EQ(c.gateways, (std::vector<std::string>{a, b}));
  auto addrs = c.gatewayAddrs();
  ASSERT_TRUE(addrs) << addrs.error().message();
  ASSERT_EQ(addrs->size(), 2U);
  EXPECT_EQ(addrs->at(1).toString(), b);
  EXPECT_TRUE(c.validate());

  // The file's `gateways`, with the old single `gateway` key as one more entry (last).
  c = ProviderConfig{};
  ASSERT_TRUE(applyToml("gateway = \"" + old + "\"\ngateways = [\"" + a + "\", \"" + b + "\"]\n",
                        "p.toml", c));
  addrs = c.gatewayAddrs();
  ASSERT_TRUE(addrs) << addrs.error().message();
  ASSERT_EQ(addrs->size(), 3U);
  EXPECT_EQ(addrs->at(0).toString(), a);
  EXPECT_EQ(addrs->at(2).toString(), old);

  // The old key alone still works; no gateway at all is valid (no public URLs).
  c = ProviderConfig{};
  ASSERT_TRUE(applyToml("gateway = \"" + old + "\"\n", "p.toml", c));
  ASSERT_EQ(c.gatewayAddrs().value().size(), 1U);
  EXPECT_TRUE(ProviderConfig{}.gatewayAddrs().value().empty());

  // The flag replaces the file's list, key by key (the old key is another key).
  c = ProviderConfig{};
  ASSERT_TRUE(fileThenFlags(c, "gateways = [\"" + a + "\"]\n", {"--gateway", b}));
  EXPECT_EQ(c.gateways, std::vector<std::string>{b});
}

TEST(ProviderConfig, GatewayErrorsNameTheEntry) {
  const std::string a = gatewayAt(1);
  const auto id = a.substr(a.rfind('/') + 1);
  ProviderConfig c;
  // The same gateway twice (another address of it, or through the old key): refused by id.
  c.gateways = {a, "/ip4/10.0.0.1/tcp/9/p2p/" + id};
  auto r = c.validate();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("gateway " + id + " is listed twice"), std::string::npos)
      << r.error().message();
  c.gateways = {a};
  c.gateway = a;
  EXPECT_FALSE(c.validate());

  c = ProviderConfig{};
  c.gateways = {"/ip4/127.0.0.1/tcp/1"};
  r = c.validate();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("needs /p2p/<gateway peer id>"), std::string::npos)
      << r.error().message();
  c.gateways = {"not-a-multiaddr"};
  r = c.validate();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("gateway not-a-multiaddr"), std::string::npos)
      << r.error().message();

  c = ProviderConfig{};
  for (std::size_t i = 0; i <= kMaxGateways; ++i) c.gateways.push_back(gatewayAt(int(i) + 1));
  r = c.validate();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("at most " + std::to_string(kMaxGateways)), std::string::npos)
      << r.error().message();
  c.gateways.pop_back();
  EXPECT_TRUE(c.validate());
}

TEST(ProviderConfig, ValidateRejectsNonsense) {
  ProviderConfig c;
  c.allowedRegistries = {"not a registry!"};
  EXPECT_FALSE(c.validate());
  c = ProviderConfig{};
  c.maxDeployments = 0;
  EXPECT_FALSE(c.validate());
}

}  // namespace
}  // namespace pc::provider
