#pragma once
/// Address classification for the egress policy: which destinations a deployment may open.
///
/// A deployment may reach the internet and nothing of the provider's own world: the refused
/// ranges below are every block that names the provider's host, its LAN, its ISP's shared space,
/// a cloud's metadata service, multicast and broadcast, and the IANA special-purpose blocks
/// (RFC 6890 and its updates). Everything else is public. The same table drives the firewall
/// rules (egress/rules.hpp), so what the unit tests prove about `refusal()` is what the rules do.
#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace pc::egress {

using Address = boost::asio::ip::address;

/// An IPv4 or IPv6 network: an address with its host bits zero, and a prefix length.
struct Cidr {
  Address network;
  unsigned prefix = 0;

  /// "10.1.0.0/16", "fd00::/8", or a bare address (a /32 or /128). Refuses host bits set
  /// ("10.1.2.3/16": which did you mean?), a prefix out of range and anything else.
  static Result<Cidr> parse(std::string_view text);
  [[nodiscard]] bool contains(const Address& a) const;
  [[nodiscard]] bool isV6() const { return network.is_v6(); }
  /// Canonical text, always with the prefix ("10.255.255.53/32"), as iptables prints it.
  [[nodiscard]] std::string toString() const;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

/// A refused block and why.
struct Refused {
  std::string_view cidr;  ///< canonical text ("10.0.0.0/8")
  std::string_view what;  ///< "private network (RFC 1918)"
};

/// The IPv4 blocks the internet policy refuses, most specific first where they nest.
std::span<const Refused> refusedV4();
/// The IPv6 blocks refused inside 2000::/3 (global unicast); everything outside 2000::/3 is
/// refused as well, except NAT64's well-known prefix 64:ff9b::/96, which is judged by the IPv4
/// address it embeds.
std::span<const Refused> refusedV6();

inline constexpr std::string_view kGlobalUnicastV6 = "2000::/3";
inline constexpr std::string_view kNat64WellKnown = "64:ff9b::/96";

/// Why the internet policy refuses `a`, or nullopt for a public address. IPv4-mapped IPv6
/// (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are judged by their IPv4 address:
/// a socket sends the first as IPv4, and a NAT64 gateway turns the second into it.
std::optional<std::string> refusal(const Address& a);

}  // namespace pc::egress
