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
    it = buckets_.emplace(key, TokenBucket(rate_, burst_, now)).first;
  }
  if (it->second.take(now)) return 0;
  return std::max(1, static_cast<int>(std::ceil(it->second.secondsUntilToken(now))));
}

void RateLimiter::evict(Clock::time_point now) {
  // Full buckets are indistinguishable from absent ones: dropping them changes nothing.
  std::erase_if(buckets_, [now](const auto& entry) { return entry.second.full(now); });
  if (buckets_.size() < maxKeys_) return;
  // Still full of active keys (a flood of distinct clients): drop the stalest half at once, so
  // eviction costs amortised O(1) per new key instead of a scan each time.
  std::vector<std::pair<Clock::time_point, std::string>> byAge;
  byAge.reserve(buckets_.size());
  for (const auto& [k, b] : buckets_) byAge.emplace_back(b.lastUse(), k);
  const auto half = byAge.begin() + static_cast<std::ptrdiff_t>(byAge.size() / 2);
  std::nth_element(byAge.begin(), half, byAge.end());
  for (auto it = byAge.begin(); it != half; ++it) buckets_.erase(it->second);
}

}  // namespace pc::gateway
