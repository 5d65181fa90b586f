// `peerctl peers discover`: which libp2p peers answer mDNS on the LAN, marking trusted ones.
// Listing a peer trusts nothing: `peers add` stays the only way onto the trust list.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>

#include "cli/common.hpp"
#include "cli/json_output.hpp"
#include "cli/printer.hpp"
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

/// Listens on the LAN for `timeout` and returns who answered.
Result<std::vector<FoundPeer>> listen(const Globals& g, std::chrono::milliseconds timeout,
                                      Printer& out) {
  auto trust = trust::TrustStore::load(g.trustPath());
  if (!trust) {
    return trust.error();
  }
  // Our own id only serves to not list ourselves; without an identity yet, any id does.
  auto id = crypto::Identity::load(g.identityPath());
  if (!id) {
    id = crypto::Identity::generate();
  }
  if (!id) {
    return id.error();
  }
  net::asio::io_context io(1);
  net::mdns::ServiceConfig cfg;
  cfg.respond = false;
  cfg.ephemeralFallback = true;
  cfg.preferred = [&trust](const crypto::PeerId& p) { return trust->isTrusted(p); };
  auto service = net::mdns::Service::start(io.get_executor(), id->peerId(), {}, cfg);
  if (!service) {
    return service.error();
  }
  if ((*service)->interfaceCount() == 0) {
    out.streamErr("warning: no multicast-capable network interface is up; nothing can answer\n");
  }
  net::asio::steady_timer done(io, timeout);
  done.async_wait([&](boost::system::error_code) { (*service)->stop(); });
  io.run();
  std::vector<FoundPeer> found;
  for (const auto& p : (*service)->peers()) {
    FoundPeer f{p.id.toBase58(), {}, std::nullopt};
    for (const auto& m : p.addrs) {
      f.addrs.push_back(m.toString());
    }
    if (const auto* t = trust->find(p.id)) {
      f.trustedAs = t->name;
    }
    found.push_back(std::move(f));
  }
  return found;
}

Report runDiscover(const Globals& g, const DiscoverArgs& a, Printer& out) {
  auto timeout = units::parseDuration(a.timeout);
  if (!timeout) {
    return Report::failure(timeout.error().context("--timeout"));
  }
  auto peers = listen(g, *timeout, out);
  if (!peers) {
    return Report::failure(peers.error());
  }
  Report r;
  r.json = foundPeersJson(*peers);
  if (peers->empty()) {
    r.text = "No peers answered on the LAN within " + a.timeout + ".\n";
    return r;
  }
  Table t({"PEER ID", "TRUSTED AS", "ADDRESSES"});
  for (const auto& p : *peers) {
    std::string addrs;
    for (const auto& m : p.addrs) {
      addrs += (addrs.empty() ? "" : ",") + m;
    }
    t.addRow({p.peerId, p.trustedAs.value_or("- (not trusted)"), addrs});
  }
  r.text = t.render();
  return r;
}

}  // namespace

void addPeersDiscoverCommand(CLI::App& peers, Globals& g) {
  auto args = std::make_shared<DiscoverArgs>();
  auto* cmd = peers.add_subcommand(
      "discover", "List libp2p peers that answer mDNS on the local network (trusts nobody)");
  cmd->add_option("--timeout", args->timeout, "How long to listen (default 3s)");
  cmd->add_option("-o,--output", args->output, "Output format")
      ->check(CLI::IsMember({"table", "json"}));
  cmd->callback([&g, args] {
    g.exitCode = runPrinted(outputFormat(args->output),
                            [&](Printer& out) { return runDiscover(g, *args, out); });
  });
}

}  // namespace pc::cli
