#include "provider/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>

#include <algorithm>

#include "provider/error.hpp"
#include "provider/group_call.hpp"
#include "runtime/error.hpp"

namespace pc::provider {

namespace asio = net::asio;
using asio::awaitable;
using protocol::DeploymentState;

Scheduler::Scheduler(asio::any_io_executor ex, runtime::Runtime& rt, Store& store,
                     runtime::Policy policy, SchedulerOptions options)
    : ex_(std::move(ex)),
      rt_(rt),
      policy_(std::move(policy)),
      options_(options),
      records_(store),
      tasks_(std::make_unique<net::TaskGroup>(ex_)),
      stats_(ex_, rt_, *tasks_, options_.statsMaxAge, options_.statsTimeout),
      reconciler_(records_, rt_, *tasks_, publisher_) {}

Scheduler::~Scheduler() {
  if (tasks_->size() > 0) {
    spdlog::error(
        "bug: the scheduler is destroyed with {} task(s) running (shutdown(grace) was not "
        "awaited); their bookkeeping is leaked",
        tasks_->size());
    tasks_->cancel();
    (void)tasks_.release();
  }
}

Result<void> Scheduler::load() { return records_.load(); }

void Scheduler::start() {
  tasks_->spawn(reconciler_.watch(shuttingDown_));
  // Images left unused by a previous run (a stop that ended with the process) go now.
  tasks_->spawn(releaseImages());
}

awaitable<void> Scheduler::releaseImages() {
  for (const auto& image : unusedPulledImages(records_.all(), records_.pulledImages())) {
    // Checked again at each step: a deploy admitted meanwhile may need it.
    if (imageInUse(records_.all(), image)) {
      continue;
    }
    auto r = co_await rt_.removeImage(image);
    if (!r && r.error() != runtime::Errc::kImageNotFound) {
      spdlog::warn("image {} is no longer used by any deployment but was not removed: {}", image,
                   r.error().message());
      continue;
    }
    if (auto f = records_.forgetPulledImage(image); !f) {
      spdlog::warn("{}", f.error().message());
    }
    spdlog::info("removed image {}: pulled for deployments, none uses it any more", image);
  }
}

void Scheduler::shutdown() {
  shuttingDown_ = true;
  // Cancelled from the executor's thread only: Asio (1.81) delivers a co_spawn'ed task's
  // cancellation with dispatch(), which from another context is a post that may run after the
  // task has ended and its slot is gone.
  asio::dispatch(ex_, [this] { tasks_->cancel(); });
}

awaitable<void> Scheduler::shutdown(std::chrono::milliseconds grace) {
  shuttingDown_ = true;
  co_await tasks_->shutdown(grace);
}

Result<Deployment> Scheduler::admit(const DeployParams& p) {
  auto ref = decideAdmission(policy_, records_.all(), p, shuttingDown_);
  if (!ref) {
    return ref.error();
  }
  // The peer's image quota before anything is pulled: a peer whose images already use all of it
  // is refused here (the size of this image is checked while it is pulled).
  if (auto a = imageAllowance(options_.imageQuota, records_.all(), records_.pulledImages(),
                              p.requester, ref->toString());
      !a) {
    return a.error();
  }
  Deployment d;
  do {
    if (options_.providerId) {
      d.idSalt = protocol::newDeploymentSalt();
      d.id = protocol::deploymentIdFor(*options_.providerId, d.idSalt).value();
    } else {
      d.id = protocol::newDeploymentId();
    }
  } while (records_.contains(d.id));
  d.requester = p.requester;
  d.image = ref->toString();
  d.cpuMillis = p.cpuMillis;
  d.memoryBytes = p.memoryBytes;
  d.exposePort = p.exposePort;
  d.network = p.network;
  d.state = DeploymentState::kPending;
  d.createdAtMs = protocol::unixMillisNow();
  // The reservation is the committed `pending` record: concurrent admits (same thread) see it.
  if (auto r = records_.save(d); !r) {
    return r.error();
  }
  records_.beginDeploy(d.id, ex_);
  return d;
}

awaitable<Deployment> Scheduler::runNow(std::string id, DeployParams p, ProgressFn progress) {
  p.pull = pullPolicy(p.pull);
  DeploymentRun run(records_, rt_, publisher_, id, std::move(p), std::move(progress),
                    records_.deploying(id), options_.imageQuota);
  Deployment final = co_await run.run();
  if (final.state != DeploymentState::kRunning) {
    co_await releaseImages();
  }
  co_return final;
}

awaitable<Deployment> Scheduler::run(std::string id, DeployParams p, ProgressFn progress) {
  Deployment admitted = *records_.find(id);
  auto work = runNow(std::move(id), std::move(p), std::move(progress));
  auto final = co_await callInGroup(*tasks_, std::move(work));
  if (!final) {
    co_return failedWith(admitted, "the provider is shutting down; deploy again once it is back");
  }
  co_return *final;
}

awaitable<Result<Deployment>> Scheduler::stop(std::string requester, std::string id, bool force) {
  auto work = stopNow(std::move(requester), std::move(id), force);
  auto r = co_await callInGroup(*tasks_, std::move(work));
  if (!r) {
    co_return fail(Errc::kShuttingDown, "the provider is shutting down");
  }
  co_return *r;
}

awaitable<Result<Deployment>> Scheduler::stopNow(std::string requester, std::string id,
                                                 bool force) {
  auto found = find(requester, id);
  if (!found) {
    co_return found.error();
  }
  switch (found->state) {
    case DeploymentState::kStopped:
      co_return *found;
    case DeploymentState::kPending:
    case DeploymentState::kPulling:
    case DeploymentState::kStarting: {
      auto control = records_.deploying(id);
      if (!control) {
        break;  // interrupted by a restart: reconcile settles it
      }
      control->stopRequested = true;
      control->deadline.cancel();
      while (!control->done) {
        co_await control->settled.wait();
      }
      co_return *records_.find(id);
    }
    case DeploymentState::kFailed:
      co_return co_await removeFailedContainer(*found);
    case DeploymentState::kRunning: {
      Deployment d = *found;
      d.state = DeploymentState::kStopping;
      if (auto r = records_.save(d); !r) {
        co_return r.error();
      }
      break;
    }
    case DeploymentState::kStopping:
      break;
  }
  if (!records_.stopping(id)) {
    const std::chrono::seconds grace = force ? std::chrono::seconds(0) : options_.stopGrace;
    co_await finishStop(records_, rt_, id, grace);
    co_await releaseImages();
  }
  const Deployment& d = *records_.find(id);
  if (d.state == DeploymentState::kStopping) {
    co_return fail(Errc::kBadState, id + " could not be stopped yet (the container engine did "
                                         "not answer); the provider keeps trying — check "
                                         "`peerctl status`");
  }
  co_return d;
}

awaitable<Result<Deployment>> Scheduler::removeFailedContainer(Deployment d) {
  // The container of a failed deployment is kept for its logs until the owner stops it.
  if (!d.containerId.empty()) {
    const std::string cid = d.containerId;
    auto r = co_await rt_.remove(cid);
    if (!r && r.error() != runtime::Errc::kNoSuchContainer) {
      co_return r.error();
    }
    d = *records_.find(d.id);
    d.containerId.clear();
    if (auto s = records_.save(d); !s) {
      co_return s.error();
    }
    co_await releaseImages();
  }
  co_return *records_.find(d.id);
}

Result<Deployment> Scheduler::find(const std::string& requester, const std::string& id) const {
  const Deployment* d = records_.find(id);
  // Another peer's deployment answers exactly like a missing one: ids are not an oracle.
  if (d == nullptr || d->requester != requester) {
    return fail(Errc::kNotFound,
                "no deployment " + id + " of yours on this provider; `peerctl status` lists yours");
  }
  return *d;
}

std::vector<Deployment> Scheduler::running() const {
  std::vector<Deployment> out;
  for (const auto& [id, d] : records_.all()) {
    if (d.state == DeploymentState::kRunning) {
      out.push_back(d);
    }
  }
  return out;
}

std::vector<Deployment> Scheduler::list(const std::string& requester) const {
  std::vector<Deployment> out;
  for (const auto& [id, d] : records_.all()) {
    if (d.requester == requester) {
      out.push_back(d);
    }
  }
  std::sort(out.begin(), out.end(), [](const Deployment& a, const Deployment& b) {
    return a.createdAtMs != b.createdAtMs ? a.createdAtMs > b.createdAtMs : a.id < b.id;
  });
  return out;
}

std::optional<Scheduler::Endpoint> Scheduler::endpoint(const std::string& id) const {
  const Deployment* d = records_.find(id);
  if (d == nullptr || d->state != DeploymentState::kRunning || !d->hostPort) {
    return std::nullopt;
  }
  Endpoint e;
  e.hostPort = *d->hostPort;
  e.containerPort = d->exposePort.value_or(0);
  e.address = records_.address(id);
  return e;
}

bool Scheduler::isRunning(const std::string& id) const {
  const Deployment* d = records_.find(id);
  return d != nullptr && d->state == DeploymentState::kRunning;
}

awaitable<std::map<std::string, runtime::Stats>> Scheduler::stats(
    std::vector<Deployment> deployments) {
  co_return co_await stats_.collect(std::move(deployments));
}

awaitable<void> Scheduler::stopAll() {
  auto work = stopAllNow();
  (void)co_await callInGroup(*tasks_, std::move(work));
}

awaitable<bool> Scheduler::stopAllNow() {
  std::vector<std::pair<std::string, std::string>> running;
  for (const auto& [id, d] : records_.all()) {
    if (d.state == DeploymentState::kRunning) {
      running.emplace_back(d.requester, id);
    }
  }
  for (const auto& [requester, id] : running) {
    auto r = co_await stopNow(requester, id, false);
    if (!r) {
      spdlog::warn("{}: {}", id, r.error().message());
    }
  }
  co_return true;
}

}  // namespace pc::provider
