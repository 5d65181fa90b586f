#pragma once
/// `Runtime` over the Docker Engine HTTP API on a unix socket (Beast, one connection per call).
///
/// The security profile (docker_spec.hpp `buildCreateBody`) is applied to every container and
/// nothing in a `ContainerSpec` can weaken it. Operations that take a container id only act on
/// containers that carry our managed label, so a caller cannot stop, remove or read the logs of
/// the host's other containers through this class.
///
/// Thread-safety: one instance may be used concurrently from coroutines on any executors; each
/// call opens its own connection.
#include <chrono>
#include <memory>
#include <string>

#include "runtime/runtime.hpp"

namespace pc::runtime {

namespace docker {
class EngineClient;
}  // namespace docker

struct DockerOptions {
  /// Path of the engine's unix socket.
  std::string socketPath = "/var/run/docker.sock";
  /// OCI runtime for deployments ("" = engine default; e.g. "runsc" for gVisor).
  std::string ociRuntime;
  /// IPv4 CIDR (e.g. "10.213.0.0/16") from which each deployment network gets its own /28;
  /// "" = the engine's default address pools (about 30 networks on a default dockerd).
  std::string networkPool;
  /// Deadline of an ordinary request (connect + request + response).
  std::chrono::seconds requestTimeout{30};
  /// Deadline of a whole pull.
  std::chrono::seconds pullTimeout{600};

  /// Defaults, with `DOCKER_HOST=unix:///path` honoured. Errors: `kInvalidSpec` for a
  /// DOCKER_HOST that is not a unix socket (TCP engines are not supported: no TLS client here).
  static Result<DockerOptions> fromEnvironment();
};

class DockerRuntime final : public Runtime {
 public:
  explicit DockerRuntime(DockerOptions options);
  ~DockerRuntime() override;
  DockerRuntime(const DockerRuntime&) = delete;
  DockerRuntime& operator=(const DockerRuntime&) = delete;

  boost::asio::awaitable<Result<EngineInfo>> ping() override;
  boost::asio::awaitable<Result<void>> pull(std::string image, PullProgressFn progress) override;
  boost::asio::awaitable<Result<Started>> createAndStart(ContainerSpec spec) override;
  boost::asio::awaitable<Result<Started>> start(std::string id) override;
  boost::asio::awaitable<Result<void>> stop(std::string id, std::chrono::seconds grace) override;
  boost::asio::awaitable<Result<void>> remove(std::string id) override;
  boost::asio::awaitable<Result<ContainerInfo>> inspect(std::string id) override;
  boost::asio::awaitable<Result<void>> logs(std::string id, LogOptions options,
                                            LogSink sink) override;
  boost::asio::awaitable<Result<Stats>> stats(std::string id) override;
  boost::asio::awaitable<Result<std::vector<ContainerInfo>>> listOwned() override;
  boost::asio::awaitable<Result<void>> events(EventOptions options, EventSink sink) override;

  boost::asio::awaitable<Result<std::optional<ImageInfo>>> inspectImage(std::string image) override;
  boost::asio::awaitable<Result<void>> removeImage(std::string image) override;

 private:
  std::unique_ptr<docker::EngineClient> engine_;
};

}  // namespace pc::runtime
