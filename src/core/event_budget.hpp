#pragma once
/// A per-second budget for repeated events (log lines, audit records of refusals): at most
/// `perSecond` are admitted in each one-second window and the rest are only counted, so that a
/// flood of bad input becomes a bounded number of lines — the count of what was left out goes
/// with the next admitted one. Not thread-safe: guard it where it is shared.
#include <chrono>
#include <cstdint>
#include <optional>

namespace pc {

class EventBudget {
 public:
  using Clock = std::chrono::steady_clock;
  explicit EventBudget(unsigned perSecond) : perSecond_(perSecond) {}

  /// nullopt when over budget (the event is counted); otherwise the number of events left out
  /// since the last admitted one (usually 0).
  std::optional<std::uint64_t> admit(Clock::time_point now = Clock::now()) {
    if (now - window_ >= std::chrono::seconds(1)) {
      window_ = now;
      inWindow_ = 0;
    }
    if (++inWindow_ > perSecond_) {
      ++suppressed_;
      return std::nullopt;
    }
    const std::uint64_t left = suppressed_;
    suppressed_ = 0;
    return left;
  }

 private:
  unsigned perSecond_;
  Clock::time_point window_{};
  unsigned inWindow_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace pc
