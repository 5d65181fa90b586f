#pragma once
/// The connection upgrade, Raw → Secure → Muxed, in one place: the only code that knows both the
/// security stage (Noise) and the muxer (yamux). A raw TCP connection is secured (the remote
/// proves its PeerId), admitted or refused by the caller's gate, and gets its muxer agreed
/// (early, inside the Noise handshake, or by multistream-select); startMuxed() then runs the
/// yamux session over it and returns the Connection that hands out streams.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "crypto/identity.hpp"
#include "net/identify/identify.hpp"
#include "net/multiaddr.hpp"
#include "net/noise/handshake.hpp"
#include "net/secure_conn.hpp"
#include "net/yamux/session.hpp"

namespace pc::net {

/// The Muxed stage: an authenticated connection to `peer` with its yamux session.
struct Connection {
  crypto::PeerId peer;
  Multiaddr localAddr;
  Multiaddr remoteAddr;
  bool outbound = false;
  std::string security;
  std::string muxer;
  std::shared_ptr<yamux::Session> session;
  std::optional<identify::PeerInfo> remoteInfo;  ///< set once identify completed
  /// Set for a connection over a relayed circuit: the relay its bytes pass through (which sees
  /// only ciphertext). Unset: a direct TCP connection.
  std::optional<crypto::PeerId> relay;
  /// Set on a direct connection made by hole punching (DCUtR) or by the unilateral dial that
  /// precedes it, to a peer we first reached through a relay.
  bool upgradedFromRelay = false;
  bool isOpen() const { return session && !session->isClosed(); }
  bool isRelayed() const { return relay.has_value(); }
};

/// Decides whether an authenticated peer may go on to the muxer (false refuses it).
using Admit = std::function<bool(const crypto::PeerId&)>;

struct UpgradeOptions {
  const crypto::Identity* identity = nullptr;  ///< ours; must outlive the upgrade
  noise::PreparedKeys keys;                    ///< this handshake's prepared Noise keys
  /// Checked right after Noise proved who the remote is and before a single muxer byte: a
  /// refused peer never reaches any protocol handler. Empty admits everyone.
  Admit admit;
  /// The whole upgrade; a remote that stalls it is disconnected (stops half-open handshake floods
  /// from holding sockets).
  std::chrono::milliseconds timeout{10000};
};

/// The dialer's upgrade. `expected` (dialing /p2p/<id>) must be the id the remote proves.
/// Errors: kTimeout, kPeerIdMismatch, kGated (refused by `admit`, or — the connection closed
/// during muxer negotiation — by the remote), kHandshakeFailed, kNegotiationFailed, the
/// transport's. Cancel-safe only by resetting `raw` (keep a pointer to it for that).
Task<std::unique_ptr<SecureConn>> upgradeOutbound(std::unique_ptr<RawConn> raw,
                                                  std::optional<crypto::PeerId> expected,
                                                  UpgradeOptions options);

/// The listener's upgrade. A peer refused by `admit` is reset and kGated returned (the caller
/// has already heard about it from `admit`). Errors: as upgradeOutbound. Cancel-safe only by
/// resetting `raw`.
Task<std::unique_ptr<SecureConn>> upgradeInbound(std::unique_ptr<RawConn> raw,
                                                 UpgradeOptions options);

/// Runs the yamux session over an upgraded connection and returns it as a Connection.
std::shared_ptr<Connection> startMuxed(std::unique_ptr<SecureConn> secured, bool outbound,
                                       const yamux::Config& config,
                                       std::optional<crypto::PeerId> relay = std::nullopt);

/// The error for a remote that closed right after the handshake: all we can observe of a peer
/// that does not trust us (`self`). Says what the remote's operator can do about it.
Error gatedByRemote(const crypto::PeerId& remote, const crypto::PeerId& self);

/// "`what` did not finish within `t` ms" (kTimeout).
Error timeoutError(const char* what, std::chrono::milliseconds t);

}  // namespace pc::net
