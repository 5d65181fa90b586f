#include "gateway/observer.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <map>

#include "admin/exposition.hpp"
#include "admin/site.hpp"
#include "dns/server.hpp"
#include "gateway/certs.hpp"
#include "gateway/http_proxy.hpp"
#include "gateway/metrics.hpp"
#include "net/host.hpp"
#include "net/relay/hop_service.hpp"
#include "trust/trust_store.hpp"
#include "tunnel/route_table.hpp"

namespace pc::gateway {

namespace asio = net::asio;
namespace json = boost::json;

namespace {

/// A provider's tunnel as the metrics and the dashboard see it: the open, direct connections of
/// a provider on the allowlist (its control stream and proxy streams ride on one of them; its
/// relay reservation may hold another).
struct TunnelView {
  crypto::PeerId provider;
  std::string address;  ///< of its first connection
  std::size_t connections = 0;
  std::size_t streams = 0;
};

/// By provider (base58).
std::map<std::string, TunnelView> tunnelsOf(const ObservedGateway& p) {
  std::map<std::string, TunnelView> out;
  for (const auto& c : p.host->connections()) {
    if (!c->isOpen() || c->isRelayed() || !p.allow->isTrustedAsLoaded(c->peer)) {
      continue;
    }
    auto [it, fresh] = out.try_emplace(c->peer.toBase58(), TunnelView{c->peer, "", 0, 0});
    if (fresh) {
      it->second.address = c->remoteAddr.toString();
    }
    ++it->second.connections;
    it->second.streams += c->session ? c->session->streamCount() : 0;
  }
  return out;
}

double unixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

std::shared_ptr<GatewayMetrics> makeGatewayMetrics() { return std::make_shared<GatewayMetrics>(); }

GatewayObserver::GatewayObserver(const asio::any_io_executor& ex,
                                 std::shared_ptr<GatewayMetrics> metrics, ObservedGateway parts)
    : ex_(ex),
      metrics_(std::move(metrics)),
      parts_(std::move(parts)),
      started_(std::chrono::steady_clock::now()),
      site_(ex) {}

GatewayObserver::~GatewayObserver() = default;

Result<std::shared_ptr<GatewayObserver>> GatewayObserver::start(
    const asio::any_io_executor& ex, const admin::AdminSettings& settings,
    std::shared_ptr<GatewayMetrics> metrics, ObservedGateway parts) {
  auto o = std::make_shared<GatewayObserver>(ex, std::move(metrics), std::move(parts));
  // The handlers hold the observer weakly: a scrape in flight at shutdown finds it gone and
  // answers nothing rather than reading freed parts.
  std::weak_ptr<GatewayObserver> weak = o;
  if (auto opened = o->site_.open(settings, admin::siteReading("peergateway", weak)); !opened) {
    return opened.error();
  }
  o->site_.spawnSampler([o] { return o->sampleLoop(); });
  return o;
}

asio::awaitable<void> GatewayObserver::sampleLoop() {
  auto self = shared_from_this();
  asio::steady_timer timer(ex_);
  auto next = std::chrono::steady_clock::now();
  while (true) {
    next += std::chrono::seconds(1);
    timer.expires_at(next);
    auto [ec] = co_await timer.async_wait(net::kNoThrow);
    if (ec) {
      co_return;
    }
    tick();
  }
}

void GatewayObserver::tick() {
  metrics_->tick();
  // A deployment's series lives as long as its route: room for the deployments served now.
  const auto* routes = parts_.routes;
  metrics_->deployments().retain(
      [routes](const std::string& dep) { return routes->find(dep) != nullptr; });
}

void GatewayObserver::close() { site_.close(); }

asio::awaitable<void> GatewayObserver::shutdown() {
  auto self = shared_from_this();
  co_await site_.shutdown();
}

void GatewayObserver::addRequestFamilies(admin::Exposition& e) const {
  const auto& m = *metrics_;
  e.declare("peergateway_http_requests_total",
            "Public HTTP requests by deployment and status class (deployment \"other\": past "
            "the label bound; \"unrouted\": answered without a route)",
            prometheus::MetricType::Counter);
  const auto addDeployment = [&e](const std::string& dep, const DeploymentCounters& c) {
    for (std::size_t i = 0; i < kCodeClasses; ++i) {
      if (c.byClass[i] != 0) {
        e.counter("peergateway_http_requests_total", "", static_cast<double>(c.byClass[i]),
                  {{"deployment", dep}, {"code", codeClassName(i)}});
      }
    }
  };
  metrics_->deployments().forEach(addDeployment);
  addDeployment("unrouted", m.unroutedCounters());
  e.histogram("peergateway_http_request_duration_seconds",
              "Time from a request's complete head to the end of its answer", m.durations());
  e.counter("peergateway_http_received_bytes_total", "Bytes read from public clients",
            static_cast<double>(m.receivedBytes()));
  e.counter("peergateway_http_sent_bytes_total", "Bytes written to public clients",
            static_cast<double>(m.sentBytes()));
  e.gauge("peergateway_http_open_connections", "Public connections open now",
          static_cast<double>(parts_.front->connections()));
  for (const auto& [reason, n] : m.refusalCounts()) {
    e.counter("peergateway_refusals_total",
              "Requests and connections the gateway refused or failed itself, by reason",
              static_cast<double>(n), {{"reason", reason}});
  }
  e.gauge("peergateway_deployment_series",
          "Deployments with their own label in peergateway_http_requests_total (at most the "
          "bound below)",
          static_cast<double>(metrics_->deployments().size()));
  e.gauge("peergateway_deployment_series_limit",
          "Deployments that may have their own label; the rest count as \"other\"",
          static_cast<double>(kMaxDeploymentSeries));
}

void GatewayObserver::addStateFamilies(admin::Exposition& e) const {
  e.gauge("peergateway_build_info", "The running peergateway", 1, {{"version", parts_.version}});
  std::map<std::string, std::size_t> routesBy;
  for (const auto& [dep, r] : parts_.routes->all()) {
    ++routesBy[r.provider.toBase58()];
  }
  const auto tunnels = tunnelsOf(parts_);
  std::size_t streams = 0;
  for (const auto& [p, t] : tunnels) {
    streams += t.streams;
  }
  e.declare("peergateway_routes", "Deployments served, by provider", prometheus::MetricType::Gauge);
  for (const auto& [p, n] : routesBy) {
    e.gauge("peergateway_routes", "", static_cast<double>(n), {{"provider", p}});
  }
  e.declare("peergateway_tunnels_up",
            "1 for each allowlisted provider connected now (its tunnel is up), by provider",
            prometheus::MetricType::Gauge);
  e.declare("peergateway_provider_connections",
            "Libp2p connections of allowlisted providers (the tunnel's, and e.g. a relay "
            "reservation's), by provider",
            prometheus::MetricType::Gauge);
  for (const auto& [p, t] : tunnels) {
    e.gauge("peergateway_tunnels_up", "", 1, {{"provider", p}});
    e.gauge("peergateway_provider_connections", "", static_cast<double>(t.connections),
            {{"provider", p}});
  }
  e.gauge("peergateway_tunnel_streams", "Streams open on provider tunnels",
          static_cast<double>(streams));
  e.gauge("peergateway_p2p_connections", "Libp2p connections (providers, relay clients)",
          static_cast<double>(parts_.host->connections().size()));
  e.gauge("peergateway_relay_reservations", "Circuit Relay v2 reservations held",
          static_cast<double>(parts_.hop->reservations()));
  e.gauge("peergateway_relay_circuits", "Circuits relayed now",
          static_cast<double>(parts_.hop->circuits()));
  if (parts_.certs != nullptr) {
    const auto& orders = parts_.certs->orderCounts();
    e.counter("peergateway_acme_orders_total", "ACME orders ended since start, by result",
              static_cast<double>(orders.issued), {{"result", "issued"}});
    e.counter("peergateway_acme_orders_total", "", static_cast<double>(orders.failed),
              {{"result", "failed"}});
    std::size_t n = 0;
    e.declare("peergateway_certificate_expiry_timestamp_seconds",
              "When each certificate held expires (UNIX time)", prometheus::MetricType::Gauge);
    for (const auto& [name, cert] : parts_.certs->certificates()) {
      if (++n > kMaxDeploymentSeries) {
        break;  // bounded like the deployment labels
      }
      e.gauge("peergateway_certificate_expiry_timestamp_seconds", "", unixSeconds(cert->notAfter()),
              {{"name", name}});
    }
  }
  if (parts_.dns != nullptr) {
    const auto& st = parts_.dns->stats();
    for (std::size_t i = 0; i < dns::kOutcomeCount; ++i) {
      const char* answer = dns::outcomeName(static_cast<dns::Outcome>(i));
      e.counter("peergateway_dns_queries_total", "DNS queries by transport and answer",
                static_cast<double>(st.udpOutcomes[i]), {{"transport", "udp"}, {"answer", answer}});
      e.counter("peergateway_dns_queries_total", "", static_cast<double>(st.tcpOutcomes[i]),
                {{"transport", "tcp"}, {"answer", answer}});
    }
    e.counter("peergateway_dns_queries_total", "", static_cast<double>(st.udpOverBudget),
              {{"transport", "udp"}, {"answer", "over_budget"}});
  }
  e.counter("peergateway_admin_refusals_total",
            "Requests the admin listener refused (not loopback and no token, bad Host)",
            static_cast<double>(site_.refused()));
}

std::string GatewayObserver::metricsText() const {
  admin::Exposition e;
  addRequestFamilies(e);
  addStateFamilies(e);
  return e.text();
}

std::string GatewayObserver::summaryJson() const {
  const auto& m = *metrics_;
  json::object o;
  o["daemon"] = "peergateway";
  o["version"] = parts_.version;
  o["peer_id"] = parts_.peerId.toBase58();
  o["uptime_seconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count();
  o["totals"] = {{"requests", m.requests()},
                 {"errors", m.errors()},
                 {"open_connections", parts_.front->connections()},
                 {"received_bytes", m.receivedBytes()},
                 {"sent_bytes", m.sentBytes()}};
  json::array rps;
  json::array eps;
  for (const auto& [r, e] : m.history()) {
    rps.push_back(r);
    eps.push_back(e);
  }
  o["history"] = {
      {"interval_seconds", 1}, {"requests_per_second", rps}, {"errors_per_second", eps}};
  const auto& allowed = parts_.allow->store();
  const auto nameOf = [&allowed](const crypto::PeerId& id) -> std::string {
    const auto* t = allowed.find(id);
    return t != nullptr ? t->name : "";
  };
  std::map<std::string, const DeploymentCounters*> counters;
  metrics_->deployments().forEach(
      [&counters](const std::string& dep, const DeploymentCounters& c) { counters[dep] = &c; });
  json::array routes;
  std::map<std::string, std::size_t> routesBy;
  for (const auto& [dep, r] : parts_.routes->all()) {
    ++routesBy[r.provider.toBase58()];
    const auto it = counters.find(dep);
    const DeploymentCounters* c = it != counters.end() ? it->second : nullptr;
    routes.push_back({{"deployment", dep},
                      {"provider", r.provider.toBase58()},
                      {"provider_name", nameOf(r.provider)},
                      {"url", r.url},
                      {"requests", c != nullptr ? c->total() : 0},
                      {"requests_per_second", c != nullptr ? c->rate() : 0.0}});
  }
  o["routes"] = std::move(routes);
  json::array tunnels;
  for (const auto& [id, t] : tunnelsOf(parts_)) {
    tunnels.push_back({{"provider", id},
                       {"name", nameOf(t.provider)},
                       {"address", t.address},
                       {"connections", t.connections},
                       {"streams", t.streams},
                       {"routes", routesBy[id]}});
  }
  o["tunnels"] = std::move(tunnels);
  o["relay"] = {{"reservations", parts_.hop->reservations()}, {"circuits", parts_.hop->circuits()}};
  json::array refusals;
  for (const auto& r : m.recentRefusals()) {
    refusals.push_back({{"time_ms", r.unixMillis},
                        {"client", r.client},
                        {"reason", r.reason},
                        {"status", r.status}});
  }
  o["refusals"] = std::move(refusals);
  return json::serialize(o);
}

}  // namespace pc::gateway
