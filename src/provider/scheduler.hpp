#pragma once
/// The provider's deployment lifecycle:
///   pending → pulling → starting → running → stopping → stopped | failed
///
/// Capacity is reserved when a deploy is admitted (before anything is pulled), and every state
/// change is committed to the Store before the provider acts on it. After a restart, recover()
/// re-adopts containers by their deployment label and reconciles: a running container stays
/// running, one that died meanwhile becomes failed with its exit code, a deploy that the restart
/// interrupted becomes failed and its container (if any) is removed, so nothing is orphaned.
/// A container that the engine itself stopped while restarting (SIGTERM/SIGKILL while our event
/// stream was down) is started again: a dockerd restart does not end the deployments.
/// Container deaths are learnt from the engine's event stream, not by polling.
///
/// Threading: every method runs on the executor given at construction (one strand); nothing
/// here is thread-safe. Cancellation: the awaitables are not meant to be cancelled; a peer that
/// disconnects does not stop a deploy (its progress goes nowhere and the deploy completes).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crypto/peer_id.hpp"
#include "net/asio.hpp"
#include "provider/store.hpp"
#include "runtime/policy.hpp"
#include "runtime/runtime.hpp"

namespace pc::provider {

struct DeployParams {
  std::string requester;  ///< the authenticated peer (base58)
  std::string image;
  std::uint32_t cpuMillis = 0;
  std::uint64_t memoryBytes = 0;
  std::optional<std::uint16_t> exposePort;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> command;   ///< replaces the image's CMD when not empty
  std::chrono::seconds timeout{300};  ///< pull + start
};

struct DeployProgressInfo {
  bool starting = false;  ///< false: pulling
  std::optional<std::int64_t> percent;
  std::optional<std::int64_t> bytesDone;
  std::optional<std::int64_t> bytesTotal;
};
using ProgressFn = std::function<void(const DeployProgressInfo&)>;

struct SchedulerOptions {
  /// This provider's id: deployment ids are minted from it (protocol::deploymentIdFor), so a
  /// gateway can check that a route registration comes from the provider that runs it.
  std::optional<crypto::PeerId> providerId;
  std::chrono::seconds stopGrace{10};
  /// How old a cached stats sample may be before status asks the engine again.
  std::chrono::seconds statsMaxAge{5};
  /// Deadline for collecting stats of all of a requester's deployments in one status call.
  std::chrono::milliseconds statsTimeout{3000};
};

class Scheduler {
 public:
  Scheduler(net::asio::any_io_executor ex, runtime::Runtime& rt, Store& store,
            runtime::Policy policy, SchedulerOptions options = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Loads the records. Errors: the store's (the daemon refuses to start on them).
  Result<void> load();
  /// Reconciles records with the engine's containers once, then watches engine events (and
  /// reconciles again after any interruption of the event stream, e.g. a dockerd restart).
  void start();
  /// One reconciliation pass. Errors: the engine's (nothing is changed then).
  net::asio::awaitable<Result<void>> reconcile();

  /// Checks policy and capacity for `p` and reserves it: the record is committed as `pending`.
  /// Errors: runtime::Errc::kImageNotAllowed / kBadReference / kLimitExceeded / kInvalidSpec
  /// (naming the limit), Errc::kShuttingDown, Errc::kStorage.
  Result<Deployment> admit(const DeployParams& p);
  /// Pulls and starts an admitted deployment. Returns its final record: `running`, or `failed`
  /// with `error` saying why, or `stopped` when a stop arrived meanwhile.
  net::asio::awaitable<Deployment> run(std::string id, DeployParams p, ProgressFn progress);

  /// Stops (SIGTERM, then SIGKILL after the grace period; at once with `force`) and removes the
  /// container. Only the requester may stop its deployment: others get kNotFound, the same
  /// answer as for an id that does not exist (no probing of other peers' ids).
  net::asio::awaitable<Result<Deployment>> stop(std::string requester, std::string id, bool force);

  /// The requester's deployment `id`. Errors: kNotFound (also for other peers' deployments).
  Result<Deployment> find(const std::string& requester, const std::string& id) const;
  /// The requester's deployments, newest first.
  std::vector<Deployment> list(const std::string& requester) const;
  /// Resource use of running deployments (cached up to statsMaxAge; collected concurrently,
  /// bounded by statsTimeout). Deployments without a sample are absent from the map.
  net::asio::awaitable<std::map<std::string, runtime::Stats>> stats(
      std::vector<Deployment> deployments);

  runtime::Runtime& runtime() { return rt_; }
  /// Publishes a deployment that just started with an exposed port (the tunnel registers it at
  /// the gateway) and returns its public URL, if any. Awaited before the deploy answers, so the
  /// answer carries the public URL.
  using Publisher = std::function<net::asio::awaitable<std::optional<std::string>>(Deployment)>;
  void setPublisher(Publisher p) { publisher_ = std::move(p); }
  /// Records a (new) public URL for a running deployment (after a tunnel reconnect).
  void setUrl(const std::string& id, const std::string& url);
  /// Told about every committed change of a record (the tunnel registers routes from it).
  void onChange(std::function<void(const Deployment&)> listener) {
    onChange_ = std::move(listener);
  }
  /// Stops admitting and ends the event watcher (at its next event or window end).
  void shutdown();
  /// Running deployments (all requesters).
  [[nodiscard]] std::vector<Deployment> running() const;
  /// Where a running deployment's exposed port answers: the published 127.0.0.1 port and, when
  /// known, the container's own address and port (see runtime::ContainerInfo::address).
  struct Endpoint {
    std::uint16_t hostPort = 0;
    std::optional<std::string> address;
    std::uint16_t containerPort = 0;
  };
  [[nodiscard]] std::optional<Endpoint> endpoint(const std::string& id) const {
    auto it = deployments_.find(id);
    if (it == deployments_.end() || it->second.state != protocol::DeploymentState::kRunning ||
        !it->second.hostPort) {
      return std::nullopt;
    }
    Endpoint e;
    e.hostPort = *it->second.hostPort;
    e.containerPort = it->second.exposePort.value_or(0);
    if (auto a = addresses_.find(id); a != addresses_.end()) e.address = a->second;
    return e;
  }
  /// True while `id` is running (log followers use it to tell a window end from an exit).
  [[nodiscard]] bool isRunning(const std::string& id) const {
    auto it = deployments_.find(id);
    return it != deployments_.end() && it->second.state == protocol::DeploymentState::kRunning;
  }
  /// Stops every running deployment (for --stop-on-exit).
  net::asio::awaitable<void> stopAll();

 private:
  struct InFlight;
  Result<void> save(Deployment d);
  net::asio::awaitable<void> watchEvents();
  net::asio::awaitable<void> onContainerEvent(std::string deploymentId);
  /// Starts a deployment's container again when the engine stopped it in its own restart;
  /// false when `containerId` did not stop that way (see the .cpp), or could not be started.
  net::asio::awaitable<bool> reviveAfterEngineRestart(std::string id, std::string containerId);
  net::asio::awaitable<void> finishStop(std::string id, bool force);
  Deployment failedWith(Deployment d, std::string why) const;
  runtime::Usage usage(const std::string* requester) const;

  net::asio::any_io_executor ex_;
  runtime::Runtime& rt_;
  Store& store_;
  runtime::Policy policy_;
  SchedulerOptions options_;
  std::map<std::string, Deployment> deployments_;
  /// Container addresses of running deployments (not persisted: learned again on adoption).
  std::map<std::string, std::string> addresses_;
  std::map<std::string, std::shared_ptr<InFlight>> inFlight_;
  std::set<std::string> stopping_;  ///< stops in progress (one at a time per deployment)
  struct Sample {
    std::chrono::steady_clock::time_point at;
    runtime::Stats stats;
  };
  std::map<std::string, Sample> statsCache_;
  std::function<void(const Deployment&)> onChange_;
  Publisher publisher_;
  std::shared_ptr<bool> alive_;
  bool shuttingDown_ = false;
  /// When the engine's event stream was last lost (wall clock, ms); cleared by the next
  /// successful reconciliation.
  std::optional<std::int64_t> engineLostAtMs_;
  std::unique_ptr<net::asio::steady_timer> watchTimer_;
};

}  // namespace pc::provider
