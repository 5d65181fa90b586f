#pragma once
/// The client side of Circuit Relay v2 on a Host: reserving a slot on a relay (HOP RESERVE),
/// dialling a peer through one (HOP CONNECT, then the upgrade over the hop stream as the dialer)
/// and being dialled through one (the STOP handler: the upgrade over the stop stream as the
/// listener, with the relay-named source proven by Noise and gated like any direct peer).
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "net/host.hpp"
#include "net/relay/messages.hpp"

namespace pc::net::relay {

/// How long the relay may take over one hop or stop exchange (the spec's implementations use
/// 30 s for the whole hop exchange; js waits 10 s for STOP).
inline constexpr std::chrono::seconds kHopExchangeTimeout{30};

/// A reservation the relay granted.
struct Reserved {
  std::uint64_t expire = 0;           ///< UNIX seconds
  std::vector<Multiaddr> relayAddrs;  ///< the relay's public addresses it told us (may be empty)
  std::optional<Limit> limit;         ///< per-circuit limits; none: unlimited
};

/// What a relay's status means, for a user ("the target has no reservation on this relay").
std::string statusMeaning(Status s);

/// Asks the relay at the other end of `relayConn` (a direct connection) for a reservation, or
/// refreshes ours. Errors: the relay's refusal (kGated for PERMISSION_DENIED, kLimit for
/// RESERVATION_REFUSED / RESOURCE_LIMIT_EXCEEDED, kProtocolError otherwise) naming the status,
/// kTimeout, the stream's.
Task<Reserved> reserve(Host& host, std::shared_ptr<Connection> relayConn);

/// Dials `addr` = `<relay address>/p2p/<relay>/p2p-circuit/p2p/<target>` (Host's CircuitDialer):
/// connects to the relay directly, asks it to CONNECT us to the target and upgrades the hop
/// stream as the dialer; the target must prove its id. Errors: the relay's status (kUnreachable
/// for NO_RESERVATION and CONNECTION_FAILED, kLimit, kGated), the upgrade's.
Task<std::shared_ptr<Connection>> dialCircuit(std::shared_ptr<Host> host, Multiaddr addr);

/// Installs dialCircuit and the STOP handler on `host`: it can then dial and be dialled
/// through relays.
void installRelayTransport(Host& host);

/// `relay` (with /p2p/<relay id>) followed by /p2p-circuit: where a peer holding a reservation
/// there can be reached (append /p2p/<peer id> to dial it).
Multiaddr circuitAddr(const Multiaddr& relay);

}  // namespace pc::net::relay
