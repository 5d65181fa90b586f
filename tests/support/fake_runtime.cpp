#include "support/fake_runtime.hpp"

#include "runtime/error.hpp"

namespace pc::test {

namespace asio = net::asio;
using asio::awaitable;
using runtime::ContainerState;

FakeRuntime::FakeRuntime(asio::any_io_executor ex) : ex_(ex), changed_(ex) {}

Error FakeRuntime::down() const {
  return runtime::fail(runtime::Errc::kDaemonUnreachable, "fake engine is down");
}
Error FakeRuntime::noSuch(const std::string& id) const {
  return runtime::fail(runtime::Errc::kNoSuchContainer, "no such container: " + id);
}

runtime::SystemTime FakeRuntime::nextTime() {
  auto t = std::chrono::system_clock::now();
  if (t <= lastTime_) t = lastTime_ + std::chrono::nanoseconds(1);
  lastTime_ = t;
  return t;
}

void FakeRuntime::event(runtime::EventKind kind, const Container& c, std::optional<int> exitCode) {
  runtime::Event e;
  e.kind = kind;
  e.containerId = c.info.id;
  e.deploymentId = c.info.deploymentId;
  e.exitCode = exitCode;
  e.time = nextTime();
  events_.push_back(e);
  changed_.notify();
}

FakeRuntime::Container* FakeRuntime::byDeployment(const std::string& deploymentId) {
  for (auto& [id, c] : containers) {
    if (c.info.deploymentId == deploymentId) return &c;
  }
  return nullptr;
}

void FakeRuntime::emit(const std::string& deploymentId, std::string text, runtime::LogStream s) {
  auto* c = byDeployment(deploymentId);
  if (c == nullptr) return;
  c->lines.push_back({s, nextTime(), std::move(text)});
  changed_.notify();
}

void FakeRuntime::setDown(bool down) {
  engineDown = down;
  changed_.notify();
}

void FakeRuntime::exit(const std::string& deploymentId, int code, bool oom) {
  auto* c = byDeployment(deploymentId);
  if (c == nullptr) return;
  c->info.state = ContainerState::kExited;
  c->info.exitCode = code;
  c->info.oomKilled = oom;
  c->info.finishedAt = nextTime();
  if (oom) event(runtime::EventKind::kOom, *c, std::nullopt);
  event(runtime::EventKind::kDie, *c, code);
}

std::string FakeRuntime::adopt(const std::string& deploymentId, const std::string& requester) {
  Container c;
  c.info.id = "fake" + std::to_string(nextId_++);
  c.info.deploymentId = deploymentId;
  c.info.requesterId = requester;
  c.info.managed = true;
  c.info.state = ContainerState::kRunning;
  c.info.hostPort = nextPort_++;
  c.info.startedAt = nextTime();
  const std::string id = c.info.id;
  containers[id] = std::move(c);
  return id;
}

awaitable<Result<runtime::EngineInfo>> FakeRuntime::ping() {
  if (engineDown) co_return down();
  co_return runtime::EngineInfo{"1.41", "1.41", "fake", "linux"};
}

awaitable<Result<void>> FakeRuntime::pull(std::string image, runtime::PullProgressFn progress) {
  if (engineDown) co_return down();
  ++pulls;
  if (!images.contains(image)) {
    co_return runtime::fail(runtime::Errc::kImageNotFound, "pull " + image + ": not found");
  }
  constexpr std::uint64_t kTotal = 1000;
  for (int i = 1; i <= pullSteps; ++i) {
    asio::steady_timer t(ex_, pullStepDelay);
    co_await t.async_wait(net::kNoThrow);
    if (progress) {
      progress({"layer1",
                kTotal * static_cast<std::uint64_t>(i) / static_cast<std::uint64_t>(pullSteps),
                kTotal});
    }
  }
  if (progress) progress({"layer1", kTotal, kTotal});
  if (local) local->insert(image);
  co_return Result<void>{};
}

awaitable<Result<std::optional<runtime::ImageInfo>>> FakeRuntime::inspectImage(std::string image) {
  if (engineDown) co_return down();
  ++imageInspections;
  if (!local) co_return co_await Runtime::inspectImage(std::move(image));
  if (!local->contains(image)) co_return std::optional<runtime::ImageInfo>{};
  co_return runtime::ImageInfo{"sha256:fake", 1000};
}

awaitable<Result<void>> FakeRuntime::removeImage(std::string image) {
  if (engineDown) co_return down();
  if (!local) co_return co_await Runtime::removeImage(std::move(image));
  if (local->erase(image) == 0) co_return runtime::fail(runtime::Errc::kImageNotFound, image);
  co_return Result<void>{};
}

awaitable<Result<runtime::Started>> FakeRuntime::createAndStart(runtime::ContainerSpec spec) {
  if (engineDown) co_return down();
  if (byDeployment(spec.deploymentId) != nullptr) {
    co_return runtime::fail(runtime::Errc::kConflict, "deployment already has a container");
  }
  ++creates;
  const std::string id = adopt(spec.deploymentId, spec.requesterId);
  auto& c = containers[id];
  c.spec = spec;
  c.info.image = spec.image;
  if (!spec.exposedPort) {
    c.info.hostPort.reset();
  } else if (publishedPort) {
    c.info.hostPort = publishedPort;
  }
  event(runtime::EventKind::kStart, c, std::nullopt);
  co_return runtime::Started{id, c.info.hostPort};
}

awaitable<Result<runtime::Started>> FakeRuntime::start(std::string id) {
  if (engineDown) co_return down();
  auto it = containers.find(id);
  if (it == containers.end()) co_return noSuch(id);
  ++starts;
  if (it->second.info.state != ContainerState::kRunning) {
    it->second.info.state = ContainerState::kRunning;
    it->second.info.exitCode = 0;
    it->second.info.oomKilled = false;
    it->second.info.finishedAt.reset();
    event(runtime::EventKind::kStart, it->second, std::nullopt);
  }
  co_return runtime::Started{id, it->second.info.hostPort, it->second.info.address};
}

awaitable<Result<void>> FakeRuntime::stop(std::string id, std::chrono::seconds) {
  if (engineDown) co_return down();
  auto it = containers.find(id);
  if (it == containers.end()) co_return noSuch(id);
  if (it->second.info.state == ContainerState::kRunning) {
    it->second.info.state = ContainerState::kExited;
    it->second.info.exitCode = 143;
    it->second.info.finishedAt = nextTime();
    event(runtime::EventKind::kDie, it->second, 143);
  }
  co_return Result<void>{};
}

awaitable<Result<void>> FakeRuntime::remove(std::string id) {
  if (engineDown) co_return down();
  auto it = containers.find(id);
  if (it == containers.end()) co_return noSuch(id);
  ++removes;
  containers.erase(it);
  changed_.notify();
  co_return Result<void>{};
}

awaitable<Result<runtime::ContainerInfo>> FakeRuntime::inspect(std::string id) {
  if (engineDown) co_return down();
  auto it = containers.find(id);
  if (it == containers.end()) co_return noSuch(id);
  co_return it->second.info;
}

awaitable<Result<void>> FakeRuntime::logs(std::string id, runtime::LogOptions options,
                                          runtime::LogSink sink) {
  if (engineDown) co_return down();
  if (!containers.contains(id)) co_return noSuch(id);
  std::size_t next = 0;
  {
    const auto& lines = containers[id].lines;
    if (options.tail && *options.tail < lines.size()) next = lines.size() - *options.tail;
  }
  const auto deadline = std::chrono::steady_clock::now() + options.maxDuration;
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer timer(ex_, options.maxDuration);
  timer.async_wait([this, expired](boost::system::error_code ec) {
    if (!ec) {
      *expired = true;
      changed_.notify();
    }
  });
  while (true) {
    auto it = containers.find(id);
    if (it == containers.end()) break;
    auto& lines = it->second.lines;
    while (next < lines.size()) {
      const auto e = lines[next++];
      if (options.since && e.time && *e.time < *options.since) continue;
      if (!sink(e)) {
        timer.cancel();
        co_return Result<void>{};
      }
    }
    if (!options.follow || it->second.info.state != ContainerState::kRunning || *expired ||
        std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    co_await changed_.wait();
  }
  timer.cancel();
  co_return Result<void>{};
}

awaitable<Result<runtime::Stats>> FakeRuntime::stats(std::string id) {
  if (engineDown) co_return down();
  auto it = containers.find(id);
  if (it == containers.end()) co_return noSuch(id);
  co_return runtime::Stats{12.5, 3u << 20, it->second.spec.memoryBytes, 2, 4096, 512};
}

awaitable<Result<std::vector<runtime::ContainerInfo>>> FakeRuntime::listOwned() {
  if (engineDown) co_return down();
  std::vector<runtime::ContainerInfo> out;
  for (const auto& [id, c] : containers) out.push_back(c.info);
  co_return out;
}

awaitable<Result<void>> FakeRuntime::events(runtime::EventOptions options,
                                            runtime::EventSink sink) {
  if (engineDown) co_return down();
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer timer(ex_, options.window);
  timer.async_wait([this, expired](boost::system::error_code ec) {
    if (!ec) {
      *expired = true;
      changed_.notify();
    }
  });
  std::size_t next = 0;
  while (!*expired && !engineDown) {
    while (next < events_.size()) {
      const auto e = events_[next++];
      if (options.since && e.time < *options.since) continue;
      if (!sink(e)) {
        timer.cancel();
        co_return Result<void>{};
      }
    }
    co_await changed_.wait();
  }
  timer.cancel();
  if (engineDown) co_return down();
  co_return Result<void>{};
}

}  // namespace pc::test
