#include <CLI/CLI.hpp>
#include <iostream>

#include "config/binder.hpp"
#include "core/fs.hpp"
#include "gateway/daemon.hpp"
#include "gateway/providers_cmd.hpp"

namespace {

using pc::gateway::ProvidersCommand;

/// `providers add|remove|list`; returns the subcommand whose `parsed()` says it was chosen.
CLI::App* addProvidersCommand(CLI::App& app, ProvidersCommand& c) {
  auto* providers = app.add_subcommand("providers", "Manage the providers allowed to open tunnels");
  auto* add = providers->add_subcommand("add", "Allow a provider (its Peer ID)");
  add->add_option("peer-id", c.provider, "Provider Peer ID")->required();
  add->add_option("--name", c.name, "A name for it");
  add->callback([&c] { c.verb = ProvidersCommand::Verb::kAdd; });
  auto* rm = providers->add_subcommand("remove", "Disallow a provider (its routes go at once)");
  rm->alias("rm");
  rm->add_option("provider", c.provider, "Peer ID or name")->required();
  rm->callback([&c] { c.verb = ProvidersCommand::Verb::kRemove; });
  auto* ls = providers->add_subcommand("list", "List allowed providers");
  ls->alias("ls");
  ls->add_option("-o,--output", c.output, "table or json")->check(CLI::IsMember({"table", "json"}));
  ls->callback([&c] { c.verb = ProvidersCommand::Verb::kList; });
  providers->require_subcommand(1);
  return providers;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "peergateway — public HTTP ingress for Peer Compute deployments, over reverse tunnels\n\n"
      "Settings come from the defaults, then <data-dir>/gateway.toml (or --config), then flags."};
  app.set_version_flag("--version", std::string("peergateway ") + PC_VERSION);
  pc::gateway::GatewayConfig cfg;
  cfg.dataDir = pc::fs::defaultHome();
  pc::config::Binder settings;
  pc::gateway::bindSettings(settings, cfg);
  std::string configFile;
  app.add_option("--config", configFile, "TOML config file");
  settings.addFlags(app);
  app.footer("TOML keys: " + settings.keys());
  ProvidersCommand providersCmd;
  auto* providers = addProvidersCommand(app, providersCmd);
  CLI11_PARSE(app, argc, argv);

  // A configuration error (file, flag or value) exits 2, like a usage error.
  auto die = [](const pc::Error& e) {
    std::cerr << "error: " << e.message() << "\n";
    return 2;
  };
  if (providers->parsed()) {
    // The allowlist lives in the data dir: only --data-dir matters here.
    if (auto r = settings.applyFlags(); !r) return die(r.error());
    providersCmd.dataDir = cfg.dataDir;
    return pc::gateway::runProvidersCommand(providersCmd);
  }
  auto r = settings.applyLayers(configFile, [&cfg] { return cfg.dataDir / "gateway.toml"; });
  if (r) r = cfg.validate();
  if (!r) return die(r.error());
  return pc::gateway::runGateway(cfg, PC_VERSION);
}
