#pragma once
/// yamux frame header (hashicorp/yamux spec.md, as used by libp2p `/yamux/1.0.0`), sans-IO.
///
///   version(1)=0 | type(1) | flags(2, BE) | stream id(4, BE) | length(4, BE)
///
/// For Data frames `length` is the payload size that follows; for WindowUpdate it is the window
/// delta; for Ping the opaque value; for GoAway the error code.
#include <array>
#include <cstdint>
#include <optional>

#include "core/bytes.hpp"

namespace pc::net::yamux {

inline constexpr std::string_view kProtocolId = "/yamux/1.0.0";
inline constexpr std::size_t kHeaderSize = 12;

enum class Type : std::uint8_t { kData = 0, kWindowUpdate = 1, kPing = 2, kGoAway = 3 };

namespace flags {
inline constexpr std::uint16_t kSyn = 1;
inline constexpr std::uint16_t kAck = 2;
inline constexpr std::uint16_t kFin = 4;
inline constexpr std::uint16_t kRst = 8;
inline constexpr std::uint16_t kAll = kSyn | kAck | kFin | kRst;
}  // namespace flags

enum class GoAwayCode : std::uint32_t { kNormal = 0, kProtocolError = 1, kInternalError = 2 };

struct Header {
  Type type;
  std::uint16_t flags;
  std::uint32_t streamId;
  std::uint32_t length;
  friend bool operator==(const Header&, const Header&) = default;
};

std::array<std::uint8_t, kHeaderSize> encode(const Header& h);
void encode(const Header& h, Bytes& out);

/// Decodes a header from the first 12 bytes of `in`; nullopt when fewer are available.
/// Errors (kProtocolError): version ≠ 0, unknown type, unknown flag bits, Ping/GoAway on a
/// stream id other than 0, Data/WindowUpdate on stream 0 — each would let a peer drive the
/// session into states the spec does not define.
Result<std::optional<Header>> decode(BytesView in);

}  // namespace pc::net::yamux
