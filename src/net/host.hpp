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
#include "net/identify/identify.hpp"
#include "net/multiaddr.hpp"
#include "net/noise/handshake.hpp"
#include "net/ping/ping.hpp"
#include "net/task_group.hpp"
#include "net/upgrade.hpp"
#include "net/yamux/session.hpp"

namespace pc::net {

struct HostConfig {
  std::size_t maxConnections = 400;
  /// Inbound handshakes in progress at once. A new connection arriving at this bound cuts the
  /// oldest unfinished handshake instead of being refused: stalled handshakes (a half-open
  /// flood) can then never lock out a peer whose handshake completes promptly.
  std::size_t maxPendingInbound = 64;
  std::chrono::milliseconds dialTimeout{10000};
  /// connect(peer) tries a peer's direct addresses first and its relayed ones this much later
  /// (at once when every direct one has failed): a reachable peer costs no relay, an unreachable
  /// one costs this delay.
  std::chrono::milliseconds relayHeadStart{300};
  /// Whole security + muxer upgrade; a peer that stalls it is disconnected (stops half-open
  /// handshake floods from holding sockets).
  std::chrono::milliseconds handshakeTimeout{10000};
  /// multistream-select on a new stream.
  std::chrono::milliseconds negotiateTimeout{10000};
  std::string agentVersion = "peercompute/0.1.0";
  bool identifyOnConnect = true;
  /// Where ordinary dials leave from. kListenPort: our listen port (SO_REUSEPORT), so that a NAT
  /// maps them like the listener and the gateway observes the address peers can punch to;
  /// ephemeral when that port cannot be used for one dial (a 4-tuple that exists already).
  /// kAuto: kListenPort when listen() was given a fixed port, else kEphemeral.
  enum class DialFrom { kAuto, kListenPort, kEphemeral };
  DialFrom dialFrom = DialFrom::kAuto;
  yamux::Config yamux;
};

/// The role a hole-punched connection is upgraded in, whatever the TCP direction turned out to
/// be (DCUtR: the peer that dialled through the relay is the client, the other the server).
/// Client: multistream initiator, Noise initiator, yamux client.
enum class PunchRole { kClient, kServer };
/// One hole punch in progress (host_punch.cpp).
struct PunchAttempt;

/// What the remote told us about itself with identify.
using PeerInfo = identify::PeerInfo;

inline constexpr std::string_view kPingProtocol = ping::kProtocolId;

/// A protocol handler owns the stream; it runs as its own coroutine per stream.
using StreamHandler = std::function<asio::awaitable<void>(std::shared_ptr<yamux::Stream>,
                                                          std::shared_ptr<Connection>)>;
/// Decides whether a peer may connect (checked right after the Noise handshake).
using Gater = std::function<bool(const crypto::PeerId&)>;
class Host;

/// Which protocols a connection's inbound streams may negotiate (others are answered "na"): lets
/// a host admit a peer for some protocols only (the gateway: relay clients get hop, identify
/// and ping, never the tunnel). Unset: every protocol with a handler.
using StreamGate = std::function<bool(const Connection&, std::string_view protocol)>;
/// Dials a `/p2p-circuit` address (net/relay installs one): a connection through a relay.
using CircuitDialer =
    std::function<Task<std::shared_ptr<Connection>>(std::shared_ptr<Host>, const Multiaddr&)>;
/// Told about every refused connection (for the audit log).
using RejectListener = std::function<void(const std::optional<crypto::PeerId>&,
                                          const Multiaddr& remote, const std::string& reason)>;

/// Threading: one executor, one thread (each daemon runs a single io_context); no locks.
/// Every coroutine the host starts (accept loops, inbound upgrades, per-connection stream
/// serving, per-stream handlers, identify on connect) belongs to its TaskGroup and holds the
/// host alive until it ends.
class Host : public std::enable_shared_from_this<Host> {
 public:
  static std::shared_ptr<Host> create(asio::any_io_executor ex, const crypto::Identity& identity,
                                      HostConfig config = {});
  ~Host();

  void setHandler(std::string protocol, StreamHandler handler);
  /// Without a gater every authenticated peer is accepted (tests and the interop peer only).
  void setGater(Gater gater) { gater_ = std::move(gater); }
  void onReject(RejectListener listener) { onReject_ = std::move(listener); }
  void setStreamGate(StreamGate gate) { streamGate_ = std::move(gate); }
  void setCircuitDialer(CircuitDialer dialer) { circuitDialer_ = std::move(dialer); }
  /// Told about every new connection (after the upgrade, before any stream).
  void onConnected(std::function<void(const std::shared_ptr<Connection>&)> listener) {
    onConnected_ = std::move(listener);
  }

  /// Starts accepting on `addr` and returns the bound address (port 0 resolved).
  Result<Multiaddr> listen(const Multiaddr& addr);
  std::vector<Multiaddr> listenAddrs() const { return listenAddrs_; }
  /// The listen addresses ending in /p2p/<this host's id>: what a peer dials.
  std::vector<Multiaddr> listenAddrsWithId() const;
  /// Addresses we are reachable at besides our listen addresses (relayed ones, `<relay>/p2p-
  /// circuit`): sent in identify.
  void setAdvertisedAddrs(std::vector<Multiaddr> addrs) { advertised_ = std::move(addrs); }
  /// Remembers addresses to dial `peer` at.
  void addAddrs(const crypto::PeerId& peer, const std::vector<Multiaddr>& addrs);

  /// Dials `addr`; with /p2p/<id> the remote must prove that id, and a live connection to it
  /// is reused. Errors: kUnreachable, kTimeout, kPeerIdMismatch, kGated, kHandshakeFailed,
  /// kLimit, kClosed. Cancel-safe: a cancelled dial or handshake fails and its socket is closed.
  Task<std::shared_ptr<Connection>> connect(const Multiaddr& addr);
  /// Adds a connection over a relayed circuit `raw` (a hop or stop stream, after its handshake):
  /// runs the upgrade as the dialer when `outbound` (Noise initiator, yamux client — the side
  /// that sent HOP CONNECT) or as the listener, requires the remote to prove `expected` (the
  /// target we dialled, or the source the relay named in STOP: the relay's word alone is never
  /// trusted), and gates it exactly as a direct peer (a refusal is reported with the circuit
  /// address, so the audit log shows the relay). Errors: as connect(addr).
  Task<std::shared_ptr<Connection>> addRelayed(std::unique_ptr<RawConn> raw, bool outbound,
                                               crypto::PeerId expected, crypto::PeerId relay);
  /// A live connection to `peer`, or a new one to its known addresses: the direct ones in order,
  /// and the relayed ones (`/p2p-circuit`) in order from relayHeadStart on, side by side; the
  /// first connection made wins. Cancel-safe, as connect(addr).
  Task<std::shared_ptr<Connection>> connect(const crypto::PeerId& peer);
  /// Opens a stream and negotiates the first of `protocols` the remote supports. Errors:
  /// kTimeout, kNegotiationFailed, kGated (the remote closed a fresh connection), the
  /// session's. Cancel-safe: the half-negotiated stream is reset when the coroutine unwinds.
  Task<std::shared_ptr<yamux::Stream>> newStream(const std::shared_ptr<Connection>& conn,
                                                 const std::vector<std::string>& protocols);
  /// connect(peer), then newStream on it. Cancel-safe, as both.
  Task<std::shared_ptr<yamux::Stream>> newStream(const crypto::PeerId& peer,
                                                 const std::vector<std::string>& protocols);

  /// Runs identify on `conn` (and stores the result in conn->remoteInfo). Errors: as
  /// newStream, and kProtocolError for a malformed answer or one whose key is not the peer's.
  /// Cancel-safe (the stream is reset; conn->remoteInfo is left as it was).
  Task<PeerInfo> identify(const std::shared_ptr<Connection>& conn);
  /// One ping round trip on `conn`. Errors: as newStream, kProtocolError for a wrong echo.
  /// Cancel-safe (the stream is reset).
  Task<std::chrono::microseconds> ping(const std::shared_ptr<Connection>& conn);

  // ------------------------------------------------ hole punching (host_punch.cpp)
  /// Our first listener's TCP port (0 before listen()): where punches leave from.
  std::uint16_t listenPort() const { return listenPort_; }
  /// Starts expecting a punch with `peer` at `addrs` (its candidates) for `timeout`: until then,
  /// a TCP connection accepted from one of them is upgraded in `role` (not as an ordinary
  /// inbound server), which stops a role clash when the peer's SYN reaches our listener. Null
  /// when kMaxPunchesInFlight punches are already in progress.
  std::shared_ptr<PunchAttempt> expectPunch(const crypto::PeerId& peer,
                                            std::vector<Multiaddr> addrs, PunchRole role,
                                            std::chrono::milliseconds timeout);
  /// After `delay`, dials the attempt's addresses from the listen port (no ephemeral fallback)
  /// and upgrades the first TCP connection with the peer — dialled, simultaneously opened or
  /// accepted — in the attempt's role, requiring the peer to prove its id. The new connection
  /// has upgradedFromRelay set, and the peer's relayed connections are retired
  /// (retireRelayed). Errors: kTimeout (nothing by the attempt's deadline), kClosed.
  Task<std::shared_ptr<Connection>> punch(std::shared_ptr<PunchAttempt> attempt,
                                          std::chrono::milliseconds delay);
  /// Dials `addr` (ending in /p2p/<id>) as an ordinary client even when a relayed connection to
  /// the peer exists (connect(addr) would reuse it), leaving from the listen port when
  /// config().dialFrom says so. Errors: as connect(addr).
  Task<std::shared_ptr<Connection>> connectDirect(const Multiaddr& addr,
                                                  std::chrono::milliseconds timeout);
  /// Closes `peer`'s relayed connections as soon as each has no open stream, provided a direct
  /// connection to the peer is open by then (new streams already go to it: connectionTo).
  void retireRelayed(const crypto::PeerId& peer);
  /// Runs `task` as one of the host's coroutines: shutdown() waits for it (and cancels it after
  /// the grace), and it should hold the host only weakly or through its own shared_ptr capture.
  void spawn(std::function<asio::awaitable<void>()> task) { tasks_.spawn(std::move(task)); }
  /// Told after identify on connect succeeded (conn->remoteInfo is set). Several may listen.
  void onIdentified(std::function<void(const std::shared_ptr<Connection>&)> listener) {
    onIdentified_.push_back(std::move(listener));
  }

  std::vector<std::shared_ptr<Connection>> connections() const;
  /// A live connection to `peer`, a direct one when there is one.
  std::shared_ptr<Connection> connectionTo(const crypto::PeerId& peer) const;
  std::vector<std::string> protocols() const;
  const crypto::Identity& identity() const { return identity_; }
  const crypto::PeerId& peerId() const { return identity_.peerId(); }
  const HostConfig& config() const { return config_; }
  asio::any_io_executor executor() const { return ex_; }
  /// Stops listening, cuts handshakes in progress and closes every connection (GoAway after
  /// what is queued). Returns at once; the host's coroutines end as their sockets close.
  void close();
  /// close(), then waits for the host's coroutines to end: handlers still running after `grace`
  /// are cancelled (terminal cancellation: their next co_await throws operation_aborted), and
  /// sessions that have not finished closing are closed hard. Returns once every task of the
  /// host and of its sessions has ended. Not cancel-safe (the owner's last step), and must not be
  /// awaited from one of the host's own handlers (it would wait for itself).
  asio::awaitable<void> shutdown(std::chrono::milliseconds grace);
  /// Coroutines of the host still running (for tests and leak checks).
  std::size_t taskCount() const { return tasks_.size(); }

 private:
  /// An inbound handshake in progress; `cut` tells its coroutine the accept loop ended it.
  struct PendingInbound {
    RawConn* raw;
    bool* cut;
  };

  Host(asio::any_io_executor ex, const crypto::Identity& identity, HostConfig config);
  asio::awaitable<void> acceptLoop(std::shared_ptr<tcp::acceptor> acceptor);
  /// Makes room for one more inbound handshake by cutting the oldest when at the bound.
  void cutOldestPendingInbound();
  asio::awaitable<void> handleInbound(std::unique_ptr<RawConn> raw);
  /// Options for one upgrade; an inbound refusal is reported as coming from `remote`.
  UpgradeOptions upgradeOptions(std::optional<Multiaddr> inboundFrom);
  bool atConnectionLimit() const;
  /// Dials `addrs` in order until one connects to `peer`; failures are appended to `errors`.
  Task<std::shared_ptr<Connection>> dialInOrder(std::vector<Multiaddr> addrs, crypto::PeerId peer,
                                                std::string& errors);
  std::shared_ptr<Connection> addConnection(std::unique_ptr<SecureConn> sc, bool outbound,
                                            std::optional<crypto::PeerId> relay = std::nullopt);
  /// Secures and muxes `raw` as the client (`client`) or the server whatever its TCP direction,
  /// requiring the remote to prove `expected`; counted and cut like any handshake.
  Task<std::shared_ptr<Connection>> upgradeAs(std::unique_ptr<RawConn> raw, bool client,
                                              crypto::PeerId expected,
                                              std::optional<crypto::PeerId> relay);
  /// An outgoing TCP connection for an ordinary dial (from the listen port per config).
  Task<std::unique_ptr<RawConn>> dialRaw(const Multiaddr& addr, std::chrono::milliseconds timeout);
  /// Records the first listener's port; `requested` says whether it was chosen (not 0).
  void noteListenPort(const Multiaddr& requested, std::uint16_t bound);
  /// Hands an accepted connection from an expected punch address to its punch (true: taken).
  bool routeExpectedPunch(std::unique_ptr<RawConn>& raw);
  asio::awaitable<void> dialPunch(std::shared_ptr<PunchAttempt> attempt, Multiaddr addr);
  asio::awaitable<void> finishPunch(std::unique_ptr<RawConn> raw,
                                    std::shared_ptr<PunchAttempt> attempt);
  /// Wakes every punch() in progress (close(): they return kClosed).
  void cancelPunches();
  asio::awaitable<void> closeRelayedWhenIdle(std::shared_ptr<Connection> relayed);
  /// The protocols `conn`'s inbound streams may negotiate.
  std::vector<std::string> protocolsFor(const Connection& conn) const;
  asio::awaitable<void> identifyOnConnect(std::shared_ptr<Connection> conn);
  asio::awaitable<void> serveStreams(std::shared_ptr<Connection> conn);
  void forget(const std::shared_ptr<Connection>& conn);
  asio::awaitable<void> handleStream(std::shared_ptr<yamux::Stream> s,
                                     std::shared_ptr<Connection> conn);
  void reject(const std::optional<crypto::PeerId>& peer, const Multiaddr& remote,
              const std::string& reason);
  void installDefaultHandlers();
  net::identify::Message identifyMessage(const Connection& conn) const;
  Error explainClosed(const Connection& conn, Error e) const;
  /// Keys for one handshake; schedules the next ephemeral key to be made while this one waits.
  noise::PreparedKeys handshakeKeys();

  asio::any_io_executor ex_;
  const crypto::Identity& identity_;
  std::optional<crypto::x25519::KeyPair> noiseStatic_;     ///< one Noise static key per host
  Bytes noiseStaticSig_;                                   ///< the identity's signature over it
  std::optional<crypto::x25519::KeyPair> spareEphemeral_;  ///< the next handshake's, made early
  HostConfig config_;
  Gater gater_;
  StreamGate streamGate_;
  CircuitDialer circuitDialer_;
  std::vector<Multiaddr> advertised_;
  RejectListener onReject_;
  std::function<void(const std::shared_ptr<Connection>&)> onConnected_;
  std::map<std::string, StreamHandler> handlers_;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors_;
  std::vector<Multiaddr> listenAddrs_;
  /// Bound: maxConnections (counted with the handshakes in progress).
  std::unordered_multimap<crypto::PeerId, std::shared_ptr<Connection>> conns_;
  /// Bound: 32 addresses per peer; peers are those our callers add (trusted ones only).
  std::unordered_map<crypto::PeerId, std::vector<Multiaddr>> addrBook_;
  std::size_t pendingUpgrades_ = 0;
  /// Inbound handshakes in progress, oldest first. Bound: maxPendingInbound.
  std::list<PendingInbound> pendingInbound_;
  /// Outbound handshakes in progress: close() cuts them too, so nothing waits on a closed host.
  /// Bound: maxConnections.
  std::list<RawConn*> pendingOutbound_;
  bool closed_ = false;
  std::uint16_t listenPort_ = 0;
  bool listenPortChosen_ = false;
  /// Punches in progress (expired entries are dropped on each use). Bound: kMaxPunchesInFlight.
  std::vector<std::weak_ptr<PunchAttempt>> punches_;
  /// Relayed connections waiting to be closed once idle (one watcher each).
  std::vector<Connection*> retiring_;
  std::vector<std::function<void(const std::shared_ptr<Connection>&)>> onIdentified_;
  /// Accept loops, upgrades (≤ maxConnections), identify and stream serving (one per
  /// connection) and stream handlers (≤ yamux maxStreams per connection). Last member:
  /// destroyed first (no task can still run by then).
  TaskGroup tasks_;
};

}  // namespace pc::net
