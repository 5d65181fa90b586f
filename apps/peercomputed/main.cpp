#include <CLI/CLI.hpp>

#include "core/fs.hpp"
#include "provider/daemon.hpp"

int main(int argc, char** argv) {
  CLI::App app{"peercomputed — runs containers for the peers you trust"};
  app.set_version_flag("--version", std::string("peercomputed ") + PC_VERSION);
  pc::provider::DaemonOptions opts;
  opts.version = PC_VERSION;
  std::string dataDir;
  opts.listen = {"/ip4/0.0.0.0/tcp/9000"};
  app.add_option("--listen", opts.listen, "Multiaddr to listen on (repeatable)")
      ->capture_default_str();
  app.add_option("--data-dir", dataDir,
                 "State directory (default: $PEERCOMPUTE_HOME or ~/.peercompute)");
  CLI11_PARSE(app, argc, argv);
  opts.dataDir = dataDir.empty() ? pc::fs::defaultHome() : std::filesystem::path(dataDir);
  return pc::provider::runDaemon(opts);
}
