#pragma once
/// DCUtR messages (libp2p specs relay/DCUtR.md, `/libp2p/dcutr`): the two peers of a relayed
/// connection exchange the addresses they are observed at (CONNECT, both ways), then the
/// initiator sends SYNC and both dial at once (TCP simultaneous open). The codec is pure
/// (sans-IO, fuzzed); on the stream each message is varint-length-prefixed.
///
/// Wire format (protobuf): HolePunch { 1 type (CONNECT 100, SYNC 300), 2 ObsAddrs (repeated
/// multiaddr bytes) }. `type` is required (go-libp2p's proto2 schema).
#include <cstdint>
#include <string_view>
#include <vector>

#include "net/multiaddr.hpp"

namespace pc::net::dcutr {

inline constexpr std::string_view kProtocolId = "/libp2p/dcutr";
/// Largest message read or decoded (the spec's "SHOULD refuse … larger than 4 KiB").
inline constexpr std::size_t kMaxMessageSize = 4096;
/// Most observed addresses one message may list.
inline constexpr std::size_t kMaxAddrs = 32;

struct HolePunch {
  enum class Type : std::uint32_t { kConnect = 100, kSync = 300 };
  Type type = Type::kConnect;
  std::vector<Multiaddr> observedAddrs;  ///< unparseable ones are skipped when decoding
};

Bytes encode(const HolePunch& m);

/// Decodes one message. Errors: over kMaxMessageSize or more than kMaxAddrs addresses
/// (kTooLarge); a truncated field, an unsupported wire type, no type or an unknown one
/// (kProtocolError). Unknown fields are skipped. Never touches a socket.
Result<HolePunch> decode(BytesView in);

}  // namespace pc::net::dcutr
