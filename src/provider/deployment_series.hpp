#pragma once
/// The provider's per-deployment resource series in /metrics, bounded: the first `max` running
/// deployments keep a label of their own for as long as they run; the rest count under "other".
/// Prometheus reads a counter that goes down as a reset, so "other"'s counters (CPU seconds,
/// bytes received and sent) only grow: they add what each of its deployments used since the
/// last sample (all of it, the first time), and a deployment leaving takes nothing away. Its
/// gauges (memory) are the sum over its deployments now. Pure: no I/O, no clock.
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/runtime.hpp"

namespace pc::provider {

class DeploymentSeries {
 public:
  struct Usage {
    double cpuSeconds = 0;  ///< counter
    double memoryBytes = 0;
    double memoryLimitBytes = 0;
    double rxBytes = 0;  ///< counter
    double txBytes = 0;  ///< counter
  };

  explicit DeploymentSeries(std::size_t max) : max_(max) {}

  /// A new sample of every running deployment (those absent have stopped).
  void update(const std::map<std::string, runtime::Stats>& running);

  /// The series now: label → usage, by deployment id, then "other" once any deployment has
  /// counted there.
  [[nodiscard]] std::vector<std::pair<std::string, Usage>> series() const;

 private:
  std::size_t max_;
  std::map<std::string, runtime::Stats> own_;     ///< labelled deployments, their last sample
  std::map<std::string, runtime::Stats> others_;  ///< those under "other", their last sample
  Usage otherCounters_;                           ///< only the counter fields are used
  bool otherUsed_ = false;
};

}  // namespace pc::provider
