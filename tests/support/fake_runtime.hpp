#pragma once
/// An in-memory Runtime for scheduler and handler tests: containers, logs and events without a
/// Docker engine, with controls to make a container print, die or vanish, and to take the whole
/// engine down. Single executor, not thread-safe (like the code it serves).
#include <map>
#include <set>

#include "net/asio.hpp"
#include "runtime/runtime.hpp"

namespace pc::test {

class FakeRuntime final : public runtime::Runtime {
 public:
  struct Container {
    runtime::ContainerInfo info;
    runtime::ContainerSpec spec;
    std::vector<runtime::LogEntry> lines;
  };

  explicit FakeRuntime(net::asio::any_io_executor ex);

  // -- controls --
  /// Images that pull successfully (exact reference text, as the scheduler normalises it): the
  /// registry. Anything else fails to pull (kImageNotFound), as with an unreachable registry.
  std::set<std::string> images;
  /// Images the engine holds (exact references); a successful pull adds its image. nullopt: the
  /// engine cannot tell (inspectImage fails, like a runtime that does not report images).
  std::optional<std::set<std::string>> local;
  int pulls = 0;             ///< pull() calls
  int imageInspections = 0;  ///< inspectImage() calls
  /// Each pull reports this many progress steps, `pullStepDelay` apart.
  int pullSteps = 4;
  std::chrono::milliseconds pullStepDelay{1};
  /// While set, every call fails with kDaemonUnreachable.
  bool engineDown = false;
  std::map<std::string, Container> containers;  ///< by container id
  /// When set, every container "publishes" its port here (a real local server in tests).
  std::optional<std::uint16_t> publishedPort;
  int creates = 0;
  int starts = 0;  ///< start() calls (restarts of existing containers)
  int removes = 0;

  /// The container of a deployment, nullptr if none.
  Container* byDeployment(const std::string& deploymentId);
  /// Appends a log line (and wakes followers).
  void emit(const std::string& deploymentId, std::string text,
            runtime::LogStream stream = runtime::LogStream::kStdout);
  /// Makes the container exit by itself (emits die, and oom first when `oom`).
  void exit(const std::string& deploymentId, int code, bool oom = false);
  /// Takes the engine down (or back up), waking event watchers so they see it.
  void setDown(bool down);
  /// Adds a running container that carries our labels (as if left by an earlier process).
  std::string adopt(const std::string& deploymentId, const std::string& requester);

  // -- Runtime --
  net::asio::awaitable<Result<runtime::EngineInfo>> ping() override;
  net::asio::awaitable<Result<void>> pull(std::string image,
                                          runtime::PullProgressFn progress) override;
  net::asio::awaitable<Result<runtime::Started>> createAndStart(
      runtime::ContainerSpec spec) override;
  net::asio::awaitable<Result<runtime::Started>> start(std::string id) override;
  net::asio::awaitable<Result<void>> stop(std::string id, std::chrono::seconds grace) override;
  net::asio::awaitable<Result<void>> remove(std::string id) override;
  net::asio::awaitable<Result<runtime::ContainerInfo>> inspect(std::string id) override;
  net::asio::awaitable<Result<void>> logs(std::string id, runtime::LogOptions options,
                                          runtime::LogSink sink) override;
  net::asio::awaitable<Result<runtime::Stats>> stats(std::string id) override;
  net::asio::awaitable<Result<std::optional<runtime::ImageInfo>>> inspectImage(
      std::string image) override;
  net::asio::awaitable<Result<void>> removeImage(std::string image) override;
  net::asio::awaitable<Result<std::vector<runtime::ContainerInfo>>> listOwned() override;
  net::asio::awaitable<Result<void>> events(runtime::EventOptions options,
                                            runtime::EventSink sink) override;

 private:
  Error down() const;
  Error noSuch(const std::string& id) const;
  void event(runtime::EventKind kind, const Container& c, std::optional<int> exitCode);
  runtime::SystemTime nextTime();

  net::asio::any_io_executor ex_;
  net::Signal changed_;
  std::vector<runtime::Event> events_;
  runtime::SystemTime lastTime_{};
  int nextId_ = 1;
  std::uint16_t nextPort_ = 40000;
};

}  // namespace pc::test
