#pragma once
/// libp2p identify (`/ipfs/id/1.0.0`): what a peer tells about itself — agent, protocols, listen
/// addresses, the address it sees us at. The message codec is pure (sans-IO, fuzzed); send() and
/// receive() put one message on a stream (varint length prefix, as libp2p does); verify() checks
/// the advertised key against the connection's authenticated peer id.
///
/// Wire format (protobuf): 1 publicKey, 2 listenAddrs (repeated multiaddr bytes), 3 protocols
/// (repeated), 4 observedAddr, 5 protocolVersion, 6 agentVersion; other fields are skipped.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/peer_id.hpp"
#include "net/multiaddr.hpp"
#include "net/stream.hpp"

namespace pc::net::identify {

inline constexpr std::string_view kProtocolId = "/ipfs/id/1.0.0";
/// The protocolVersion we advertise.
inline constexpr std::string_view kProtocolVersion = "ipfs/0.1.0";
/// Largest identify message read or accepted by decode().
inline constexpr std::size_t kMaxSize = 64 * 1024;
/// Most addresses, and most protocols, one message may list.
inline constexpr std::size_t kMaxEntries = 128;
/// Most fields of any kind one message may hold (room for the lists plus the scalars).
inline constexpr std::size_t kMaxFields = 4 * kMaxEntries;
static_assert(kMaxFields >= 2 * kMaxEntries + 4, "the field bound must admit both full lists");

/// What the remote told us about itself.
struct PeerInfo {
  std::string agentVersion;
  std::string protocolVersion;
  std::vector<std::string> protocols;
  std::vector<Multiaddr> listenAddrs;
  std::optional<Multiaddr> observedAddr;
};

struct Message {
  Bytes publicKey;  ///< protobuf-encoded libp2p public key; may be empty
  PeerInfo info;
};

/// The protobuf encoding of `m`.
Bytes encode(const Message& m);

/// Decodes one message. Strict bounds: kMaxSize bytes, kMaxEntries per list, kMaxFields fields
/// (kTooLarge). Unparseable multiaddrs are skipped (peers may advertise transports we do not
/// know); anything structurally wrong (truncated field, unsupported wire type) is
/// kProtocolError. Never touches a socket.
Result<Message> decode(BytesView in);

/// The identify info in `m`, provided its public key (when present) is the one `peer`
/// authenticated with. Errors: kProtocolError when the key does not match (the peer is lying
/// about itself) or cannot be decoded.
Result<PeerInfo> verify(const Message& m, const crypto::PeerId& peer);

/// Writes `m` length-prefixed and half-closes the stream (the responder's side of identify).
/// Errors: the stream's. Cancel-safe only by resetting the stream.
Task<void> send(ByteStream& s, const Message& m);

/// Reads one length-prefixed message of at most kMaxSize bytes, half-closes our side and decodes
/// it (the initiator's side). Errors: the stream's, kTooLarge, kProtocolError. Cancel-safe only
/// by resetting the stream.
Task<Message> receive(ByteStream& s);

}  // namespace pc::net::identify
