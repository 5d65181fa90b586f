// bench/metrics/run.sh: how long a scrape takes with 1,000 deployments — the gateway's
// exposition (256 deployment labels and "other", the rest of its families) and the provider's
// (1,000 running deployments' resource series, 256 of them labelled).
#include <benchmark/benchmark.h>

#include "admin/exposition.hpp"
#include "gateway/metrics.hpp"

namespace {

using pc::admin::Exposition;

void BM_GatewayRequestPath(benchmark::State& state) {
  // What one request costs the front: the counters it bumps (its deployment's looked up once).
  pc::gateway::GatewayMetrics m;
  auto c = m.deployment("dep-aaaaaaaaaaaaaaaa");
  for (auto _ : state) {
    m.requestDone(*c, 200, std::chrono::microseconds(300));
    m.received(120);
    m.sent(400);
  }
}
BENCHMARK(BM_GatewayRequestPath);

void BM_GatewayScrape1000Deployments(benchmark::State& state) {
  pc::gateway::GatewayMetrics m;
  for (int i = 0; i < 1000; ++i) {
    auto c = m.deployment("dep-" + std::to_string(100000 + i));
    for (int r = 0; r < 10; ++r) {
      m.requestDone(*c, r % 5 == 0 ? 404 : 200, std::chrono::milliseconds(r));
    }
  }
  std::size_t bytes = 0;
  for (auto _ : state) {
    Exposition e;
    m.deployments().forEach([&e](const std::string& dep, const pc::gateway::DeploymentCounters& c) {
      for (std::size_t i = 0; i < pc::gateway::kCodeClasses; ++i) {
        if (c.byClass[i] != 0) {
          e.counter("peergateway_http_requests_total", "Requests",
                    static_cast<double>(c.byClass[i]),
                    {{"deployment", dep}, {"code", pc::gateway::codeClassName(i)}});
        }
      }
    });
    e.histogram("peergateway_http_request_duration_seconds", "Durations", m.durations());
    for (const auto& [reason, n] : m.refusalCounts()) {
      e.counter("peergateway_refusals_total", "Refusals", static_cast<double>(n),
                {{"reason", reason}});
    }
    const auto text = e.text();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_GatewayScrape1000Deployments)->Unit(benchmark::kMicrosecond);

void BM_ProviderScrape1000Deployments(benchmark::State& state) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    Exposition e;
    for (const char* name :
         {"peercomputed_deployment_cpu_seconds_total", "peercomputed_deployment_memory_bytes",
          "peercomputed_deployment_memory_limit_bytes",
          "peercomputed_deployment_network_receive_bytes_total",
          "peercomputed_deployment_network_transmit_bytes_total"}) {
      // Every deployment is labelled here (the daemon folds those past 256 into "other"): an
      // upper bound on the cost.
      for (int i = 0; i < 1000; ++i) {
        const std::string n(name);
        const std::string dep = "dep-" + std::to_string(100000 + i);
        if (n.ends_with("_total")) {
          e.counter(n, "help", 12345.0 + i, {{"deployment", dep}});
        } else {
          e.gauge(n, "help", 12345.0 + i, {{"deployment", dep}});
        }
      }
    }
    const auto text = e.text();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ProviderScrape1000Deployments)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
