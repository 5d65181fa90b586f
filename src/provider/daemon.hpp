#pragma once
/// peercomputed's long-running node: identity and trust list from the data dir, a libp2p host
/// that admits only trusted peers, identify and ping. Deploy handlers attach here (provider issue).
#include <filesystem>
#include <string>
#include <vector>

namespace pc::provider {

struct DaemonOptions {
  std::filesystem::path dataDir;
  std::vector<std::string> listen;  ///< multiaddrs
  std::string version;
};

/// Runs until SIGINT/SIGTERM. Returns the process exit code; start-up problems are printed.
int runDaemon(const DaemonOptions& options);

}  // namespace pc::provider
