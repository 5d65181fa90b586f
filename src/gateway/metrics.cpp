#include "gateway/metrics.hpp"

#include "core/time.hpp"
#include "gateway/answer.hpp"

namespace pc::gateway {

namespace {

/// Reason names of the refusal counter, by Errc value (index = value); Prometheus label values.
constexpr std::array<const char*, 24> kErrcNames{
    "",                   // 0: no such value
    "malformed_request",  // kMalformedRequest
    "header_too_large",   // kHeaderTooLarge
    "ambiguous_framing",  // kAmbiguousFraming
    "unsupported_transfer_encoding",
    "not_origin_form",
    "bad_host",
    "no_acme_challenge",
    "unknown_host",
    "client_rate_limited",
    "deployment_rate_limited",
    "no_route",
    "provider_offline",
    "tunnel_busy",
    "provider_unreachable",
    "provider_dropped",
    "malformed_body",
    "no_response",
    "bad_response",
    "host_count",
    "transfer_encoding_on_http10",
    "misdirected",
    "client_stream_share",
    "deployment_stream_share",
};
static_assert(static_cast<std::size_t>(Errc::kDeploymentStreamShare) + 1 == kErrcNames.size(),
              "a gateway::Errc value without a refusal reason name");

constexpr std::array<const char*, 4> kConnectionNames{"max_connections", "max_connections_per_ip",
                                                      "slow_header", "client_not_reading"};

std::int64_t nowMillis() { return time::toUnixMillis(std::chrono::system_clock::now()); }

}  // namespace

const char* codeClassName(std::size_t i) {
  static constexpr std::array<const char*, kCodeClasses> kNames{"1xx", "2xx", "3xx",
                                                                "4xx", "5xx", "aborted"};
  return kNames.at(i);
}

CodeClass codeClassOf(int status) {
  if (status < 100 || status > 599) {
    return CodeClass::kAborted;
  }
  return static_cast<CodeClass>(status / 100 - 1);
}

std::uint64_t DeploymentCounters::total() const {
  std::uint64_t n = 0;
  for (const auto c : byClass) {
    n += c;
  }
  return n;
}

double DeploymentCounters::rate() const {
  // window[windowAt] is the newest total; the oldest is the next slot round.
  const std::size_t oldest = (windowAt + 1) % window.size();
  return static_cast<double>(window[windowAt] - window[oldest]) /
         static_cast<double>(kRouteRateWindow);
}

GatewayMetrics::GatewayMetrics() : durations_(admin::latencyBuckets()) {}

void GatewayMetrics::requestDone(DeploymentCounters& c, int status,
                                 std::chrono::steady_clock::duration took) {
  const auto cls = codeClassOf(status);
  ++c.byClass[static_cast<std::size_t>(cls)];
  ++requests_;
  if (cls == CodeClass::k5xx || cls == CodeClass::kAborted) {
    ++errors_;
  }
  durations_.observe(std::chrono::duration<double>(took).count());
}

void GatewayMetrics::note(std::string client, std::string reason, int status) {
  if (recent_.size() >= kRecentRefusals) {
    recent_.pop_front();
  }
  recent_.push_back(RefusalNote{nowMillis(), std::move(client), std::move(reason), status});
}

void GatewayMetrics::refused(Errc why, const std::string& client) {
  const auto i = static_cast<std::size_t>(why);
  if (i < kErrcNames.size()) {
    ++refusedByErrc_[i];
    note(client, kErrcNames[i], statusOf(why));
  }
}

void GatewayMetrics::refused(ConnectionRefusal why, const std::string& client) {
  const auto i = static_cast<std::size_t>(why);
  ++refusedConnections_.at(i);
  note(client, kConnectionNames.at(i), 0);
}

std::vector<std::pair<std::string, std::uint64_t>> GatewayMetrics::refusalCounts() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (std::size_t i = 1; i < kErrcNames.size(); ++i) {
    out.emplace_back(kErrcNames[i], refusedByErrc_[i]);
  }
  for (std::size_t i = 0; i < kConnectionNames.size(); ++i) {
    out.emplace_back(kConnectionNames[i], refusedConnections_[i]);
  }
  return out;
}

void GatewayMetrics::tick() {
  const auto step = [](DeploymentCounters& c) {
    c.windowAt = (c.windowAt + 1) % c.window.size();
    c.window[c.windowAt] = c.total();
  };
  deployments_.forEachEntry(step);
  step(unrouted_);
  if (history_.size() >= kRateHistorySeconds) {
    history_.pop_front();
  }
  history_.emplace_back(requests_ - lastRequests_, errors_ - lastErrors_);
  lastRequests_ = requests_;
  lastErrors_ = errors_;
}

net::Task<std::size_t> CountingStream::readSome(std::span<std::uint8_t> buf) {
  auto n = co_await inner_->readSome(buf);
  if (n) {
    metrics_.received(*n);
  }
  co_return n;
}

net::Task<void> CountingStream::write(BytesView data) {
  auto r = co_await inner_->write(data);
  if (r) {
    metrics_.sent(data.size());
  }
  co_return r;
}

}  // namespace pc::gateway
