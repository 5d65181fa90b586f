#include <CLI/CLI.hpp>
#include <iostream>

#include "core/fs.hpp"
#include "core/units.hpp"
#include "provider/daemon.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "peercomputed — runs locked-down containers for the peers you trust\n\n"
      "Settings come from the defaults, then <data-dir>/config.toml (or --config), then flags."};
  app.set_version_flag("--version", std::string("peercomputed ") + PC_VERSION);
  std::vector<std::string> listen;
  std::string dataDir, configFile, maxCpu, maxMemory, runtimeName, gateway, stopGrace;
  std::vector<std::string> registries;
  std::uint32_t maxDeployments = 0, maxPerPeer = 0;
  bool stopOnExit = false, noMdns = false;
  app.add_option("--listen", listen,
                 "Multiaddr to listen on, repeatable (default /ip4/0.0.0.0/tcp/9000)");
  app.add_option("--data-dir", dataDir,
                 "State directory: identity, trust list, provider.db, audit.jsonl, config.toml "
                 "(default: $PEERCOMPUTE_HOME or ~/.peercompute)");
  app.add_option("--config", configFile,
                 "TOML config file (default: <data-dir>/config.toml if present)");
  app.add_option("--max-cpu", maxCpu,
                 "CPU for all deployments in millicores (4000), or cores with a decimal point "
                 "(4.0); default 4000");
  app.add_option("--max-memory", maxMemory, "Memory for all deployments (e.g. 4G; default 4G)");
  app.add_option("--max-deployments", maxDeployments, "Deployments at once (default 10)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--max-per-peer", maxPerPeer, "Deployments one peer may run at once (default 5)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--allow-registry", registries,
                 "Allowed image source, repeatable: registry[/repository-prefix] "
                 "(default docker.io, ghcr.io, quay.io)");
  app.add_option("--runtime", runtimeName,
                 "OCI runtime for deployments, e.g. runsc (default: the engine's)");
  app.add_option("--gateway", gateway, "Gateway multiaddr with /p2p/<id> (public URLs)");
  app.add_flag("--stop-on-exit", stopOnExit, "Stop running deployments when the daemon exits");
  app.add_flag("--no-mdns", noMdns,
               "Do not answer or send mDNS queries (LAN discovery, on by default)");
  app.add_option("--stop-grace", stopGrace,
                 "Time between SIGTERM and SIGKILL on stop (default 10s)");
  CLI11_PARSE(app, argc, argv);

  pc::provider::DaemonOptions opts;
  opts.version = PC_VERSION;
  auto& cfg = opts.config;
  cfg.dataDir = dataDir.empty() ? pc::fs::defaultHome() : std::filesystem::path(dataDir);
  auto die = [](const std::string& msg) {
    std::cerr << "error: " << msg << "\n";
    return 2;
  };
  const std::filesystem::path cfgPath =
      configFile.empty() ? cfg.dataDir / "config.toml" : std::filesystem::path(configFile);
  if (!configFile.empty() || std::filesystem::exists(cfgPath)) {
    if (auto r = pc::provider::applyTomlFile(cfgPath, cfg); !r) return die(r.error().message());
    // --data-dir on the command line wins over the file's data_dir.
    if (!dataDir.empty()) cfg.dataDir = dataDir;
  }
  if (!listen.empty()) cfg.listen = listen;
  if (!maxCpu.empty()) {
    auto v = pc::provider::parseMaxCpu(maxCpu);
    if (!v) return die("--max-cpu: " + v.error().message());
    cfg.maxCpuMillis = *v;
  }
  if (!maxMemory.empty()) {
    auto v = pc::units::parseBytes(maxMemory);
    if (!v) return die("--max-memory: " + v.error().message());
    cfg.maxMemoryBytes = *v;
  }
  if (maxDeployments != 0) cfg.maxDeployments = maxDeployments;
  if (maxPerPeer != 0) cfg.maxPerPeer = maxPerPeer;
  if (!registries.empty()) cfg.allowedRegistries = registries;
  if (!runtimeName.empty()) cfg.ociRuntime = runtimeName;
  if (!gateway.empty()) cfg.gateway = gateway;
  if (stopOnExit) cfg.stopOnExit = true;
  if (noMdns) cfg.mdns = false;
  if (!stopGrace.empty()) {
    auto v = pc::units::parseDuration(stopGrace);
    if (!v) return die("--stop-grace: " + v.error().message());
    cfg.stopGrace = std::chrono::duration_cast<std::chrono::seconds>(*v);
  }
  return pc::provider::runDaemon(opts);
}
