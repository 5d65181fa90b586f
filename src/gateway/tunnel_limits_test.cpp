// A real gateway (GatewayNode) and a hand-driven provider host on loopback: what the gateway
// does to a provider over its limits or taken off its allowlist.
#include <gtest/gtest.h>

#include "crypto/identity.hpp"
#include "gateway/node.hpp"
#include "net/host.hpp"
#include "net/relay/hop_service.hpp"
#include "net/relay/messages.hpp"
#include "protocol/deployment_id.hpp"
#include "protocol/signing.hpp"
#include "protocol/stream_protocols.hpp"
#include "rpc/message_stream.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "trust/trust_store.hpp"
#include "tunnel/route_table.hpp"

namespace pc::gateway {
namespace {

namespace asio = net::asio;
using namespace std::chrono_literals;

class TunnelLimits : public ::testing::Test {
 protected:
  TunnelLimits() {
    allowProvider(true);
    GatewayConfig cfg;
    cfg.dataDir = dir.path();
    cfg.bind = "127.0.0.1";
    cfg.httpPort = 0;
    cfg.tunnelListen = "/ip4/127.0.0.1/tcp/0";
    cfg.maxRoutesPerProvider = 2;
    gw = GatewayNode::start(io.get_executor(), cfg, "test").value();
  }
  ~TunnelLimits() override {
    if (provider) {
      provider->close();
    }
    gw->close();
    test::pump(io, 50ms);
  }

  void allowProvider(bool allowed) {
    auto r = trust::TrustStore::modify(
        dir.path() / kProvidersFile, [&](trust::TrustStore& s) -> Result<void> {
          if (allowed) {
            return s.add(trust::TrustedPeer{provId.peerId(), "prov", {}, trust::nowRfc3339()});
          }
          auto removed = s.remove(provId.peerId().toBase58());
          if (!removed) {
            return removed.error();
          }
          return {};
        });
    ASSERT_TRUE(r.has_value()) << r.error().message();
  }

  /// Connects the provider and opens its tunnel control stream.
  asio::awaitable<bool> openTunnel() {
    provider = net::Host::create(io.get_executor(), provId);
    auto conn = co_await provider->connect(gw->tunnelAddrs().front());
    if (!conn) {
      co_return false;
    }
    tunnelConn = *conn;
    const std::vector<std::string> protos{std::string(protocol::kTunnelProtocol)};
    auto s = co_await provider->newStream(*conn, protos);
    if (!s) {
      co_return false;
    }
    control = *s;
    reader.emplace(*control);
    co_return true;
  }

  /// Registers a fresh deployment id of the provider; returns the answer's code ("ok" or the
  /// error code), or "closed" when the tunnel ended.
  asio::awaitable<std::string> registerOne(std::optional<std::string> onBehalfOf = {}) {
    const std::string salt = protocol::newDeploymentSalt();
    lastDep = protocol::deploymentIdFor(provId.peerId(), salt).value();
    protocol::Message m = protocol::RegisterRoute{
        protocol::newRequestHeader(protocol::unixMillisNow()), lastDep, salt, onBehalfOf};
    (void)protocol::sign(m, provId);
    if (auto w = co_await rpc::writeMessage(*control, m); !w) {
      co_return "closed";
    }
    auto msg = co_await reader->next();
    if (!msg || !*msg) {
      co_return "closed";
    }
    if (auto* e = std::get_if<protocol::ErrorMessage>(&**msg)) {
      co_return e->code;
    }
    co_return std::holds_alternative<protocol::RouteRegistered>(**msg) ? "ok" : "unexpected";
  }

  /// Opens hop on `conn`, sends RESERVE and returns the answer's status (kUnused when the
  /// exchange failed).
  asio::awaitable<net::relay::Status> reserveOn(std::shared_ptr<net::Host> h,
                                                std::shared_ptr<net::Connection> conn) {
    const std::vector<std::string> protos{std::string(net::relay::kHopProtocol)};
    auto s = co_await h->newStream(conn, protos);
    if (!s) {
      co_return net::relay::Status::kUnused;
    }
    net::relay::HopMessage req;
    req.type = net::relay::HopMessage::Type::kReserve;
    const Bytes bytes = net::relay::encode(req);
    if (auto w = co_await net::writeLengthPrefixed(**s, bytes); !w) {
      co_return net::relay::Status::kUnused;
    }
    auto raw = co_await net::readLengthPrefixed(**s, net::relay::kMaxMessageSize);
    if (!raw) {
      co_return net::relay::Status::kUnused;
    }
    auto m = net::relay::decodeHop(*raw);
    co_return m && m->status ? *m->status : net::relay::Status::kUnused;
  }

  /// Waits (up to 5 s) until the gateway has `n` routes.
  asio::awaitable<bool> routesReach(std::size_t n) {
    asio::steady_timer t(io);
    for (int i = 0; i < 500 && gw->routeTable().size() != n; ++i) {
      t.expires_after(10ms);
      co_await t.async_wait(net::kNoThrow);
    }
    co_return gw->routeTable().size() == n;
  }

  test::TempDir dir;
  asio::io_context io;
  crypto::Identity provId = crypto::Identity::generate().value();
  std::unique_ptr<GatewayNode> gw;
  std::shared_ptr<net::Host> provider;
  std::shared_ptr<net::Connection> tunnelConn;
  std::shared_ptr<net::yamux::Stream> control;
  std::optional<rpc::MessageReader> reader;
  std::string lastDep;
};

TEST_F(TunnelLimits, AProviderHoldsAtMostItsRoutes) {
  const auto answers = test::run(io, [this]() -> asio::awaitable<std::vector<std::string>> {
    std::vector<std::string> out;
    if (!co_await openTunnel()) {
      co_return out;
    }
    for (int i = 0; i < 3; ++i) {
      out.push_back(co_await registerOne());
    }
    co_return out;
  }());
  const std::vector<std::string> expected{"ok", "ok", "too_many_routes"};
  EXPECT_EQ(answers, expected);
  EXPECT_EQ(gw->routeTable().size(), 2U);
}

TEST_F(TunnelLimits, TheRouteRemembersWhoItIsFor) {
  const std::string developer = crypto::Identity::generate().value().peerId().toBase58();
  const auto answers = test::run(io, [&]() -> asio::awaitable<std::vector<std::string>> {
    std::vector<std::string> out;
    if (!co_await openTunnel()) {
      co_return out;
    }
    out.push_back(co_await registerOne(developer));
    co_return out;
  }());
  ASSERT_EQ(answers, std::vector<std::string>{"ok"});
  const auto* route = gw->routeTable().find(lastDep);
  ASSERT_NE(route, nullptr);
  // The certificate budget of a developer is counted across providers by this field.
  EXPECT_EQ(route->requester, developer);
}

TEST_F(TunnelLimits, RemovingAProviderFromTheAllowlistCutsItsTunnelAndRoutes) {
  const auto result = test::run(io, [this]() -> asio::awaitable<std::string> {
    if (!co_await openTunnel() || co_await registerOne() != "ok") {
      co_return "set-up failed";
    }
    allowProvider(false);
    // The enforcer notices within its period: routes dropped and the connection closed.
    if (!co_await routesReach(0)) {
      co_return "routes kept";
    }
    asio::steady_timer t(io);
    for (int i = 0; i < 500 && tunnelConn->isOpen(); ++i) {
      t.expires_after(10ms);
      co_await t.async_wait(net::kNoThrow);
    }
    if (tunnelConn->isOpen()) {
      co_return "connection kept";
    }
    // And it cannot come back.
    auto again = co_await provider->connect(gw->tunnelAddrs().front());
    if (!again) {
      co_return "cut";
    }
    const std::vector<std::string> protos{std::string(protocol::kTunnelProtocol)};
    auto s = co_await provider->newStream(*again, protos);
    co_return s ? "reconnected" : "cut: " + s.error().message();
  }());
  EXPECT_EQ(result.substr(0, 3), "cut") << result;
}

TEST_F(TunnelLimits, APeerNotOnTheAllowlistMayPingButNeitherTunnelNorReserve) {
  crypto::Identity devId = crypto::Identity::generate().value();
  auto dev = net::Host::create(io.get_executor(), devId);
  std::string tunnel;
  const auto result = test::run(io, [&]() -> asio::awaitable<std::string> {
    auto conn = co_await dev->connect(gw->tunnelAddrs().front());
    if (!conn) {
      co_return "connect: " + conn.error().message();
    }
    if (auto rtt = co_await dev->ping(*conn); !rtt) {
      co_return "ping: " + rtt.error().message();
    }
    if (auto info = co_await dev->identify(*conn); !info) {
      co_return "identify: " + info.error().message();
    }
    const std::vector<std::string> protos{std::string(protocol::kTunnelProtocol)};
    auto s = co_await dev->newStream(*conn, protos);
    tunnel = s ? "opened" : s.error().message();
    const net::relay::Status st = co_await reserveOn(dev, *conn);
    co_return net::relay::statusName(st);
  }());
  EXPECT_EQ(result, "PERMISSION_DENIED");
  EXPECT_NE(tunnel, "opened");
  EXPECT_EQ(gw->hop().reservations(), 0U);
  dev->close();
}

TEST_F(TunnelLimits, AProviderReservesAndLosesItWhenRemovedFromTheAllowlist) {
  const auto st = test::run(io, [this]() -> asio::awaitable<net::relay::Status> {
    if (!co_await openTunnel()) {
      co_return net::relay::Status::kUnused;
    }
    co_return co_await reserveOn(provider, tunnelConn);
  }());
  ASSERT_EQ(st, net::relay::Status::kOk);
  EXPECT_TRUE(gw->hop().hasReservation(provId.peerId()));
  allowProvider(false);
  for (int i = 0; i < 500 && gw->hop().hasReservation(provId.peerId()); ++i) {
    test::pump(io, 10ms);
  }
  EXPECT_FALSE(gw->hop().hasReservation(provId.peerId()));
  for (int i = 0; i < 500 && tunnelConn->isOpen(); ++i) {
    test::pump(io, 10ms);
  }
  EXPECT_FALSE(tunnelConn->isOpen());
}

TEST_F(TunnelLimits, NonProvidersAreLimitedPerAddressProvidersAreNot) {
  GatewayConfig cfg = gw->config();
  test::run(io, [this]() -> asio::awaitable<bool> {
    co_await gw->shutdown();
    co_return true;
  }());
  cfg.httpPort = 0;
  cfg.relayMaxConnectionsPerIp = 1;
  gw = GatewayNode::start(io.get_executor(), cfg, "test").value();
  crypto::Identity idA = crypto::Identity::generate().value();
  crypto::Identity idB = crypto::Identity::generate().value();
  auto devA = net::Host::create(io.get_executor(), idA);
  auto devB = net::Host::create(io.get_executor(), idB);
  const auto result = test::run(io, [&]() -> asio::awaitable<std::string> {
    auto a = co_await devA->connect(gw->tunnelAddrs().front());
    if (!a || !co_await devA->ping(*a)) {
      co_return "first stranger refused";
    }
    // The second stranger from 127.0.0.1 is over relay_max_connections_per_ip = 1: the gateway
    // closes its connection (GoAway, then the socket).
    auto b = co_await devB->connect(gw->tunnelAddrs().front());
    if (b) {
      asio::steady_timer t(io);
      for (int i = 0; i < 500 && (*b)->isOpen(); ++i) {
        t.expires_after(10ms);
        co_await t.async_wait(net::kNoThrow);
      }
      if ((*b)->isOpen()) {
        co_return "second stranger kept";
      }
    }
    if (!(*a)->isOpen()) {
      co_return "first stranger cut";
    }
    // A provider from the same address is not counted.
    co_return co_await openTunnel() ? "ok" : "provider refused";
  }());
  EXPECT_EQ(result, "ok");
  devA->close();
  devB->close();
}

}  // namespace
}  // namespace pc::gateway
