#include <CLI/CLI.hpp>

#include "cli/common.hpp"
#include "cli/printer.hpp"
#include "crypto/identity.hpp"

namespace pc::cli {
namespace {

Report runInit(const Globals& g, bool force) {
  const auto path = g.identityPath();
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !force) {
    auto existing = crypto::Identity::load(path);
    std::string message = "an identity already exists at " + path.string();
    if (existing) {
      message += " (Peer ID " + existing->peerId().toBase58() + ")";
    }
    return Report::failure(fail(Errc::kAlreadyExists, message + "; use --force to replace it"));
  }
  auto id = crypto::Identity::generate();
  if (!id) {
    return Report::failure(id.error());
  }
  if (auto r = id->save(path); !r) {
    return Report::failure(r.error());
  }
  return Report::ofText("Created identity " + path.string() + "\n" +
                        "Peer ID: " + id->peerId().toBase58() + "\n");
}

Report runId(const Globals& g, bool cid) {
  auto id = crypto::Identity::load(g.identityPath());
  if (!id) {
    return Report::failure(id.error());
  }
  return Report::ofText((cid ? id->peerId().toCid() : id->peerId().toBase58()) + "\n");
}

}  // namespace

void addInitCommand(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("init", "Create this node's Ed25519 identity");
  auto force = std::make_shared<bool>(false);
  cmd->add_flag("--force", *force, "Replace an existing identity (its Peer ID is lost)");
  cmd->callback([&g, force] {
    g.exitCode = runPrinted(OutputFormat::kTable, [&](Printer&) { return runInit(g, *force); });
  });
}

void addIdCommand(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("id", "Print this node's Peer ID");
  auto cid = std::make_shared<bool>(false);
  cmd->add_flag("--cid", *cid, "Print the CIDv1 (base32) form instead");
  cmd->callback([&g, cid] {
    g.exitCode = runPrinted(OutputFormat::kTable, [&](Printer&) { return runId(g, *cid); });
  });
}

}  // namespace pc::cli
