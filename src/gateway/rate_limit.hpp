#pragma once
/// Token-bucket rate limits per key (client IP, deployment), with a bounded key table.
#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

#include "core/token_bucket.hpp"

namespace pc::gateway {

class RateLimiter {
 public:
  using Clock = TokenBucket::Clock;
  /// `ratePerSecond` tokens are added per second up to `burst`. At most `maxKeys` buckets are
  /// kept: when full, buckets that have refilled completely (carry no state) are dropped first,
  /// then the stalest; a flood of distinct keys cannot grow memory without bound.
  RateLimiter(double ratePerSecond, double burst, std::size_t maxKeys = 100'000);

  /// Takes one token for `key`. Returns 0 when allowed, else the seconds (≥ 1) until a token is
  /// available (for Retry-After).
  int take(const std::string& key, Clock::time_point now = Clock::now());
  [[nodiscard]] std::size_t size() const { return buckets_.size(); }
  [[nodiscard]] bool enabled() const { return rate_ > 0; }

 private:
  void evict(Clock::time_point now);
  double rate_;
  double burst_;
  std::size_t maxKeys_;
  std::unordered_map<std::string, TokenBucket> buckets_;
};

}  // namespace pc::gateway
