#pragma once
/// The gateway's authoritative zone, as a pure function: a query's bytes in, the response's bytes
/// out (or nothing: drop). No socket, no clock; the UDP/TCP serving is in server.hpp.
///
/// The zone `<domain>` is a wildcard zone: every name under it exists and has the gateway's
/// public addresses (A/AAAA), so deployment hosts need no record each. The apex also has SOA and
/// NS; `_acme-challenge.<domain>`-style names have TXT while a DNS-01 challenge is pending
/// (setChallenge). Anything outside the zone is REFUSED: this is not a resolver.
///
/// Threading: not thread-safe; one owner on one executor (the daemon's only thread). The ACME
/// and cluster code change it through the setters on that executor; a change is seen by the
/// next query.
#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "net/dns/message.hpp"

namespace pc::dns {

using net::dns::Name;

/// RFC 1035 §4.2.1: a UDP answer without EDNS is at most 512 bytes.
inline constexpr std::size_t kMaxUdpPayloadPlain = 512;
/// With EDNS the client announces a size; we answer at most this over UDP (the DNS flag day 2020
/// value: no IP fragmentation on common paths, and a bound on what one spoofed query can reflect).
inline constexpr std::size_t kMaxUdpPayloadEdns = 1232;
/// Largest response over TCP: the codec's bound (answers here are far smaller; see the limits
/// on addresses and TXT values below).
inline constexpr std::size_t kMaxTcpResponse = net::dns::kMaxMessageSize;
static_assert(kMaxUdpPayloadPlain <= kMaxUdpPayloadEdns && kMaxUdpPayloadEdns < kMaxTcpResponse);
/// Addresses in the A/AAAA answers, both families together.
inline constexpr std::size_t kMaxAddresses = 32;
/// TXT names (pending challenges) and values per name. Two values per name is the common case
/// (the wildcard and the apex of one certificate share `_acme-challenge.<domain>`).
inline constexpr std::size_t kMaxChallengeNames = 64;
inline constexpr std::size_t kMaxChallengeValues = 8;
inline constexpr std::size_t kMaxTxtValueLength = 255;
/// The largest answer must fit a TCP response: the whole address set (AAAA: 28 bytes a record
/// with a compressed name) or a full TXT set, plus header, question and SOA.
static_assert(kMaxAddresses * 28 + 1024 < kMaxTcpResponse);
static_assert(kMaxChallengeValues * (12 + 1 + kMaxTxtValueLength) + 1024 < kMaxTcpResponse);

/// SOA timers (RFC 1035 §3.3.13). No secondaries pull this zone (no zone transfer is offered),
/// so refresh/retry/expire only need to be sane; minimum is the negative-caching TTL (RFC 2308).
inline constexpr std::uint32_t kSoaRefresh = 3600;
inline constexpr std::uint32_t kSoaRetry = 600;
inline constexpr std::uint32_t kSoaExpire = 1209600;
inline constexpr std::uint32_t kNegativeTtl = 60;
/// TTL of the SOA and NS records: the delegation changes rarely.
inline constexpr std::uint32_t kSoaTtl = 3600;
inline constexpr std::uint32_t kNsTtl = 3600;
/// The SOA's responsible mailbox: hostmaster.<domain> (RFC 2142).
inline constexpr std::string_view kHostmasterLabel = "hostmaster";

struct ZoneSettings {
  std::string domain;                    ///< the apex, e.g. "example.org"
  std::vector<std::string> nameServers;  ///< NS names; empty: "ns1.<domain>"
  std::uint32_t ttl = 60;                ///< A/AAAA/TXT TTL (short: the address set may change)
  std::uint32_t serial = 1;              ///< SOA serial at start (e.g. the start time)
};

/// The A/AAAA set: network byte order.
struct Addresses {
  std::vector<std::array<std::uint8_t, 4>> v4;
  std::vector<std::array<std::uint8_t, 16>> v6;
  [[nodiscard]] std::size_t size() const { return v4.size() + v6.size(); }
};

enum class Transport { kUdp, kTcp };

/// What respond() made of a query (for counters and logs).
enum class Outcome {
  kDropped,     ///< not answered: too short for a header, or a response (QR=1)
  kAnswered,    ///< NOERROR with records (or NODATA)
  kTruncated,   ///< TC=1: did not fit the UDP size (or the caller asked for a slip)
  kRefused,     ///< outside the zone, another class, a zone transfer
  kFormErr,     ///< malformed, several questions, records where a query has none
  kNotImp,      ///< an opcode other than QUERY
  kBadVersion,  ///< EDNS version other than 0
};
inline constexpr std::size_t kOutcomeCount = 7;
/// "dropped", "answered", "truncated", "refused", "formerr", "notimp", "badvers".
const char* outcomeName(Outcome o);

struct Response {
  Bytes bytes;  ///< empty when dropped
  Outcome outcome = Outcome::kDropped;
};

class Zone {
 public:
  /// Errors: the domain or a name server is not a DNS name.
  static Result<Zone> create(const ZoneSettings& settings);

  /// Replaces the A/AAAA set (takes effect for the next query; bumps the SOA serial). Errors:
  /// more than kMaxAddresses.
  Result<void> setAddresses(Addresses addresses);
  [[nodiscard]] const Addresses& addresses() const { return addresses_; }
  void setTtl(std::uint32_t ttl) { ttl_ = ttl; }
  /// How long a resolver may cache "no such record" (the SOA minimum): kNegativeTtl, or the
  /// addresses' TTL when shorter.
  [[nodiscard]] std::uint32_t negativeTtl() const { return std::min(kNegativeTtl, ttl_); }

  /// TXT values for `name` (e.g. "_acme-challenge.example.org", any case, trailing dot allowed),
  /// one TXT record per value, until clearChallenge(name). Replaces earlier values of the name.
  /// Errors: name not under the zone, over kMaxChallengeNames names, over kMaxChallengeValues
  /// values, a value empty or over 255 bytes.
  Result<void> setChallenge(std::string_view name, const std::vector<std::string>& values);
  /// Removes the TXT values of `name` (nothing if it has none).
  void clearChallenge(std::string_view name);

  /// The response to one query received over `transport`. `slip`: answer only with an empty
  /// TC=1 response (the response budget's slip: a real client retries over TCP, a spoofed
  /// victim gets a packet no bigger than the query). Never fails: anything malformed is FORMERR
  /// or dropped.
  [[nodiscard]] Response respond(BytesView query, Transport transport, bool slip = false) const;

  [[nodiscard]] const Name& apex() const { return apex_; }
  [[nodiscard]] std::uint32_t serial() const { return serial_; }

 private:
  Zone() = default;
  struct Query;
  void answerIn(const Query& q, net::dns::Message& out) const;
  void addSoa(const Name& apexAsAsked, std::vector<net::dns::Record>& section,
              std::uint32_t ttl) const;
  [[nodiscard]] Response render(const Query& q, net::dns::Message m, std::size_t limit,
                                Outcome outcome) const;

  Name apex_;
  std::vector<Name> nameServers_;
  std::uint32_t ttl_ = 60;
  std::uint32_t serial_ = 1;
  Addresses addresses_;
  std::map<std::string, std::vector<std::string>> challenges_;  ///< lower-case dotted name
};

/// Is `name` `apex` or under it (case-insensitive)?
bool inZone(const Name& name, const Name& apex);

}  // namespace pc::dns
