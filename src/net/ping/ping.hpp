#pragma once
/// libp2p ping (`/ipfs/ping/1.0.0`) over any byte stream: 32 random bytes echoed back.
#include <chrono>
#include <string_view>

#include "net/stream.hpp"

namespace pc::net::ping {

inline constexpr std::string_view kProtocolId = "/ipfs/ping/1.0.0";
inline constexpr std::size_t kPayloadSize = 32;

/// Echoes kPayloadSize-byte pings until the remote closes (or sends a partial ping), then
/// half-closes. Cancel-safe only by resetting the stream.
asio::awaitable<void> serve(ByteStream& s);

/// Which step of a round trip failed.
enum class Step { kSend, kNegotiate, kEcho, kCompare };

/// One round trip on a fresh stream with optimistic negotiation: the multistream proposal and
/// the payload leave in one flight, the confirmation is read back before the echo (one round
/// trip instead of two; a remote without ping answers "na" and the ping fails either way).
/// Half-closes after the echo. On failure `failed` names the step. Errors: the stream's,
/// kNegotiationFailed, kProtocolError (the echo does not match). Cancel-safe only by resetting
/// the stream.
Task<std::chrono::microseconds> roundTrip(ByteStream& s, Step& failed);

}  // namespace pc::net::ping
