#pragma once
/// The provider's deployment lifecycle:
///   pending → pulling → starting → running → stopping → stopped | failed
///
/// Capacity is reserved when a deploy is admitted (before anything is pulled), and every state
/// change is committed to the Store before the provider acts on it. The Scheduler is the facade
/// over the pieces that do the work:
///   - admission (provider/admission.hpp): pure capacity and quota decisions;
///   - one deployment's run and stop (provider/deployment_run.hpp);
///   - the reconciler (provider/reconciler.hpp): re-adoption after restarts, the engine's event
///     watch, revival after an engine restart;
///   - the stats cache (provider/stats_cache.hpp);
///   - the records they share (provider/records.hpp).
///
/// Task ownership: every coroutine that touches the scheduler's state runs as a task of the
/// scheduler's TaskGroup (the event watch, event handlers, deploy runs, stops, stats calls). The
/// public awaitables wait for such a task and touch no state after it, so the callers (request
/// handlers of the host) never outlive what they read. shutdown() cancels the tasks; the
/// scheduler must not be destroyed while any runs: `co_await shutdown(grace)` first.
///
/// Threading: every method runs on the executor given at construction (one thread, no strand
/// needed); nothing here is thread-safe.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/peer_id.hpp"
#include "net/asio.hpp"
#include "net/task_group.hpp"
#include "provider/admission.hpp"
#include "provider/deployment_run.hpp"
#include "provider/reconciler.hpp"
#include "provider/records.hpp"
#include "provider/stats_cache.hpp"
#include "provider/store.hpp"
#include "runtime/policy.hpp"
#include "runtime/runtime.hpp"

namespace pc::provider {

struct SchedulerOptions {
  /// This provider's id: deployment ids are minted from it (protocol::deploymentIdFor), so a
  /// gateway can check that a route registration comes from the provider that runs it.
  std::optional<crypto::PeerId> providerId;
  std::chrono::seconds stopGrace{10};
  /// How old a cached stats sample may be before status asks the engine again.
  std::chrono::seconds statsMaxAge{5};
  /// Deadline for collecting stats of all of a requester's deployments in one status call.
  std::chrono::milliseconds statsTimeout{3000};
  /// Image disk quota (max_image_size, max_image_bytes_per_peer).
  ImageQuota imageQuota;
  /// `pull_policy = "always"`: every deploy pulls its image, whatever its request asks (a
  /// provider that wants each deploy to get the registry's current image for its tag).
  bool alwaysPull = false;
};

class Scheduler {
 public:
  Scheduler(net::asio::any_io_executor ex, runtime::Runtime& rt, Store& store,
            runtime::Policy policy, SchedulerOptions options = {});
  /// Precondition: no task runs (shutdown(grace) was awaited, or start() was never called and no
  /// awaitable is pending). Destroying a scheduler with tasks is a bug: it is logged, and the
  /// task group's bookkeeping is leaked rather than freed under the tasks.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Loads the records. Errors: the store's (the daemon refuses to start on them).
  Result<void> load();
  /// Starts the reconciler's task: it reconciles records with the engine's containers once, then
  /// watches engine events (and reconciles again after any interruption of the event stream,
  /// e.g. a dockerd restart).
  void start();

  /// Checks policy, capacity and the peer's image quota for `p` and reserves it: the record is
  /// committed as `pending`. Errors: runtime::Errc::kImageNotAllowed / kBadReference /
  /// kLimitExceeded / kInvalidSpec (naming the limit), Errc::kShuttingDown, Errc::kStorage.
  Result<Deployment> admit(const DeployParams& p);
  /// The pull policy a deploy asking for `requested` runs with (`always` when the provider
  /// insists on it).
  [[nodiscard]] protocol::PullPolicy pullPolicy(protocol::PullPolicy requested) const {
    return options_.alwaysPull ? protocol::PullPolicy::kAlways : requested;
  }
  /// Pulls (as pullPolicy() says) and starts an admitted deployment (within the image quota: see
  /// image_quota.hpp). Returns its final record: `running`, or `failed` with `error` saying why, or
  /// `stopped` when a stop arrived meanwhile; `failed` ("shutting down") when the scheduler shut
  /// down first (the stored record is then reconciled at the next start). Cancelling it is safe:
  /// the deploy goes on (a peer that disconnects does not stop a deploy; its progress goes
  /// nowhere).
  net::asio::awaitable<Deployment> run(std::string id, DeployParams p, ProgressFn progress);

  /// Stops (SIGTERM, then SIGKILL after the grace period; at once with `force`) and removes the
  /// container, then the images this provider pulled that no deployment needs any more. Only the
  /// requester may stop its deployment: others get kNotFound, the same answer as for an id that
  /// does not exist (no probing of other peers' ids). Errors also: kBadState (the engine did not
  /// answer; the stop is retried by reconciliation), the engine's, kShuttingDown. Cancelling it is
  /// safe: the stop goes on.
  net::asio::awaitable<Result<Deployment>> stop(std::string requester, std::string id, bool force);

  /// The requester's deployment `id`. Errors: kNotFound (also for other peers' deployments).
  Result<Deployment> find(const std::string& requester, const std::string& id) const;
  /// The requester's deployments, newest first.
  std::vector<Deployment> list(const std::string& requester) const;
  /// Resource use of running deployments (cached up to statsMaxAge; collected concurrently,
  /// bounded by statsTimeout). Deployments without a sample are absent from the map.
  /// Cancelling it is safe.
  net::asio::awaitable<std::map<std::string, runtime::Stats>> stats(
      std::vector<Deployment> deployments);

  runtime::Runtime& runtime() { return rt_; }
  [[nodiscard]] const Records& records() const { return records_; }
  /// The executor the scheduler (and everything that shares its thread) runs on.
  [[nodiscard]] const net::asio::any_io_executor& executor() const { return ex_; }
  /// Publishes a deployment that just started with an exposed port (the tunnel registers it at
  /// the gateway) and returns its public URL, if any. Awaited before the deploy answers, so the
  /// answer carries the public URL.
  using Publisher = provider::Publisher;
  void setPublisher(Publisher p) { publisher_ = std::move(p); }
  /// Records (new) public URLs for a running deployment (after a tunnel reconnect, or a late
  /// gateway's answer).
  void setUrls(const std::string& id, const std::vector<std::string>& urls) {
    records_.setUrls(id, urls);
  }
  /// Adds a listener told about every committed change of a record (the tunnels register routes
  /// from it; the metrics time pulls and starts).
  void onChange(std::function<void(const Deployment&)> listener) {
    records_.onChange(std::move(listener));
  }
  /// Stops admitting and cancels (terminally) every task running now: the event watch, event
  /// handlers, deploys in progress (their records stay pulling/starting and are reconciled as
  /// interrupted at the next start), stops in progress (reconciled as stopping) and stats calls.
  /// Work started afterwards (stopAll) runs normally. Returns at once; the tasks end as soon as
  /// the executor runs them. Called from outside the executor's thread, the cancellation itself
  /// waits for the executor's next turn (the scheduler must still exist then).
  void shutdown();
  /// Stops admitting, cancels every task (total cancellation first, terminal after `grace`) and
  /// returns once all have ended; the scheduler may then be destroyed. Not cancel-safe: it is the
  /// owner's last step and must run to completion.
  net::asio::awaitable<void> shutdown(std::chrono::milliseconds grace);
  /// Running deployments (all requesters).
  [[nodiscard]] std::vector<Deployment> running() const;
  /// Where a running deployment's exposed port answers: the published 127.0.0.1 port and, when
  /// known, the container's own address and port (see runtime::ContainerInfo::address).
  struct Endpoint {
    std::uint16_t hostPort = 0;
    std::optional<std::string> address;
    std::uint16_t containerPort = 0;
  };
  [[nodiscard]] std::optional<Endpoint> endpoint(const std::string& id) const;
  /// True while `id` is running (log followers use it to tell a window end from an exit).
  [[nodiscard]] bool isRunning(const std::string& id) const;
  /// Stops every running deployment (for --stop-on-exit), one after the other. Cancelling it is
  /// safe: the stops go on.
  net::asio::awaitable<void> stopAll();

 private:
  net::asio::awaitable<Result<Deployment>> stopNow(std::string requester, std::string id,
                                                   bool force);
  /// stop() of a failed deployment: removes the container kept for its logs.
  net::asio::awaitable<Result<Deployment>> removeFailedContainer(Deployment d);
  net::asio::awaitable<Deployment> runNow(std::string id, DeployParams p, ProgressFn progress);
  /// stopAll's work (a value, for callInGroup).
  net::asio::awaitable<bool> stopAllNow();
  /// Removes the images this provider pulled that no record needs (image_quota.hpp
  /// unusedPulledImages); one the engine refuses to remove (still used by a container) stays in
  /// the ledger and is tried again after the next stop. Runs as a task of the group.
  net::asio::awaitable<void> releaseImages();

  net::asio::any_io_executor ex_;
  runtime::Runtime& rt_;
  runtime::Policy policy_;
  SchedulerOptions options_;
  Records records_;
  Publisher publisher_;
  bool shuttingDown_ = false;
  /// Owns every coroutine that touches this object's state (see the file comment). Declared
  /// before the pieces that spawn into it; held by pointer so that a bug (destruction with tasks
  /// running) can leak it instead of freeing it under them.
  std::unique_ptr<net::TaskGroup> tasks_;
  StatsCache stats_;
  Reconciler reconciler_;
};

}  // namespace pc::provider
