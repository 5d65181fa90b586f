#include "provider/daemon.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <iostream>

#include "admin/log_format.hpp"
#include "admin/site.hpp"
#include "net/run_until_signal.hpp"
#include "provider/node.hpp"

namespace pc::provider {

namespace {

/// What an operator needs to see at start: who we are, where we listen, what we offer.
void printBanner(const ProviderNode& node, const ProviderConfig& cfg, const std::string& version) {
  if (node.info().createdIdentity) {
    std::cout << "Created identity " << (cfg.dataDir / "identity.key").string() << "\n";
  }
  std::cout << "peercomputed " << version << "\nPeer ID: " << node.peerId().toBase58() << "\n";
  for (const auto& a : node.listenAddrs()) std::cout << "Listening on " << a.toString() << "\n";
  if (node.info().mdnsInterfaces > 0) {
    std::cout << "mDNS: answering _p2p._udp.local on " << node.info().mdnsInterfaces
              << " interface(s) (disable with --no-mdns)\n";
  }
  std::cout << "Trusted peers: " << node.info().trustedPeers
            << " (manage with: PEERCOMPUTE_HOME=" << cfg.dataDir.string()
            << " peerctl peers add …)\n";
  std::cout << "Capacity: " << cfg.maxCpuMillis << "m CPU, " << (cfg.maxMemoryBytes >> 20)
            << " MiB memory, " << cfg.maxDeployments << " deployments (" << cfg.maxPerPeer
            << " per peer); registries:";
  for (const auto& r : cfg.allowedRegistries) std::cout << " " << r;
  std::cout << "\n";
  if (const auto* admin = node.adminServer()) {
    std::cout << admin::describe(*admin, !cfg.admin.tokenFile.empty()) << "\n";
  }
  // Validated before the node started.
  for (const auto& gw : cfg.gatewayAddrs().value()) {
    std::cout << "Gateway: " << gw.toString() << " (tunnel dialled out; no inbound port needed)\n";
  }
  std::cout << std::flush;
}

}  // namespace

int runDaemon(const DaemonOptions& options) {
  const ProviderConfig& cfg = options.config;
  // Logs go to stderr and are flushed per line: a daemon's refusals must reach its log at once,
  // not when stdio buffers happen to fill.
  admin::installLogger("peercomputed", cfg.admin.logFormat);  // SPDLOG_LEVEL=debug works too
  net::asio::io_context io(1);
  auto node = ProviderNode::start(io.get_executor(), cfg, options.version);
  if (!node) {
    std::cerr << "error: " << node.error().message() << "\n";
    return 1;
  }
  printBanner(**node, cfg, options.version);
  // Reservations arrive after start (and again after a relay restarts): each change is printed.
  (*node)->onRelayedAddrs([](const std::vector<net::Multiaddr>& addrs) {
    if (addrs.empty()) std::cout << "Relayed: none held now (reserving again)\n";
    for (const auto& a : addrs) std::cout << "Relayed address: " << a.toString() << "\n";
    std::cout << std::flush;
  });
  net::runUntilSignal(io, [&node] { return (*node)->shutdown(); });
  std::cout << "peercomputed stopped" << std::endl;
  return 0;
}

}  // namespace pc::provider
