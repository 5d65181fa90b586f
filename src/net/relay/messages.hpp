#pragma once
/// Circuit Relay v2 messages (libp2p specs relay/circuit-v2.md): the HopMessage a client sends a
/// relay (RESERVE a slot, CONNECT to a reserved peer) and the relay answers, and the StopMessage
/// the relay sends the reserved peer (CONNECT from a source) and it answers. The codec is pure
/// (sans-IO, fuzzed). On a stream each message is varint-length-prefixed; after the last
/// handshake message the stream carries the relayed bytes, so a reader must never read past
/// the message it decodes.
///
/// Wire format (protobuf, every field optional):
///   HopMessage  { 1 type (RESERVE 0, CONNECT 1, STATUS 2), 2 peer, 3 reservation, 4 limit,
///                 5 status }
///   StopMessage { 1 type (CONNECT 0, STATUS 1), 2 peer, 3 limit, 4 status }
///   Peer        { 1 id (peer id bytes), 2 addrs (repeated multiaddr bytes) }
///   Reservation { 1 expire (UNIX seconds), 2 addrs (repeated), 3 voucher (signed envelope) }
///   Limit       { 1 duration (seconds), 2 data (bytes) }
/// `type` is always written: RESERVE and STOP CONNECT are both 0, and js-libp2p refuses a
/// message without it. No `limit` means no limit (go-libp2p marks a connection limited whenever
/// the field is present, even 0/0), so an unlimited circuit carries none.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "crypto/peer_id.hpp"
#include "net/multiaddr.hpp"

namespace pc::net::relay {

inline constexpr std::string_view kHopProtocol = "/libp2p/circuit/relay/0.2.0/hop";
inline constexpr std::string_view kStopProtocol = "/libp2p/circuit/relay/0.2.0/stop";
/// Largest relay message read or decoded (go-libp2p's bound; larger is malformed).
inline constexpr std::size_t kMaxMessageSize = 4096;
/// Most addresses one Peer or Reservation may list.
inline constexpr std::size_t kMaxAddrs = 32;
/// Largest voucher kept (a signed envelope with an Ed25519 key is about 150 bytes).
inline constexpr std::size_t kMaxVoucherSize = 1024;

/// Status codes of the spec. A decoded value outside the list is kept as its number.
enum class Status : std::uint32_t {
  kUnused = 0,
  kOk = 100,
  kReservationRefused = 200,
  kResourceLimitExceeded = 201,
  kPermissionDenied = 202,
  kConnectionFailed = 203,
  kNoReservation = 204,
  kMalformedMessage = 400,
  kUnexpectedMessage = 401,
};
/// "OK", "RESERVATION_REFUSED", … ("status <n>" for an unknown value).
std::string statusName(Status s);

struct Peer {
  crypto::PeerId id;
  std::vector<Multiaddr> addrs;  ///< unparseable ones are skipped when decoding
};

struct Reservation {
  std::uint64_t expire = 0;      ///< UNIX time, seconds
  std::vector<Multiaddr> addrs;  ///< the relay's public addresses (with /p2p/<relay>)
  Bytes voucher;                 ///< signed envelope; empty when absent
};

struct Limit {
  std::uint32_t durationSeconds = 0;  ///< 0: none
  std::uint64_t dataBytes = 0;        ///< 0: none
  friend bool operator==(const Limit&, const Limit&) = default;
};

struct HopMessage {
  enum class Type : std::uint32_t { kReserve = 0, kConnect = 1, kStatus = 2 };
  Type type = Type::kStatus;
  std::optional<Peer> peer;
  std::optional<Reservation> reservation;
  std::optional<Limit> limit;
  std::optional<Status> status;
};

struct StopMessage {
  enum class Type : std::uint32_t { kConnect = 0, kStatus = 1 };
  Type type = Type::kStatus;
  std::optional<Peer> peer;
  std::optional<Limit> limit;
  std::optional<Status> status;
};

Bytes encode(const HopMessage& m);
Bytes encode(const StopMessage& m);

/// Decodes one message. Errors (all kProtocolError unless said; a relay answers each with
/// MALFORMED_MESSAGE): over kMaxMessageSize (kTooLarge), a truncated field or unsupported wire
/// type, no `type` or an unknown one, a peer without a valid peer id, more than kMaxAddrs
/// addresses (kTooLarge), a voucher over kMaxVoucherSize (kTooLarge). Unknown fields are
/// skipped. Never touches a socket.
Result<HopMessage> decodeHop(BytesView in);
Result<StopMessage> decodeStop(BytesView in);

}  // namespace pc::net::relay
