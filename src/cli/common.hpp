#pragma once
/// Shared state and helpers of the peerctl commands.
#include <filesystem>
#include <string>

#include "core/error.hpp"

namespace CLI {
class App;
}

namespace pc::cli {

struct Globals {
  std::filesystem::path home;  ///< --home, else $PEERCOMPUTE_HOME, else ~/.peercompute
  int exitCode = 0;
  std::filesystem::path identityPath() const { return home / "identity.key"; }
  std::filesystem::path trustPath() const { return home / "trusted_peers.json"; }
};

void addInitCommand(CLI::App& app, Globals& g);
void addIdCommand(CLI::App& app, Globals& g);
void addPeersCommand(CLI::App& app, Globals& g);
/// `peers discover`, under the `peers` subcommand.
void addPeersDiscoverCommand(CLI::App& peers, Globals& g);
void addPingCommand(CLI::App& app, Globals& g);
void addDeployCommand(CLI::App& app, Globals& g);
void addStatusCommand(CLI::App& app, Globals& g);
void addTopCommand(CLI::App& app, Globals& g);
void addLogsCommand(CLI::App& app, Globals& g);
void addStopCommand(CLI::App& app, Globals& g);

/// The whole peerctl program; returns its exit code.
int runPeerctl(int argc, char** argv);

}  // namespace pc::cli
