// `peerctl peers discover`: which libp2p peers answer mDNS on the LAN, marking trusted ones.
// Listing a peer trusts nothing: `peers add` stays the only way onto the trust list.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <iostream>

#include "cli/common.hpp"
#include "cli/table.hpp"
#include "core/units.hpp"
#include "crypto/identity.hpp"
#include "net/mdns/service.hpp"
#include "trust/trust_store.hpp"

namespace pc::cli {
namespace {

struct DiscoverArgs {
  std::string timeout = "3s";
  std::string output = "table";
};

int runDiscover(const Globals& g, const DiscoverArgs& a) {
  auto timeout = units::parseDuration(a.timeout);
  if (!timeout) return reportError(timeout.error().context("--timeout"));
  auto trust = trust::TrustStore::load(g.trustPath());
  if (!trust) return reportError(trust.error());
  // Our own id only serves to not list ourselves; without an identity yet, any id does.
  auto id = crypto::Identity::load(g.identityPath());
  if (!id) id = crypto::Identity::generate();
  if (!id) return reportError(id.error());

  net::asio::io_context io(1);
  net::mdns::ServiceConfig cfg;
  cfg.respond = false;
  cfg.ephemeralFallback = true;
  cfg.preferred = [&trust](const crypto::PeerId& p) { return trust->isTrusted(p); };
  auto service = net::mdns::Service::start(io.get_executor(), id->peerId(), {}, cfg);
  if (!service) return reportError(service.error());
  if ((*service)->interfaceCount() == 0) {
    std::cerr << "warning: no multicast-capable network interface is up; nothing can answer\n";
  }
  net::asio::steady_timer done(io, *timeout);
  done.async_wait([&](boost::system::error_code) { (*service)->stop(); });
  io.run();
  const auto peers = (*service)->peers();

  if (a.output == "json") {
    boost::json::array arr;
    for (const auto& p : peers) {
      boost::json::array addrs;
      for (const auto& m : p.addrs) addrs.emplace_back(m.toString());
      boost::json::object o{{"peer_id", p.id.toBase58()}, {"addrs", std::move(addrs)}};
      const auto* t = trust->find(p.id);
      o["trusted"] = t != nullptr;
      o["name"] = t ? boost::json::value(t->name) : boost::json::value(nullptr);
      arr.emplace_back(std::move(o));
    }
    std::cout << boost::json::serialize(arr) << "\n";
    return 0;
  }
  if (peers.empty()) {
    std::cout << "No peers answered on the LAN within " << a.timeout << ".\n";
    return 0;
  }
  Table t({"PEER ID", "TRUSTED AS", "ADDRESSES"});
  for (const auto& p : peers) {
    std::string addrs;
    for (const auto& m : p.addrs) addrs += (addrs.empty() ? "" : ",") + m.toString();
    const auto* tp = trust->find(p.id);
    t.addRow({p.id.toBase58(), tp ? tp->name : "- (not trusted)", addrs});
  }
  t.print(std::cout);
  return 0;
}

}  // namespace

void addPeersDiscoverCommand(CLI::App& peers, Globals& g) {
  auto args = std::make_shared<DiscoverArgs>();
  auto* cmd = peers.add_subcommand(
      "discover", "List libp2p peers that answer mDNS on the local network (trusts nobody)");
  cmd->add_option("--timeout", args->timeout, "How long to listen (default 3s)");
  cmd->add_option("-o,--output", args->output, "Output format")
      ->check(CLI::IsMember({"table", "json"}));
  cmd->callback([&g, args] { g.exitCode = runDiscover(g, *args); });
}

}  // namespace pc::cli
