// One side of the NAT lab's DCUtR test (tests/nat/nat_punch.sh), using the Host and the DCUtR
// coordinator as the daemons do. No circuit relay is involved: the "relayed" connection runs over
// a plain TCP splice in the gw namespace (splice.py), added with Host::addRelayed, so both
// peers treat it exactly as a relayed connection (Connection::relay set).
//
//   nat_punch gw   --listen /ip4/198.18.0.1/tcp/4000
//   nat_punch peer --name home|office --port P --gw IP --splice IP:PORT --dir D --role a|b
//
// A peer listens on 0.0.0.0:P, dials the gw Host from P (the gw's identify tells it its NAT
// mapping), writes its peer id to D/<name>.id, reads the other's, opens the splice and adds it
// as a relayed connection (role a: the dialer through the "relay", outbound; b: inbound, the
// side that starts DCUtR). It then waits for the punched direct connection, pings over it and
// prints one line: DIRECT <local> -> <remote> role=<client|server>, or FAIL <why>.
#include <spdlog/cfg/env.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "net/dcutr/coordinator.hpp"
#include "net/error.hpp"
#include "net/tcp.hpp"

using namespace pc;
using namespace pc::net;
using namespace std::chrono_literals;

namespace {

/// The whole run of one peer (generous: a SYN retransmission is 1 s, three attempts 15 s).
constexpr auto kRunDeadline = 40s;

std::map<std::string, std::string> flags(int argc, char** argv) {
  std::map<std::string, std::string> f;
  for (int i = 2; i + 1 < argc; i += 2) f[argv[i]] = argv[i + 1];
  return f;
}

/// Polls `path` until it holds a line (the other peer's id), up to `tries` × 100 ms.
asio::awaitable<std::string> waitForFile(const std::string& path, int tries) {
  for (int i = 0; i < tries; ++i) {
    std::ifstream in(path);
    std::string line;
    if (in && std::getline(in, line) && !line.empty()) co_return line;
    co_await sleepFor(100ms);
  }
  co_return std::string();
}

void writeFile(const std::string& path, const std::string& text) {
  const auto tmp = path + ".tmp";
  std::ofstream(tmp) << text << "\n";
  std::filesystem::rename(tmp, path);
}

bool hasPublic(const std::vector<Multiaddr>& addrs) {
  for (const auto& a : addrs) {
    if (a.toString().rfind("/ip4/198.18.", 0) == 0) return true;
  }
  return false;
}

asio::awaitable<std::string> runPeer(std::shared_ptr<Host> host,
                                     std::shared_ptr<dcutr::Coordinator> coord,
                                     std::map<std::string, std::string> f) {
  const auto gwAddr = Multiaddr::parse("/ip4/" + f["--gw"] + "/tcp/4000").value();
  auto gw = co_await host->connect(gwAddr);
  if (!gw) co_return "FAIL gw: " + gw.error().message();
  for (int i = 0; i < 50 && !hasPublic(coord->ownAddrs()); ++i) co_await sleepFor(100ms);
  std::string own;
  for (const auto& a : coord->ownAddrs()) own += a.toString() + " ";
  spdlog::info("{}: our punch addresses: {}", f["--name"], own);
  const auto other = f["--name"] == "home" ? "office" : "home";
  writeFile(f["--dir"] + "/" + f["--name"] + ".id", host->peerId().toBase58());
  const auto otherText = co_await waitForFile(f["--dir"] + "/" + other + ".id", 100);
  auto otherId = crypto::PeerId::parse(otherText);
  if (!otherId) co_return "FAIL: no id from " + std::string(other);
  const auto spliceAddr = Multiaddr::parse("/ip4/" + f["--splice"]).value();
  auto raw = co_await dialTcp(spliceAddr, 5s);
  if (!raw) co_return "FAIL splice: " + raw.error().message();
  const bool outbound = f["--role"] == "a";
  std::unique_ptr<RawConn> rawConn = std::move(*raw);
  auto relayed = co_await host->addRelayed(std::move(rawConn), outbound, *otherId, (*gw)->peer);
  if (!relayed) co_return "FAIL relayed: " + relayed.error().message();
  for (int i = 0; i < 300; ++i) {
    auto c = host->connectionTo(*otherId);
    if (c && !c->isRelayed() && c->upgradedFromRelay) {
      const auto rtt = co_await host->ping(c);
      if (!rtt) co_return "FAIL ping: " + rtt.error().message();
      // Let the other side finish too before we go.
      writeFile(f["--dir"] + "/" + f["--name"] + ".done", "done");
      co_await waitForFile(f["--dir"] + "/" + other + ".done", 50);
      co_return "DIRECT " + c->localAddr.toString() + " -> " + c->remoteAddr.toString() +
          " role=" + (c->outbound ? "client" : "server") +
          " relayed_closed=" + ((*relayed)->isOpen() ? "no" : "yes");
    }
    co_await sleepFor(100ms);
  }
  co_return "FAIL: no direct connection";
}

int runMain(const std::string& mode, std::map<std::string, std::string> f) {
  asio::io_context io{1};
  const auto identity = crypto::Identity::generate().value();
  auto host = Host::create(io.get_executor(), identity);
  if (mode == "gw") {
    if (!host->listen(Multiaddr::parse(f["--listen"]).value())) return 1;
    io.run_for(kRunDeadline);
    return 0;
  }
  auto coord = dcutr::Coordinator::install(host);
  if (!host->listen(Multiaddr::parse("/ip4/0.0.0.0/tcp/" + f["--port"]).value())) return 1;
  std::string result = "FAIL: deadline";
  asio::co_spawn(io, runPeer(host, coord, f), [&](std::exception_ptr e, std::string r) {
    result = e ? "FAIL: exception" : std::move(r);
    host->close();
    io.stop();
  });
  io.run_for(kRunDeadline);
  std::cout << f["--name"] << ": " << result << std::endl;
  return result.rfind("DIRECT", 0) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::cfg::load_env_levels();
  if (argc < 2) {
    std::cerr << "usage: nat_punch gw|peer --flag value...\n";
    return 2;
  }
  return runMain(argv[1], flags(argc, argv));
}
