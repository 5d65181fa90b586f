#pragma once
/// The provider's admin listener (admin/site.hpp) wired to its parts: /metrics reads the
/// deployments (by state, and their CPU, memory and network from the stats cache), pull and
/// start durations, refusals, P2P connections and streams and audit events at scrape time;
/// /api/summary feeds the dashboard. While the listener runs, a sampler asks the engine for the
/// running deployments' stats every kStatsEvery (through the scheduler's stats cache).
///
/// Threading: the provider's executor (one thread), like the parts it reads.
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "admin/exposition.hpp"
#include "admin/settings.hpp"
#include "admin/site.hpp"
#include "crypto/peer_id.hpp"
#include "net/asio.hpp"
#include "provider/deployment_series.hpp"
#include "runtime/runtime.hpp"

namespace pc::net {
class Host;
}
namespace pc::provider {

class Scheduler;
class Service;
class AuditLog;
struct Deployment;
struct ProviderConfig;

/// How often the sampler refreshes the running deployments' stats.
inline constexpr std::chrono::seconds kStatsEvery{5};
/// Deployments with their own `deployment` label; the rest are summed under "other".
inline constexpr std::size_t kMaxDeploymentSeries = 256;
/// Audit events kept for the dashboard (newest first there).
inline constexpr std::size_t kRecentAuditEvents = 50;
/// Deployments the dashboard lists (live ones first, then the newest).
inline constexpr std::size_t kDashboardDeployments = 200;
/// Audit event kinds counted by name; more (a bug: the kinds are constants) count as "other".
inline constexpr std::size_t kMaxAuditKinds = 64;

/// What the observer reads; each part outlives the observer (the node shuts it down first).
struct ObservedProvider {
  std::string version;
  crypto::PeerId peerId;
  const ProviderConfig* config = nullptr;
  Scheduler* scheduler = nullptr;
  const net::Host* host = nullptr;
  const Service* service = nullptr;
  AuditLog* audit = nullptr;
  std::size_t gateways = 0;                       ///< configured (0: none)
  std::function<std::size_t()> tunnelsConnected;  ///< tunnels with a session now
};

class ProviderObserver : public std::enable_shared_from_this<ProviderObserver> {
 public:
  /// Starts the admin listener of `settings`, hooks the audit log and the scheduler's records,
  /// and starts the stats sampler. Errors: the listener's (token file, address).
  static Result<std::shared_ptr<ProviderObserver>> start(const net::asio::any_io_executor& ex,
                                                         const admin::AdminSettings& settings,
                                                         ObservedProvider parts);
  ProviderObserver(const net::asio::any_io_executor& ex, ObservedProvider parts);
  ~ProviderObserver();

  [[nodiscard]] std::string metricsText() const;
  [[nodiscard]] std::string summaryJson() const;
  [[nodiscard]] const admin::AdminServer& server() const { return site_.server(); }

  /// A record changed (times pulls and starts).
  void onDeployment(const Deployment& d);
  /// An audit record was made.
  void onAudit(std::string_view event, const std::string& line);

  void close();
  /// close(), then waits for the listener's connections and the sampler. Not cancel-safe.
  net::asio::awaitable<void> shutdown();

 private:
  net::asio::awaitable<void> sampleLoop();
  void addDeploymentFamilies(admin::Exposition& e) const;

  net::asio::any_io_executor ex_;
  ObservedProvider parts_;
  std::chrono::steady_clock::time_point started_;
  std::map<std::string, runtime::Stats> stats_;  ///< the last sample of each running deployment
  DeploymentSeries series_{kMaxDeploymentSeries};
  admin::Histogram pulls_;
  admin::Histogram starts_;
  std::map<std::string, std::chrono::steady_clock::time_point> pullingSince_;
  std::map<std::string, std::chrono::steady_clock::time_point> startingSince_;
  std::map<std::string, std::uint64_t, std::less<>> auditEvents_;
  std::deque<std::string> recentAudit_;  ///< JSON lines, oldest first
  admin::Site site_;                     ///< the listener and the sampler
};

}  // namespace pc::provider
