#pragma once
#include "core/error.hpp"

namespace pc::net {

/// Errors of the network stack.
enum class Errc {
  kBadMultiaddr = 1,   ///< malformed or unsupported multiaddr (the component is named)
  kProtocolError,      ///< a peer broke a wire protocol (framing, state machine)
  kTooLarge,           ///< a frame or message over its named limit
  kTimeout,            ///< a deadline expired (dial, handshake, idle, request)
  kClosed,             ///< the connection or stream was closed
  kReset,              ///< the remote reset the stream
  kLimit,              ///< a local bound was hit (streams, connections, backlog)
  kNegotiationFailed,  ///< multistream-select found no common protocol
  kHandshakeFailed,    ///< the security handshake failed (bad signature, decrypt failure)
  kPeerIdMismatch,     ///< the remote proved a different PeerId than the one dialed
  kGated,              ///< the remote is not trusted
  kUnreachable         ///< no address could be dialed
};

const boost::system::error_category& netCategory();
inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), netCategory()};
}
inline Error fail(Errc e, std::string message) {
  return Error(make_error_code(e), std::move(message));
}

}  // namespace pc::net

template <>
struct boost::system::is_error_code_enum<pc::net::Errc> : std::true_type {};
