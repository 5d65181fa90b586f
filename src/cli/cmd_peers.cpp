#include <CLI/CLI.hpp>

#include "cli/common.hpp"
#include "cli/json_output.hpp"
#include "cli/printer.hpp"
#include "cli/table.hpp"
#include "crypto/identity.hpp"
#include "trust/trust_store.hpp"

namespace pc::cli {
namespace {

Report addPeer(const Globals& g, const std::string& idText, std::string name,
               const std::vector<std::string>& addrTexts) {
  auto id = crypto::PeerId::parse(idText);
  if (!id) {
    return Report::failure(id.error());
  }
  // Trusting ourselves would be meaningless and usually means the wrong id was pasted.
  if (auto self = crypto::Identity::load(g.identityPath()); self && self->peerId() == *id) {
    return Report::failure(Error(make_error_code(pc::Errc::kInvalidArgument),
                                 "that is this node's own Peer ID; add the other peer's id"));
  }
  std::vector<net::Multiaddr> addrs;
  for (const auto& a : addrTexts) {
    auto ma = net::Multiaddr::parse(a);
    if (!ma) {
      return Report::failure(ma.error().context("--addr " + a));
    }
    addrs.push_back(std::move(*ma));
  }
  if (name.empty()) {
    // A short default name from the id's tail; unique with overwhelming probability.
    const auto text = id->toBase58();
    name = "peer-" + text.substr(text.size() - 6);
  }
  trust::TrustedPeer peer{*id, name, std::move(addrs), trust::nowRfc3339()};
  auto store =
      trust::TrustStore::modify(g.trustPath(), [&](trust::TrustStore& s) { return s.add(peer); });
  if (!store) {
    return Report::failure(store.error());
  }
  return Report::ofText("Trusted " + peer.id.toBase58() + " as '" + peer.name + "'\n");
}

Report removePeer(const Globals& g, const std::string& idOrName) {
  std::optional<trust::TrustedPeer> removed;
  auto store = trust::TrustStore::modify(g.trustPath(), [&](trust::TrustStore& s) -> Result<void> {
    auto r = s.remove(idOrName);
    if (!r) return r.error();
    removed = std::move(*r);
    return {};
  });
  if (!store) {
    return Report::failure(store.error());
  }
  return Report::ofText("Removed '" + removed->name + "' (" + removed->id.toBase58() + ")\n");
}

Report listPeers(const Globals& g) {
  auto store = trust::TrustStore::load(g.trustPath());
  if (!store) {
    return Report::failure(store.error());
  }
  Report r;
  r.json = trustedPeersJson(store->peers());
  if (store->peers().empty()) {
    r.text = "No trusted peers. Add one with `peerctl peers add <peer-id> --name NAME`.\n";
    return r;
  }
  Table t({"NAME", "PEER ID", "ADDRESSES", "ADDED"});
  for (const auto& p : store->peers()) {
    std::string addrs;
    for (const auto& a : p.addrs) {
      addrs += (addrs.empty() ? "" : ",") + a.toString();
    }
    t.addRow({p.name, p.id.toBase58(), addrs.empty() ? "-" : addrs, p.addedAt});
  }
  r.text = t.render();
  return r;
}

}  // namespace

void addPeersCommand(CLI::App& app, Globals& g) {
  auto* peers = app.add_subcommand("peers", "Manage the list of trusted peers");
  peers->require_subcommand(1);

  struct AddArgs {
    std::string id, name;
    std::vector<std::string> addrs;
  };
  auto add = std::make_shared<AddArgs>();
  auto* addCmd = peers->add_subcommand("add", "Trust a peer");
  addCmd->add_option("peer-id", add->id, "Peer ID (12D3KooW… or CIDv1)")->required();
  addCmd->add_option("--name", add->name, "Unique short name (default: peer-<id tail>)");
  addCmd->add_option("--addr", add->addrs, "Multiaddr where the peer listens (repeatable)");
  addCmd->callback([&g, add] {
    g.exitCode = runPrinted(OutputFormat::kTable,
                            [&](Printer&) { return addPeer(g, add->id, add->name, add->addrs); });
  });

  auto target = std::make_shared<std::string>();
  auto* rmCmd = peers->add_subcommand("remove", "Stop trusting a peer");
  rmCmd->alias("rm");
  rmCmd->add_option("peer", *target, "Peer ID or name")->required();
  rmCmd->callback([&g, target] {
    g.exitCode = runPrinted(OutputFormat::kTable, [&](Printer&) { return removePeer(g, *target); });
  });

  auto output = std::make_shared<std::string>("table");
  auto* lsCmd = peers->add_subcommand("list", "List trusted peers");
  lsCmd->alias("ls");
  lsCmd->add_option("-o,--output", *output, "Output format")
      ->check(CLI::IsMember({"table", "json"}));
  lsCmd->callback([&g, output] {
    g.exitCode = runPrinted(outputFormat(*output), [&](Printer&) { return listPeers(g); });
  });

  addPeersDiscoverCommand(*peers, g);
}

}  // namespace pc::cli
