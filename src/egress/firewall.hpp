#pragma once
/// The firewall that confines deployments: the `Firewall` seam (the provider's tests use a
/// fake) and `IptablesFirewall`, which keeps the rules of egress/rules.hpp installed with
/// iptables-save / iptables-restore for IPv4 and IPv6.
///
/// Every change is one iptables-restore transaction (all or nothing), read back and checked:
/// an error means the rules are not as they must be, and the caller must not start (or keep
/// counting on) the deployment. Rules are kernel state: they outlive this process, so a provider
/// killed with SIGKILL leaves its deployments confined, and the next start finds them in place.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "egress/policy.hpp"
#include "egress/rules.hpp"

namespace pc::egress {

class Firewall {
 public:
  virtual ~Firewall() = default;
  /// Installs the hooks, the shared chains and this policy's chains, and checks them. Idempotent.
  /// Blocking: for start-up, before anything is served (a provider that cannot confine its
  /// deployments does not start).
  virtual Result<void> install() = 0;
  /// Whether the host has the network interface `iface` (a deployment's bridge), which the
  /// rules confine by name: a network on another interface would escape them. Asked on the
  /// firewall's worker (in the engine's namespace it runs `ip`).
  virtual boost::asio::awaitable<bool> hasInterface(std::string iface) = 0;
  /// Installs `c`'s lines (replacing any older ones of the same deployment) and checks every
  /// rule `c` depends on. Errors: kCommandFailed, kRuleMissing.
  virtual boost::asio::awaitable<Result<void>> admit(Confinement c) = 0;
  /// Removes the deployment's lines (nothing to remove is success).
  virtual boost::asio::awaitable<Result<void>> release(std::string deploymentId) = 0;
  /// Checks that each of `running` is confined; reinstalls whatever is missing. Returns what
  /// was missing (empty: all was in place), or an error when it could not be put back.
  virtual boost::asio::awaitable<Result<std::vector<std::string>>> repair(
      std::vector<Confinement> running) = 0;
  /// The host's DNS resolvers as they are now (DHCP on another network changed them): when they
  /// differ from the policy's, the policy chains are made again with them, each of `running`
  /// re-pointed to them and the old chains dropped. An empty list (resolv.conf unreadable, or
  /// rewritten at this instant) keeps the last ones. Returns whether anything changed.
  virtual boost::asio::awaitable<Result<bool>> followResolvers(
      std::vector<Address> now, std::vector<Confinement> running) = 0;
};

struct IptablesOptions {
  Policy policy;
  std::string iptablesSave = "iptables-save";
  std::string iptablesRestore = "iptables-restore";
  std::string ip6tablesSave = "ip6tables-save";
  std::string ip6tablesRestore = "ip6tables-restore";
  /// IPv6 rules are kept unless the kernel has no IPv6 at all (no /proc/net/if_inet6).
  std::string ipv6Probe = "/proc/net/if_inet6";
  /// The network namespace of the engine's bridges (a file such as /proc/1/ns/net), when the
  /// provider runs in another one (in a container with the engine's socket, in a test lab):
  /// every command then runs there through nsenter. Empty: the provider's own namespace.
  std::string netns;
  /// Each command's deadline (iptables-restore waits up to 5 s for the xtables lock).
  std::chrono::milliseconds commandTimeout{10000};
};

/// Commands run on a worker thread of the firewall's own: the daemon's thread never blocks on
/// them. Operations are serialised (one worker).
std::unique_ptr<Firewall> makeIptablesFirewall(IptablesOptions options);

}  // namespace pc::egress
