#pragma once
/// The gateway's request-path metrics: what the public front counts as it serves (requests by
/// deployment and status class, their durations, bytes, refusals by reason) and a short list of
/// recent refusals for the dashboard. Read at scrape time by the admin listener (observer.hpp).
///
/// Cost on the request path: a connection looks its deployment's counters up once per proxy
/// stream (not per request) and then bumps plain integers — no lock, no atomic: the front and the
/// admin listener run on the gateway's one thread. A front without metrics (no admin listener)
/// holds a null pointer and counts nothing.
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "admin/exposition.hpp"
#include "gateway/error.hpp"
#include "net/stream.hpp"

namespace pc::gateway {

/// Deployments with their own `deployment` label; the rest are counted under "other" (see
/// admin::BoundedSeries). A deployment's series goes when its route does, freeing its room.
inline constexpr std::size_t kMaxDeploymentSeries = 256;
/// Refusals kept for the dashboard (newest last).
inline constexpr std::size_t kRecentRefusals = 50;
/// Per-second samples of the request and error rates kept for the dashboard's chart.
inline constexpr std::size_t kRateHistorySeconds = 120;
/// Seconds over which a route's request rate is averaged.
inline constexpr std::size_t kRouteRateWindow = 5;

/// The status of a request as a class: 1xx … 5xx, or `aborted` (the exchange broke before a
/// complete response: client gone, tunnel lost).
enum class CodeClass : std::uint8_t { k1xx, k2xx, k3xx, k4xx, k5xx, kAborted };
inline constexpr std::size_t kCodeClasses = 6;
/// "1xx" … "5xx", "aborted".
const char* codeClassName(std::size_t i);
/// The class of HTTP status `status` (0 or out of range: aborted).
CodeClass codeClassOf(int status);

/// Refusals that are not a request's answer: connections closed at accept or cut mid-way.
enum class ConnectionRefusal : std::uint8_t {
  kMaxConnections,       ///< over max connections (descriptors)
  kMaxConnectionsPerIp,  ///< over max_connections_per_ip
  kSlowHeader,           ///< header not complete in header_timeout (slowloris)
  kClientNotReading,     ///< client_write_timeout
};

/// One deployment's requests.
struct DeploymentCounters {
  std::array<std::uint64_t, kCodeClasses> byClass{};
  [[nodiscard]] std::uint64_t total() const;
  /// Totals at the last kRouteRateWindow + 1 seconds (filled by GatewayMetrics::tick()).
  std::array<std::uint64_t, kRouteRateWindow + 1> window{};
  std::size_t windowAt = 0;
  /// Requests a second over the window.
  [[nodiscard]] double rate() const;
};

/// A refusal as the dashboard lists it.
struct RefusalNote {
  std::int64_t unixMillis = 0;
  std::string client;
  std::string reason;
  int status = 0;  ///< 0: a connection refused before any request
};

class GatewayMetrics {
 public:
  GatewayMetrics();

  /// The counters of `deploymentId` (looked up once per proxy stream and held).
  std::shared_ptr<DeploymentCounters> deployment(const std::string& deploymentId) {
    return deployments_.get(deploymentId);
  }
  /// Requests answered without a route (unknown host, refused before routing, redirects).
  DeploymentCounters& unrouted() { return unrouted_; }
  /// One request ended with `status` (0: no complete response) after `took`.
  void requestDone(DeploymentCounters& c, int status, std::chrono::steady_clock::duration took);
  /// A request answered by the gateway itself with an error (counted by reason, listed).
  void refused(Errc why, const std::string& client);
  void refused(ConnectionRefusal why, const std::string& client);
  void received(std::size_t n) { receivedBytes_ += n; }
  void sent(std::size_t n) { sentBytes_ += n; }

  /// Once a second (the observer's sampler): route rates and the rate history.
  void tick();

  // Read side (the admin listener, same thread).
  admin::BoundedSeries<DeploymentCounters>& deployments() { return deployments_; }
  [[nodiscard]] const DeploymentCounters& unroutedCounters() const { return unrouted_; }
  [[nodiscard]] const admin::Histogram& durations() const { return durations_; }
  [[nodiscard]] std::uint64_t receivedBytes() const { return receivedBytes_; }
  [[nodiscard]] std::uint64_t sentBytes() const { return sentBytes_; }
  [[nodiscard]] std::uint64_t requests() const { return requests_; }
  /// Requests answered 5xx or aborted.
  [[nodiscard]] std::uint64_t errors() const { return errors_; }
  /// (reason name, count) for every reason, zeros included.
  [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> refusalCounts() const;
  [[nodiscard]] const std::deque<RefusalNote>& recentRefusals() const { return recent_; }
  /// Requests and errors in each of the last seconds, oldest first.
  [[nodiscard]] const std::deque<std::pair<std::uint64_t, std::uint64_t>>& history() const {
    return history_;
  }

 private:
  void note(std::string client, std::string reason, int status);
  admin::BoundedSeries<DeploymentCounters> deployments_{kMaxDeploymentSeries};
  DeploymentCounters unrouted_;
  admin::Histogram durations_;
  std::uint64_t receivedBytes_ = 0;
  std::uint64_t sentBytes_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t errors_ = 0;
  std::array<std::uint64_t, 32> refusedByErrc_{};
  std::array<std::uint64_t, 4> refusedConnections_{};
  std::deque<RefusalNote> recent_;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> history_;
  std::uint64_t lastRequests_ = 0;
  std::uint64_t lastErrors_ = 0;
};

/// A public connection's stream, counting the bytes read from and written to the client.
class CountingStream final : public net::ByteStream {
 public:
  CountingStream(std::shared_ptr<net::ByteStream> inner, GatewayMetrics& metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}
  net::Task<std::size_t> readSome(std::span<std::uint8_t> buf) override;
  net::Task<void> write(BytesView data) override;
  net::Task<void> closeWrite() override { return inner_->closeWrite(); }
  void reset() override { inner_->reset(); }
  void releaseBuffers() override { inner_->releaseBuffers(); }
  net::Task<void> waitReadable() override { return inner_->waitReadable(); }

 private:
  std::shared_ptr<net::ByteStream> inner_;
  GatewayMetrics& metrics_;
};

}  // namespace pc::gateway
