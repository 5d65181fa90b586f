#pragma once
/// One deployment's life on the engine: its run (pull → create and start → publish), and the end
/// of it (stop and remove the container). The engine's event watch that follows a running
/// deployment is the Reconciler's (provider/reconciler.hpp).
///
/// Threading: one executor (the daemon's single io_context thread); nothing here is thread-safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "net/asio.hpp"
#include "provider/admission.hpp"
#include "provider/image_quota.hpp"
#include "provider/records.hpp"
#include "runtime/runtime.hpp"

namespace pc::provider {

/// What a deploy reports while it runs (the wire's DeployProgress carries the same figures).
struct DeployProgressInfo {
  bool starting = false;  ///< false: pulling
  std::optional<std::int64_t> percent;
  std::optional<std::int64_t> bytesDone;
  std::optional<std::int64_t> bytesTotal;
  /// Said once the image is there (and again when starting): the engine's copy was used, or the
  /// image was pulled.
  std::optional<protocol::ImageSource> imageSource;
};
using ProgressFn = std::function<void(const DeployProgressInfo&)>;

/// Folds the runtime's per-layer pull figures into the progress of the whole pull. Pure.
class PullMeter {
 public:
  /// Takes one layer's latest figures. Returns the pull's progress when its percent changed (one
  /// report per percent: bounded, not one per chunk); nothing while no layer size is known.
  std::optional<DeployProgressInfo> update(const runtime::PullProgress& p);
  /// True once a report said 100 %.
  [[nodiscard]] bool reportedComplete() const { return lastPercent_ == 100; }
  /// The sum of the layer sizes announced so far (layers already present announce none).
  [[nodiscard]] std::uint64_t announcedBytes() const;

 private:
  std::map<std::string, runtime::PullProgress> layers_;
  std::int64_t lastPercent_ = -1;
};

/// The run of one admitted deployment. Owns nothing but its working copy: the record lives in
/// `records`, and `control` is how a stop reaches the run.
class DeploymentRun {
 public:
  DeploymentRun(Records& records, runtime::Runtime& rt, const Publisher& publisher, std::string id,
                DeployParams params, ProgressFn progress, std::shared_ptr<DeployControl> control,
                ImageQuota quota = {});

  /// Gets the image as the params' pull policy says — `missing`: the engine's copy when it has
  /// one, else a pull; `always`: a pull; `never`: the engine's copy, and a failure naming the
  /// image when it has none — then checks the image's size against the quota, creates and starts
  /// the container and publishes it. A pull is raced against the deploy timeout and a stop, and
  /// aborted as soon as the announced layer sizes exceed the image quota; an image the engine did
  /// not have before is recorded as pulled by us (and removed once unused), never one it had.
  /// The allowlist was checked at admission, before this run, whatever the policy. Returns the
  /// final record: `running`, or `failed` with `error` saying why, or `stopped` when a stop arrived
  /// meanwhile; the record is committed and the deploy ends (the control's `settled` is notified).
  /// Not cancel-safe: a cancelled run leaves the record in its last committed state (pulling or
  /// starting), which the next start reconciles as interrupted; the Scheduler cancels it only when
  /// it shuts down.
  net::asio::awaitable<Deployment> run();

 private:
  // Each phase returns the final record when the run ends in it, nothing to go on.
  /// Decides, by the pull policy and what the engine holds, whether to pull.
  net::asio::awaitable<std::optional<Deployment>> getImage();
  /// The engine's copy is used: nothing is pulled and nothing is recorded as ours.
  net::asio::awaitable<std::optional<Deployment>> useLocal(const ImageAllowance& allowance);
  /// Pulls from the registry. `wasAbsent`: the engine said it did not have the image.
  net::asio::awaitable<std::optional<Deployment>> pull(bool wasAbsent,
                                                       const ImageAllowance& allowance);
  /// After a pull: records an image that was not there before as ours and checks the size on
  /// disk against `allowance`.
  net::asio::awaitable<std::optional<Deployment>> afterPull(bool wasAbsent,
                                                            const ImageAllowance& allowance,
                                                            std::uint64_t announced);
  net::asio::awaitable<std::optional<Deployment>> createAndStart();
  net::asio::awaitable<std::optional<Deployment>> publish();
  /// Commits the working copy in state `s`; on a storage error, the final (failed) record.
  std::optional<Deployment> enter(protocol::DeploymentState s);
  /// After a stop request during the pull: the `stopped` record.
  Deployment stoppedBeforeStart();
  /// After a stop request: removes the container (if any) and gives the `stopped` record.
  net::asio::awaitable<Deployment> stoppedWhileStarting();
  Deployment finish(Deployment final);
  void report(const DeployProgressInfo& info) const;
  void refresh() { d_ = *records_.find(id_); }

  Records& records_;
  runtime::Runtime& rt_;
  const Publisher& publisher_;
  std::string id_;
  DeployParams params_;
  ProgressFn progress_;
  std::shared_ptr<DeployControl> control_;
  ImageQuota quota_;
  Deployment d_;                                      ///< working copy of the record
  std::optional<protocol::ImageSource> imageSource_;  ///< once the image is there
};

/// Ends a running (or `stopping`) deployment: stops its container (SIGTERM, SIGKILL after
/// `grace`), removes it, and commits `stopped` with the exit code. Marks the stop in progress in
/// `records` meanwhile. When the engine refuses, the record stays `stopping` (logged).
/// Not cancel-safe: a cancelled stop leaves the record `stopping` and the id marked as stopping;
/// the next start finishes it (the Scheduler cancels it only when it shuts down).
net::asio::awaitable<void> finishStop(Records& records, runtime::Runtime& rt, std::string id,
                                      std::chrono::seconds grace);

}  // namespace pc::provider
