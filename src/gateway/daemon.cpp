#include "gateway/daemon.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <iostream>

#include "admin/log_format.hpp"
#include "admin/site.hpp"
#include "dns/server.hpp"
#include "gateway/node.hpp"
#include "net/run_until_signal.hpp"

namespace pc::gateway {

namespace {

void printBanner(const GatewayNode& node, const std::string& version) {
  const auto& cfg = node.config();
  std::cout << "peergateway " << version << "\nPeer ID: " << node.peerId().toBase58() << "\n";
  for (const auto& a : node.tunnelAddrs())
    std::cout << "Tunnel listening on " << a.toString() << "\n";
  std::cout << "HTTP listening on " << node.httpAddr().toString() << "; deployments at "
            << cfg.urlFor("<deployment-id>") << "\n";
  if (node.httpsAddr()) {
    std::cout << "HTTPS listening on " << node.httpsAddr()->toString()
              << " (HTTP redirects to it)\n";
  }
  if (const auto& dns = node.dns()) {
    const auto ep = dns->endpoint();
    std::cout << "DNS listening on " << ep.address().to_string() << ":" << ep.port()
              << " (UDP, TCP), authoritative for " << cfg.domain << " with "
              << dns->zone().addresses().size() << " public address(es)\n";
  }
  if (const auto* admin = node.adminServer()) {
    std::cout << admin::describe(*admin, !cfg.admin.tokenFile.empty()) << "\n";
  }
  if (!cfg.peerGateways.empty()) {
    std::cout << "Peer gateways: " << cfg.peerGateways.size() << " listed for " << cfg.domain
              << " (heartbeat every " << cfg.peerHeartbeatInterval.count() << " ms, dead after "
              << cfg.peerMissedHeartbeats << " missed; DNS TTL " << cfg.effectiveDnsTtl().count()
              << " s)\n";
  }
  std::cout << "Allowed providers: " << node.allowedProviders()
            << " (manage with: peergateway providers add <peer-id> --data-dir "
            << cfg.dataDir.string() << ")" << std::endl;
}

}  // namespace

int runGateway(const GatewayConfig& cfg, const std::string& version) {
  admin::installLogger("peergateway", cfg.admin.logFormat);
  net::asio::io_context io(1);
  auto node = GatewayNode::start(io.get_executor(), cfg, version);
  if (!node) {
    std::cerr << "error: " << node.error().message() << "\n";
    return 1;
  }
  printBanner(**node, version);
  net::runUntilSignal(io, [&node] { return (*node)->shutdown(); });
  std::cout << "peergateway stopped" << std::endl;
  return 0;
}

}  // namespace pc::gateway
