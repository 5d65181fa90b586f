// The gateway's admin listener on real sockets: a node started as peergateway starts it, public
// requests through its front, then /metrics and /api/summary read back over loopback.
#include "gateway/observer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>

#include "admin/server.hpp"
#include "core/fs.hpp"
#include "gateway/metrics.hpp"
#include "gateway/node.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

namespace pc::gateway {
namespace {

namespace asio = net::asio;
using net::kNoThrow;
using net::tcp;

asio::awaitable<std::string> exchange(std::uint16_t port, std::string request) {
  tcp::socket s(co_await asio::this_coro::executor);
  auto [ec] = co_await s.async_connect({asio::ip::make_address("127.0.0.1"), port}, kNoThrow);
  if (ec) {
    co_return "connect: " + ec.message();
  }
  co_await asio::async_write(s, asio::buffer(request), kNoThrow);
  std::string out;
  std::array<char, 4096> buf{};
  while (true) {
    auto [rec, n] = co_await s.async_read_some(asio::buffer(buf), kNoThrow);
    out.append(buf.data(), n);
    if (rec) {
      break;
    }
  }
  co_return out;
}

std::string get(std::string_view path, std::string_view host) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + std::string(host) +
         "\r\nConnection: close\r\n\r\n";
}

std::string body(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

TEST(GatewayMetrics, DeploymentLabelsAreBounded) {
  GatewayMetrics m;
  std::vector<std::shared_ptr<DeploymentCounters>> held;
  for (int i = 0; i < 300; ++i) {
    held.push_back(m.deployment("dep-" + std::to_string(i)));
    m.requestDone(*held.back(), 200, std::chrono::milliseconds(1));
  }
  m.requestDone(*held.front(), 503, std::chrono::milliseconds(1));
  m.requestDone(*held.front(), 0, std::chrono::milliseconds(1));  // aborted
  EXPECT_EQ(m.deployments().size(), kMaxDeploymentSeries);
  std::uint64_t other = 0;
  std::size_t labels = 0;
  m.deployments().forEach([&](const std::string& label, const DeploymentCounters& c) {
    ++labels;
    if (label == "other") {
      other = c.total();
    }
  });
  EXPECT_EQ(labels, kMaxDeploymentSeries + 1);
  EXPECT_EQ(other, 300 - kMaxDeploymentSeries);
  EXPECT_EQ(m.requests(), 302U);
  EXPECT_EQ(m.errors(), 2U);
  EXPECT_EQ(held.front()->byClass[static_cast<std::size_t>(CodeClass::kAborted)], 1U);
  // Routes gone: their labels go, and new deployments get their own again.
  m.deployments().retain([](const std::string&) { return false; });
  EXPECT_EQ(m.deployments().size(), 0U);
  EXPECT_NE(m.deployment("dep-new"), m.deployment("dep-newer"));
}

TEST(GatewayMetrics, RatesAndRefusals) {
  GatewayMetrics m;
  auto c = m.deployment("dep-a");
  for (int s = 0; s < 10; ++s) {
    for (int i = 0; i < 3; ++i) {
      m.requestDone(*c, 200, std::chrono::milliseconds(1));
    }
    m.tick();
  }
  EXPECT_DOUBLE_EQ(c->rate(), 3.0);
  EXPECT_EQ(m.history().size(), 10U);
  EXPECT_EQ(m.history().back().first, 3U);
  for (int i = 0; i < 60; ++i) {
    m.refused(Errc::kClientRateLimited, "192.0.2.1:1");
  }
  EXPECT_EQ(m.recentRefusals().size(), kRecentRefusals);
  EXPECT_EQ(m.recentRefusals().back().status, 429);
  for (const auto& [reason, n] : m.refusalCounts()) {
    EXPECT_EQ(n, reason == "client_rate_limited" ? 60U : 0U) << reason;
  }
}

TEST(GatewayObserver, ScrapesWhatTheFrontServed) {
  asio::io_context io(1);
  auto work = asio::make_work_guard(io);
  test::TempDir dir;
  GatewayConfig cfg;
  cfg.dataDir = dir.path() / "gw";
  cfg.bind = "127.0.0.1";
  cfg.httpPort = 0;
  cfg.tunnelListen = "/ip4/127.0.0.1/tcp/0";
  cfg.admin.listen = "127.0.0.1:0";
  auto node = GatewayNode::start(io.get_executor(), cfg, "test").value();
  ASSERT_NE(node->adminServer(), nullptr);
  const auto admin = node->adminServer()->endpoint().port();
  const auto http = node->config().httpPort;
  const auto unknown = test::run(io, exchange(http, get("/", "dep-nothere.localhost")));
  EXPECT_EQ(unknown.rfind("HTTP/1.1 404", 0), 0U) << unknown;
  const auto metrics = body(test::run(io, exchange(admin, get("/metrics", "127.0.0.1"))));
  for (const char* line : {
           "peergateway_http_requests_total{deployment=\"unrouted\",code=\"4xx\"} 1\n",
           "peergateway_refusals_total{reason=\"unknown_host\"} 1\n",
           "peergateway_http_request_duration_seconds_count 1\n",
           "# TYPE peergateway_http_received_bytes_total counter\n",
           "# TYPE peergateway_http_sent_bytes_total counter\n",
           "peergateway_http_open_connections ",
           "# TYPE peergateway_routes gauge\n",
           "# TYPE peergateway_tunnels_up gauge\n",
           "peergateway_relay_reservations 0\n",
           "peergateway_relay_circuits 0\n",
           "peergateway_build_info{version=\"test\"} 1\n",
       }) {
    EXPECT_NE(metrics.find(line), std::string::npos) << line << "\n" << metrics;
  }
  const auto summary = body(test::run(io, exchange(admin, get("/api/summary", "localhost"))));
  const auto v = boost::json::parse(summary);
  EXPECT_EQ(v.at("totals").at("requests").as_int64(), 1);
  EXPECT_EQ(v.at("refusals").at(0).at("reason").as_string(), "unknown_host");
  EXPECT_EQ(v.at("refusals").at(0).at("status").as_int64(), 404);
  // Never on the public listener: the front knows no /metrics.
  const auto onPublic = test::run(io, exchange(http, get("/metrics", "127.0.0.1")));
  EXPECT_EQ(onPublic.find("peergateway_"), std::string::npos);
  test::run(io, [&]() -> asio::awaitable<bool> {
    co_await node->shutdown();
    co_return true;
  }());
}

TEST(GatewayObserver, AdminPortMustNotBeAPublicPort) {
  GatewayConfig cfg;
  cfg.httpPort = 8080;
  cfg.admin.listen = "127.0.0.1:8080";
  EXPECT_FALSE(cfg.validate());
  cfg.admin.listen = "127.0.0.1:9100";
  EXPECT_TRUE(cfg.validate());
  cfg.admin.listen = "example.org:9100";
  EXPECT_FALSE(cfg.validate());
}

}  // namespace
}  // namespace pc::gateway
