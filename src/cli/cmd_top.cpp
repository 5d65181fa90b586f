// `peerctl top`: live CPU, memory and network of your deployments, like `docker stats`.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cli/client.hpp"
#include "cli/error.hpp"
#include "cli/live_view.hpp"
#include "cli/status_query.hpp"
#include "core/units.hpp"

namespace pc::cli {
namespace {

struct TopArgs {
  std::string id;
  std::string peer;
  std::string interval = "2s";
  bool noStream = false;
  int iterations = 0;  ///< 0: until interrupted
};

/// Clears a terminal and puts the cursor home, so each refresh replaces the last one.
constexpr std::string_view kClearScreen = "\x1b[H\x1b[2J";

net::asio::awaitable<Report> refreshLoop(Node& node, const std::vector<std::string>& targets,
                                         const TopArgs& a, std::chrono::milliseconds every,
                                         Printer& out) {
  const PeerLabel label = [&node](const std::string& id) { return peerLabel(node, id); };
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  const int rounds = a.noStream ? 1 : a.iterations;
  TopView view;
  bool lastFailed = false;
  const auto ex = co_await net::asio::this_coro::executor;
  net::asio::steady_timer timer(ex);
  for (int i = 0; rounds == 0 || i < rounds; ++i) {
    if (i > 0) {
      timer.expires_after(every);
      co_await timer.async_wait(net::asio::use_awaitable);
    }
    Report r;
    // (GCC 12: the awaited vector is bound to a local, never built inside the initializer.)
    auto rows = co_await collectStatus(node, targets, a.id, r);
    const StatusSample cur{std::chrono::steady_clock::now(), std::move(rows)};
    std::string screen = tty && rounds != 1 ? std::string(kClearScreen) : std::string();
    screen += view.update(cur, label);
    if (!tty && rounds != 1) screen += "\n";
    out.stream(screen);
    // After the table, so a refreshing screen does not wipe them; a script sees them on stderr.
    for (const auto& e : r.errors) out.streamErr("error: " + e.message() + "\n");
    lastFailed = !r.errors.empty();
  }
  // A provider that did not answer the last round fails the command (as `status` does).
  Report done;
  done.exitCode = lastFailed ? 1 : 0;
  co_return done;
}

Report runTop(const Globals& g, const TopArgs& a, Printer& out) {
  auto every = units::parseDuration(a.interval);
  if (!every || *every < std::chrono::milliseconds(200)) {
    return Report::failure(
        fail(Errc::kBadArgument,
             "--interval " + a.interval + ": give a duration of at least 200ms, e.g. 2s"));
  }
  auto targets = statusTargets(g, a.id, a.peer);
  if (!targets) return Report::failure(targets.error());
  if (targets->empty()) {
    Report r;
    r.notice =
        "no deployments made from this machine; `peerctl top --peer <name>` asks a provider "
        "directly\n";
    return r;
  }
  const std::chrono::milliseconds ms = *every;
  return runWithNode(g, out, std::chrono::milliseconds{0},
                     [&](Node& node) { return refreshLoop(node, *targets, a, ms, out); });
}

}  // namespace

void addTopCommand(CLI::App& app, Globals& g) {
  auto a = std::make_shared<TopArgs>();
  auto* cmd = app.add_subcommand(
      "top", "Live CPU, memory and network of your running deployments (like docker stats)");
  cmd->add_option("deployment", a->id, "One deployment (default: all of yours)");
  cmd->add_option("--peer", a->peer, "Ask this provider (default: every provider you deployed to)");
  cmd->add_option("--interval", a->interval, "Time between refreshes")->capture_default_str();
  cmd->add_flag("--no-stream", a->noStream, "Print one sample and exit (rates need two: \"-\")");
  cmd->add_option("-n,--iterations", a->iterations, "Stop after N refreshes (default: never)")
      ->check(CLI::Range(1, 1'000'000));
  cmd->callback([&g, a] {
    g.exitCode = runPrinted(OutputFormat::kTable, [&](Printer& out) { return runTop(g, *a, out); });
  });
}

}  // namespace pc::cli
