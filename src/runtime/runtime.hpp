#pragma once
/// The container runtime seam: what the provider needs from a container engine.
///
/// `DockerRuntime` (runtime/docker.hpp) implements it over the Docker Engine API; a cluster
/// engine or a test fake can implement it too. Every operation is an Asio C++20 coroutine that
/// returns a `Result` (engine, network and input failures are values, never exceptions) and has
/// a deadline. Cancellation: every call owns its own connection to the engine, so abandoning or
/// cancelling a call is safe for this process; an engine-side action already requested (a create,
/// a stop) may still complete, and `listOwned()` finds any container it left.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "runtime/log_frame.hpp"

namespace pc::runtime {

using SystemTime = std::chrono::system_clock::time_point;

/// Labels every container and network we create carries; `listOwned()` filters on the first.
inline constexpr const char* kLabelManaged = "peercompute.managed";
inline constexpr const char* kLabelDeployment = "peercompute.deployment-id";
inline constexpr const char* kLabelRequester = "peercompute.requester-id";

/// The host network interface (the bridge) of a deployment's network: "pcd-" and 11 characters
/// derived from the deployment id (15 in all, the kernel's limit). Every deployment network's
/// bridge carries the prefix, so the provider's firewall can refuse traffic from any of them
/// with one rule (egress/rules.hpp) and allow only what each deployment's own rule allows.
std::string deploymentInterface(std::string_view deploymentId);

/// What a deployment asks to run. There is deliberately no field for privileges, capabilities,
/// mounts, devices, namespaces, labels or the network: the security profile is not negotiable.
struct ContainerSpec {
  std::string deploymentId;  ///< [a-z0-9][a-z0-9-]{0,62}; names the container and its network
  std::string requesterId;   ///< the requesting peer (PeerId text); [A-Za-z0-9]{1,128}
  std::string image;         ///< image reference (parsed by `ImageRef`)
  std::vector<std::string> command;  ///< overrides the image's CMD when non-empty
  std::vector<std::pair<std::string, std::string>> env;  ///< NAME=value pairs
  std::optional<std::uint16_t> exposedPort;  ///< container TCP port published on 127.0.0.1
  std::uint32_t cpuMillis = 1000;            ///< NanoCpus = cpuMillis * 1e6
  std::uint64_t memoryBytes = 256ULL << 20;  ///< Memory = MemorySwap (no swap)
  std::uint32_t pidsLimit = 100;
  std::uint64_t tmpfsBytes = 64ULL << 20;  ///< size of the writable /tmp
};

enum class ContainerState {
  kCreated,
  kRunning,
  kPaused,
  kRestarting,
  kRemoving,
  kExited,
  kDead,
  kUnknown
};
const char* toString(ContainerState s);

struct ContainerInfo {
  std::string id;
  std::string name;
  std::string image;
  std::string deploymentId;
  std::string requesterId;
  bool managed = false;  ///< carries our `peercompute.managed=true` label
  ContainerState state = ContainerState::kUnknown;
  int exitCode = 0;
  bool oomKilled = false;
  std::string error;                      ///< the engine's error for a failed start, if any
  std::optional<std::uint16_t> hostPort;  ///< the 127.0.0.1 port the exposed port is published on
  /// The container's IPv4 address on its own network. The host reaches it directly, without the
  /// engine's userland proxy behind the published port (one process and two copies fewer).
  std::optional<std::string> address;
  std::optional<SystemTime> startedAt;
  std::optional<SystemTime> finishedAt;
};

struct Started {
  std::string id;
  std::optional<std::uint16_t> hostPort;
  std::optional<std::string> address;  ///< as ContainerInfo::address
};

/// Progress of one layer of a pull, as numbers: the runtime interprets its engine's messages, so
/// no caller parses engine-specific progress text. `current` reaches `total` once the layer is
/// downloaded or found already present; `total` is 0 while the layer's size is unknown. A pull
/// reports each layer many times, always with its latest figures.
struct PullProgress {
  std::string layer;          ///< layer id (or the engine's name for a whole-image step)
  std::uint64_t current = 0;  ///< bytes of the layer downloaded so far
  std::uint64_t total = 0;    ///< the layer's size in bytes, 0 when not known yet
};
using PullProgressFn = std::function<void(const PullProgress&)>;

struct LogOptions {
  bool stdoutStream = true;
  bool stderrStream = true;
  bool follow = false;
  std::optional<std::uint32_t> tail;  ///< last N lines; all when unset
  std::optional<SystemTime> since;    ///< not before 1970 (kInvalidSpec)
  /// Deadline for the whole call. With `follow`, the call returns normally when it expires (the
  /// caller follows again with `since`); without, expiry is a `kTimeout` error.
  std::chrono::seconds maxDuration{30};
};
struct LogEntry {
  LogStream stream = LogStream::kStdout;
  std::optional<SystemTime> time;
  std::string text;  ///< one line without its trailing newline (or a chunk of a longer line)
};
/// Return false to stop the stream early.
using LogSink = std::function<bool(const LogEntry&)>;

struct Stats {
  double cpuPercent = 0;          ///< of one CPU (100 = one full core), like `docker stats`
  std::uint64_t memoryBytes = 0;  ///< usage minus page cache
  std::uint64_t memoryLimitBytes = 0;
  std::uint64_t pids = 0;
  std::uint64_t netRxBytes = 0;  ///< received on all its networks since it started
  std::uint64_t netTxBytes = 0;  ///< sent on all its networks since it started
  double cpuSeconds = 0;         ///< CPU time used since the container started
  std::int64_t sampledAtMs = 0;  ///< when the sample was taken (unix ms; 0: not recorded)
};

enum class EventKind { kCreate, kStart, kDie, kOom, kStop, kKill, kDestroy, kOther };
struct Event {
  EventKind kind = EventKind::kOther;
  std::string action;  ///< the engine's action string
  std::string containerId;
  std::string deploymentId;
  std::optional<int> exitCode;  ///< for kDie
  SystemTime time;
};
using EventSink = std::function<bool(const Event&)>;
struct EventOptions {
  std::optional<SystemTime> since;  ///< replay events from this time (engine keeps ~1000)
  /// The call returns normally after this long; the caller subscribes again with `since`.
  std::chrono::seconds window{300};
};

/// A local image, as the engine reports it.
struct ImageInfo {
  std::string id;               ///< the engine's image id ("sha256:…")
  std::uint64_t sizeBytes = 0;  ///< the image's size on disk, all its layers (uncompressed)
};

struct EngineInfo {
  std::string apiVersion;        ///< the version we speak with this engine
  std::string engineApiVersion;  ///< the engine's own maximum
  std::string engineVersion;
  std::string os;
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  /// Checks the engine answers and negotiates the API version.
  /// Errors: `kDaemonUnreachable`, `kTimeout`, `kUnsupportedApi`.
  virtual boost::asio::awaitable<Result<EngineInfo>> ping() = 0;

  /// Pulls `image`, reporting progress. Errors: `kBadReference`, `kImageNotFound`,
  /// `kPullFailed` (the engine's reason is kept), `kTimeout`.
  virtual boost::asio::awaitable<Result<void>> pull(std::string image, PullProgressFn progress) = 0;

  /// Creates the deployment's network and container with the security profile and starts it.
  /// On any failure nothing is left behind. Errors: `kInvalidSpec`, `kImageNotFound` (pull it
  /// first), `kConflict` (the deployment already has a container), `kEngineError`.
  virtual boost::asio::awaitable<Result<Started>> createAndStart(ContainerSpec spec) = 0;

  /// Starts an existing, stopped container of ours again (after the engine stopped it, e.g. in
  /// its own restart) and returns where its port is published now. Starting a running container
  /// succeeds. Errors: `kNoSuchContainer`, `kEngineError`.
  virtual boost::asio::awaitable<Result<Started>> start(std::string id) = 0;

  /// SIGTERM, then SIGKILL after `grace`. Stopping a stopped container succeeds.
  /// Errors: `kNoSuchContainer`.
  virtual boost::asio::awaitable<Result<void>> stop(std::string id, std::chrono::seconds grace) = 0;

  /// Removes the container (killing it if running) and its deployment network.
  /// Errors: `kNoSuchContainer`.
  virtual boost::asio::awaitable<Result<void>> remove(std::string id) = 0;

  /// Errors: `kNoSuchContainer`.
  virtual boost::asio::awaitable<Result<ContainerInfo>> inspect(std::string id) = 0;

  /// Delivers log lines (stdout and stderr kept apart) to `sink` until the end, the sink returns
  /// false or, with `follow`, `maxDuration` passes. Errors: `kNoSuchContainer`, `kTimeout`,
  /// `kInvalidSpec` (a `since` before 1970, refused before the engine is asked).
  virtual boost::asio::awaitable<Result<void>> logs(std::string id, LogOptions options,
                                                    LogSink sink) = 0;

  /// One sample (the engine takes two, about a second apart, for the CPU figure).
  /// Errors: `kNoSuchContainer`, `kConflict` (not running).
  virtual boost::asio::awaitable<Result<Stats>> stats(std::string id) = 0;

  /// The local image `image` (a reference), nullopt when the engine does not have it.
  /// Errors: `kBadReference`, the engine's. The default (a runtime that does not report images)
  /// is `kEngineError`: callers then treat the image as unknown (never as pulled by them).
  virtual boost::asio::awaitable<Result<std::optional<ImageInfo>>> inspectImage(std::string image);

  /// Removes the local image reference `image`, never forced: an image a container still uses
  /// stays (`kConflict`), and an image id with other tags keeps them. Errors: `kImageNotFound`,
  /// `kConflict`, `kBadReference`, the engine's. The default removes nothing (`kEngineError`).
  virtual boost::asio::awaitable<Result<void>> removeImage(std::string image);

  /// Every container carrying our managed label, running or not (survives our restarts).
  virtual boost::asio::awaitable<Result<std::vector<ContainerInfo>>> listOwned() = 0;

  /// Delivers lifecycle events of our containers (create, start, die with exit code, oom, stop,
  /// kill, destroy) until the sink returns false or `window` passes.
  virtual boost::asio::awaitable<Result<void>> events(EventOptions options, EventSink sink) = 0;
};

}  // namespace pc::runtime
