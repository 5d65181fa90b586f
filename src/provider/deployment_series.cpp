#include "provider/deployment_series.hpp"

#include "admin/exposition.hpp"

namespace pc::provider {
namespace {

/// What a counter grew by between two samples (all of `now` when it went back: the container
/// restarted and its counter started again).
double grew(double before, double now) { return now >= before ? now - before : now; }

DeploymentSeries::Usage usageOf(const runtime::Stats& s) {
  return {s.cpuSeconds, static_cast<double>(s.memoryBytes), static_cast<double>(s.memoryLimitBytes),
          static_cast<double>(s.netRxBytes), static_cast<double>(s.netTxBytes)};
}

}  // namespace

void DeploymentSeries::update(const std::map<std::string, runtime::Stats>& running) {
  std::erase_if(own_, [&](const auto& kv) { return !running.contains(kv.first); });
  std::erase_if(others_, [&](const auto& kv) { return !running.contains(kv.first); });
  for (const auto& [id, s] : running) {
    if (auto it = own_.find(id); it != own_.end()) {
      it->second = s;
      continue;
    }
    runtime::Stats before{};  // a deployment new to "other" brings all it has used so far
    if (auto it = others_.find(id); it != others_.end()) {
      before = it->second;
    } else if (own_.size() < max_) {
      own_.emplace(id, s);
      continue;
    }
    otherCounters_.cpuSeconds += grew(before.cpuSeconds, s.cpuSeconds);
    otherCounters_.rxBytes +=
        grew(static_cast<double>(before.netRxBytes), static_cast<double>(s.netRxBytes));
    otherCounters_.txBytes +=
        grew(static_cast<double>(before.netTxBytes), static_cast<double>(s.netTxBytes));
    others_[id] = s;
    otherUsed_ = true;
  }
}

std::vector<std::pair<std::string, DeploymentSeries::Usage>> DeploymentSeries::series() const {
  std::vector<std::pair<std::string, Usage>> out;
  for (const auto& [id, s] : own_) {
    out.emplace_back(id, usageOf(s));
  }
  if (otherUsed_) {
    Usage other = otherCounters_;
    for (const auto& [id, s] : others_) {
      other.memoryBytes += static_cast<double>(s.memoryBytes);
      other.memoryLimitBytes += static_cast<double>(s.memoryLimitBytes);
    }
    out.emplace_back(std::string(admin::kOtherLabel), other);
  }
  return out;
}

}  // namespace pc::provider
