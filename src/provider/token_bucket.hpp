#pragma once
/// A token bucket: `burst` tokens, refilled at `perSecond` tokens a second, one taken per event.
/// Private to the provider for now (another copy may exist in core/token_bucket.hpp; they are to
/// be merged). The clock is passed in, so decisions are pure and testable. Not thread-safe.
#include <algorithm>
#include <chrono>

namespace pc::provider {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  /// Starts full. Preconditions: perSecond > 0, burst >= 1.
  TokenBucket(double perSecond, double burst, Clock::time_point now)
      : perSecond_(perSecond), burst_(burst), tokens_(burst), last_(now) {}

  /// Takes one token if there is one; false (nothing taken) otherwise.
  bool tryTake(Clock::time_point now) {
    refill(now);
    if (tokens_ < 1.0) {
      return false;
    }
    tokens_ -= 1.0;
    return true;
  }
  /// How long until a token is available (zero when one is).
  [[nodiscard]] std::chrono::milliseconds retryAfter(Clock::time_point now) const {
    const double missing = 1.0 - level(now);
    if (missing <= 0) {
      return std::chrono::milliseconds(0);
    }
    return std::chrono::milliseconds(static_cast<long long>(missing * 1000.0 / perSecond_) + 1);
  }
  /// True when the bucket has refilled completely (it then behaves like a new one).
  [[nodiscard]] bool full(Clock::time_point now) const { return level(now) >= burst_; }

 private:
  [[nodiscard]] double level(Clock::time_point now) const {
    const std::chrono::duration<double> dt = now > last_ ? now - last_ : Clock::duration(0);
    return std::min(burst_, tokens_ + dt.count() * perSecond_);
  }
  void refill(Clock::time_point now) {
    tokens_ = level(now);
    last_ = std::max(last_, now);
  }

  double perSecond_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace pc::provider
