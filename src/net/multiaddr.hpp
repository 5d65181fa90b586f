#pragma once
/// Multiaddr (multiformats/multiaddr): self-describing network addresses in text
/// (`/ip4/127.0.0.1/tcp/9000/p2p/12D3KooW…`) and binary (varint code ‖ value…) forms.
/// Supported: ip4, ip6, dns, dns4, dns6, tcp, udp, quic-v1, p2p, p2p-circuit. Anything else is
/// rejected.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "crypto/peer_id.hpp"
#include "net/error.hpp"

namespace pc::net {

enum class Proto : std::uint32_t {
  kIp4 = 4,
  kTcp = 6,
  kDns = 53,
  kDns4 = 54,
  kDns6 = 55,
  kIp6 = 41,
  kUdp = 273,
  kP2pCircuit = 290,
  kP2p = 421,
  kQuicV1 = 460,
};

/// Limits: a real multiaddr is well under these; they bound what a peer (identify, mDNS) or a
/// user can make us parse and store.
inline constexpr std::size_t kMaxMultiaddrBytes = 1024;
inline constexpr std::size_t kMaxMultiaddrComponents = 16;
inline constexpr std::size_t kMaxDnsNameLength = 253;

struct Component {
  Proto proto;
  Bytes value;  ///< the binary value (4/16 address bytes, 2 port bytes, name, multihash)
  friend bool operator==(const Component&, const Component&) = default;
};

struct Circuit;

class Multiaddr {
 public:
  Multiaddr() = default;
  /// Errors: kBadMultiaddr naming the offending component ("bad tcp port 'x'").
  static Result<Multiaddr> parse(std::string_view text);
  static Result<Multiaddr> fromBytes(BytesView bytes);

  std::string toString() const;
  Bytes toBytes() const;
  const std::vector<Component>& components() const { return components_; }
  bool empty() const { return components_.empty(); }

  /// The trailing /p2p/<id>, if any.
  std::optional<crypto::PeerId> peerId() const;
  /// This address without a trailing /p2p component.
  Multiaddr withoutPeerId() const;
  /// This address with /p2p/<id> appended (replacing an existing one).
  Multiaddr withPeerId(const crypto::PeerId& id) const;

  /// For ip4|ip6|dns*/tcp/<port> addresses: host text and port.
  struct TcpTarget {
    std::string host;
    std::uint16_t port;
    Proto hostProto;
  };
  std::optional<TcpTarget> tcpTarget() const;

  /// A relayed address, `<relay address>/p2p/<relay>/p2p-circuit[/p2p/<target>]` (Circuit
  /// Relay v2), split (see Circuit); nullopt when this is not such an address (no /p2p-circuit,
  /// nothing or no /p2p/<relay> before it, more than one hop, or anything but /p2p/<id> after).
  std::optional<Circuit> circuit() const;
  /// Whether the address goes through a relay (has a /p2p-circuit component).
  [[nodiscard]] bool isCircuit() const;

  friend bool operator==(const Multiaddr&, const Multiaddr&) = default;

 private:
  std::vector<Component> components_;
};

/// A relayed address split: how to reach the relay (ending in /p2p/<relay>) and the target's
/// id when the address names it.
struct Circuit {
  Multiaddr relay;
  crypto::PeerId relayId;
  std::optional<crypto::PeerId> target;
};

}  // namespace pc::net
