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
}  // namespace

void MemoryReplayCache::evict(std::int64_t nowMs) {
  while (!byTime_.empty() && byTime_.begin()->first + kMaxClockSkewMs < nowMs) {
    entries_.erase(byTime_.begin()->second);
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
  if (entries_.size() >= capacity_) {
    return fail(Errc::kReplayCacheFull, "the replay cache holds " + std::to_string(capacity_) +
                                            " recent requests; retry in a few minutes");
  }
  byTime_.emplace(timestampMs, key);
  entries_.emplace(std::move(key), timestampMs);
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
  const std::int64_t drift = h->timestampMs - nowMs;
  if (drift > kMaxClockSkewMs || drift < -kMaxClockSkewMs) {
    return fail(Errc::kClockSkew,
                name + ": timestamp is " + std::to_string((drift < 0 ? -drift : drift) / 1000) +
                    " s " + (drift < 0 ? "in the past" : "in the future") +
                    ", more than the allowed " + std::to_string(kMaxClockSkewMs / 1000) +
                    " s; check the clocks of both machines");
  }
  // Stops forged or altered requests: only the holder of the requester's key can produce it.
  if (auto r = verify(m, authenticatedPeer); !r) return r;
  // Stops replays of a genuine request (e.g. a captured deploy resent to run twice). Recorded
  // only after the signature verified, so junk cannot fill the cache.
  return cache.remember(h->requesterId, h->requestId, h->timestampMs, nowMs);
}

}  // namespace pc::protocol
