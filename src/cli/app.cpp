#include <spdlog/cfg/env.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "cli/common.hpp"
#include "core/fs.hpp"

namespace pc::cli {

int runPeerctl(int argc, char** argv) {
  // Diagnostics: SPDLOG_LEVEL=debug follows dialling, relays and hole punching (stderr).
  spdlog::cfg::load_env_levels();
  CLI::App app{"peerctl — deploy containers on the machines of peers you trust"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("peerctl ") + PC_VERSION);
  Globals g;
  std::string home;
  app.add_option("--home", home, "State directory (default: $PEERCOMPUTE_HOME or ~/.peercompute)");
  app.parse_complete_callback(
      [&] { g.home = home.empty() ? fs::defaultHome() : std::filesystem::path(home); });
  addInitCommand(app, g);
  addIdCommand(app, g);
  addPeersCommand(app, g);
  addPingCommand(app, g);
  addDeployCommand(app, g);
  addStatusCommand(app, g);
  addTopCommand(app, g);
  addLogsCommand(app, g);
  addStopCommand(app, g);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return g.exitCode;
}

}  // namespace pc::cli
