#pragma once
/// The provider's request rate limit: a token bucket per requesting peer, so that one trusted
/// peer sending requests as fast as it can (each one a signature check, a durable replay-cache
/// write and often an engine call) neither starves the provider nor fills the replay cache, and
/// never slows another peer down.
///
/// Threading: one executor (the daemon's single io_context thread); not thread-safe.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "core/error.hpp"
#include "core/token_bucket.hpp"
#include "protocol/checks.hpp"

namespace pc::provider {

/// Default sustained requests a second of one peer: `request_rate`.
inline constexpr double kDefaultRequestRate = 10;
/// Default burst of one peer (requests sent at once after a quiet time): `request_burst`.
inline constexpr std::uint32_t kDefaultRequestBurst = 40;
/// Peers tracked at once; buckets that refilled are dropped first (they equal new ones).
inline constexpr std::size_t kMaxTrackedRequesters = 4096;
/// A peer within its rate never reaches its replay-cache share: each request id is remembered
/// for at most kReplayEntryLifetimeMs, so a peer can hold rate × lifetime + burst ids.
inline constexpr bool fitsReplayShare(double rate, std::uint32_t burst, std::size_t share) {
  return rate * (protocol::kReplayEntryLifetimeMs / 1000) + burst <= static_cast<double>(share);
}
static_assert(fitsReplayShare(kDefaultRequestRate, kDefaultRequestBurst,
                              protocol::kDefaultReplayQuotaPerRequester));

struct RequestLimits {
  double perSecond = kDefaultRequestRate;      ///< request_rate
  std::uint32_t burst = kDefaultRequestBurst;  ///< request_burst
};

class RequestLimiter {
 public:
  using Clock = TokenBucket::Clock;
  explicit RequestLimiter(RequestLimits limits = {}) : limits_(limits) {}

  /// Charges one request to `peer`. Errors: Errc::kRateLimited, naming request_rate and
  /// request_burst and how long to wait before retrying (also when kMaxTrackedRequesters peers
  /// are all sending at once: a new one then waits for one of them to go quiet).
  Result<void> admit(const std::string& peer, Clock::time_point now = Clock::now());
  /// Peers with a bucket (tests).
  [[nodiscard]] std::size_t tracked() const { return buckets_.size(); }

 private:
  /// Drops the buckets that refilled completely.
  void prune(Clock::time_point now);
  RequestLimits limits_;
  std::map<std::string, TokenBucket> buckets_;
};

}  // namespace pc::provider
