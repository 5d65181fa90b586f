#pragma once
/// peercomputed's long-running node: identity and trust list from the data dir, a libp2p host
/// that admits only trusted peers (identify, ping and the Peer Compute protocols), the scheduler
/// over the Docker engine, SQLite state and the audit log.
#include <string>

#include "provider/config.hpp"

namespace pc::provider {

struct DaemonOptions {
  ProviderConfig config;
  std::string version;
};

/// Runs until SIGINT/SIGTERM. Returns the process exit code; start-up problems are printed.
int runDaemon(const DaemonOptions& options);

}  // namespace pc::provider
