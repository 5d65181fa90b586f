#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/common.hpp"
#include "crypto/identity.hpp"

namespace pc::cli {

void addInitCommand(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("init", "Create this node's Ed25519 identity");
  auto force = std::make_shared<bool>(false);
  cmd->add_flag("--force", *force, "Replace an existing identity (its Peer ID is lost)");
  cmd->callback([&g, force] {
    const auto path = g.identityPath();
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && !*force) {
      auto existing = crypto::Identity::load(path);
      std::cerr << "error: an identity already exists at " << path.string();
      if (existing) std::cerr << " (Peer ID " << existing->peerId().toBase58() << ")";
      std::cerr << "; use --force to replace it\n";
      g.exitCode = 1;
      return;
    }
    auto id = crypto::Identity::generate();
    if (!id) {
      g.exitCode = reportError(id.error());
      return;
    }
    if (auto r = id->save(path); !r) {
      g.exitCode = reportError(r.error());
      return;
    }
    std::cout << "Created identity " << path.string() << "\n"
              << "Peer ID: " << id->peerId().toBase58() << "\n";
  });
}

void addIdCommand(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("id", "Print this node's Peer ID");
  auto cid = std::make_shared<bool>(false);
  cmd->add_flag("--cid", *cid, "Print the CIDv1 (base32) form instead");
  cmd->callback([&g, cid] {
    auto id = crypto::Identity::load(g.identityPath());
    if (!id) {
      g.exitCode = reportError(id.error());
      return;
    }
    std::cout << (*cid ? id->peerId().toCid() : id->peerId().toBase58()) << "\n";
  });
}

}  // namespace pc::cli
