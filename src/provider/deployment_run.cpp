#include "provider/deployment_run.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "runtime/error.hpp"

namespace pc::provider {

namespace asio = net::asio;
using asio::awaitable;
using protocol::DeploymentState;
using namespace asio::experimental::awaitable_operators;

std::optional<DeployProgressInfo> PullMeter::update(const runtime::PullProgress& p) {
  if (p.layer.empty()) {
    return std::nullopt;
  }
  layers_[p.layer] = p;
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  for (const auto& [id, l] : layers_) {
    done += std::min(l.current, l.total);
    total += l.total;
  }
  if (total == 0) {
    return std::nullopt;
  }
  const auto percent = static_cast<std::int64_t>(done * 100 / total);
  if (percent == lastPercent_) {
    return std::nullopt;
  }
  lastPercent_ = percent;
  DeployProgressInfo info;
  info.percent = percent;
  info.bytesDone = static_cast<std::int64_t>(done);
  info.bytesTotal = static_cast<std::int64_t>(total);
  return info;
}

std::uint64_t PullMeter::announcedBytes() const {
  std::uint64_t total = 0;
  for (const auto& [id, l] : layers_) {
    total += l.total;
  }
  return total;
}

DeploymentRun::DeploymentRun(Records& records, runtime::Runtime& rt, const Publisher& publisher,
                             std::string id, DeployParams params, ProgressFn progress,
                             std::shared_ptr<DeployControl> control, ImageQuota quota)
    : records_(records),
      rt_(rt),
      publisher_(publisher),
      id_(std::move(id)),
      params_(std::move(params)),
      progress_(std::move(progress)),
      control_(std::move(control)),
      quota_(quota) {}

void DeploymentRun::report(const DeployProgressInfo& info) const {
  if (progress_) {
    progress_(info);
  }
}

Deployment DeploymentRun::finish(Deployment final) {
  if (auto r = records_.save(final); !r) {
    // Kept in memory so the caller sees the outcome; on restart the record is reconciled.
    records_.keep(final);
  }
  records_.endDeploy(final.id);
  control_->done = true;
  control_->settled.notify();
  return final;
}

std::optional<Deployment> DeploymentRun::enter(DeploymentState s) {
  d_.state = s;
  if (auto r = records_.save(d_); !r) {
    return finish(failedWith(d_, r.error().message()));
  }
  return std::nullopt;
}

awaitable<Deployment> DeploymentRun::run() {
  refresh();
  if (auto end = enter(DeploymentState::kPulling)) {
    co_return *end;
  }
  if (auto end = co_await getImage()) {
    co_return *end;
  }
  if (auto end = enter(DeploymentState::kStarting)) {
    co_return *end;
  }
  DeployProgressInfo starting;
  starting.starting = true;
  // Said again: a slow client's queue keeps only the newest progress, and this is the last.
  starting.imageSource = imageSource_;
  report(starting);
  if (auto end = co_await createAndStart()) {
    co_return *end;
  }
  if (auto end = co_await publish()) {
    co_return *end;
  }
  spdlog::info("{} running for {} ({}, container {})", d_.id, d_.requester, d_.image,
               d_.containerId.substr(0, 12));
  co_return finish(d_);
}

awaitable<std::optional<Deployment>> DeploymentRun::getImage() {
  if (control_->stopRequested) {
    // A stop that came before the deadline was armed did not cancel it: do not pull at all.
    co_return stoppedBeforeStart();
  }
  const std::string image = d_.image;
  auto allowance =
      imageAllowance(quota_, records_.all(), records_.pulledImages(), d_.requester, image);
  if (!allowance) {
    co_return finish(failedWith(d_, allowance.error().message()));
  }
  // Whether the engine had the image before: only an image it did not have is recorded as ours
  // (and removed once unused). An engine that cannot tell leaves the image unrecorded; `missing`
  // then pulls (as before pull policies) and `never` fails saying so.
  auto before = co_await rt_.inspectImage(image);
  const bool present = before && before->has_value();
  const bool wasAbsent = before && !before->has_value();
  if (control_->stopRequested) {
    co_return stoppedBeforeStart();
  }
  const protocol::PullPolicy policy = params_.pull;
  if (present && policy != protocol::PullPolicy::kAlways) {
    co_return co_await useLocal(*allowance);
  }
  if (policy == protocol::PullPolicy::kNever) {
    refresh();
    std::string why = "image " + image + " is not present on the provider and --pull never was " +
                      "asked; deploy with --pull missing to pull it";
    if (!before) {
      why = "could not tell whether image " + image + " is present on the provider (" +
            before.error().message() + ") and --pull never was asked";
    }
    co_return finish(failedWith(d_, why));
  }
  co_return co_await pull(wasAbsent, *allowance);
}

awaitable<std::optional<Deployment>> DeploymentRun::useLocal(const ImageAllowance& allowance) {
  // Not recorded as pulled by us: the engine's copy stays when our deployments are gone. An
  // image we pulled earlier is still ours, and its size still counts against the quota.
  if (auto end = co_await afterPull(false, allowance, 0)) {
    co_return end;
  }
  spdlog::info("{}: image {} is present on the engine: used without a pull (--pull {})", d_.id,
               d_.image, protocol::toString(params_.pull));
  imageSource_ = protocol::ImageSource::kLocal;
  DeployProgressInfo local;
  local.imageSource = imageSource_;
  report(local);
  co_return std::nullopt;
}

awaitable<std::optional<Deployment>> DeploymentRun::pull(bool wasAbsent,
                                                         const ImageAllowance& allowance) {
  const std::string image = d_.image;
  // Aggregate progress over all layers, raced against the deploy deadline (and against a stop
  // request, which cancels the same timer). The engine cannot give an image's size before the
  // pull, so the pull is cut (by the same timer) as soon as the layer sizes it announces exceed
  // the quota: a peer cannot fill the disk with one huge image.
  auto meter = std::make_shared<PullMeter>();
  auto overQuota = std::make_shared<std::optional<Error>>();
  const runtime::PullProgressFn onPull = [meter, overQuota, control = control_, a = allowance,
                                          image,
                                          progress = progress_](const runtime::PullProgress& p) {
    auto info = meter->update(p);
    if (!*overQuota) {
      if (auto r = checkImageSize(a, image, meter->announcedBytes(), true); !r) {
        *overQuota = r.error();
        // Expired rather than cancelled: this may run before the race has started the wait.
        control->deadline.expires_at(asio::steady_timer::time_point::min());
      }
    }
    if (info && progress) {
      progress(*info);
    }
  };
  control_->deadline.expires_after(params_.timeout);
  // Operands are built as named locals: GCC 12 mishandles temporaries in co_await expressions.
  auto pullOp = rt_.pull(image, onPull);
  auto deadlineOp = control_->deadline.async_wait(net::kNoThrow);
  auto raced = std::move(pullOp) || std::move(deadlineOp);
  auto pulled = co_await std::move(raced);
  if (control_->stopRequested) {
    co_return stoppedBeforeStart();
  }
  refresh();
  if (*overQuota) {
    co_return finish(failedWith(d_, overQuota->value().message()));
  }
  if (pulled.index() == 1) {
    co_return finish(failedWith(d_, "pulling " + d_.image +
                                        " did not finish within the deploy timeout of " +
                                        std::to_string(params_.timeout.count()) +
                                        " s; deploy again with a longer --timeout"));
  }
  if (auto& r = std::get<0>(pulled); !r) {
    co_return finish(failedWith(d_, r.error().message()));
  }
  if (auto end = co_await afterPull(wasAbsent, allowance, meter->announcedBytes())) {
    co_return end;
  }
  spdlog::info("{}: image {} pulled (--pull {})", d_.id, image, protocol::toString(params_.pull));
  imageSource_ = protocol::ImageSource::kRegistry;
  DeployProgressInfo done;
  done.imageSource = imageSource_;
  if (!meter->reportedComplete()) {
    // Completion is reported even when the engine had nothing to download.
    done.percent = 100;
  }
  report(done);
  co_return std::nullopt;
}

awaitable<std::optional<Deployment>> DeploymentRun::afterPull(bool wasAbsent,
                                                              const ImageAllowance& allowance,
                                                              std::uint64_t announced) {
  const std::string image = d_.image;
  std::optional<std::uint64_t> size;
  if (wasAbsent) {
    // The size on disk (layers shared with other images included) when the engine says it; the
    // announced download otherwise. Recorded before the check, so a refused image is removed.
    auto info = co_await rt_.inspectImage(image);
    size = info && *info ? (*info)->sizeBytes : announced;
    if (auto r = records_.addPulledImage(image, *size); !r) {
      spdlog::warn("{}: {}; it will not be removed automatically", image, r.error().message());
    }
  } else if (auto it = records_.pulledImages().find(image); it != records_.pulledImages().end()) {
    size = it->second;  // pulled earlier (for this or another deployment)
  }
  refresh();
  if (size) {
    if (auto r = checkImageSize(allowance, image, *size, false); !r) {
      co_return finish(failedWith(d_, r.error().message()));
    }
  }
  co_return std::nullopt;
}

awaitable<std::optional<Deployment>> DeploymentRun::createAndStart() {
  runtime::ContainerSpec spec;
  spec.deploymentId = d_.id;
  spec.requesterId = d_.requester;
  spec.image = d_.image;
  spec.env = params_.env;
  spec.command = params_.command;
  spec.exposedPort = d_.exposePort;
  spec.cpuMillis = d_.cpuMillis;
  spec.memoryBytes = d_.memoryBytes;
  auto started = co_await rt_.createAndStart(spec);
  refresh();
  if (!started) {
    co_return finish(failedWith(d_, started.error().message()));
  }
  d_.containerId = started->id;
  d_.hostPort = started->hostPort;
  if (started->address) {
    records_.setAddress(id_, *started->address);
  }
  if (control_->stopRequested) {
    co_return co_await stoppedWhileStarting();
  }
  d_.state = DeploymentState::kRunning;
  d_.startedAtMs = protocol::unixMillisNow();
  if (d_.hostPort) {
    d_.url = loopbackUrl(*d_.hostPort);
  }
  co_return std::nullopt;
}

awaitable<std::optional<Deployment>> DeploymentRun::publish() {
  if (!publisher_ || !d_.hostPort) {
    co_return std::nullopt;
  }
  // Awaited before the deploy answers, so the answer carries the public URL.
  const Deployment toPublish = d_;
  const auto urls = co_await publisher_(toPublish);
  d_.setUrls(urls);
  if (control_->stopRequested) {
    co_return co_await stoppedWhileStarting();
  }
  co_return std::nullopt;
}

Deployment DeploymentRun::stoppedBeforeStart() {
  refresh();
  d_.state = DeploymentState::kStopped;
  d_.finishedAtMs = protocol::unixMillisNow();
  d_.error = "stopped before it started";
  return finish(d_);
}

awaitable<Deployment> DeploymentRun::stoppedWhileStarting() {
  const std::string cid = d_.containerId;
  (void)co_await rt_.remove(cid);
  d_.state = DeploymentState::kStopped;
  d_.finishedAtMs = protocol::unixMillisNow();
  d_.clearUrls();
  d_.error = "stopped while it was starting";
  co_return finish(d_);
}

awaitable<void> finishStop(Records& records, runtime::Runtime& rt, std::string id,
                           std::chrono::seconds grace) {
  records.beginStop(id);
  const std::string cid = records.find(id)->containerId;
  std::optional<runtime::ContainerInfo> last;
  if (!cid.empty()) {
    auto r = co_await rt.stop(cid, grace);
    if (!r && r.error() != runtime::Errc::kNoSuchContainer) {
      spdlog::warn("{}: stop failed: {}", id, r.error().message());
      records.endStop(id);
      co_return;
    }
    if (auto info = co_await rt.inspect(cid); info) {
      last = *info;
    }
    auto rm = co_await rt.remove(cid);
    if (!rm && rm.error() != runtime::Errc::kNoSuchContainer) {
      spdlog::warn("{}: remove failed: {}", id, rm.error().message());
      records.endStop(id);
      co_return;
    }
  }
  Deployment d = *records.find(id);
  d.state = DeploymentState::kStopped;
  d.finishedAtMs = protocol::unixMillisNow();
  if (last) {
    d.exitCode = last->exitCode;
  }
  d.clearUrls();
  (void)records.save(d);
  records.endStop(id);
  spdlog::info("{} stopped", id);
}

}  // namespace pc::provider
