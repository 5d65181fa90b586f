#pragma once
/// TCP transport: dial and listen on multiaddrs (ip4, ip6, dns, dns4, dns6 + tcp).
#include <chrono>

#include "net/multiaddr.hpp"
#include "net/raw_conn.hpp"

namespace pc::net {

/// A connected TCP socket as a ByteStream (the "raw" connection before security).
class TcpStream final : public RawConn {
 public:
  explicit TcpStream(tcp::socket socket);
  Task<std::size_t> readSome(std::span<std::uint8_t> buf) override;
  Task<void> write(BytesView data) override;
  Task<void> closeWrite() override;
  void reset() override;

  /// Reads what is already available without waiting: 0 bytes with no error means "nothing
  /// yet" (would block). Lets callers hold no buffer while a connection is idle.
  Result<std::size_t> tryReadSome(std::span<std::uint8_t> buf) override;
  [[nodiscard]] bool pollable() const override { return true; }
  /// Waits until the socket is readable (data, EOF or error), without a buffer.
  Task<void> waitReadable() override;

  tcp::socket& socket() { return socket_; }
  const Multiaddr& localAddr() const override { return local_; }
  const Multiaddr& remoteAddr() const override { return remote_; }
  asio::any_io_executor executor() override { return socket_.get_executor(); }

 private:
  tcp::socket socket_;
  Multiaddr local_;
  Multiaddr remote_;
};

Multiaddr toMultiaddr(const tcp::endpoint& ep);
/// For a wildcard listen address (0.0.0.0 or ::), the concrete addresses of this host's up
/// interfaces with the same port (what peers can actually dial); other addresses unchanged.
std::vector<Multiaddr> expandWildcard(const tcp::endpoint& bound);
/// Resolves a TCP multiaddr to endpoints (DNS names through the system resolver; dns4/dns6
/// restrict the family). Errors: kBadMultiaddr for non-TCP addresses, kUnreachable. Cancel-safe.
Task<std::vector<tcp::endpoint>> resolve(const Multiaddr& addr);
/// Dials the first endpoint of `addr` that answers within `timeout` (each attempt).
/// Cancel-safe (a cancelled dial closes its socket).
Task<std::unique_ptr<TcpStream>> dialTcp(const Multiaddr& addr, std::chrono::milliseconds timeout);
/// Dials `addr` from local port `localPort` (the listen port), so that a NAT maps the dial to the
/// same public port as the listener and a peer's SYN to that port can cross ours (TCP
/// simultaneous open). The socket sets SO_REUSEADDR and SO_REUSEPORT before binding, as the
/// listener does. With `fallbackEphemeral`, a port that cannot be bound (EADDRINUSE) or a
/// 4-tuple that already exists (EADDRNOTAVAIL: a second connection to the same remote, or one in
/// TIME_WAIT) dials from an ephemeral port instead; without it (a punch: an ephemeral port
/// cannot cross the peer's SYN) those fail with kUnreachable. Cancel-safe, as dialTcp.
Task<std::unique_ptr<TcpStream>> dialTcpFrom(const Multiaddr& addr, std::uint16_t localPort,
                                             std::chrono::milliseconds timeout,
                                             bool fallbackEphemeral);
/// Opens a listening socket (port 0 picks an ephemeral port; the acceptor reports it). With
/// `reusePort` the socket also sets SO_REUSEPORT, so that dials can leave from the listen port
/// (dialTcpFrom; the libp2p host). SO_REUSEPORT also lets another process of the same UID bind
/// the port and take a share of its inbound connections: acceptable for our daemons (one UID per
/// machine role, and the Noise handshake still proves every peer's identity), not for plain
/// listeners such as the gateway's HTTP front, which leave it off.
Result<tcp::acceptor> listenTcp(const asio::any_io_executor& ex, const Multiaddr& addr,
                                bool reusePort = false);

}  // namespace pc::net
