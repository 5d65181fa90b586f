#pragma once
/// The provider's egress policy: what its deployments may open, as settings parse it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "egress/address.hpp"

namespace pc::egress {

/// What a deployment's container may open. The order is "more to less": a request may only
/// move down it (`peerctl deploy --network none`), never up.
enum class Mode {
  kInternet,  ///< public addresses, the host's DNS resolvers and the provider's egress_allow
  kNone,      ///< nothing: the container only answers the connections the provider makes to it
};
const char* toString(Mode m);
Result<Mode> parseMode(std::string_view text);
/// The stricter of the two.
Mode narrower(Mode a, Mode b);

/// One `egress_allow` entry: a private destination the provider chooses to share.
/// The widest network an egress_allow entry may name (10.0.0.0/8, fc00::/7 pass; /0 does not).
inline constexpr unsigned kMinAllowPrefix = 7;

struct AllowEntry {
  Cidr net;
  std::optional<std::uint16_t> port;  ///< TCP and UDP; every port when unset

  /// "10.1.2.0/24", "10.1.2.3", "10.1.2.0/24:443", "fd00::/8", "[fd00::/8]:443" (IPv6 with a
  /// port needs the brackets).
  static Result<AllowEntry> parse(std::string_view text);
  [[nodiscard]] std::string toString() const;
  friend bool operator==(const AllowEntry&, const AllowEntry&) = default;
};

/// Limits on what the settings may hold (each one becomes a firewall rule or two).
inline constexpr std::size_t kMaxAllowEntries = 64;
inline constexpr std::size_t kMaxDenyEntries = 64;
inline constexpr std::size_t kMaxResolvers = 3;  ///< as many as resolv.conf may name (MAXNS)
/// The largest resolv.conf read (a real one is a few hundred bytes); a larger one gives none.
inline constexpr std::size_t kMaxResolvConfBytes = 64 * 1024;

struct Policy {
  Mode mode = Mode::kInternet;
  std::vector<AllowEntry> allow;  ///< opened even though private (checked first)
  std::vector<Cidr> deny;         ///< refused even though public
  /// The host's DNS resolvers (from /etc/resolv.conf): the engine's resolver inside each
  /// container forwards to them from the container's network, so they stay open on port 53.
  std::vector<Address> resolvers;
};

/// The `nameserver` addresses of a resolv.conf text (at most kMaxResolvers, in order; a zone
/// suffix "%eth0" is dropped; loopback resolvers are left out: the engine reaches those from
/// the host, not through the container's network).
std::vector<Address> parseResolvConf(std::string_view text);

/// Reads /etc/resolv.conf (or `path`); an unreadable (or oversized) file gives no resolvers. When
/// it gives none (it names only loopback ones, as systemd-resolved's stub), the servers in
/// `upstreamPath` (systemd-resolved's own list, which the engine hands containers in that case).
std::vector<Address> hostResolvers(
    const std::string& path = "/etc/resolv.conf",
    const std::string& upstreamPath = "/run/systemd/resolve/resolv.conf");

}  // namespace pc::egress
