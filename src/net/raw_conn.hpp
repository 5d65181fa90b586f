#pragma once
/// The bottom of a connection, before security: what the Noise stage runs over. A TCP socket
/// (tcp.hpp), or a relayed circuit — a stream of our connection to a relay (net/relay) — whose
/// bytes the relay splices to the other peer.
#include "net/multiaddr.hpp"
#include "net/stream.hpp"

namespace pc::net {

class RawConn : public ByteStream {
 public:
  /// Where this end is, and where the other: for a circuit `<relay addr>/p2p-circuit` (the
  /// relay's address with its /p2p/<id>) on the side that did not dial it, the full circuit
  /// address on the dialer's.
  virtual const Multiaddr& localAddr() const = 0;
  virtual const Multiaddr& remoteAddr() const = 0;
  virtual asio::any_io_executor executor() = 0;
  /// True when tryReadSome works: the Noise stage then drops its receive buffer while the
  /// connection is idle. Streams that cannot tell without waiting say false.
  [[nodiscard]] virtual bool pollable() const { return false; }
  /// Reads what is already available without waiting: 0 bytes with no error means "nothing
  /// yet" (would block). Only when pollable().
  virtual Result<std::size_t> tryReadSome(std::span<std::uint8_t> /*buf*/) {
    return fail(Errc::kProtocolError, "tryReadSome on a stream that is not pollable");
  }
};

}  // namespace pc::net
