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

/// Largest accepted difference between a request's timestamp and the local clock, either way.
inline constexpr std::int64_t kMaxClockSkewMs = 5 * 60 * 1000;
/// Default hard cap on remembered request ids (per cache).
inline constexpr std::size_t kDefaultReplayCacheCapacity = 100'000;

/// Remembers the request ids seen within the clock-skew window.
///
/// An entry may be forgotten once `timestampMs + kMaxClockSkewMs < nowMs`: a replay of it
/// would then fail the timestamp check anyway. Implementations are thread-safe.
class ReplayCache {
 public:
  virtual ~ReplayCache() = default;
  /// Records `requestId` of `requester` (request timestamp `timestampMs`). Errors:
  /// Errc::kReplay when the pair was recorded before; Errc::kReplayCacheFull when the hard cap
  /// is reached even after evicting expired entries (fails closed: refusing service is
  /// preferable to forgetting live ids, which would admit replays); Errc::kStorage.
  virtual Result<void> remember(std::string_view requester, std::string_view requestId,
                                std::int64_t timestampMs, std::int64_t nowMs) = 0;
};

/// Replay cache in memory (tests, clients, and providers that accept losing it on restart).
class MemoryReplayCache final : public ReplayCache {
 public:
  explicit MemoryReplayCache(std::size_t capacity = kDefaultReplayCacheCapacity)
      : capacity_(capacity) {}
  Result<void> remember(std::string_view requester, std::string_view requestId,
                        std::int64_t timestampMs, std::int64_t nowMs) override;
  [[nodiscard]] std::size_t size() const;

 private:
  void evict(std::int64_t nowMs);
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::map<std::string, std::int64_t, std::less<>> entries_;  // key -> timestamp
  std::set<std::pair<std::int64_t, std::string>> byTime_;     // eviction order
};

/// All admission checks for a decoded request received on a connection authenticated as
/// `authenticatedPeer`, in order (cheapest first; the replay cache is written last, so
/// unauthenticated input can never fill it):
///  1. Errc::kNotARequest — the message is not a signed request type;
///  2. Errc::kRequesterMismatch — requester_id is not the connection's peer;
///  3. Errc::kClockSkew — |timestamp − nowMs| > kMaxClockSkewMs;
///  4. Errc::kBadSignature — the signature does not verify under the requester's key;
///  5. Errc::kReplay / kReplayCacheFull / kStorage — from `cache`.
/// Each error message says what was refused and why.
Result<void> checkRequest(const Message& m, const crypto::PeerId& authenticatedPeer,
                          std::int64_t nowMs, ReplayCache& cache);

}  // namespace pc::protocol
