#pragma once
/// The libp2p host: listens and dials, upgrades connections Raw → Secure (Noise) → Muxed
/// (yamux), gates peers right after the handshake, routes inbound streams to protocol handlers
/// by id, and opens outbound streams to peers (reusing a live connection when there is one).
#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <unordered_map>

#include "crypto/identity.hpp"
#include "net/multiaddr.hpp"
#include "net/noise/handshake.hpp"
#include "net/yamux/session.hpp"

namespace pc::net {

struct HostConfig {
  std::size_t maxConnections = 400;
  /// Inbound handshakes in progress at once. A new connection arriving at this bound cuts the
  /// oldest unfinished handshake instead of being refused: stalled handshakes (a half-open
  /// flood) can then never lock out a peer whose handshake completes promptly.
  std::size_t maxPendingInbound = 64;
  std::chrono::milliseconds dialTimeout{10000};
  /// Whole security + muxer upgrade; a peer that stalls it is disconnected (stops half-open
  /// handshake floods from holding sockets).
  std::chrono::milliseconds handshakeTimeout{10000};
  /// multistream-select on a new stream.
  std::chrono::milliseconds negotiateTimeout{10000};
  std::string agentVersion = "peercompute/0.1.0";
  bool identifyOnConnect = true;
  yamux::Config yamux;
};

/// What the remote told us about itself with identify.
struct PeerInfo {
  std::string agentVersion;
  std::string protocolVersion;
  std::vector<std::string> protocols;
  std::vector<Multiaddr> listenAddrs;
  std::optional<Multiaddr> observedAddr;
};

struct Connection {
  crypto::PeerId peer;
  Multiaddr localAddr;
  Multiaddr remoteAddr;
  bool outbound = false;
  std::string security;
  std::string muxer;
  std::shared_ptr<yamux::Session> session;
  std::optional<PeerInfo> remoteInfo;  ///< set once identify completed
  bool isOpen() const { return session && !session->isClosed(); }
};

/// A protocol handler owns the stream; it runs as its own coroutine per stream.
using StreamHandler = std::function<asio::awaitable<void>(std::shared_ptr<yamux::Stream>,
                                                          std::shared_ptr<Connection>)>;
/// Decides whether a peer may connect (checked right after the Noise handshake).
using Gater = std::function<bool(const crypto::PeerId&)>;
/// Told about every refused connection (for the audit log).
using RejectListener = std::function<void(const std::optional<crypto::PeerId>&,
                                          const Multiaddr& remote, const std::string& reason)>;

class Host : public std::enable_shared_from_this<Host> {
 public:
  static std::shared_ptr<Host> create(asio::any_io_executor ex, const crypto::Identity& identity,
                                      HostConfig config = {});
  ~Host();

  void setHandler(std::string protocol, StreamHandler handler);
  /// Without a gater every authenticated peer is accepted (tests and the interop peer only).
  void setGater(Gater gater) { gater_ = std::move(gater); }
  void onReject(RejectListener listener) { onReject_ = std::move(listener); }
  /// Told about every new connection (after the upgrade, before any stream).
  void onConnected(std::function<void(const std::shared_ptr<Connection>&)> listener) {
    onConnected_ = std::move(listener);
  }

  /// Starts accepting on `addr` and returns the bound address (port 0 resolved).
  Result<Multiaddr> listen(const Multiaddr& addr);
  std::vector<Multiaddr> listenAddrs() const { return listenAddrs_; }
  /// Remembers addresses to dial `peer` at.
  void addAddrs(const crypto::PeerId& peer, const std::vector<Multiaddr>& addrs);

  /// Dials `addr`; with /p2p/<id> the remote must prove that id, and a live connection to it
  /// is reused. Errors: kUnreachable, kTimeout, kPeerIdMismatch, kGated, kHandshakeFailed.
  Task<std::shared_ptr<Connection>> connect(const Multiaddr& addr);
  /// A live connection to `peer`, or a new one to its known addresses (tried in order).
  Task<std::shared_ptr<Connection>> connect(const crypto::PeerId& peer);
  /// Opens a stream and negotiates the first of `protocols` the remote supports.
  Task<std::shared_ptr<yamux::Stream>> newStream(const std::shared_ptr<Connection>& conn,
                                                 const std::vector<std::string>& protocols);
  Task<std::shared_ptr<yamux::Stream>> newStream(const crypto::PeerId& peer,
                                                 const std::vector<std::string>& protocols);

  /// Runs identify on `conn` (and stores the result in conn->remoteInfo).
  Task<PeerInfo> identify(const std::shared_ptr<Connection>& conn);
  /// One ping round trip on `conn`.
  Task<std::chrono::microseconds> ping(const std::shared_ptr<Connection>& conn);

  std::vector<std::shared_ptr<Connection>> connections() const;
  std::shared_ptr<Connection> connectionTo(const crypto::PeerId& peer) const;
  std::vector<std::string> protocols() const;
  const crypto::Identity& identity() const { return identity_; }
  const crypto::PeerId& peerId() const { return identity_.peerId(); }
  const HostConfig& config() const { return config_; }
  asio::any_io_executor executor() const { return ex_; }
  /// Stops listening and closes every connection.
  void close();

 private:
  Host(asio::any_io_executor ex, const crypto::Identity& identity, HostConfig config);
  asio::awaitable<void> acceptLoop(std::shared_ptr<tcp::acceptor> acceptor);
  asio::awaitable<void> handleInbound(std::unique_ptr<TcpStream> raw);
  asio::awaitable<void> serveStreams(std::shared_ptr<Connection> conn);
  asio::awaitable<void> handleStream(std::shared_ptr<yamux::Stream> s,
                                     std::shared_ptr<Connection> conn);
  std::shared_ptr<Connection> addConnection(std::unique_ptr<SecureConn> sc, bool outbound);
  void reject(const std::optional<crypto::PeerId>& peer, const Multiaddr& remote,
              const std::string& reason);
  void installDefaultHandlers();
  Error gatedByRemote(const crypto::PeerId& peer) const;
  Error explainClosed(const Connection& conn, Error e) const;

  asio::any_io_executor ex_;
  const crypto::Identity& identity_;
  std::optional<crypto::x25519::KeyPair> noiseStatic_;     ///< one Noise static key per host
  Bytes noiseStaticSig_;                                   ///< the identity's signature over it
  std::optional<crypto::x25519::KeyPair> spareEphemeral_;  ///< the next handshake's, made early
  /// Keys for one handshake; schedules the next ephemeral key to be made while this one waits.
  noise::PreparedKeys handshakeKeys();
  HostConfig config_;
  Gater gater_;
  RejectListener onReject_;
  std::function<void(const std::shared_ptr<Connection>&)> onConnected_;
  std::map<std::string, StreamHandler> handlers_;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors_;
  std::vector<Multiaddr> listenAddrs_;
  std::unordered_multimap<crypto::PeerId, std::shared_ptr<Connection>> conns_;
  std::unordered_map<crypto::PeerId, std::vector<Multiaddr>> addrBook_;
  std::size_t pendingUpgrades_ = 0;
  /// Inbound handshakes in progress, oldest first; the flag tells a handler it was cut.
  std::list<std::pair<TcpStream*, bool*>> pendingInbound_;
  /// Outbound handshakes in progress: close() cuts them too, so nothing waits on a closed host.
  std::list<TcpStream*> pendingOutbound_;
  bool closed_ = false;
};

/// Identify message (`/ipfs/id/1.0.0`) codec, exposed for tests and fuzzing.
inline constexpr std::string_view kIdentifyProtocol = "/ipfs/id/1.0.0";
inline constexpr std::string_view kPingProtocol = "/ipfs/ping/1.0.0";
inline constexpr std::size_t kMaxIdentifySize = 64 * 1024;
inline constexpr std::size_t kMaxIdentifyEntries = 128;
struct IdentifyMessage {
  Bytes publicKey;
  PeerInfo info;
};
Bytes encodeIdentify(const IdentifyMessage& m);
/// Strict bounds: entries per list, size. Unparseable multiaddrs are skipped (peers may
/// advertise transports we do not know), anything structurally wrong is an error.
Result<IdentifyMessage> decodeIdentify(BytesView in);

}  // namespace pc::net
