#pragma once
/// A token bucket: holds at most `burst` tokens, refilled continuously at `perSecond`; each
/// event takes one. Admits bursts up to `burst` and a sustained rate of `perSecond`, and says
/// "over the rate" otherwise (what to do then is the caller's: refuse, close, count).
/// Time comes from the caller (tests pass their own time points). Not thread-safe: one owner.
#include <algorithm>
#include <chrono>

namespace pc {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  /// Starts full. `perSecond` > 0 and `burst` >= 1 (smaller values are raised to a tiny rate
  /// and one token: a bucket that never admits anything is a configuration mistake).
  TokenBucket(double perSecond, double burst, Clock::time_point now = Clock::now())
      : perSecond_(std::max(perSecond, 1e-9)),
        burst_(std::max(burst, 1.0)),
        tokens_(burst_),
        last_(now) {}

  /// Takes one token: true when there was one, false when the event is over the rate (no
  /// token is taken then).
  bool take(Clock::time_point now = Clock::now()) {
    refill(now);
    if (tokens_ < 1.0) {
      return false;
    }
    tokens_ -= 1.0;
    return true;
  }

  /// Tokens available at `now` (for tests and metrics).
  [[nodiscard]] double available(Clock::time_point now = Clock::now()) const { return level(now); }
  /// Seconds until a token is available (0 when one is).
  [[nodiscard]] double secondsUntilToken(Clock::time_point now = Clock::now()) const {
    const double missing = 1.0 - level(now);
    return missing <= 0 ? 0.0 : missing / perSecond_;
  }
  /// The same, rounded up to the next millisecond past it (a retry then surely finds a token):
  /// a refusal's retry-after.
  [[nodiscard]] std::chrono::milliseconds retryAfter(Clock::time_point now = Clock::now()) const {
    const double s = secondsUntilToken(now);
    return std::chrono::milliseconds(s <= 0 ? 0 : static_cast<long long>(s * 1000.0) + 1);
  }
  /// True when the bucket has refilled completely (it then behaves like a new one: a table of
  /// buckets may drop it).
  [[nodiscard]] bool full(Clock::time_point now = Clock::now()) const {
    return level(now) >= burst_;
  }

  /// When the bucket was last used (its staleness, for tables that must drop some).
  [[nodiscard]] Clock::time_point lastUse() const { return last_; }
  double perSecond() const { return perSecond_; }
  double burst() const { return burst_; }

 private:
  [[nodiscard]] double level(Clock::time_point now) const {
    if (now <= last_) {
      return tokens_;  // time never runs backwards for the bucket
    }
    const std::chrono::duration<double> elapsed = now - last_;
    return std::min(burst_, tokens_ + elapsed.count() * perSecond_);
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

}  // namespace pc
