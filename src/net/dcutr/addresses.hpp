#pragma once
/// Which addresses a DCUtR hole punch uses (pure, no I/O): the candidates we accept from the
/// remote's CONNECT and the list we send in ours.
#include <cstdint>
#include <vector>

#include "net/multiaddr.hpp"

namespace pc::net::dcutr {

/// Most addresses one punch dials (and one CONNECT of ours lists): each costs a socket and a
/// SYN, and a peer that lists many could make us scan hosts for it.
inline constexpr std::size_t kMaxCandidates = 8;

struct AddrPolicy {
  /// Loopback addresses are kept (tests on one machine); never in production, where a peer
  /// listing 127.0.0.1 would make us dial our own services.
  bool allowLoopback = false;
};

/// The addresses worth punching to: /ip4 or /ip6 TCP only (what a simultaneous open can use; DNS
/// names are not resolved to a mapping), without /p2p-circuit (a relayed address is not direct),
/// without unspecified, multicast and link-local IPs (not dialable without a zone), loopback only
/// when allowed. The /p2p suffix is dropped, duplicates removed (first kept), order kept, at most
/// kMaxCandidates.
std::vector<Multiaddr> selectCandidates(const std::vector<Multiaddr>& addrs, AddrPolicy policy);

/// Whether `a` is an ip4/ip6 address of a private network (RFC 1918, shared address space
/// 100.64/10, IPv6 unique local fc00::/7): reachable only from inside that network.
[[nodiscard]] bool isPrivateNetwork(const Multiaddr& a);

/// Our CONNECT list: the addresses direct peers observe us at (`observed`, most trusted first),
/// then each observed IP with our `listenPort` (a port-preserving NAT maps it there), then our
/// `listenAddrs`, passed through selectCandidates.
std::vector<Multiaddr> ownCandidates(const std::vector<Multiaddr>& observed,
                                     std::uint16_t listenPort,
                                     const std::vector<Multiaddr>& listenAddrs, AddrPolicy policy);

}  // namespace pc::net::dcutr
