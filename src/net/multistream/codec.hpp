#pragma once
/// multistream-select 1.0 wire messages (specs/connections, multistream-select): each message is
/// an unsigned-varint length followed by that many bytes, the last of which is '\n'.
#include <optional>
#include <string>

#include "core/bytes.hpp"

namespace pc::net::multistream {

inline constexpr std::string_view kProtocolId = "/multistream/1.0.0";
inline constexpr std::string_view kNa = "na";
/// Largest message (including its '\n') we send or accept: the spec's 1024-byte bound, which
/// also caps what an unauthenticated peer can make us buffer.
inline constexpr std::size_t kMaxMessageSize = 1024;
/// Proposals a listener answers before giving up: stops a peer from cycling through unsupported
/// protocols forever on one stream.
inline constexpr std::size_t kMaxProposals = 32;

/// Appends one message carrying `text` (without the trailing newline) to `out`.
void encode(std::string_view text, Bytes& out);

/// Pure decoder for one message at the front of `in`.
/// Returns nullopt when more bytes are needed; on success the text without its '\n' and the
/// number of bytes consumed. Errors: kTooLarge, kProtocolError (missing newline, empty message,
/// bytes outside printable ASCII).
struct Message {
  std::string text;
  std::size_t consumed;
};
Result<std::optional<Message>> decode(BytesView in);

/// A protocol id we are willing to speak or negotiate: starts with '/', printable ASCII,
/// at most kMaxMessageSize - 1 bytes.
bool isValidProtocolId(std::string_view id);

}  // namespace pc::net::multistream
