#include "egress/rules.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "egress/error.hpp"

namespace pc::egress {

namespace ip = boost::asio::ip;

const char* toString(Family f) { return f == Family::kV4 ? "IPv4" : "IPv6"; }

namespace {

constexpr std::string_view kCommentPrefix = "--comment \"pc:";

std::string reject(Family f) {
  return f == Family::kV4 ? "-j REJECT --reject-with icmp-admin-prohibited"
                          : "-j REJECT --reject-with icmp6-adm-prohibited";
}

bool sameFamily(const Address& a, Family f) { return a.is_v4() == (f == Family::kV4); }
bool sameFamily(const Cidr& c, Family f) { return sameFamily(c.network, f); }

std::string host(const Address& a) { return Cidr{a, a.is_v4() ? 32U : 128U}.toString(); }

/// "-d X -p udp -m udp --dport N" and its tcp twin, as iptables-save orders the options.
void openPort(std::vector<std::string>& out, const std::string& dst, std::uint16_t port) {
  for (const char* proto : {"udp", "tcp"}) {
    out.push_back("-d " + dst + " -p " + proto + " -m " + proto + " --dport " +
                  std::to_string(port) + " -j RETURN");
  }
}

/// The rules both policy chains start with: the host's resolvers on port 53 (the engine's DNS
/// forwards from the container's network), then what the provider chose to share. Toward the
/// host itself (`toHost`) only the entries naming one address: sharing a LAN range (a NAS's
/// port on 192.168.1.0/24) must not also open that port on the provider, which may sit in it.
std::vector<std::string> openings(const Policy& p, Family f, bool toHost) {
  std::vector<std::string> out;
  for (const auto& r : p.resolvers) {
    if (sameFamily(r, f)) openPort(out, host(r), 53);
  }
  for (const auto& a : p.allow) {
    if (!sameFamily(a.net, f)) continue;
    if (toHost && a.net.prefix != (a.net.isV6() ? 128U : 32U)) continue;
    if (a.port) {
      openPort(out, a.net.toString(), *a.port);
    } else {
      out.push_back("-d " + a.net.toString() + " -j RETURN");
    }
  }
  return out;
}

/// 64:ff9b::<v4 network>/(96 + prefix): a NAT64 gateway would turn it into that IPv4 block.
std::string nat64Of(const Cidr& v4) {
  auto b = Cidr::parse(kNat64WellKnown)->network.to_v6().to_bytes();
  const auto v = v4.network.to_v4().to_bytes();
  std::copy(v.begin(), v.end(), b.begin() + 12);
  return Cidr{ip::address_v6(b), 96 + v4.prefix}.toString();
}

std::vector<std::string> forwardBody(const Policy& p, Family f) {
  std::vector<std::string> out = openings(p, f, false);
  const std::string rej = " " + reject(f);
  for (const auto& d : p.deny) {
    if (sameFamily(d, f)) out.push_back("-d " + d.toString() + rej);
  }
  if (f == Family::kV4) {
    for (const auto& r : refusedV4()) out.push_back("-d " + std::string(r.cidr) + rej);
    return out;
  }
  // NAT64 addresses are judged by the IPv4 block they embed; every other address outside
  // global unicast (ULA, link-local, multicast, loopback, mapped) is refused.
  for (const auto& d : p.deny) {
    if (!d.isV6()) out.push_back("-d " + nat64Of(d) + rej);
  }
  for (const auto& r : refusedV4()) out.push_back("-d " + nat64Of(*Cidr::parse(r.cidr)) + rej);
  out.push_back("-d " + std::string(kNat64WellKnown) + " -j RETURN");
  out.push_back("! -d " + std::string(kGlobalUnicastV6) + rej);
  for (const auto& r : refusedV6()) out.push_back("-d " + std::string(r.cidr) + rej);
  return out;
}

std::string fnv8(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto* v : {&a, &b}) {
    for (const auto& s : *v) {
      for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
      h = (h ^ 0x0aU) * 0x100000001b3ULL;
    }
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, 8);
}

std::vector<std::string> named(const std::string& chain, const std::vector<std::string>& body) {
  std::vector<std::string> out;
  for (const auto& r : body) out.push_back("-A " + chain + " " + r);
  return out;
}

struct Shape {
  std::string chain;
  std::vector<std::string> head;
  std::string tail;
};

Shape forwardShape(Family f) {
  const std::string c(kForwardChain);
  const std::string w(kInterfaceWildcard);
  return {c,
          {"-A " + c + " -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
           "-A " + c + " -o " + w + " " + reject(f)},
          "-A " + c + " -i " + w + " " + reject(f)};
}

Shape hostShape(Family f) {
  const std::string c(kHostChain);
  const std::string w(kInterfaceWildcard);
  return {c,
          {"-A " + c + " -i " + w + " -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"},
          "-A " + c + " -i " + w + " " + reject(f)};
}

std::string lineDeployment(const std::string& line) {
  const auto at = line.find(kCommentPrefix);
  if (at == std::string::npos) return {};
  const auto start = at + kCommentPrefix.size();
  const auto end = line.find('"', start);
  return end == std::string::npos ? std::string() : line.substr(start, end - start);
}

/// The shared chain with its deployment lines kept (minus `drop`, plus `extra`), in shape.
std::vector<std::string> reshaped(const Table& t, const Shape& s, const std::set<std::string>& drop,
                                  const std::vector<std::string>& extra) {
  std::vector<std::string> out = s.head;
  if (t.has(s.chain)) {
    for (const auto& line : t.rules(s.chain)) {
      const std::string id = lineDeployment(line);
      if (!id.empty() && !drop.contains(id) &&
          std::find(out.begin(), out.end(), line) == out.end()) {
        out.push_back(line);
      }
    }
  }
  for (const auto& line : extra) {
    if (std::find(out.begin(), out.end(), line) == out.end()) out.push_back(line);
  }
  out.push_back(s.tail);
  return out;
}

std::string hookChain(const Table& t, std::string_view target) {
  if (target == kHostChain) return "INPUT";
  return t.has(kEngineUserChain) ? std::string(kEngineUserChain) : "FORWARD";
}

/// Whether "-j <target>" is the first rule of `chain`, and the only jump there to `target`.
bool firstAndOnly(const Table& t, const std::string& chain, std::string_view target) {
  const std::string jump = "-A " + chain + " -j " + std::string(target);
  const auto& current = t.rules(chain);
  return !current.empty() && current.front() == jump &&
         std::count(current.begin(), current.end(), jump) == 1;
}

/// Makes "-j <target>" the first rule of `chain` and its only jump there (deleting copies
/// further down: a copy below an engine ACCEPT is a copy that lets traffic past).
void hookAt(const Table& t, const std::string& chain, std::string_view target,
            std::ostringstream& rules) {
  if (firstAndOnly(t, chain, target)) return;
  const std::string jump = "-A " + chain + " -j " + std::string(target);
  const auto& current = t.rules(chain);
  for (auto n = std::count(current.begin(), current.end(), jump); n > 0; --n) {
    rules << "-D " << chain << " -j " << target << "\n";
  }
  rules << "-I " << chain << " 1 -j " << target << "\n";
}

void hook(const Table& t, std::string_view target, std::ostringstream& rules) {
  hookAt(t, hookChain(t, target), target, rules);
}

void replace(const Table& t, const std::string& chain, const std::vector<std::string>& want,
             std::ostringstream& decl, std::ostringstream& rules) {
  if (t.has(chain) && t.rules(chain) == want) return;
  decl << ":" << chain << " - [0:0]\n";
  for (const auto& r : want) rules << r << "\n";
}

}  // namespace

const std::vector<std::string>& Table::rules(std::string_view chain) const {
  static const std::vector<std::string> none;
  auto it = chains.find(chain);
  return it == chains.end() ? none : it->second;
}

Table parseSave(std::string_view text) {
  Table t;
  bool filter = false;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with('*')) {
      filter = line == "*filter";
    } else if (!filter) {
      continue;
    } else if (line.starts_with(':')) {
      t.chains[line.substr(1, line.find(' ') - 1)];
    } else if (line.starts_with("-A ")) {
      const auto end = line.find(' ', 3);
      t.chains[line.substr(3, end - 3)].push_back(line);
    }
  }
  return t;
}

PolicyChains renderPolicy(const Policy& p, Family f) {
  const auto fwd = forwardBody(p, f);
  auto in = openings(p, f, true);
  in.push_back(reject(f));
  const std::string h = fnv8(fwd, in);
  PolicyChains c;
  c.forward = std::string(kPolicyForwardPrefix) + h;
  c.host = std::string(kPolicyHostPrefix) + h;
  c.forwardRules = named(c.forward, fwd);
  c.hostRules = named(c.host, in);
  return c;
}

std::vector<std::string> deploymentLines(const Confinement& c, const PolicyChains& policy,
                                         Family f) {
  const std::string match =
      " -i " + c.iface + " -m comment --comment \"pc:" + c.deploymentId + "\" ";
  if (c.mode == Mode::kNone) {
    return {"-A " + std::string(kForwardChain) + match + reject(f),
            "-A " + std::string(kHostChain) + match + reject(f)};
  }
  return {"-A " + std::string(kForwardChain) + match + "-g " + policy.forward,
          "-A " + std::string(kHostChain) + match + "-g " + policy.host};
}

std::string plan(const Table& current, const PolicyChains& policy,
                 const std::vector<Confinement>& add, const std::vector<std::string>& remove,
                 Family f, bool engineHook) {
  std::set<std::string> drop(remove.begin(), remove.end());
  std::vector<std::string> fwdExtra;
  std::vector<std::string> hostExtra;
  for (const auto& c : add) {
    drop.insert(c.deploymentId);  // a changed line (mode, bridge) replaces the old one
    auto lines = deploymentLines(c, policy, f);
    fwdExtra.push_back(lines[0]);
    hostExtra.push_back(lines[1]);
  }
  std::ostringstream decl;
  std::ostringstream rules;
  replace(current, policy.forward, policy.forwardRules, decl, rules);
  replace(current, policy.host, policy.hostRules, decl, rules);
  const Shape fs = forwardShape(f);
  const Shape hs = hostShape(f);
  replace(current, fs.chain, reshaped(current, fs, drop, fwdExtra), decl, rules);
  replace(current, hs.chain, reshaped(current, hs, drop, hostExtra), decl, rules);
  hook(current, kForwardChain, rules);
  hook(current, kHostChain, rules);
  // Moved first and made the only one, as the engine itself keeps it: a jump left further down
  // (the engine re-inserts it around each network it creates, so two can exist for a moment)
  // sinks below the ACCEPT rules the engine inserts for later networks, and stops confining.
  if (engineHook && engineHookMisplaced(current)) {
    hookAt(current, "FORWARD", kEngineUserChain, rules);
  }
  if (decl.str().empty() && rules.str().empty()) return {};
  return "*filter\n" + decl.str() + rules.str() + "COMMIT\n";
}

bool engineHookMisplaced(const Table& current) {
  if (hookChain(current, kForwardChain) != kEngineUserChain) return false;
  return !firstAndOnly(current, "FORWARD", kEngineUserChain);
}

Result<void> verify(const Table& current, const PolicyChains& policy,
                    const std::vector<Confinement>& deployments, Family f, bool engineHook) {
  auto missing = [f](const std::string& what) {
    return fail(Errc::kRuleMissing, std::string(toString(f)) + " egress rule missing: " + what);
  };
  for (auto target : {kForwardChain, kHostChain}) {
    const std::string chain = hookChain(current, target);
    const auto& r = current.rules(chain);
    if (r.empty() || r.front() != "-A " + chain + " -j " + std::string(target)) {
      return missing("the jump to " + std::string(target) + " is not the first rule of " + chain);
    }
  }
  if (engineHook && engineHookMisplaced(current)) {
    return missing("FORWARD's jump to " + std::string(kEngineUserChain) +
                   " is not its first rule, or not its only one");
  }
  for (const auto& [chain, want] :
       {std::pair{policy.forward, policy.forwardRules}, std::pair{policy.host, policy.hostRules}}) {
    if (!current.has(chain) || current.rules(chain) != want) {
      return missing("the policy chain " + chain + " is absent or altered");
    }
  }
  for (const Shape& s : {forwardShape(f), hostShape(f)}) {
    const auto& r = current.rules(s.chain);
    if (r.size() < s.head.size() + 1 || !std::equal(s.head.begin(), s.head.end(), r.begin()) ||
        r.back() != s.tail) {
      return missing("the chain " + s.chain + " is absent or out of shape");
    }
  }
  for (const auto& c : deployments) {
    for (const auto& line : deploymentLines(c, policy, f)) {
      const auto& r = current.rules(line.substr(3, line.find(' ', 3) - 3));
      if (std::find(r.begin(), r.end(), line) == r.end()) {
        return missing("deployment " + c.deploymentId + " (" + line + ")");
      }
    }
  }
  return {};
}

}  // namespace pc::egress
