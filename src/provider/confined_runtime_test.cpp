// ConfinedRuntime: no container starts before its rules are admitted; removal releases them;
// the request can narrow the provider's mode, never widen it.
#include "provider/confined_runtime.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "egress/error.hpp"
#include "support/fake_firewall.hpp"
#include "support/fake_runtime.hpp"
#include "support/run.hpp"

namespace pc::provider {
namespace {

using egress::Mode;

struct Confined : ::testing::Test {
  boost::asio::io_context io;
  /// Keeps the io_context from stopping between test::run calls.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  test::FakeRuntime rt{io.get_executor()};
  test::FakeFirewall fw;
  std::map<std::string, Mode> asked;
  ConfinedRuntime confined{rt, fw, Mode::kInternet, [this](const std::string& id) {
                             auto it = asked.find(id);
                             return it == asked.end() ? Mode::kInternet : it->second;
                           }};

  runtime::ContainerSpec spec(const std::string& id) {
    runtime::ContainerSpec s;
    s.deploymentId = id;
    s.requesterId = "peer";
    s.image = "127.0.0.1:5055/app:1";
    return s;
  }
};

TEST_F(Confined, AdmitsBeforeTheContainerStartsAndReleasesOnRemove) {
  asked["dep-b"] = Mode::kNone;
  auto a = test::run(io, confined.createAndStart(spec("dep-a")));
  ASSERT_TRUE(a) << a.error().message();
  auto b = test::run(io, confined.createAndStart(spec("dep-b")));
  ASSERT_TRUE(b);
  EXPECT_EQ(fw.confined.at("dep-a").mode, Mode::kInternet);
  EXPECT_EQ(fw.confined.at("dep-a").iface, runtime::deploymentInterface("dep-a"));
  EXPECT_EQ(fw.confined.at("dep-b").mode, Mode::kNone);
  ASSERT_TRUE(test::run(io, confined.remove(a->id)));
  EXPECT_FALSE(fw.confined.contains("dep-a"));
  EXPECT_TRUE(fw.confined.contains("dep-b"));
}

TEST_F(Confined, AFirewallFailureStartsNothing) {
  fw.failWith = "iptables-restore: Permission denied";
  auto r = test::run(io, confined.createAndStart(spec("dep-a")));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("could not confine"), std::string::npos);
  EXPECT_NE(r.error().message().find("Permission denied"), std::string::npos);
  EXPECT_EQ(rt.creates, 0);
}

TEST_F(Confined, ANetworkOnAnotherBridgeIsRemovedNotServed) {
  fw.interfacesExist = false;
  auto r = test::run(io, confined.createAndStart(spec("dep-a")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), egress::Errc::kWrongNetwork);
  EXPECT_EQ(rt.creates, 1);
  EXPECT_EQ(rt.removes, 1);
  EXPECT_FALSE(fw.confined.contains("dep-a"));
}

TEST_F(Confined, AContainerOffItsBridgeIsNeitherRestartedNorAdopted) {
  auto a = test::run(io, confined.createAndStart(spec("dep-a")));
  ASSERT_TRUE(a);
  // As if its network were on a bridge the rules do not name (made by an older provider).
  fw.interfacesExist = false;
  auto again = test::run(io, confined.start(a->id));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), egress::Errc::kWrongNetwork);
  EXPECT_EQ(rt.starts, 0);
  // Adopted at a provider start: removed instead of listed.
  auto owned = test::run(io, confined.listOwned());
  ASSERT_TRUE(owned);
  EXPECT_TRUE(owned->empty());
  EXPECT_EQ(rt.removes, 1);
}

TEST_F(Confined, RestartingAContainerAdmitsItAgain) {
  auto a = test::run(io, confined.createAndStart(spec("dep-a")));
  ASSERT_TRUE(a);
  fw.confined.clear();  // e.g. rules flushed while the engine restarted
  ASSERT_TRUE(test::run(io, confined.start(a->id)));
  EXPECT_TRUE(fw.confined.contains("dep-a"));
  fw.failWith = "gone";
  EXPECT_FALSE(test::run(io, confined.start(a->id)));
  EXPECT_EQ(rt.starts, 1);
}

TEST_F(Confined, TheProvidersNoneWinsOverTheRequest) {
  ConfinedRuntime strict{rt, fw, Mode::kNone, [](const std::string&) { return Mode::kInternet; }};
  EXPECT_EQ(strict.confinementOf("dep-a").mode, Mode::kNone);
  EXPECT_EQ(confined.confinementOf("dep-a").mode, Mode::kInternet);
  asked["dep-a"] = Mode::kNone;
  EXPECT_EQ(confined.confinementOf("dep-a").mode, Mode::kNone);
}

TEST(DeploymentInterface, IsAValidBridgeNameWithOurPrefix) {
  const auto a = runtime::deploymentInterface("dep-aaaaaaaaaaaaaaaa");
  EXPECT_EQ(a.size(), 15U);  // IFNAMSIZ - 1
  EXPECT_TRUE(a.starts_with("pcd-"));
  EXPECT_NE(a, runtime::deploymentInterface("dep-aaaaaaaaaaaaaaab"));
  EXPECT_EQ(a, runtime::deploymentInterface("dep-aaaaaaaaaaaaaaaa"));
}

}  // namespace
}  // namespace pc::provider
