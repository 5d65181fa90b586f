#include <CLI/CLI.hpp>
#include <iostream>

#include "config/binder.hpp"
#include "core/fs.hpp"
#include "provider/daemon.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "peercomputed — runs locked-down containers for the peers you trust\n\n"
      "Settings come from the defaults, then <data-dir>/config.toml (or --config), then flags."};
  app.set_version_flag("--version", std::string("peercomputed ") + PC_VERSION);
  pc::provider::DaemonOptions opts;
  opts.version = PC_VERSION;
  auto& cfg = opts.config;
  cfg.dataDir = pc::fs::defaultHome();
  pc::config::Binder settings;
  pc::provider::bindSettings(settings, cfg);
  std::string configFile;
  app.add_option("--config", configFile,
                 "TOML config file (default: <data-dir>/config.toml if present)");
  settings.addFlags(app);
  app.footer("TOML keys: " + settings.keys());
  CLI11_PARSE(app, argc, argv);

  // A configuration error (file, flag or value) exits 2, like a usage error.
  auto r = settings.applyLayers(configFile, [&cfg] { return cfg.dataDir / "config.toml"; });
  if (r) r = cfg.validate();
  if (!r) {
    std::cerr << "error: " << r.error().message() << "\n";
    return 2;
  }
  return pc::provider::runDaemon(opts);
}
