#include "provider/reconciler.hpp"

#include <spdlog/spdlog.h>

#include "core/time.hpp"
#include "core/units.hpp"
#include "provider/deployment_run.hpp"
#include "runtime/error.hpp"

namespace pc::provider {

namespace asio = net::asio;
using asio::awaitable;
using protocol::DeploymentState;

namespace {

/// How long before the loss of the event stream a container may have stopped and still count as
/// stopped by the engine's restart.
constexpr std::int64_t kOutageSlackMs = 60000;

std::string describeExit(const runtime::ContainerInfo& c, std::uint64_t memoryLimit) {
  if (c.oomKilled) {
    return "the container was killed for running out of memory (limit " +
           units::formatBytes(memoryLimit) + "); deploy it again with a larger --memory";
  }
  std::string s = "the container exited on its own with code " + std::to_string(c.exitCode);
  if (!c.error.empty()) {
    s += " (" + c.error + ")";
  }
  return s;
}

/// True once the running coroutine was cancelled (its owner is shutting down).
awaitable<bool> cancelled() {
  auto state = co_await asio::this_coro::cancellation_state;
  co_return state.cancelled() != asio::cancellation_type::none;
}

bool stillUp(runtime::ContainerState s) {
  return s == runtime::ContainerState::kRunning || s == runtime::ContainerState::kRestarting ||
         s == runtime::ContainerState::kPaused;
}

}  // namespace

Reconciler::Reconciler(Records& records, runtime::Runtime& rt, net::TaskGroup& tasks,
                       const Publisher& publisher)
    : records_(records), rt_(rt), tasks_(tasks), publisher_(publisher) {}

awaitable<void> Reconciler::onContainerEvent(std::string id) {
  const Deployment* rec = records_.find(id);
  if (rec == nullptr || rec->state != DeploymentState::kRunning || records_.busy(id)) {
    co_return;
  }
  const std::string cid = rec->containerId;
  auto info = co_await rt_.inspect(cid);
  rec = records_.find(id);
  if (rec == nullptr || rec->state != DeploymentState::kRunning) {
    co_return;
  }
  if (!info && info.error() != runtime::Errc::kNoSuchContainer) {
    // The engine did not answer (typically: it is shutting down, which is what stopped the
    // container). That says nothing about the container: the reconciliation that follows the
    // lost event stream decides, once the engine is back.
    spdlog::warn(
        "{}: its container stopped and the engine does not answer ({}); deciding once "
        "it is back",
        id, info.error().message());
    co_return;
  }
  if (info && stillUp(info->state)) {
    co_return;  // e.g. the OOM killer hit a child process, not the container's init
  }
  Deployment d = *rec;
  if (info) {
    d.exitCode = info->exitCode;
    d.oomKilled = info->oomKilled;
    if (info->finishedAt) {
      d.finishedAtMs = time::toUnixMillis(*info->finishedAt);
    }
    d = failedWith(d, describeExit(*info, d.memoryBytes));
  } else {
    d = failedWith(d, "its container disappeared (" + info.error().message() + ")");
  }
  d.clearUrls();
  spdlog::warn("{} failed: {}", d.id, d.error);
  (void)records_.save(d);
}

awaitable<Result<void>> Reconciler::reconcile() {
  auto owned = co_await rt_.listOwned();
  if (!owned) {
    co_return owned.error();
  }
  Containers byDeployment;
  for (auto& c : *owned) {
    byDeployment[c.deploymentId].push_back(c);
  }
  for (const auto& [depId, cs] : byDeployment) {
    if (records_.contains(depId)) {
      continue;
    }
    // Not ours to judge: another provider may share this engine, or our database was moved
    // aside. Left alone, and said once per pass.
    for (const auto& c : cs) {
      spdlog::warn(
          "container {} ({}) carries the peercompute label but this provider has no "
          "record of deployment '{}'; left untouched",
          c.id.substr(0, 12), c.name, depId);
    }
  }
  std::vector<std::string> ids;
  for (const auto& [id, d] : records_.all()) {
    ids.push_back(id);
  }
  for (const auto& id : ids) {
    if (!records_.busy(id)) {
      co_await settle(id, byDeployment);
    }
  }
  engineLostAtMs_.reset();
  co_return Result<void>{};
}

awaitable<void> Reconciler::settle(const std::string& id, const Containers& byDeployment) {
  Deployment d = *records_.find(id);
  static const std::vector<runtime::ContainerInfo> kNone;
  auto found = byDeployment.find(id);
  const auto& cs = found == byDeployment.end() ? kNone : found->second;
  switch (d.state) {
    case DeploymentState::kPending:
    case DeploymentState::kPulling:
    case DeploymentState::kStarting:
      co_await settleInterrupted(std::move(d), cs);
      break;
    case DeploymentState::kRunning:
      co_await settleRunning(std::move(d), cs);
      break;
    case DeploymentState::kStopping:
      co_await finishStop(records_, rt_, id, std::chrono::seconds(0));
      break;
    case DeploymentState::kStopped:
      co_await removeAll(cs);
      break;
    case DeploymentState::kFailed:
      // Failed by a die event while the engine was going down (the event can arrive before
      // the stream breaks): started again like a running one.
      if (engineLostAtMs_ && d.finishedAtMs &&
          *d.finishedAtMs >= *engineLostAtMs_ - kOutageSlackMs && !d.containerId.empty()) {
        const std::string cid = d.containerId;
        (void)co_await reviveAfterEngineRestart(id, cid);
      }
      break;
  }
}

awaitable<void> Reconciler::removeAll(const std::vector<runtime::ContainerInfo>& cs) {
  for (const auto& c : cs) {
    const std::string cid = c.id;
    (void)co_await rt_.remove(cid);
  }
}

awaitable<void> Reconciler::settleInterrupted(Deployment d,
                                              const std::vector<runtime::ContainerInfo>& cs) {
  // A deploy the provider's restart interrupted: its client got no answer, so the half-made
  // container (if any) is removed rather than adopted.
  co_await removeAll(cs);
  d = failedWith(d, "interrupted: the provider restarted while deploying it; deploy again");
  spdlog::warn("{}: {}", d.id, d.error);
  (void)records_.save(d);
}

awaitable<void> Reconciler::settleRunning(Deployment d,
                                          const std::vector<runtime::ContainerInfo>& cs) {
  const runtime::ContainerInfo* c = nullptr;
  for (const auto& x : cs) {
    if (x.id == d.containerId || c == nullptr) {
      c = &x;
    }
  }
  if (c == nullptr) {
    d = failedWith(d, "its container disappeared (removed outside Peer Compute)");
    d.clearUrls();
    spdlog::warn("{}: {}", d.id, d.error);
    (void)records_.save(d);
  } else if (c->state == runtime::ContainerState::kRunning) {
    if (c->address) {
      records_.setAddress(d.id, *c->address);
    }
    if (c->hostPort && c->hostPort != d.hostPort) {
      d.hostPort = c->hostPort;
      d.clearUrls();
      d.url = loopbackUrl(*d.hostPort);
      (void)records_.save(d);
    }
    spdlog::info("{} adopted: container {} still running", d.id, c->id.substr(0, 12));
  } else {
    const std::string id = d.id;
    const std::string cid = c->id;
    const bool revived = co_await reviveAfterEngineRestart(id, cid);
    if (!revived) {
      co_await onContainerEvent(id);
    }
  }
}

awaitable<bool> Reconciler::reviveAfterEngineRestart(std::string id, std::string containerId) {
  if (!engineLostAtMs_) {
    co_return false;
  }
  auto info = co_await rt_.inspect(containerId);
  if (!info) {
    co_return false;
  }
  // What a dockerd restart (without live-restore) does to a container: SIGTERM through its init
  // (exit 143), or SIGKILL after the stop timeout (137), at about the time our event stream
  // broke. A container that exited any other way, ran out of memory, or stopped well before
  // the outage died on its own and stays failed.
  const bool signalled = info->exitCode == 143 || info->exitCode == 137;
  if (info->state == runtime::ContainerState::kRunning || !signalled || info->oomKilled ||
      !info->finishedAt ||
      time::toUnixMillis(*info->finishedAt) < *engineLostAtMs_ - kOutageSlackMs) {
    co_return false;
  }
  auto started = co_await rt_.start(containerId);
  if (!started) {
    spdlog::warn("{}: cannot start its container again after the engine restart: {}", id,
                 started.error().message());
    co_return false;
  }
  Deployment d = *records_.find(id);
  d.state = DeploymentState::kRunning;
  d.containerId = containerId;
  d.exitCode.reset();
  d.oomKilled = false;
  d.finishedAtMs.reset();
  d.error.clear();
  d.startedAtMs = protocol::unixMillisNow();
  d.hostPort = started->hostPort;
  d.clearUrls();
  if (d.hostPort) {
    d.url = loopbackUrl(*d.hostPort);
  }
  if (started->address) {
    records_.setAddress(id, *started->address);
  }
  if (auto r = records_.save(d); !r) {
    co_return false;
  }
  spdlog::info("{} started again: the container engine restarted and had stopped its container",
               id);
  if (publisher_ && d.hostPort) {
    const Deployment toPublish = d;
    const auto urls = co_await publisher_(toPublish);
    records_.setUrls(id, urls);
  }
  co_return true;
}

awaitable<void> Reconciler::watch(const bool& stopping) {
  std::chrono::milliseconds backoff{500};
  constexpr std::chrono::milliseconds kMaxBackoff{30000};
  bool needReconcile = true;
  auto since = std::make_shared<std::optional<runtime::SystemTime>>();
  while (!stopping) {
    if (needReconcile) {
      // Events first (from now), then reconcile: a death between the two is seen either way.
      if (!*since) {
        *since = std::chrono::system_clock::now();
      }
      auto r = co_await reconcile();
      if (co_await cancelled()) {
        co_return;
      }
      if (!r) {
        spdlog::warn("cannot reconcile with the container engine ({}); retrying in {} ms",
                     r.error().message(), backoff.count());
        co_await net::sleepFor(backoff);
        backoff = std::min(backoff * 2, kMaxBackoff);
        continue;
      }
      needReconcile = false;
      backoff = std::chrono::milliseconds(500);
    }
    const runtime::EventSink sink = [this, &stopping, since](const runtime::Event& e) {
      if (stopping) {
        return false;
      }
      *since = e.time;
      if ((e.kind == runtime::EventKind::kDie || e.kind == runtime::EventKind::kOom) &&
          records_.contains(e.deploymentId)) {
        tasks_.spawn(onContainerEvent(e.deploymentId));
      }
      return true;
    };
    runtime::EventOptions opts;
    opts.since = *since;
    auto r = co_await rt_.events(opts, sink);
    if (co_await cancelled()) {
      co_return;  // shutting down: the stream ended because we asked, not the engine
    }
    if (!r) {
      spdlog::warn("lost the container engine's event stream ({}); reconnecting",
                   r.error().message());
      if (!engineLostAtMs_) {
        engineLostAtMs_ = protocol::unixMillisNow();
      }
      needReconcile = true;
      co_await net::sleepFor(backoff);
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }
}

}  // namespace pc::provider
