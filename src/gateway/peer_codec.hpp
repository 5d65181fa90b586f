#pragma once
/// The gateway-peer protocol's messages (`/peercompute/gateway-peer/1.0.0`, peers.hpp): what the
/// gateways of one domain tell each other. Each gateway opens one stream to each peer gateway it
/// lists and only writes on it; the peer answers on the stream it opened the other way.
///
/// Frame: 1 byte type ‖ 4-byte big-endian body length ‖ body. Integers are big-endian; a
/// string is a length (1 byte, or 2 for PEM) and its bytes. Bodies:
///   Heartbeat (0x01)      flags(1) ‖ domain(str8) ‖ n4(1) ‖ n4 × 4 bytes ‖ n6(1) ‖ n6 × 16 bytes
///                         ‖ cert_not_after(8: unix seconds, 0 = no certificate)
///                         ‖ interval_ms(4: how often this gateway beats, so its peers judge
///                         its silence by its own interval, not theirs)
///   ChallengeSet (0x02)   seq(4) ‖ name(str8) ‖ count(1) ‖ count × value(str8)
///   ChallengeAck (0x03)   seq(4)
///   ChallengeClear (0x04) name(str8)
///   CertificateRequest (0x05) empty
///   Certificate (0x06)    chain(str16, PEM) ‖ key(str16, PEM)
///
/// Pure codec (sans-IO, fuzzed: fuzz_gateway_peer): the decoder never touches a socket, refuses
/// an unknown type or a body over its type's bound from the 5-byte header alone (before any of
/// it is buffered), and refuses unknown flags, out-of-range counts, characters outside each
/// field's alphabet and trailing bytes. Everything it accepts re-encodes to the same bytes.
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/bytes.hpp"
#include "dns/zone.hpp"

namespace pc::gateway::peer {

/// Peer gateways one gateway may list, and the public addresses each announces: together they
/// are at most the zone's address set, so every live gateway always fits the answers.
inline constexpr std::size_t kMaxPeerGateways = 7;
inline constexpr std::size_t kMaxAddressesPerGateway = 4;
static_assert((kMaxPeerGateways + 1) * kMaxAddressesPerGateway <= dns::kMaxAddresses);
/// A DNS name as text (RFC 1035: 253 characters without the root dot).
inline constexpr std::size_t kMaxNameLength = 253;
/// A certificate chain and its key as PEM (a Let's Encrypt chain is about 5 KiB; an RSA-4096
/// key about 3.3 KiB).
inline constexpr std::size_t kMaxChainPem = 32 * 1024;
inline constexpr std::size_t kMaxKeyPem = 8 * 1024;
/// The latest expiry we read (9999-12-31T23:59:59Z): stays far inside system_clock's range.
inline constexpr std::uint64_t kMaxUnixSeconds = 253402300799ULL;
/// The heartbeat intervals a gateway may announce (its `peer_heartbeat_interval` range). The top
/// bounds how long a peer that fell silent stays in the DNS answers.
inline constexpr std::uint32_t kMinHeartbeatMs = 10;
inline constexpr std::uint32_t kMaxHeartbeatMs = 60'000;
/// Largest body of each type, and of any type.
inline constexpr std::size_t kMaxHeartbeatBody =
    1 + 1 + kMaxNameLength + 2 + kMaxAddressesPerGateway * 16 + 8 + 4;
inline constexpr std::size_t kMaxChallengeSetBody =
    4 + 1 + kMaxNameLength + 1 + dns::kMaxChallengeValues * (1 + dns::kMaxTxtValueLength);
inline constexpr std::size_t kMaxCertificateBody = 2 + kMaxChainPem + 2 + kMaxKeyPem;
inline constexpr std::size_t kMaxFrameBody = kMaxCertificateBody;
inline constexpr std::size_t kFrameHeaderSize = 5;
static_assert(kMaxHeartbeatBody <= kMaxFrameBody && kMaxChallengeSetBody <= kMaxFrameBody);
static_assert(kMaxChainPem <= 0xffff && kMaxKeyPem <= 0xffff, "PEM lengths fit 2 bytes");

/// Heartbeat flag: this gateway obtains the domain's wildcard certificate (tls = acme with
/// dns-01), so it takes part in choosing the one gateway that orders it.
inline constexpr std::uint8_t kFlagOrdersWildcard = 0x01;
inline constexpr std::uint8_t kKnownFlags = kFlagOrdersWildcard;

enum class Type : std::uint8_t {
  kHeartbeat = 0x01,
  kChallengeSet = 0x02,
  kChallengeAck = 0x03,
  kChallengeClear = 0x04,
  kCertificateRequest = 0x05,
  kCertificate = 0x06,
};

/// Sent first on every stream and then each heartbeat interval: who we are for the domain.
struct Heartbeat {
  std::uint8_t flags = 0;
  std::string domain;               ///< lower-case [a-z0-9.-], 1..kMaxNameLength
  dns::Addresses addresses;         ///< 1..kMaxAddressesPerGateway, both families together
  std::uint64_t certNotAfter = 0;   ///< the wildcard certificate we serve (0: none)
  std::uint32_t intervalMs = 1000;  ///< kMinHeartbeatMs..kMaxHeartbeatMs
  friend bool operator==(const Heartbeat& a, const Heartbeat& b) {
    return a.flags == b.flags && a.domain == b.domain && a.addresses.v4 == b.addresses.v4 &&
           a.addresses.v6 == b.addresses.v6 && a.certNotAfter == b.certNotAfter &&
           a.intervalMs == b.intervalMs;
  }
};

/// The orderer's DNS-01 TXT values for `name`: the receiver publishes them in its own zone and
/// acknowledges `seq`.
struct ChallengeSet {
  std::uint32_t seq = 0;
  std::string name;                 ///< [a-z0-9._-], 1..kMaxNameLength
  std::vector<std::string> values;  ///< 1..dns::kMaxChallengeValues, printable ASCII, 1..255
  friend bool operator==(const ChallengeSet&, const ChallengeSet&) = default;
};

struct ChallengeAck {
  std::uint32_t seq = 0;
  friend bool operator==(const ChallengeAck&, const ChallengeAck&) = default;
};

struct ChallengeClear {
  std::string name;
  friend bool operator==(const ChallengeClear&, const ChallengeClear&) = default;
};

/// "Send me the wildcard certificate you serve" (its expiry was in your heartbeat).
struct CertificateRequest {
  friend bool operator==(const CertificateRequest&, const CertificateRequest&) = default;
};

/// The wildcard certificate and its private key (only ever on the Noise-secured stream to a
/// peer gateway both sides list).
struct Certificate {
  std::string chainPem;  ///< 1..kMaxChainPem
  std::string keyPem;    ///< 1..kMaxKeyPem
  friend bool operator==(const Certificate&, const Certificate&) = default;
};

using Message = std::variant<Heartbeat, ChallengeSet, ChallengeAck, ChallengeClear,
                             CertificateRequest, Certificate>;

/// The frame for `m`. Errors (kMalformed, kTooLarge): a field the decoder would refuse — a
/// caller bug, or a certificate larger than kMaxChainPem/kMaxKeyPem.
Result<Bytes> encode(const Message& m);

/// Decodes frames from a byte stream. Errors are final: every later call returns the same one.
class FrameDecoder {
 public:
  /// Appends `bytes`; the next complete message, nullopt when more input is needed. When a
  /// message is returned more may be buffered: call next() until it yields nullopt.
  /// Errors: kUnknownCode (type), kTooLarge (length), kMalformed (body), naming the field.
  Result<std::optional<Message>> feed(BytesView bytes);
  Result<std::optional<Message>> next();
  /// Bytes of an unfinished frame are buffered.
  [[nodiscard]] bool hasPartial() const { return offset_ < buffer_.size(); }

 private:
  Bytes buffer_;
  std::size_t offset_ = 0;
  std::optional<Error> failed_;
};

/// The body of one frame of type `type` (exposed for tests and the fuzz target).
Result<Message> decodeBody(Type type, BytesView body);

}  // namespace pc::gateway::peer
