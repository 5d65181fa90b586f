// ConfinedRuntime: no container starts before its rules are admitted; removal releases them;
// the request can narrow the provider's mode, never widen it.
#include "provider/confined_runtime.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
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

// The host's resolvers are read at each check and handed to the firewall with the confined
// deployments (DHCP on another network changed them: new deployments' DNS must keep working).
TEST_F(Confined, EachCheckHandsTheFirewallTheHostsResolversNow) {
  ASSERT_TRUE(test::run(io, confined.createAndStart(spec("dep-a"))));
  using boost::asio::ip::make_address;
  std::vector<egress::Address> now{make_address("192.0.2.53")};
  confined.followResolvers([&now] { return now; });
  boost::asio::cancellation_signal stop;
  boost::asio::co_spawn(
      io, confined.watch(std::chrono::seconds(1), [] { return std::vector<std::string>{}; }),
      boost::asio::bind_cancellation_slot(stop.slot(), boost::asio::detached));
  auto until = [this](const std::function<bool()>& done) {
    for (int i = 0; i < 1000 && !done(); ++i) test::pump(io, std::chrono::milliseconds(10));
    return done();
  };
  ASSERT_TRUE(until([&] { return fw.resolvers == now; })) << "the first check is at once";
  EXPECT_EQ(fw.log.back(), "resolvers 1 for 1") << "with the confined deployment";
  now = {make_address("192.0.2.54"), make_address("2001:db8::53")};
  EXPECT_TRUE(until([&] { return fw.resolvers == now; })) << "a later check follows the change";
  stop.emit(boost::asio::cancellation_type::all);
  test::pump(io, std::chrono::milliseconds(20));
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
