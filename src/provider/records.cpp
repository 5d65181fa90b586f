#include "provider/records.hpp"

#include <spdlog/spdlog.h>

namespace pc::provider {

using protocol::DeploymentState;

Deployment failedWith(Deployment d, std::string why) {
  d.state = DeploymentState::kFailed;
  d.error = std::move(why);
  if (!d.finishedAtMs) {
    d.finishedAtMs = protocol::unixMillisNow();
  }
  return d;
}

std::string loopbackUrl(std::uint16_t port) {
  return "http://127.0.0.1:" + std::to_string(port) + "/";
}

Result<void> Records::load() {
  auto all = store_.list();
  if (!all) {
    return all.error();
  }
  for (auto& d : *all) {
    records_.emplace(d.id, std::move(d));
  }
  auto pulled = store_.pulledImages();
  if (!pulled) {
    return pulled.error();
  }
  pulled_ = std::move(*pulled);
  return {};
}

Result<void> Records::addPulledImage(const std::string& image, std::uint64_t bytes) {
  if (auto r = store_.putPulledImage(image, bytes); !r) {
    return r;
  }
  pulled_[image] = bytes;
  return {};
}

Result<void> Records::forgetPulledImage(const std::string& image) {
  if (auto r = store_.deletePulledImage(image); !r) {
    return r;
  }
  pulled_.erase(image);
  return {};
}

Result<void> Records::save(Deployment d) {
  // Commit first, then act: a record that did not reach the disk must not drive any action.
  if (auto r = store_.put(d); !r) {
    spdlog::error("{}: {}", d.id, r.error().message());
    return r;
  }
  // A finished deployment's container address is no longer a dial target (and the map stays
  // as small as the set of live deployments).
  if (d.state == DeploymentState::kStopped || d.state == DeploymentState::kFailed) {
    addresses_.erase(d.id);
  }
  auto& slot = records_[d.id];
  slot = std::move(d);
  for (const auto& listener : onChange_) {
    listener(slot);
  }
  return {};
}

void Records::setUrls(const std::string& id, const std::vector<std::string>& urls) {
  const Deployment* d = find(id);
  if (d == nullptr || d->state != DeploymentState::kRunning || urls.empty() || d->urls() == urls) {
    return;
  }
  Deployment changed = *d;
  changed.setUrls(urls);
  (void)save(std::move(changed));
}

const Deployment* Records::find(const std::string& id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

std::optional<std::string> Records::address(const std::string& id) const {
  auto it = addresses_.find(id);
  if (it == addresses_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::shared_ptr<DeployControl> Records::beginDeploy(const std::string& id,
                                                    const net::asio::any_io_executor& ex) {
  auto c = std::make_shared<DeployControl>(ex);
  deploying_[id] = c;
  return c;
}

std::shared_ptr<DeployControl> Records::deploying(const std::string& id) const {
  auto it = deploying_.find(id);
  return it == deploying_.end() ? nullptr : it->second;
}

}  // namespace pc::provider
