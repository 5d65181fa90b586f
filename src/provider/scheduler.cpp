#include "provider/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "core/units.hpp"
#include "provider/error.hpp"
#include "runtime/error.hpp"

namespace pc::provider {

namespace asio = net::asio;
using asio::awaitable;
using protocol::DeploymentState;
using namespace asio::experimental::awaitable_operators;

namespace {

std::int64_t toMillis(runtime::SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string describeExit(const runtime::ContainerInfo& c, std::uint64_t memoryLimit) {
  if (c.oomKilled) {
    return "the container was killed for running out of memory (limit " +
           units::formatBytes(memoryLimit) + "); deploy it again with a larger --memory";
  }
  std::string s = "the container exited on its own with code " + std::to_string(c.exitCode);
  if (!c.error.empty()) s += " (" + c.error + ")";
  return s;
}

}  // namespace

/// A deploy between admit() and the end of run(): the deadline timer doubles as the stop
/// request (stop() cancels it), and `settled` wakes stop() callers when run() finishes.
struct Scheduler::InFlight {
  explicit InFlight(const asio::any_io_executor& ex) : deadline(ex), settled(ex) {}
  asio::steady_timer deadline;
  net::Signal settled;
  bool stopRequested = false;
  bool done = false;
};

Scheduler::Scheduler(asio::any_io_executor ex, runtime::Runtime& rt, Store& store,
                     runtime::Policy policy, SchedulerOptions options)
    : ex_(std::move(ex)),
      rt_(rt),
      store_(store),
      policy_(std::move(policy)),
      options_(options),
      alive_(std::make_shared<bool>(true)) {}

Scheduler::~Scheduler() { *alive_ = false; }

Result<void> Scheduler::load() {
  auto all = store_.list();
  if (!all) return all.error();
  for (auto& d : *all) deployments_.emplace(d.id, std::move(d));
  return {};
}

void Scheduler::start() { asio::co_spawn(ex_, watchEvents(), asio::detached); }

void Scheduler::shutdown() { shuttingDown_ = true; }

Result<void> Scheduler::save(Deployment d) {
  // Commit first, then act: a record that did not reach the disk must not drive any action.
  if (auto r = store_.put(d); !r) {
    spdlog::error("{}: {}", d.id, r.error().message());
    return r;
  }
  // A finished deployment's container address is no longer a dial target (and the map stays
  // as small as the set of live deployments).
  if (d.state == protocol::DeploymentState::kStopped ||
      d.state == protocol::DeploymentState::kFailed) {
    addresses_.erase(d.id);
  }
  auto& slot = deployments_[d.id];
  slot = std::move(d);
  if (onChange_) onChange_(slot);
  return {};
}

Deployment Scheduler::failedWith(Deployment d, std::string why) const {
  d.state = DeploymentState::kFailed;
  d.error = std::move(why);
  if (!d.finishedAtMs) d.finishedAtMs = protocol::unixMillisNow();
  return d;
}

runtime::Usage Scheduler::usage(const std::string* requester) const {
  runtime::Usage u;
  for (const auto& [id, d] : deployments_) {
    if (!d.active() || (requester != nullptr && d.requester != *requester)) continue;
    u.cpuMillis += d.cpuMillis;
    u.memoryBytes += d.memoryBytes;
    ++u.containers;
  }
  return u;
}

Result<Deployment> Scheduler::admit(const DeployParams& p) {
  if (shuttingDown_) {
    return fail(Errc::kShuttingDown, "the provider is shutting down; try again once it is back");
  }
  // Policy before capacity, both before anything touches the engine: a refused request costs
  // the provider no pull, no disk and no container.
  auto ref = policy_.checkImage(p.image);
  if (!ref) return ref.error();
  const runtime::ResourceRequest req{p.cpuMillis, p.memoryBytes};
  if (auto r = policy_.admit(req, usage(nullptr), usage(&p.requester)); !r) return r.error();

  Deployment d;
  do {
    if (options_.providerId) {
      d.idSalt = protocol::newDeploymentSalt();
      d.id = protocol::deploymentIdFor(*options_.providerId, d.idSalt).value();
    } else {
      d.id = protocol::newDeploymentId();
    }
  } while (deployments_.contains(d.id));
  d.requester = p.requester;
  d.image = ref->toString();
  d.cpuMillis = p.cpuMillis;
  d.memoryBytes = p.memoryBytes;
  d.exposePort = p.exposePort;
  d.state = DeploymentState::kPending;
  d.createdAtMs = protocol::unixMillisNow();
  // The reservation is the committed `pending` record: concurrent admits (same strand) see it.
  if (auto r = save(d); !r) return r.error();
  inFlight_[d.id] = std::make_shared<InFlight>(ex_);
  return d;
}

awaitable<Deployment> Scheduler::run(std::string id, DeployParams p, ProgressFn progress) {
  auto alive = alive_;
  auto fl = inFlight_.at(id);
  Deployment d = deployments_.at(id);
  auto finish = [&](Deployment final) -> Deployment {
    if (auto r = save(final); !r) {
      // Kept in memory so the caller sees the outcome; on restart the record is reconciled.
      deployments_[final.id] = final;
    }
    inFlight_.erase(final.id);
    fl->done = true;
    fl->settled.notify();
    return final;
  };

  d.state = DeploymentState::kPulling;
  if (auto r = save(d); !r) co_return finish(failedWith(d, r.error().message()));

  // Pull, reporting aggregate progress over all layers, raced against the deploy deadline (and
  // against a stop request, which cancels the same timer).
  struct Layer {
    std::uint64_t current = 0;
    std::uint64_t total = 0;
  };
  auto layers = std::make_shared<std::map<std::string, Layer>>();
  auto lastPercent = std::make_shared<std::int64_t>(-1);
  const runtime::PullProgressFn onPull = [layers, lastPercent,
                                          progress](const runtime::PullProgress& pp) {
    if (pp.layer.empty()) return;
    (*layers)[pp.layer] = Layer{pp.current, pp.total};
    std::uint64_t done = 0, total = 0;
    for (const auto& [k, v] : *layers) {
      done += std::min(v.current, v.total);
      total += v.total;
    }
    if (total == 0 || !progress) return;
    const auto percent = static_cast<std::int64_t>(done * 100 / total);
    if (percent == *lastPercent) return;  // one message per percent: bounded, not per chunk
    *lastPercent = percent;
    DeployProgressInfo info;
    info.percent = percent;
    info.bytesDone = static_cast<std::int64_t>(done);
    info.bytesTotal = static_cast<std::int64_t>(total);
    progress(info);
  };
  fl->deadline.expires_after(p.timeout);
  const std::string image = d.image;
  // Operands are built as named locals: GCC 12 mishandles temporaries in co_await expressions.
  auto pullOp = rt_.pull(image, onPull);
  auto deadlineOp = fl->deadline.async_wait(net::kNoThrow);
  auto raced = std::move(pullOp) || std::move(deadlineOp);
  auto pulled = co_await std::move(raced);
  if (!*alive) co_return d;
  d = deployments_.at(id);
  if (fl->stopRequested) {
    d.state = DeploymentState::kStopped;
    d.finishedAtMs = protocol::unixMillisNow();
    d.error = "stopped before it started";
    co_return finish(d);
  }
  if (pulled.index() == 1) {
    co_return finish(failedWith(d, "pulling " + d.image +
                                       " did not finish within the deploy "
                                       "timeout of " +
                                       std::to_string(p.timeout.count()) +
                                       " s; deploy again with a longer --timeout"));
  }
  if (auto& r = std::get<0>(pulled); !r) {
    co_return finish(failedWith(d, r.error().message()));
  }
  if (progress && *lastPercent != 100) {
    // Completion is reported even when the engine had nothing to download.
    DeployProgressInfo info;
    info.percent = 100;
    progress(info);
  }

  d.state = DeploymentState::kStarting;
  if (auto r = save(d); !r) co_return finish(failedWith(d, r.error().message()));
  if (progress) {
    DeployProgressInfo info;
    info.starting = true;
    progress(info);
  }
  runtime::ContainerSpec spec;
  spec.deploymentId = d.id;
  spec.requesterId = d.requester;
  spec.image = d.image;
  spec.env = p.env;
  spec.command = p.command;
  spec.exposedPort = d.exposePort;
  spec.cpuMillis = d.cpuMillis;
  spec.memoryBytes = d.memoryBytes;
  auto started = co_await rt_.createAndStart(spec);
  if (!*alive) co_return d;
  d = deployments_.at(id);
  if (!started) co_return finish(failedWith(d, started.error().message()));
  d.containerId = started->id;
  d.hostPort = started->hostPort;
  if (started->address) addresses_[id] = *started->address;
  if (fl->stopRequested) {
    const std::string cid = d.containerId;
    (void)co_await rt_.remove(cid);
    d.state = DeploymentState::kStopped;
    d.finishedAtMs = protocol::unixMillisNow();
    d.error = "stopped while it was starting";
    co_return finish(d);
  }
  d.state = DeploymentState::kRunning;
  d.startedAtMs = protocol::unixMillisNow();
  if (d.hostPort) d.url = "http://127.0.0.1:" + std::to_string(*d.hostPort) + "/";
  if (publisher_ && d.hostPort) {
    const Deployment toPublish = d;
    auto url = co_await publisher_(toPublish);
    if (!*alive) co_return d;
    if (url) d.url = *url;
    if (fl->stopRequested) {
      const std::string cid = d.containerId;
      (void)co_await rt_.remove(cid);
      d.state = DeploymentState::kStopped;
      d.finishedAtMs = protocol::unixMillisNow();
      d.url.reset();
      d.error = "stopped while it was starting";
      co_return finish(d);
    }
  }
  spdlog::info("{} running for {} ({}, container {})", d.id, d.requester, d.image,
               d.containerId.substr(0, 12));
  co_return finish(d);
}

awaitable<Result<Deployment>> Scheduler::stop(std::string requester, std::string id, bool force) {
  auto alive = alive_;
  auto found = find(requester, id);
  if (!found) co_return found.error();
  switch (found->state) {
    case DeploymentState::kStopped:
      co_return *found;
    case DeploymentState::kPending:
    case DeploymentState::kPulling:
    case DeploymentState::kStarting: {
      auto it = inFlight_.find(id);
      if (it == inFlight_.end()) break;  // interrupted by a restart: reconcile settles it
      auto fl = it->second;
      fl->stopRequested = true;
      fl->deadline.cancel();
      while (!fl->done && *alive) co_await fl->settled.wait();
      co_return deployments_.at(id);
    }
    case DeploymentState::kFailed: {
      // The container of a failed deployment is kept for its logs until the owner stops it.
      if (!found->containerId.empty()) {
        const std::string cid = found->containerId;
        auto r = co_await rt_.remove(cid);
        if (!r && r.error() != runtime::Errc::kNoSuchContainer) co_return r.error();
        Deployment d = deployments_.at(id);
        d.containerId.clear();
        if (auto s = save(d); !s) co_return s.error();
      }
      co_return deployments_.at(id);
    }
    case DeploymentState::kRunning: {
      Deployment d = *found;
      d.state = DeploymentState::kStopping;
      if (auto r = save(d); !r) co_return r.error();
      break;
    }
    case DeploymentState::kStopping:
      break;
  }
  if (!stopping_.contains(id)) co_await finishStop(id, force);
  if (!*alive) co_return fail(Errc::kShuttingDown, "the provider is shutting down");
  const Deployment& d = deployments_.at(id);
  if (d.state == DeploymentState::kStopping) {
    co_return fail(Errc::kBadState, id + " could not be stopped yet (the container engine did "
                                         "not answer); the provider keeps trying — check "
                                         "`peerctl status`");
  }
  co_return d;
}

awaitable<void> Scheduler::finishStop(std::string id, bool force) {
  auto alive = alive_;
  stopping_.insert(id);
  const std::string cid = deployments_.at(id).containerId;
  const std::chrono::seconds grace = force ? std::chrono::seconds(0) : options_.stopGrace;
  std::optional<runtime::ContainerInfo> last;
  if (!cid.empty()) {
    auto r = co_await rt_.stop(cid, grace);
    if (!*alive) co_return;
    if (!r && r.error() != runtime::Errc::kNoSuchContainer) {
      spdlog::warn("{}: stop failed: {}", id, r.error().message());
      stopping_.erase(id);
      co_return;
    }
    if (auto info = co_await rt_.inspect(cid); info) last = *info;
    if (!*alive) co_return;
    auto rm = co_await rt_.remove(cid);
    if (!*alive) co_return;
    if (!rm && rm.error() != runtime::Errc::kNoSuchContainer) {
      spdlog::warn("{}: remove failed: {}", id, rm.error().message());
      stopping_.erase(id);
      co_return;
    }
  }
  Deployment d = deployments_.at(id);
  d.state = DeploymentState::kStopped;
  d.finishedAtMs = protocol::unixMillisNow();
  if (last) d.exitCode = last->exitCode;
  d.url.reset();
  (void)save(d);
  stopping_.erase(id);
  spdlog::info("{} stopped", id);
}

void Scheduler::setUrl(const std::string& id, const std::string& url) {
  auto it = deployments_.find(id);
  if (it == deployments_.end() || it->second.state != DeploymentState::kRunning ||
      it->second.url == url) {
    return;
  }
  Deployment d = it->second;
  d.url = url;
  (void)save(d);
}

Result<Deployment> Scheduler::find(const std::string& requester, const std::string& id) const {
  auto it = deployments_.find(id);
  // Another peer's deployment answers exactly like a missing one: ids are not an oracle.
  if (it == deployments_.end() || it->second.requester != requester) {
    return fail(Errc::kNotFound,
                "no deployment " + id + " of yours on this provider; `peerctl status` lists yours");
  }
  return it->second;
}

std::vector<Deployment> Scheduler::running() const {
  std::vector<Deployment> out;
  for (const auto& [id, d] : deployments_) {
    if (d.state == DeploymentState::kRunning) out.push_back(d);
  }
  return out;
}

std::vector<Deployment> Scheduler::list(const std::string& requester) const {
  std::vector<Deployment> out;
  for (const auto& [id, d] : deployments_) {
    if (d.requester == requester) out.push_back(d);
  }
  std::sort(out.begin(), out.end(), [](const Deployment& a, const Deployment& b) {
    return a.createdAtMs != b.createdAtMs ? a.createdAtMs > b.createdAtMs : a.id < b.id;
  });
  return out;
}

awaitable<std::map<std::string, runtime::Stats>> Scheduler::stats(
    std::vector<Deployment> deployments) {
  auto alive = alive_;
  std::map<std::string, runtime::Stats> out;
  const auto now = std::chrono::steady_clock::now();
  struct Pending {
    std::size_t remaining = 0;
    bool expired = false;
    std::map<std::string, runtime::Stats> results;
    std::unique_ptr<net::Signal> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->done = std::make_unique<net::Signal>(ex_);
  for (const auto& d : deployments) {
    if (d.state != DeploymentState::kRunning || d.containerId.empty()) continue;
    if (auto it = statsCache_.find(d.id);
        it != statsCache_.end() && now - it->second.at < options_.statsMaxAge) {
      out[d.id] = it->second.stats;
      continue;
    }
    ++pending->remaining;
    // One engine call per container, all at once: the engine needs about a second per sample.
    asio::co_spawn(
        ex_,
        [this, alive, pending, id = d.id, cid = d.containerId]() -> awaitable<void> {
          auto s = co_await rt_.stats(cid);
          if (!*alive) co_return;
          if (s) {
            pending->results[id] = *s;
            statsCache_[id] = Sample{std::chrono::steady_clock::now(), *s};
          }
          if (--pending->remaining == 0) pending->done->notify();
        },
        asio::detached);
  }
  if (pending->remaining > 0) {
    asio::steady_timer deadline(ex_, options_.statsTimeout);
    // The handler owns what it touches: it may run after this frame is gone.
    deadline.async_wait([pending](boost::system::error_code ec) {
      if (!ec) {
        pending->expired = true;
        pending->done->notify();
      }
    });
    while (pending->remaining > 0 && !pending->expired && *alive) {
      co_await pending->done->wait();
    }
    deadline.cancel();
  }
  for (auto& [id, s] : pending->results) out[id] = s;
  co_return out;
}

awaitable<void> Scheduler::onContainerEvent(std::string id) {
  auto alive = alive_;
  auto it = deployments_.find(id);
  if (it == deployments_.end() || it->second.state != DeploymentState::kRunning ||
      stopping_.contains(id) || inFlight_.contains(id)) {
    co_return;
  }
  const std::string cid = it->second.containerId;
  auto info = co_await rt_.inspect(cid);
  if (!*alive) co_return;
  it = deployments_.find(id);
  if (it == deployments_.end() || it->second.state != DeploymentState::kRunning) co_return;
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
  if (info && (info->state == runtime::ContainerState::kRunning ||
               info->state == runtime::ContainerState::kRestarting ||
               info->state == runtime::ContainerState::kPaused)) {
    co_return;  // e.g. the OOM killer hit a child process, not the container's init
  }
  Deployment d = it->second;
  if (info) {
    d.exitCode = info->exitCode;
    d.oomKilled = info->oomKilled;
    if (info->finishedAt) d.finishedAtMs = toMillis(*info->finishedAt);
    d = failedWith(d, describeExit(*info, d.memoryBytes));
  } else {
    d = failedWith(d, "its container disappeared (" + info.error().message() + ")");
  }
  d.url.reset();
  spdlog::warn("{} failed: {}", d.id, d.error);
  (void)save(d);
}

awaitable<Result<void>> Scheduler::reconcile() {
  auto alive = alive_;
  auto owned = co_await rt_.listOwned();
  if (!*alive) co_return Result<void>{};
  if (!owned) co_return owned.error();
  std::map<std::string, std::vector<runtime::ContainerInfo>> byDeployment;
  for (auto& c : *owned) byDeployment[c.deploymentId].push_back(c);
  for (const auto& [depId, cs] : byDeployment) {
    if (!deployments_.contains(depId)) {
      // Not ours to judge: another provider may share this engine, or our database was moved
      // aside. Left alone, and said once per pass.
      for (const auto& c : cs) {
        spdlog::warn(
            "container {} ({}) carries the peercompute label but this provider has no "
            "record of deployment '{}'; left untouched",
            c.id.substr(0, 12), c.name, depId);
      }
    }
  }
  std::vector<std::string> ids;
  for (const auto& [id, d] : deployments_) ids.push_back(id);
  for (const auto& id : ids) {
    if (inFlight_.contains(id) || stopping_.contains(id)) continue;
    Deployment d = deployments_.at(id);
    const auto& cs = byDeployment[id];
    switch (d.state) {
      case DeploymentState::kPending:
      case DeploymentState::kPulling:
      case DeploymentState::kStarting: {
        // A deploy the provider's restart interrupted: its client got no answer, so the
        // half-made container (if any) is removed rather than adopted.
        for (const auto& c : cs) {
          const std::string cid = c.id;
          (void)co_await rt_.remove(cid);
          if (!*alive) co_return Result<void>{};
        }
        d = failedWith(d, "interrupted: the provider restarted while deploying it; deploy again");
        spdlog::warn("{}: {}", id, d.error);
        (void)save(d);
        break;
      }
      case DeploymentState::kRunning: {
        const runtime::ContainerInfo* c = nullptr;
        for (const auto& x : cs) {
          if (x.id == d.containerId || c == nullptr) c = &x;
        }
        if (c == nullptr) {
          d = failedWith(d, "its container disappeared (removed outside Peer Compute)");
          d.url.reset();
          spdlog::warn("{}: {}", id, d.error);
          (void)save(d);
        } else if (c->state == runtime::ContainerState::kRunning) {
          if (c->address) addresses_[id] = *c->address;
          if (c->hostPort && c->hostPort != d.hostPort) {
            d.hostPort = c->hostPort;
            d.url = "http://127.0.0.1:" + std::to_string(*d.hostPort) + "/";
            (void)save(d);
          }
          spdlog::info("{} adopted: container {} still running", id, c->id.substr(0, 12));
        } else {
          const std::string cid = c->id;
          const bool revived = co_await reviveAfterEngineRestart(id, cid);
          if (!*alive) co_return Result<void>{};
          if (!revived) co_await onContainerEvent(id);
          if (!*alive) co_return Result<void>{};
        }
        break;
      }
      case DeploymentState::kStopping:
        co_await finishStop(id, true);
        if (!*alive) co_return Result<void>{};
        break;
      case DeploymentState::kStopped:
        for (const auto& c : cs) {
          const std::string cid = c.id;
          (void)co_await rt_.remove(cid);
          if (!*alive) co_return Result<void>{};
        }
        break;
      case DeploymentState::kFailed:
        // Failed by a die event while the engine was going down (the event can arrive before
        // the stream breaks): started again like a running one.
        if (engineLostAtMs_ && d.finishedAtMs && *d.finishedAtMs >= *engineLostAtMs_ - 60000 &&
            !d.containerId.empty()) {
          const std::string cid = d.containerId;
          (void)co_await reviveAfterEngineRestart(id, cid);
          if (!*alive) co_return Result<void>{};
        }
        break;
    }
  }
  engineLostAtMs_.reset();
  co_return Result<void>{};
}

awaitable<bool> Scheduler::reviveAfterEngineRestart(std::string id, std::string containerId) {
  auto alive = alive_;
  if (!engineLostAtMs_) co_return false;
  auto info = co_await rt_.inspect(containerId);
  if (!*alive || !info) co_return false;
  // What a dockerd restart (without live-restore) does to a container: SIGTERM through its init
  // (exit 143), or SIGKILL after the stop timeout (137), at about the time our event stream
  // broke. A container that exited any other way, ran out of memory, or stopped well before
  // the outage died on its own and stays failed.
  const bool signalled = info->exitCode == 143 || info->exitCode == 137;
  if (info->state == runtime::ContainerState::kRunning || !signalled || info->oomKilled ||
      !info->finishedAt || toMillis(*info->finishedAt) < *engineLostAtMs_ - 60000) {
    co_return false;
  }
  auto started = co_await rt_.start(containerId);
  if (!*alive) co_return false;
  if (!started) {
    spdlog::warn("{}: cannot start its container again after the engine restart: {}", id,
                 started.error().message());
    co_return false;
  }
  Deployment d = deployments_.at(id);
  d.state = DeploymentState::kRunning;
  d.containerId = containerId;
  d.exitCode.reset();
  d.oomKilled = false;
  d.finishedAtMs.reset();
  d.error.clear();
  d.startedAtMs = protocol::unixMillisNow();
  d.hostPort = started->hostPort;
  d.url.reset();
  if (d.hostPort) d.url = "http://127.0.0.1:" + std::to_string(*d.hostPort) + "/";
  if (started->address) addresses_[id] = *started->address;
  if (auto r = save(d); !r) co_return false;
  spdlog::info("{} started again: the container engine restarted and had stopped its container",
               id);
  if (publisher_ && d.hostPort) {
    const Deployment toPublish = d;
    auto url = co_await publisher_(toPublish);
    if (!*alive) co_return true;
    if (url) setUrl(id, *url);
  }
  co_return true;
}

awaitable<void> Scheduler::watchEvents() {
  auto alive = alive_;
  std::chrono::milliseconds backoff{500};
  constexpr std::chrono::milliseconds kMaxBackoff{30000};
  bool needReconcile = true;
  auto since = std::make_shared<std::optional<runtime::SystemTime>>();
  while (*alive && !shuttingDown_) {
    if (needReconcile) {
      // Events first (from now), then reconcile: a death between the two is seen either way.
      if (!*since) *since = std::chrono::system_clock::now();
      auto r = co_await reconcile();
      if (!*alive) co_return;
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
    const runtime::EventSink sink = [this, alive, since](const runtime::Event& e) {
      if (!*alive || shuttingDown_) return false;
      *since = e.time;
      if ((e.kind == runtime::EventKind::kDie || e.kind == runtime::EventKind::kOom) &&
          deployments_.contains(e.deploymentId)) {
        asio::co_spawn(ex_, onContainerEvent(e.deploymentId), asio::detached);
      }
      return true;
    };
    runtime::EventOptions opts;
    opts.since = *since;
    auto r = co_await rt_.events(opts, sink);
    if (!*alive) co_return;
    if (!r) {
      spdlog::warn("lost the container engine's event stream ({}); reconnecting",
                   r.error().message());
      if (!engineLostAtMs_) engineLostAtMs_ = protocol::unixMillisNow();
      needReconcile = true;
      co_await net::sleepFor(backoff);
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }
}

awaitable<void> Scheduler::stopAll() {
  std::vector<std::pair<std::string, std::string>> running;
  for (const auto& [id, d] : deployments_) {
    if (d.state == DeploymentState::kRunning) running.emplace_back(d.requester, id);
  }
  for (const auto& [requester, id] : running) {
    auto r = co_await stop(requester, id, false);
    if (!r) spdlog::warn("{}: {}", id, r.error().message());
  }
}

}  // namespace pc::provider
