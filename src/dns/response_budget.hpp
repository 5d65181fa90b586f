#pragma once
/// The per-source response budget of the DNS server over UDP (response rate limiting, RRL).
///
/// UDP sources can be forged, so a DNS server is a classic reflector: an attacker sends small
/// queries "from" a victim and the server sends the bigger answers to the victim. Each source
/// block (IPv4 /24, IPv6 /56: one site's worth, so rotating addresses within it gains nothing)
/// gets a token bucket of responses. Over budget, most responses are dropped and every
/// `slip`-th one is sent as an empty TC=1 response: no bigger than the query (no
/// amplification), and a real client behind that block — whose address the attacker may be
/// forging — retries over TCP, which cannot be forged, and is answered there.
///
/// Pure (time comes from the caller); not thread-safe: one owner on one executor.
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/ip/address.hpp>

#include "core/token_bucket.hpp"

namespace pc::dns {

/// Source blocks tracked at once. Past it, blocks that refilled completely are forgotten (at
/// most once per kBudgetSweepInterval); the blocks that still find no room share one overflow
/// bucket, so a flood from many blocks is bounded together and memory stays bounded.
inline constexpr std::size_t kMaxBudgetBlocks = 16384;
inline constexpr std::chrono::seconds kBudgetSweepInterval{1};
inline constexpr unsigned kIpv4BlockBits = 24;
inline constexpr unsigned kIpv6BlockBits = 56;

struct BudgetLimits {
  double perSecond = 100;  ///< responses a second per source block
  double burst = 200;
  unsigned slip = 2;  ///< every slip-th response over budget is a TC=1 one (0: drop them all)
};

class ResponseBudget {
 public:
  using Clock = TokenBucket::Clock;
  enum class Verdict { kAnswer, kSlip, kDrop };

  explicit ResponseBudget(BudgetLimits limits) : limits_(limits) {}

  /// Charges one response to `source`'s block.
  Verdict take(const boost::asio::ip::address& source, Clock::time_point now = Clock::now());

  /// "192.0.2.0/24", "2001:db8:0:100::/56" (for the log line).
  static std::string blockName(const boost::asio::ip::address& source);
  /// A source's block (an IPv4-mapped address counts as its IPv4 address).
  using Key = std::array<std::uint8_t, 8>;  ///< family byte + the block's leading bytes
  static Key keyOf(const boost::asio::ip::address& source);
  [[nodiscard]] std::size_t blocks() const { return blocks_.size(); }
  [[nodiscard]] const BudgetLimits& limits() const { return limits_; }

 private:
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  struct Entry {
    TokenBucket bucket;
    unsigned overBudget = 0;
  };
  Entry* entryFor(const Key& key, Clock::time_point now);
  Verdict charge(Entry& e, Clock::time_point now) const;

  BudgetLimits limits_;
  std::unordered_map<Key, Entry, KeyHash> blocks_;
  std::optional<Entry> overflow_;
  Clock::time_point lastSweep_{};
};

}  // namespace pc::dns
