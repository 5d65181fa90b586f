#include "provider/daemon.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "core/fs.hpp"
#include "crypto/identity.hpp"
#include "net/host.hpp"
#include "trust/trust_store.hpp"

namespace pc::provider {

int runDaemon(const DaemonOptions& options) {
  // Logs go to stderr and are flushed per line: a daemon's refusals must reach its log at once,
  // not when stdio buffers happen to fill.
  spdlog::set_default_logger(spdlog::stderr_color_mt("peercomputed"));
  spdlog::flush_on(spdlog::level::info);
  if (auto r = fs::ensurePrivateDir(options.dataDir); !r) {
    std::cerr << "error: " << r.error().message() << "\n";
    return 1;
  }
  const auto keyPath = options.dataDir / "identity.key";
  auto identity = crypto::Identity::load(keyPath);
  if (!identity && !std::filesystem::exists(keyPath)) {
    identity = crypto::Identity::generate();
    if (identity) {
      if (auto r = identity->save(keyPath); !r) identity = r.error();
    }
    if (identity) std::cout << "Created identity " << keyPath.string() << std::endl;
  }
  if (!identity) {
    std::cerr << "error: " << identity.error().message() << "\n";
    return 1;
  }
  // A corrupt trust list stops start-up: running with an unknown trust list is not an option.
  auto gate = trust::TrustGate::open(options.dataDir / trust::TrustStore::kFileName);
  if (!gate) {
    std::cerr << "error: " << gate.error().message() << "\n";
    return 1;
  }

  net::asio::io_context io(1);
  net::HostConfig cfg;
  cfg.agentVersion = "peercomputed/" + options.version;
  auto host = net::Host::create(io.get_executor(), *identity, cfg);
  host->setGater([&gate](const crypto::PeerId& p) { return gate->isTrusted(p); });
  host->onReject([](const std::optional<crypto::PeerId>& p, const net::Multiaddr& remote,
                    const std::string& why) {
    spdlog::warn("security: refused {} from {}: {}", p ? p->toBase58() : "unauthenticated peer",
                 remote.toString(), why);
  });

  std::cout << "peercomputed " << options.version << "\nPeer ID: " << identity->peerId().toBase58()
            << std::endl;
  for (const auto& text : options.listen) {
    auto addr = net::Multiaddr::parse(text);
    if (!addr) {
      std::cerr << "error: --listen " << text << ": " << addr.error().message() << "\n";
      return 1;
    }
    auto bound = host->listen(*addr);
    if (!bound) {
      std::cerr << "error: " << bound.error().message() << "\n";
      return 1;
    }
  }
  for (const auto& a : host->listenAddrs()) {
    std::cout << "Listening on " << a.withPeerId(identity->peerId()).toString() << std::endl;
  }
  std::cout << "Trusted peers: " << gate->store().peers().size()
            << " (manage with: PEERCOMPUTE_HOME=" << options.dataDir.string()
            << " peerctl peers add …)" << std::endl;

  net::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("received signal {}, shutting down", sig);
    host->close();
    // Give GoAway frames a moment to flush, then stop.
    auto t = std::make_shared<net::asio::steady_timer>(io, std::chrono::milliseconds(200));
    t->async_wait([&io, t](auto) { io.stop(); });
  });
  io.run();
  std::cout << "peercomputed stopped" << std::endl;
  return 0;
}

}  // namespace pc::provider
