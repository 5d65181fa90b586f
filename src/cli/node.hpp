#pragma once
/// What peerctl commands that talk to peers share: this node's identity and trust list, a host
/// that only accepts trusted peers, and resolving "<name|peer-id|multiaddr>" to something to dial.
#include <chrono>
#include <memory>
#include <set>

#include "cli/common.hpp"
#include "cli/printer.hpp"
#include "crypto/identity.hpp"
#include "net/host.hpp"
#include "trust/trust_store.hpp"

namespace pc::cli {

struct Node {
  crypto::Identity identity;
  trust::TrustStore trust;
  std::shared_ptr<net::Host> host;
  Printer& out;  ///< where the node's notices stream (looking for a peer on the LAN)
  /// Relays named in the addresses we dial (admitted by the gate, for the circuit only).
  std::set<crypto::PeerId> relays;
};

/// Loads identity and trust list from g.home and creates a gated host on `ex`; notices go to
/// `out`, which must outlive the node.
Result<std::unique_ptr<Node>> openNode(const Globals& g, net::asio::any_io_executor ex,
                                       Printer& out);

/// How long peerctl looks on the LAN (mDNS) for a trusted peer it has no address for.
inline constexpr std::chrono::milliseconds kLanLookupTimeout{3000};

/// Connects to a target given as a trusted peer's name or id (dialing its stored addresses; a
/// peer without any is looked for on the LAN with mDNS first) or as a multiaddr (which may
/// carry /p2p/<id>). The remote must be on the trust list either way.
net::Task<std::shared_ptr<net::Connection>> connectTarget(Node& node, const std::string& target);

/// Asks the LAN (mDNS `_p2p._udp.local`) where `peer` is, for up to `timeout`; what it finds is
/// added to the host's address book. Only call this for trusted peers: the answer is an
/// unauthenticated hint (the Noise handshake proves who answers). Errors: kUnreachable when
/// the peer did not answer in time or mDNS cannot run here. Cancel-safe.
net::Task<std::vector<net::Multiaddr>> findOnLan(Node& node, const crypto::PeerId& peer,
                                                 std::chrono::milliseconds timeout);

}  // namespace pc::cli
