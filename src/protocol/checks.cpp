#include "protocol/checks.hpp"

#include "protocol/error.hpp"
#include "protocol/signing.hpp"

namespace pc::protocol {
namespace {
std::string cacheKey(std::string_view requester, std::string_view requestId) {
  // Keyed per requester: one peer cannot burn (pre-register) another peer's request ids.
  std::string k(requester);
  k += '/';
  k += requestId;
  return k;
}

/// Whole seconds until an entry dated `oldestMs` expires (at least 1).
std::int64_t secondsUntilExpiry(std::int64_t oldestMs, std::int64_t nowMs) {
  const std::int64_t ms = oldestMs + kMaxClockSkewMs - nowMs;
  return ms <= 1000 ? 1 : (ms + 999) / 1000;
}
}  // namespace

Error replayQuotaError(std::string_view requester, std::size_t quota, std::int64_t oldestMs,
                       std::int64_t nowMs) {
  return fail(Errc::kReplayQuota,
              "peer " + std::string(requester.substr(0, 64)) + " has " + std::to_string(quota) +
                  " recent requests in the replay cache, its share (replay_quota_per_peer); "
                  "retry after " +
                  std::to_string(secondsUntilExpiry(oldestMs, nowMs)) + " s");
}

Error replayCacheFullError(std::size_t capacity, std::int64_t oldestMs, std::int64_t nowMs) {
  return fail(Errc::kReplayCacheFull,
              "the replay cache holds " + std::to_string(capacity) +
                  " recent requests, its limit (replay_cache_capacity); retry after " +
                  std::to_string(secondsUntilExpiry(oldestMs, nowMs)) + " s");
}

void MemoryReplayCache::evict(std::int64_t nowMs) {
  while (!byTime_.empty() && byTime_.begin()->first + kMaxClockSkewMs < nowMs) {
    const std::string& key = byTime_.begin()->second;
    const auto requester = std::string_view(key).substr(0, key.find('/'));
    if (auto it = perRequester_.find(requester); it != perRequester_.end() && --it->second == 0) {
      perRequester_.erase(it);
    }
    entries_.erase(key);
    byTime_.erase(byTime_.begin());
  }
}

Result<void> MemoryReplayCache::remember(std::string_view requester, std::string_view requestId,
                                         std::int64_t timestampMs, std::int64_t nowMs) {
  std::lock_guard lock(mutex_);
  std::string key = cacheKey(requester, requestId);
  if (entries_.find(key) != entries_.end()) {
    return fail(Errc::kReplay, "request " + std::string(requestId) + " from " +
                                   std::string(requester) + " was already received (replay)");
  }
  evict(nowMs);
  // One requester's share is checked before the whole cache: a peer that floods signed requests
  // is refused at its share and cannot fill the cache that every other peer needs.
  const auto mine = perRequester_.find(requester);
  if (mine != perRequester_.end() && mine->second >= limits_.perRequester) {
    const std::string prefix = std::string(requester) + '/';
    std::int64_t oldest = nowMs;
    for (const auto& [ts, k] : byTime_) {
      if (k.starts_with(prefix)) {
        oldest = ts;
        break;
      }
    }
    return replayQuotaError(requester, limits_.perRequester, oldest, nowMs);
  }
  if (entries_.size() >= limits_.capacity) {
    return replayCacheFullError(limits_.capacity, byTime_.begin()->first, nowMs);
  }
  byTime_.emplace(timestampMs, key);
  entries_.emplace(std::move(key), timestampMs);
  ++perRequester_[std::string(requester)];
  return {};
}

std::size_t MemoryReplayCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

Result<void> checkRequest(const Message& m, const crypto::PeerId& authenticatedPeer,
                          std::int64_t nowMs, ReplayCache& cache) {
  const RequestHeader* h = requestHeader(m);
  const std::string name(messageTypeName(typeOf(m)));
  if (h == nullptr) {
    return fail(Errc::kNotARequest, name + " is not a request and cannot be admitted");
  }
  // Stops a trusted peer from acting in another peer's name (confused deputy / impersonation):
  // the signer must be the peer the secure channel authenticated.
  const std::string peerText = authenticatedPeer.toBase58();
  if (h->requesterId != peerText) {
    return fail(Errc::kRequesterMismatch, name + ": requester_id " + h->requesterId.substr(0, 64) +
                                              " is not the connection's authenticated peer " +
                                              peerText);
  }
  // Bounds how long a captured request stays usable, and so how long the replay cache must
  // remember it; both directions, so a request dated in the future cannot outlive the cache.
  // The lead allowed is small: each second of lead is a second longer in the cache.
  const std::int64_t drift = h->timestampMs - nowMs;
  if (drift > kMaxFutureSkewMs || drift < -kMaxClockSkewMs) {
    const std::int64_t allowed = drift < 0 ? kMaxClockSkewMs : kMaxFutureSkewMs;
    return fail(Errc::kClockSkew, name + ": timestamp is " +
                                      std::to_string((drift < 0 ? -drift : drift) / 1000) + " s " +
                                      (drift < 0 ? "in the past" : "in the future") +
                                      ", more than the allowed " + std::to_string(allowed / 1000) +
                                      " s; check the clocks of both machines");
  }
  // Stops forged or altered requests: only the holder of the requester's key can produce it.
  if (auto r = verify(m, authenticatedPeer); !r) return r;
  // Stops replays of a genuine request (e.g. a captured deploy resent to run twice). Recorded
  // only after the signature verified, so junk cannot fill the cache.
  return cache.remember(h->requesterId, h->requestId, h->timestampMs, nowMs);
}

}  // namespace pc::protocol
