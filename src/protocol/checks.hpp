#pragma once
/// The provider's admission checks for a signed request, and the replay cache they use.
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "crypto/peer_id.hpp"
#include "protocol/messages.hpp"

namespace pc::protocol {

/// Largest accepted age of a request: its timestamp may be this far behind the local clock.
inline constexpr std::int64_t kMaxClockSkewMs = 5 * 60 * 1000;
/// Largest accepted lead of a request: its timestamp may be this far ahead of the local clock.
/// Much smaller than the age allowance because a request dated ahead is remembered for its lead
/// plus kMaxClockSkewMs: with a 5 minute lead one peer kept every id for 10 minutes and so
/// needed only ~170 requests/s to fill a 100,000-entry cache. 60 s still covers a clock that
/// NTP has not corrected for days (drift is typically well under a second a day) plus the time a
/// request is in flight; a clock further ahead is a misconfiguration the error names.
inline constexpr std::int64_t kMaxFutureSkewMs = 60 * 1000;
/// The longest a replay cache must remember one request id.
inline constexpr std::int64_t kReplayEntryLifetimeMs = kMaxClockSkewMs + kMaxFutureSkewMs;
/// Default hard cap on remembered request ids (per cache): `replay_cache_capacity`.
inline constexpr std::size_t kDefaultReplayCacheCapacity = 100'000;
/// Default share of the cache one requester may hold: `replay_quota_per_peer`. Ten times less
/// than the cache, so one requester filling its share leaves the others 90,000 entries.
inline constexpr std::size_t kDefaultReplayQuotaPerRequester = 10'000;
static_assert(kDefaultReplayQuotaPerRequester * 10 <= kDefaultReplayCacheCapacity);

/// The bounds of a replay cache. Both fail closed (the request is refused, nothing forgotten).
struct ReplayLimits {
  std::size_t capacity = kDefaultReplayCacheCapacity;  ///< entries of all requesters together
  /// Entries of one requester: a requester that fills its share is refused
  /// (Errc::kReplayQuota) while every other requester is still served.
  std::size_t perRequester = kDefaultReplayQuotaPerRequester;
};

/// Remembers the request ids seen within the clock-skew window.
///
/// An entry may be forgotten once `timestampMs + kMaxClockSkewMs < nowMs`: a replay of it
/// would then fail the timestamp check anyway. Implementations are thread-safe.
class ReplayCache {
 public:
  virtual ~ReplayCache() = default;
  /// Records `requestId` of `requester` (request timestamp `timestampMs`). Errors:
  /// Errc::kReplay when the pair was recorded before; Errc::kReplayQuota when `requester`
  /// holds ReplayLimits::perRequester live entries; Errc::kReplayCacheFull when the hard cap is
  /// reached even after evicting expired entries (both fail closed: refusing service is
  /// preferable to forgetting live ids, which would admit replays; both messages name the limit
  /// and when to retry); Errc::kStorage.
  virtual Result<void> remember(std::string_view requester, std::string_view requestId,
                                std::int64_t timestampMs, std::int64_t nowMs) = 0;
};

/// The refusal for a requester at its share (`oldestMs`: its oldest live entry's timestamp).
Error replayQuotaError(std::string_view requester, std::size_t quota, std::int64_t oldestMs,
                       std::int64_t nowMs);
/// The refusal for a full cache (`oldestMs`: the oldest live entry's timestamp).
Error replayCacheFullError(std::size_t capacity, std::int64_t oldestMs, std::int64_t nowMs);

/// Replay cache in memory (tests, clients, and providers that accept losing it on restart).
class MemoryReplayCache final : public ReplayCache {
 public:
  explicit MemoryReplayCache(ReplayLimits limits = {}) : limits_(limits) {}
  Result<void> remember(std::string_view requester, std::string_view requestId,
                        std::int64_t timestampMs, std::int64_t nowMs) override;
  [[nodiscard]] std::size_t size() const;

 private:
  void evict(std::int64_t nowMs);
  ReplayLimits limits_;
  mutable std::mutex mutex_;
  std::map<std::string, std::int64_t, std::less<>> entries_;      // key -> timestamp
  std::set<std::pair<std::int64_t, std::string>> byTime_;         // eviction order
  std::map<std::string, std::size_t, std::less<>> perRequester_;  // live entries per requester
};

/// All admission checks for a decoded request received on a connection authenticated as
/// `authenticatedPeer`, in order (cheapest first; the replay cache is written last, so
/// unauthenticated input can never fill it):
///  1. Errc::kNotARequest — the message is not a signed request type;
///  2. Errc::kRequesterMismatch — requester_id is not the connection's peer;
///  3. Errc::kClockSkew — the timestamp is more than kMaxClockSkewMs behind nowMs or more than
///     kMaxFutureSkewMs ahead of it;
///  4. Errc::kBadSignature — the signature does not verify under the requester's key;
///  5. Errc::kReplay / kReplayQuota / kReplayCacheFull / kStorage — from `cache`.
/// Each error message says what was refused and why.
Result<void> checkRequest(const Message& m, const crypto::PeerId& authenticatedPeer,
                          std::int64_t nowMs, ReplayCache& cache);

}  // namespace pc::protocol
