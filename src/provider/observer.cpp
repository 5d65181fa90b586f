#include "provider/observer.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "admin/server.hpp"
#include "admin/site.hpp"
#include "net/host.hpp"
#include "provider/audit.hpp"
#include "provider/config.hpp"
#include "provider/scheduler.hpp"
#include "provider/service.hpp"

namespace pc::provider {

namespace asio = net::asio;
namespace json = boost::json;
using protocol::DeploymentState;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::array kStates{DeploymentState::kPending,  DeploymentState::kPulling,
                             DeploymentState::kStarting, DeploymentState::kRunning,
                             DeploymentState::kStopping, DeploymentState::kStopped,
                             DeploymentState::kFailed};

/// Pulls take from a moment (the engine has the image) to minutes (a large image).
std::vector<double> pullBuckets() {
  return {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
}

double seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

ProviderObserver::ProviderObserver(const asio::any_io_executor& ex, ObservedProvider parts)
    : ex_(ex),
      parts_(std::move(parts)),
      started_(SteadyClock::now()),
      pulls_(pullBuckets()),
      starts_(admin::latencyBuckets()),
      site_(ex) {}

ProviderObserver::~ProviderObserver() = default;

Result<std::shared_ptr<ProviderObserver>> ProviderObserver::start(
    const asio::any_io_executor& ex, const admin::AdminSettings& settings, ObservedProvider parts) {
  auto o = std::make_shared<ProviderObserver>(ex, std::move(parts));
  // Held weakly by everything that may outlive it (handlers, listeners).
  std::weak_ptr<ProviderObserver> weak = o;
  if (auto opened = o->site_.open(settings, admin::siteReading("peercomputed", weak)); !opened) {
    return opened.error();
  }
  o->parts_.scheduler->onChange([weak](const Deployment& d) {
    if (auto self = weak.lock()) {
      self->onDeployment(d);
    }
  });
  o->parts_.audit->onRecord([weak](std::string_view event, const std::string& line) {
    if (auto self = weak.lock()) {
      self->onAudit(event, line);
    }
  });
  o->site_.spawnSampler([o] { return o->sampleLoop(); });
  return o;
}

asio::awaitable<void> ProviderObserver::sampleLoop() {
  auto self = shared_from_this();
  while (true) {
    // The scheduler's cache answers within statsMaxAge; the engine is asked only past it.
    auto running = parts_.scheduler->running();
    auto sample = co_await parts_.scheduler->stats(std::move(running));
    stats_ = std::move(sample);
    series_.update(stats_);
    asio::steady_timer t(ex_, kStatsEvery);
    auto [ec] = co_await t.async_wait(net::kNoThrow);
    if (ec) {
      co_return;
    }
  }
}

void ProviderObserver::onDeployment(const Deployment& d) {
  const auto now = SteadyClock::now();
  switch (d.state) {
    case DeploymentState::kPulling:
      pullingSince_[d.id] = now;
      break;
    case DeploymentState::kStarting:
      if (auto it = pullingSince_.find(d.id); it != pullingSince_.end()) {
        pulls_.observe(seconds(now - it->second));
        pullingSince_.erase(it);
      }
      startingSince_[d.id] = now;
      break;
    case DeploymentState::kRunning:
      if (auto it = startingSince_.find(d.id); it != startingSince_.end()) {
        starts_.observe(seconds(now - it->second));
        startingSince_.erase(it);
      }
      break;
    default:
      pullingSince_.erase(d.id);
      startingSince_.erase(d.id);
  }
}

void ProviderObserver::onAudit(std::string_view event, const std::string& line) {
  auto it = auditEvents_.find(event);
  if (it == auditEvents_.end()) {
    it =
        auditEvents_.emplace(auditEvents_.size() < kMaxAuditKinds ? std::string(event) : "other", 0)
            .first;
  }
  ++it->second;
  if (recentAudit_.size() >= kRecentAuditEvents) {
    recentAudit_.pop_front();
  }
  recentAudit_.push_back(line);
}

void ProviderObserver::close() { site_.close(); }

asio::awaitable<void> ProviderObserver::shutdown() {
  auto self = shared_from_this();
  co_await site_.shutdown();
}

void ProviderObserver::addDeploymentFamilies(admin::Exposition& e) const {
  std::map<DeploymentState, std::size_t> byState;
  for (const auto& [id, d] : parts_.scheduler->records().all()) {
    ++byState[d.state];
  }
  for (const auto s : kStates) {
    e.gauge("peercomputed_deployments", "Deployments by state", static_cast<double>(byState[s]),
            {{"state", std::string(protocol::toString(s))}});
  }
  // Bounded (kMaxDeploymentSeries labels, the rest under "other", whose counters only grow):
  // see DeploymentSeries.
  const auto usage = series_.series();
  using Usage = DeploymentSeries::Usage;
  const auto family = [&e, &usage](const std::string& name, const std::string& help, bool counter,
                                   double Usage::*field) {
    e.declare(name, help,
              counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge);
    for (const auto& [id, u] : usage) {
      if (counter) {
        e.counter(name, help, u.*field, {{"deployment", id}});
      } else {
        e.gauge(name, help, u.*field, {{"deployment", id}});
      }
    }
  };
  family("peercomputed_deployment_cpu_seconds_total",
         "CPU time used by a running deployment's container", true, &Usage::cpuSeconds);
  family("peercomputed_deployment_memory_bytes",
         "Memory used by a running deployment's container (page cache not counted)", false,
         &Usage::memoryBytes);
  family("peercomputed_deployment_memory_limit_bytes", "Memory limit of a running deployment",
         false, &Usage::memoryLimitBytes);
  family("peercomputed_deployment_network_receive_bytes_total",
         "Bytes a running deployment's container received", true, &Usage::rxBytes);
  family("peercomputed_deployment_network_transmit_bytes_total",
         "Bytes a running deployment's container sent", true, &Usage::txBytes);
  e.histogram("peercomputed_image_pull_duration_seconds",
              "Time deployments spent pulling their image (or finding it held)", pulls_);
  e.histogram("peercomputed_deployment_start_duration_seconds",
              "Time from the image being ready to the container running", starts_);
}

std::string ProviderObserver::metricsText() const {
  admin::Exposition e;
  e.gauge("peercomputed_build_info", "The running peercomputed", 1, {{"version", parts_.version}});
  addDeploymentFamilies(e);
  e.declare("peercomputed_refusals_total",
            "Connections and requests refused, by reason (the error code the peer was sent)",
            prometheus::MetricType::Counter);
  for (const auto& [reason, n] : parts_.service->refusals()) {
    e.counter("peercomputed_refusals_total", "", static_cast<double>(n), {{"reason", reason}});
  }
  e.declare("peercomputed_audit_events_total", "Audit records by event",
            prometheus::MetricType::Counter);
  for (const auto& [event, n] : auditEvents_) {
    e.counter("peercomputed_audit_events_total", "", static_cast<double>(n), {{"event", event}});
  }
  std::size_t streams = 0;
  const auto conns = parts_.host->connections();
  for (const auto& c : conns) {
    streams += c->session ? c->session->streamCount() : 0;
  }
  e.gauge("peercomputed_p2p_connections", "Libp2p connections open (peers, the gateway)",
          static_cast<double>(conns.size()));
  e.gauge("peercomputed_p2p_streams", "Streams open on those connections",
          static_cast<double>(streams));
  if (parts_.gateways > 0 && parts_.tunnelsConnected) {
    e.gauge("peercomputed_gateways", "Gateways configured (--gateway)",
            static_cast<double>(parts_.gateways));
    e.gauge("peercomputed_tunnels_up", "Tunnels to those gateways with a session now",
            static_cast<double>(parts_.tunnelsConnected()));
  }
  e.counter("peercomputed_admin_refusals_total",
            "Requests the admin listener refused (not loopback and no token, bad Host)",
            static_cast<double>(site_.refused()));
  return e.text();
}

std::string ProviderObserver::summaryJson() const {
  json::object o;
  o["daemon"] = "peercomputed";
  o["version"] = parts_.version;
  o["peer_id"] = parts_.peerId.toBase58();
  o["uptime_seconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - started_).count();
  o["gateways"] = parts_.gateways;
  o["tunnels_connected"] = parts_.tunnelsConnected ? parts_.tunnelsConnected() : 0;
  const auto conns = parts_.host->connections();
  std::size_t streams = 0;
  for (const auto& c : conns) {
    streams += c->session ? c->session->streamCount() : 0;
  }
  o["p2p"] = {{"connections", conns.size()}, {"streams", streams}};
  o["capacity"] = {{"max_deployments", parts_.config->maxDeployments},
                   {"max_cpu_millicores", parts_.config->maxCpuMillis},
                   {"max_memory_bytes", parts_.config->maxMemoryBytes}};
  std::uint64_t refusals = 0;
  for (const auto& [reason, n] : parts_.service->refusals()) {
    refusals += n;
  }
  o["refusals_total"] = refusals;
  // Totals over every record (the list below is cut at kDashboardDeployments).
  std::vector<const Deployment*> ds;
  std::size_t running = 0;
  double cpuPercent = 0;
  double memoryBytes = 0;
  for (const auto& [id, d] : parts_.scheduler->records().all()) {
    ds.push_back(&d);
    if (d.state != DeploymentState::kRunning) continue;
    ++running;
    if (auto s = stats_.find(id); s != stats_.end()) {
      cpuPercent += s->second.cpuPercent;
      memoryBytes += static_cast<double>(s->second.memoryBytes);
    }
  }
  o["running"] = running;
  o["cpu_percent_total"] = cpuPercent;
  o["memory_bytes_total"] = memoryBytes;
  // Live deployments first (a long-running one is never pushed out by many short ones), then
  // the newest.
  const auto ended = [](const Deployment* d) {
    return d->state == DeploymentState::kStopped || d->state == DeploymentState::kFailed;
  };
  std::sort(ds.begin(), ds.end(), [&ended](const Deployment* a, const Deployment* b) {
    if (ended(a) != ended(b)) return !ended(a);
    return a->createdAtMs > b->createdAtMs;
  });
  json::array deployments;
  for (std::size_t i = 0; i < ds.size() && i < kDashboardDeployments; ++i) {
    const Deployment& d = *ds[i];
    json::object j{{"id", d.id},
                   {"state", protocol::toString(d.state)},
                   {"image", d.image},
                   {"requester", d.requester},
                   {"url", d.url.value_or("")},
                   {"created_ms", d.createdAtMs}};
    if (auto s = stats_.find(d.id); s != stats_.end() && d.state == DeploymentState::kRunning) {
      j["cpu_percent"] = s->second.cpuPercent;
      j["memory_bytes"] = s->second.memoryBytes;
      j["memory_limit_bytes"] = s->second.memoryLimitBytes;
    }
    deployments.push_back(std::move(j));
  }
  o["deployments"] = std::move(deployments);
  json::array audit;
  for (auto it = recentAudit_.rbegin(); it != recentAudit_.rend(); ++it) {
    boost::system::error_code ec;
    auto v = json::parse(*it, ec);
    if (!ec) {
      audit.push_back(std::move(v));
    }
  }
  o["audit"] = std::move(audit);
  return json::serialize(o);
}

}  // namespace pc::provider
