#pragma once
/// The egress firewall rules, as text: pure functions from a policy and the deployments it
/// confines to iptables-restore input, and checks of what iptables-save reports. No process is
/// run here (egress/firewall.hpp does that), so every rule is unit-tested without root.
///
/// The layout, in the filter table of each family (iptables and ip6tables):
///
///   DOCKER-USER (or FORWARD, when the engine made no DOCKER-USER) ─► PC-EGRESS, first rule
///   INPUT ─► PC-HOST, first rule
///
///   PC-EGRESS (shared by every provider on the host)
///     1. replies of connections already allowed           → RETURN
///     2. anything new into a deployment network (-o pcd-+) → REJECT: no LAN neighbour or other
///        container opens a deployment's port behind the gateway's back
///     …  one line per deployment: -i <its bridge> → goto its policy chain (or REJECT for none)
///     n. anything else from a deployment network (-i pcd-+) → REJECT: a deployment whose line
///        is missing gets nothing (fail closed)
///   PC-HOST: the same for traffic addressed to the host itself (never forwarded, so the
///     forward rules never see it): replies pass, each internet deployment may reach the host's
///     resolvers and the allowed entries, everything else from pcd-+ is rejected.
///   PC-OUT-<hash>, PC-IN-<hash>: one provider's policy (allow, deny, refused ranges, resolvers),
///     named by a hash of their content, so providers with different policies do not collide.
///
/// Our deployment networks' bridges are named `pcd-<11 chars>` (runtime::deploymentInterface),
/// which is what lets the catch-all rules be written once.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "egress/policy.hpp"

namespace pc::egress {

enum class Family { kV4, kV6 };
const char* toString(Family f);

inline constexpr std::string_view kForwardChain = "PC-EGRESS";
inline constexpr std::string_view kHostChain = "PC-HOST";
inline constexpr std::string_view kEngineUserChain = "DOCKER-USER";
/// A policy's chains: the prefix and a hash of their rules (one pair per distinct policy).
inline constexpr std::string_view kPolicyForwardPrefix = "PC-OUT-";
inline constexpr std::string_view kPolicyHostPrefix = "PC-IN-";
/// Bridges of deployment networks; iptables' "+" suffix matches them all.
inline constexpr std::string_view kInterfaceWildcard = "pcd-+";

/// One deployment as the firewall confines it.
struct Confinement {
  std::string deploymentId;  ///< [a-z0-9-]; named in the rule's comment
  std::string iface;         ///< the host side of its network (the bridge)
  Mode mode = Mode::kInternet;
  friend bool operator==(const Confinement&, const Confinement&) = default;
};

/// The filter table as iptables-save prints it: chain → its rules ("-A CHAIN …" lines).
struct Table {
  std::map<std::string, std::vector<std::string>, std::less<>> chains;
  [[nodiscard]] bool has(std::string_view chain) const { return chains.contains(chain); }
  [[nodiscard]] const std::vector<std::string>& rules(std::string_view chain) const;
};
/// Parses the `*filter` section of iptables-save output (other tables are skipped).
Table parseSave(std::string_view text);

/// A provider's policy chains for one family.
struct PolicyChains {
  std::string forward;  ///< PC-OUT-<hash>
  std::string host;     ///< PC-IN-<hash>
  std::vector<std::string> forwardRules;
  std::vector<std::string> hostRules;
};
PolicyChains renderPolicy(const Policy& p, Family f);

/// iptables-restore --noflush input that brings `current` to: the hooks first in their chains,
/// the shared chains in shape (keeping every deployment line, ours and other providers'), our
/// policy chains exactly, `add` present and `remove` (deployment ids) gone. Empty when
/// `current` is already there.
///
/// With `engineHook`, also FORWARD's jump to the engine's user chain: made its first rule and its
/// only copy. Absent (a flush of FORWARD or a firewall reload removed it), our chain is not
/// reached while the engine's NAT still takes containers out; a copy left below the ACCEPT rules
/// the engine inserts for each new network lets traffic past the same way. Only the periodic
/// check asks for it: the engine itself deletes and re-inserts that jump around every network it
/// creates, so a deploy must not judge it in passing.
std::string plan(const Table& current, const PolicyChains& policy,
                 const std::vector<Confinement>& add, const std::vector<std::string>& remove,
                 Family f, bool engineHook = false);

/// Checks that `current` confines each of `deployments` as `policy` says (with `engineHook`,
/// that FORWARD jumps to the engine's user chain, as above). The error names the first missing
/// or misplaced rule (kRuleMissing).
Result<void> verify(const Table& current, const PolicyChains& policy,
                    const std::vector<Confinement>& deployments, Family f, bool engineHook = false);
/// Whether FORWARD's jump to the engine's user chain is absent, not first, or doubled (when our
/// hook is in that chain).
bool engineHookMisplaced(const Table& current);

/// The deployment lines (in PC-EGRESS and PC-HOST) of `c`, as iptables-save prints them.
std::vector<std::string> deploymentLines(const Confinement& c, const PolicyChains& policy,
                                         Family f);

}  // namespace pc::egress
