#pragma once
/// `peergateway providers add|remove|list`: the allowlist of providers that may open tunnels
/// (`allowed_providers.json` in the data dir; the running gateway reloads it live).
#include <filesystem>
#include <string>

namespace pc::gateway {

struct ProvidersCommand {
  enum class Verb { kAdd, kRemove, kList } verb = Verb::kList;
  std::filesystem::path dataDir;
  std::string provider;          ///< add: a Peer ID; remove: a Peer ID or name
  std::string name;              ///< add: optional name
  std::string output = "table";  ///< list: table | json
};

/// Runs the command; prints the result to stdout, an error to stderr. Returns the exit code.
int runProvidersCommand(const ProvidersCommand& c);

}  // namespace pc::gateway
