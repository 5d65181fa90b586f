#include "egress/rules.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "egress/error.hpp"

namespace pc::egress {
namespace {

/// Applies iptables-restore --noflush input to a table the way the kernel would (declared
/// chains are flushed; -A appends, -I inserts, -D deletes the first match).
Table applyRestore(Table t, const std::string& payload) {
  std::istringstream in(payload);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(':')) {
      t.chains[line.substr(1, line.find(' ') - 1)].clear();
      continue;
    }
    if (line.size() < 3 || line[0] != '-') continue;
    const char op = line[1];
    const auto chainEnd = line.find(' ', 3);
    const std::string chain = line.substr(3, chainEnd - 3);
    std::string rest = line.substr(chainEnd + 1);
    auto& rules = t.chains[chain];
    if (op == 'A') {
      rules.push_back(line);
    } else if (op == 'I') {
      rest = rest.substr(rest.find(' ') + 1);  // drop the position (always 1 here)
      rules.insert(rules.begin(), "-A " + chain + " " + rest);
    } else if (op == 'D') {
      auto it = std::find(rules.begin(), rules.end(), "-A " + chain + " " + rest);
      if (it != rules.end()) rules.erase(it);
    }
  }
  return t;
}

Table engineTable() {
  return parseSave(
      "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DOCKER\nCOMMIT\n"
      "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
      ":DOCKER-USER - [0:0]\n-A FORWARD -j DOCKER-USER\n-A DOCKER-USER -j RETURN\nCOMMIT\n");
}

Policy lanPolicy() {
  Policy p;
  p.allow = {*AllowEntry::parse("10.9.0.0/24:8080"), *AllowEntry::parse("10.8.0.5")};
  p.deny = {*Cidr::parse("198.18.0.0/15")};
  p.resolvers = {boost::asio::ip::make_address("10.255.255.53")};
  return p;
}

const Confinement kWeb{"dep-web", "pcd-aaaaaaaaaaa", Mode::kInternet};
const Confinement kQuiet{"dep-quiet", "pcd-bbbbbbbbbbb", Mode::kNone};

TEST(EgressRules, ParseSaveKeepsOnlyTheFilterTable) {
  const Table t = engineTable();
  EXPECT_FALSE(t.has("PREROUTING"));
  EXPECT_TRUE(t.has("INPUT"));
  EXPECT_TRUE(t.rules("INPUT").empty());
  ASSERT_EQ(t.rules("DOCKER-USER").size(), 1U);
}

TEST(EgressRules, FromAnEngineTableToConfinedAndIdempotent) {
  const auto pol = renderPolicy(lanPolicy(), Family::kV4);
  Table t = engineTable();
  EXPECT_FALSE(verify(t, pol, {}, Family::kV4));
  t = applyRestore(t, plan(t, pol, {kWeb, kQuiet}, {}, Family::kV4));
  ASSERT_TRUE(verify(t, pol, {kWeb, kQuiet}, Family::kV4));
  EXPECT_EQ(t.rules("DOCKER-USER").front(), "-A DOCKER-USER -j PC-EGRESS");
  EXPECT_EQ(t.rules("INPUT").front(), "-A INPUT -j PC-HOST");
  EXPECT_EQ(plan(t, pol, {kWeb, kQuiet}, {}, Family::kV4), "");  // nothing to change
  // The catch-alls close each shared chain; the deployments sit between head and tail.
  const auto& fwd = t.rules("PC-EGRESS");
  EXPECT_EQ(fwd.back(), "-A PC-EGRESS -i pcd-+ -j REJECT --reject-with icmp-admin-prohibited");
  EXPECT_EQ(fwd[1], "-A PC-EGRESS -o pcd-+ -j REJECT --reject-with icmp-admin-prohibited");
  EXPECT_EQ(fwd.size(), 5U);
}

TEST(EgressRules, PolicyChainOrder) {
  const auto pol = renderPolicy(lanPolicy(), Family::kV4);
  const auto& r = pol.forwardRules;
  const auto at = [&](const std::string& needle) {
    auto it = std::find_if(r.begin(), r.end(),
                           [&](const std::string& l) { return l.find(needle) != l.npos; });
    EXPECT_NE(it, r.end()) << needle;
    return it - r.begin();
  };
  // Resolvers and allowed entries first, then the provider's deny list, then refused ranges.
  EXPECT_LT(at("-d 10.255.255.53/32 -p udp -m udp --dport 53 -j RETURN"), at("-d 10.0.0.0/8 "));
  EXPECT_LT(at("-d 10.9.0.0/24 -p tcp -m tcp --dport 8080 -j RETURN"), at("-d 10.0.0.0/8 "));
  EXPECT_LT(at("-d 10.8.0.5/32 -j RETURN"), at("-d 10.0.0.0/8 "));
  EXPECT_LT(at("-d 198.18.0.0/15 -j REJECT"), at("-d 10.0.0.0/8 "));
  at("-d 169.254.0.0/16 -j REJECT --reject-with icmp-admin-prohibited");
  EXPECT_EQ(pol.hostRules.back(),
            "-A " + pol.host + " -j REJECT --reject-with icmp-admin-prohibited");
  // Toward the host: the resolvers and the one address named, not the shared range.
  const auto& h = pol.hostRules;
  const auto inHost = [&](const std::string& needle) {
    return std::any_of(h.begin(), h.end(),
                       [&](const std::string& l) { return l.find(needle) != l.npos; });
  };
  EXPECT_TRUE(inHost("-d 10.255.255.53/32 -p udp -m udp --dport 53 -j RETURN"));
  EXPECT_TRUE(inHost("-d 10.8.0.5/32 -j RETURN"));
  EXPECT_FALSE(inHost("10.9.0.0/24"));
  // Different policies, different chains; the same policy, the same chain.
  EXPECT_NE(renderPolicy(Policy{}, Family::kV4).forward, pol.forward);
  EXPECT_EQ(renderPolicy(lanPolicy(), Family::kV4).forward, pol.forward);
}

TEST(EgressRules, Ipv6PolicyRefusesOutsideGlobalUnicastAndNat64OfPrivate) {
  const auto pol = renderPolicy(Policy{}, Family::kV6);
  const auto has = [&](const std::string& line) {
    return std::find(pol.forwardRules.begin(), pol.forwardRules.end(),
                     "-A " + pol.forward + " " + line) != pol.forwardRules.end();
  };
  EXPECT_TRUE(has("! -d 2000::/3 -j REJECT --reject-with icmp6-adm-prohibited"));
  EXPECT_TRUE(has("-d 64:ff9b::a00:0/104 -j REJECT --reject-with icmp6-adm-prohibited"));
  EXPECT_TRUE(has("-d 64:ff9b::a9fe:0/112 -j REJECT --reject-with icmp6-adm-prohibited"));
  EXPECT_TRUE(has("-d 64:ff9b::/96 -j RETURN"));
  EXPECT_TRUE(has("-d 2001:db8::/32 -j REJECT --reject-with icmp6-adm-prohibited"));
}

TEST(EgressRules, OtherProvidersLinesSurviveAndReleaseRemovesOnlyOurs) {
  const auto mine = renderPolicy(lanPolicy(), Family::kV4);
  const auto theirs = renderPolicy(Policy{}, Family::kV4);
  const Confinement other{"dep-other", "pcd-ccccccccccc", Mode::kInternet};
  Table t = applyRestore(engineTable(), plan(engineTable(), theirs, {other}, {}, Family::kV4));
  t = applyRestore(t, plan(t, mine, {kWeb}, {}, Family::kV4));
  ASSERT_TRUE(verify(t, mine, {kWeb}, Family::kV4));
  ASSERT_TRUE(verify(t, theirs, {other}, Family::kV4));
  t = applyRestore(t, plan(t, mine, {}, {"dep-web"}, Family::kV4));
  EXPECT_FALSE(verify(t, mine, {kWeb}, Family::kV4));
  EXPECT_TRUE(verify(t, theirs, {other}, Family::kV4));
  EXPECT_TRUE(verify(t, mine, {}, Family::kV4));
}

TEST(EgressRules, AModeChangeReplacesTheLine) {
  const auto pol = renderPolicy(Policy{}, Family::kV4);
  Table t = applyRestore(engineTable(), plan(engineTable(), pol, {kWeb}, {}, Family::kV4));
  Confinement cut = kWeb;
  cut.mode = Mode::kNone;
  t = applyRestore(t, plan(t, pol, {cut}, {}, Family::kV4));
  EXPECT_TRUE(verify(t, pol, {cut}, Family::kV4));
  EXPECT_FALSE(verify(t, pol, {kWeb}, Family::kV4));
  EXPECT_EQ(t.rules("PC-EGRESS").size(), 4U);
}

TEST(EgressRules, TamperingIsFoundAndRepaired) {
  const auto pol = renderPolicy(lanPolicy(), Family::kV4);
  const Table good = applyRestore(engineTable(), plan(engineTable(), pol, {kWeb}, {}, Family::kV4));
  auto check = [&](Table t, const std::string& expect) {
    auto v = verify(t, pol, {kWeb}, Family::kV4);
    ASSERT_FALSE(v) << expect;
    EXPECT_EQ(v.error(), Errc::kRuleMissing);
    EXPECT_NE(v.error().message().find(expect), std::string::npos) << v.error().message();
    t = applyRestore(t, plan(t, pol, {kWeb}, {}, Family::kV4));
    EXPECT_TRUE(verify(t, pol, {kWeb}, Family::kV4)) << expect;
  };
  Table t = good;
  t.chains["DOCKER-USER"].insert(t.chains["DOCKER-USER"].begin(), "-A DOCKER-USER -j ACCEPT");
  check(t, "first rule of DOCKER-USER");
  t = good;
  t.chains["PC-EGRESS"].clear();  // iptables -F PC-EGRESS
  check(t, "PC-EGRESS");
  // iptables -F FORWARD: the user chain is no longer reached. The periodic check finds it and
  // puts the jump back; a deploy does not judge it (the engine moves it around networks).
  t = good;
  t.chains["FORWARD"].clear();
  EXPECT_TRUE(verify(t, pol, {kWeb}, Family::kV4));
  auto v = verify(t, pol, {kWeb}, Family::kV4, true);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message().find("FORWARD's jump to DOCKER-USER"), std::string::npos);
  t = applyRestore(t, plan(t, pol, {kWeb}, {}, Family::kV4, true));
  EXPECT_TRUE(verify(t, pol, {kWeb}, Family::kV4, true));
  EXPECT_EQ(t.rules("FORWARD").front(), "-A FORWARD -j DOCKER-USER");
  EXPECT_EQ(plan(t, pol, {kWeb}, {}, Family::kV4, true), "");
  // Further down, below an engine ACCEPT (a copy the engine's re-insert left behind, which
  // then sank): traffic is accepted before it reaches our chain, so it is moved first.
  const std::string accept = "-A FORWARD -i br-x ! -o br-x -j ACCEPT";
  t.chains["FORWARD"].insert(t.chains["FORWARD"].begin(), accept);
  ASSERT_FALSE(verify(t, pol, {kWeb}, Family::kV4, true));
  t = applyRestore(t, plan(t, pol, {kWeb}, {}, Family::kV4, true));
  EXPECT_TRUE(verify(t, pol, {kWeb}, Family::kV4, true));
  EXPECT_EQ(t.rules("FORWARD"), (std::vector<std::string>{"-A FORWARD -j DOCKER-USER", accept}));
  // Two copies, the first in place: one deletion of a copy must not leave the chain unreached.
  t.chains["FORWARD"].push_back("-A FORWARD -j DOCKER-USER");
  ASSERT_FALSE(verify(t, pol, {kWeb}, Family::kV4, true));
  EXPECT_TRUE(verify(t, pol, {kWeb}, Family::kV4));  // a deploy does not judge it
  t = applyRestore(t, plan(t, pol, {kWeb}, {}, Family::kV4, true));
  EXPECT_EQ(t.rules("FORWARD"), (std::vector<std::string>{"-A FORWARD -j DOCKER-USER", accept}));
  t = good;
  t.chains[pol.forward].pop_back();
  check(t, pol.forward);
  t = good;
  t.chains.erase("PC-HOST");
  t.chains["INPUT"].clear();
  check(t, "PC-HOST");
  t = good;
  auto& fwd = t.chains["PC-EGRESS"];
  fwd.erase(fwd.begin() + 2);
  check(t, "deployment dep-web");
}

TEST(EgressRules, WithoutAnEngineUserChainTheHookGoesInForward) {
  const auto pol = renderPolicy(Policy{}, Family::kV6);
  Table t = parseSave("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\nCOMMIT\n");
  t = applyRestore(t, plan(t, pol, {kWeb}, {}, Family::kV6));
  EXPECT_EQ(t.rules("FORWARD").front(), "-A FORWARD -j PC-EGRESS");
  EXPECT_TRUE(verify(t, pol, {kWeb}, Family::kV6));
}

}  // namespace
}  // namespace pc::egress
