#include "gateway/rate_limit.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace pc::gateway {

RateLimiter::RateLimiter(double ratePerSecond, double burst, std::size_t maxKeys)
    : rate_(ratePerSecond),
      burst_(std::max(1.0, burst)),
      maxKeys_(std::max<std::size_t>(1, maxKeys)) {}

int RateLimiter::take(const std::string& key, Clock::time_point now) {
  if (rate_ <= 0) return 0;
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= maxKeys_) evict(now);
    it = buckets_.emplace(key, Bucket{burst_, now}).first;
  }
  auto& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / rate_)));
}

void RateLimiter::evict(Clock::time_point now) {
  // Full buckets are indistinguishable from absent ones: dropping them changes nothing.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const double elapsed = std::chrono::duration<double>(now - it->second.last).count();
    if (it->second.tokens + elapsed * rate_ >= burst_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  if (buckets_.size() < maxKeys_) return;
  // Still full of active keys (a flood of distinct clients): drop the stalest half at once, so
  // eviction costs amortised O(1) per new key instead of a scan each time.
  std::vector<std::pair<Clock::time_point, std::string>> byAge;
  byAge.reserve(buckets_.size());
  for (const auto& [k, b] : buckets_) byAge.emplace_back(b.last, k);
  const auto half = byAge.begin() + static_cast<std::ptrdiff_t>(byAge.size() / 2);
  std::nth_element(byAge.begin(), half, byAge.end());
  for (auto it = byAge.begin(); it != half; ++it) buckets_.erase(it->second);
}

}  // namespace pc::gateway
