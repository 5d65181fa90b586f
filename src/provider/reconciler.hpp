#pragma once
/// The reconciler: keeps the records true to the engine. After a (provider or engine) restart it
/// re-adopts containers by their deployment label and settles every record: a running container
/// stays running, one that died meanwhile makes its deployment failed with its exit code, a
/// deploy the restart interrupted becomes failed and its container (if any) is removed, a stop
/// in progress is finished. A container that the engine itself stopped while restarting
/// (SIGTERM/SIGKILL while our event stream was down) is started again: a dockerd restart does not
/// end the deployments. Between reconciliations, deaths are learnt from the engine's event
/// stream, not by polling.
///
/// Threading: one executor (the daemon's single io_context thread); nothing here is thread-safe.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/asio.hpp"
#include "net/task_group.hpp"
#include "provider/records.hpp"
#include "runtime/runtime.hpp"

namespace pc::provider {

class Reconciler {
 public:
  /// `tasks` owns the event handlers the watch starts; `publisher` (may be empty) republishes a
  /// deployment started again. All must outlive the reconciler's coroutines.
  Reconciler(Records& records, runtime::Runtime& rt, net::TaskGroup& tasks,
             const Publisher& publisher);

  /// One reconciliation pass over every record that no deploy or stop is working on.
  /// Errors: the engine's (nothing is changed then). Not cancel-safe: a pass cut short leaves the
  /// records it has not reached for the next pass.
  net::asio::awaitable<Result<void>> reconcile();

  /// Reconciles, then follows the engine's events (reconciling again after any interruption of
  /// the stream, e.g. a dockerd restart) until cancelled or `stopping` becomes true (seen at the
  /// next event or window end). Cancelling it is safe: it is the way to end it.
  net::asio::awaitable<void> watch(const bool& stopping);

  /// Settles a running deployment whose container stopped (a die or oom event): `failed` with
  /// the exit code and why, unless the container still runs or the engine does not answer.
  /// Cancelling it is safe (the next reconciliation settles the record).
  net::asio::awaitable<void> onContainerEvent(std::string deploymentId);

 private:
  using Containers = std::map<std::string, std::vector<runtime::ContainerInfo>>;
  /// Per-state settling of one record against its containers.
  net::asio::awaitable<void> settle(const std::string& id, const Containers& byDeployment);
  net::asio::awaitable<void> settleInterrupted(Deployment d,
                                               const std::vector<runtime::ContainerInfo>& cs);
  net::asio::awaitable<void> settleRunning(Deployment d,
                                           const std::vector<runtime::ContainerInfo>& cs);
  net::asio::awaitable<void> removeAll(const std::vector<runtime::ContainerInfo>& cs);
  /// Starts a deployment's container again when the engine stopped it in its own restart;
  /// false when `containerId` did not stop that way (see the .cpp), or could not be started.
  net::asio::awaitable<bool> reviveAfterEngineRestart(std::string id, std::string containerId);

  Records& records_;
  runtime::Runtime& rt_;
  net::TaskGroup& tasks_;
  const Publisher& publisher_;
  /// When the engine's event stream was last lost (wall clock, ms); cleared by the next
  /// successful reconciliation.
  std::optional<std::int64_t> engineLostAtMs_;
};

}  // namespace pc::provider
