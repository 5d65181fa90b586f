#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "cli/client.hpp"

namespace pc::cli {
namespace {

struct PingArgs {
  std::string target;
  int count = 4;
  double interval = 1.0;
  double timeout = 10.0;
};

/// "--- N pings, M replies, rtt min/avg/max = …" for the replies' round-trip times (ms).
std::string summary(int count, const std::vector<double>& rtts) {
  double mn = 0;
  double mx = 0;
  double sum = 0;
  for (double r : rtts) {
    mn = (mn == 0 || r < mn) ? r : mn;
    mx = std::max(mx, r);
    sum += r;
  }
  char line[160];
  std::snprintf(line, sizeof line,
                "--- %d pings, %zu replies, rtt min/avg/max = %.3f/%.3f/%.3f ms\n", count,
                rtts.size(), mn, rtts.empty() ? 0.0 : sum / static_cast<double>(rtts.size()), mx);
  return line;
}

/// How the pings went: `direct`, `relayed via <relay id>`, or `direct (upgraded from relay)`
/// when a relayed first connection gave way to a direct one.
std::string pathLine(const net::Connection& first, const std::shared_ptr<net::Connection>& now) {
  const net::Connection& last = now ? *now : first;
  if (last.relay) return "path: relayed via " + last.relay->toBase58() + "\n";
  return first.relay ? "path: direct (upgraded from relay)\n" : "path: direct\n";
}

/// Pings `conn` a.count times, streaming one line per reply or failure; returns the RTTs (ms).
net::asio::awaitable<std::vector<double>> pingLoop(Node& node,
                                                   const std::shared_ptr<net::Connection>& conn,
                                                   const PingArgs& a) {
  std::vector<double> rtts;
  net::asio::steady_timer t(co_await net::asio::this_coro::executor);
  const std::string peer = conn->peer.toBase58();
  for (int i = 1; i <= a.count; ++i) {
    // A direct connection made meanwhile (hole punching) carries the next pings.
    auto now = node.host->connectionTo(conn->peer);
    auto rtt = co_await node.host->ping(now ? now : conn);
    if (!rtt) {
      node.out.stream("seq=" + std::to_string(i) + " failed: " + rtt.error().message() + "\n");
    } else {
      const double msv = static_cast<double>(rtt->count()) / 1000.0;
      rtts.push_back(msv);
      char line[128];
      std::snprintf(line, sizeof line, "reply from %s: seq=%d time=%.3f ms\n", peer.c_str(), i,
                    msv);
      node.out.stream(line);
    }
    if (i < a.count) {
      t.expires_after(std::chrono::microseconds(static_cast<long>(a.interval * 1e6)));
      co_await t.async_wait(net::kNoThrow);
    }
  }
  co_return rtts;
}

Report runPing(const Globals& g, const PingArgs& a, Printer& out) {
  // Overall deadline: a peer that accepts TCP but never answers cannot hang the command.
  const auto deadline = std::chrono::milliseconds(
      static_cast<long>((a.timeout + a.interval * std::max(0, a.count - 1)) * 1000));
  std::ostringstream late;
  late << "no answer from " << a.target << " within " << a.timeout << " s";
  return runWithNode(
      g, out, deadline,
      [&](Node& node) -> net::asio::awaitable<Report> {
        auto conn = co_await connectTarget(node, a.target);
        if (!conn) {
          co_return Report::failure(conn.error().context("cannot connect to " + a.target));
        }
        const auto& c = **conn;
        node.out.stream("PING " + c.peer.toBase58() + " at " + c.remoteAddr.toString() +
                        " (security " + c.security + ", muxer " + c.muxer + ")\n");
        const auto rtts = co_await pingLoop(node, *conn, a);
        Report r =
            Report::ofText(summary(a.count, rtts) + pathLine(c, node.host->connectionTo(c.peer)));
        r.exitCode = rtts.size() == static_cast<std::size_t>(a.count) ? 0 : 1;
        co_return r;
      },
      late.str());
}

}  // namespace

void addPingCommand(CLI::App& app, Globals& g) {
  auto args = std::make_shared<PingArgs>();
  auto* cmd = app.add_subcommand("ping", "Ping a peer over libp2p (/ipfs/ping/1.0.0)");
  cmd->add_option("target", args->target, "Trusted peer name or id, or a multiaddr")->required();
  cmd->add_option("-c,--count", args->count, "Number of pings")->check(CLI::Range(1, 100000));
  cmd->add_option("-i,--interval", args->interval, "Seconds between pings")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--timeout", args->timeout, "Seconds to wait for the connection and each reply");
  cmd->callback([&g, args] {
    g.exitCode =
        runPrinted(OutputFormat::kTable, [&](Printer& out) { return runPing(g, *args, out); });
  });
}

}  // namespace pc::cli
