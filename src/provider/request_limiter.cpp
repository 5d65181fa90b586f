#include "provider/request_limiter.hpp"

#include <array>
#include <cstdio>

#include "provider/error.hpp"

namespace pc::provider {
namespace {

std::string rateText(double perSecond) {
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%g", perSecond);
  return buf.data();
}

}  // namespace

void RequestLimiter::prune(Clock::time_point now) {
  std::erase_if(buckets_, [now](const auto& entry) { return entry.second.full(now); });
}

Result<void> RequestLimiter::admit(const std::string& peer, Clock::time_point now) {
  auto it = buckets_.find(peer);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxTrackedRequesters) {
      prune(now);
    }
    if (buckets_.size() >= kMaxTrackedRequesters) {
      return fail(Errc::kRateLimited,
                  std::to_string(kMaxTrackedRequesters) +
                      " peers are sending requests at once, this provider's limit; retry after "
                      "1 s");
    }
    it = buckets_.emplace(peer, TokenBucket(limits_.perSecond, limits_.burst, now)).first;
  }
  // Stops one peer from monopolising the provider's only thread and its replay cache: past its
  // burst it gets its rate and no more, whatever the others do.
  if (it->second.take(now)) {
    return {};
  }
  return fail(Errc::kRateLimited, "too many requests from this peer: the limit is " +
                                      rateText(limits_.perSecond) + " a second with bursts of " +
                                      std::to_string(limits_.burst) +
                                      " (request_rate, request_burst); retry after " +
                                      std::to_string(it->second.retryAfter(now).count()) + " ms");
}

}  // namespace pc::provider
