// `peerctl top`: live CPU and memory of your deployments, refreshed like `docker stats`; and
// `peerctl status -w` (runStatusWatch): a line for each change of state.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <ctime>

#include "cli/error.hpp"
#include "cli/status_query.hpp"

namespace pc::cli {
namespace {

struct TopArgs {
  std::string id;
  std::string peer;
  bool noStream = false;
};

/// The local wall-clock time, "HH:MM:SS".
std::string clockNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  std::array<char, 16> buf{};
  std::strftime(buf.data(), buf.size(), "%H:%M:%S", &tm);
  return buf.data();
}

std::string errorLines(const Report& r) {
  std::string text;
  for (const auto& e : r.errors) {
    text += "error: " + e.message() + "\n";
  }
  return text;
}

Report runTop(const Globals& g, const TopArgs& a, Printer& out) {
  auto targets = statusTargets(g, a.id, a.peer);
  if (!targets) {
    return Report::failure(targets.error());
  }
  if (targets->empty()) {
    return Report::failure(fail(Errc::kBadArgument,
                                "no deployments made from this machine; `peerctl top --peer "
                                "<name>` asks a provider directly"));
  }
  // A terminal gets the screen redrawn in place; a pipe gets one table after the other.
  const bool redraw = !a.noStream && ::isatty(STDOUT_FILENO) == 1;
  const auto deadline =
      a.noStream ? std::chrono::milliseconds(60'000) : std::chrono::milliseconds(0);
  return runWithNode(g, out, deadline, [&](Node& node) -> net::asio::awaitable<Report> {
    while (true) {
      Report round;
      const auto rows = co_await collectStatus(node, *targets, a.id, round);
      const auto label = [&node](const std::string& peer) { return peerLabel(node, peer); };
      std::string screen = topTable(rows, label);
      if (a.noStream) {
        round.text = std::move(screen);
        round.exitCode = round.errors.empty() ? 0 : 1;
        co_return round;
      }
      out.stream((redraw ? "\x1b[H\x1b[2J" : "") + screen + (redraw ? "" : "\n"));
      if (!round.errors.empty()) {
        out.streamErr(errorLines(round));
      }
      co_await net::sleepFor(kTopEvery);
    }
  });
}

}  // namespace

Report runStatusWatch(const Globals& g, const std::string& id, const std::string& peer,
                      Printer& out) {
  auto targets = statusTargets(g, id, peer);
  if (!targets) {
    return Report::failure(targets.error());
  }
  if (targets->empty()) {
    return Report::failure(fail(Errc::kBadArgument,
                                "no deployments made from this machine; `peerctl status -w "
                                "--peer <name>` asks a provider directly"));
  }
  const bool json = out.format() == OutputFormat::kJson;
  return runWithNode(
      g, out, std::chrono::milliseconds(0), [&](Node& node) -> net::asio::awaitable<Report> {
        StateMap states;
        bool first = true;
        while (true) {
          Report round;
          const auto rows = co_await collectStatus(node, *targets, id, round);
          std::string text;
          const auto changes = stateChanges(states, rows);
          const std::string now = clockNow();
          for (const auto& c : changes) {
            text += json ? changeJson(c, now) + "\n"
                         : changeText(c, peerLabel(node, c.peerId), now) + "\n";
          }
          if (first && !json) {
            text = topTable(rows, [&node](const std::string& p) { return peerLabel(node, p); });
          }
          first = false;
          if (!text.empty()) {
            out.stream(text);
          }
          if (!round.errors.empty()) {
            out.streamErr(errorLines(round));
          }
          co_await net::sleepFor(kWatchEvery);
        }
      });
}

void addTopCommand(CLI::App& app, Globals& g) {
  auto a = std::make_shared<TopArgs>();
  auto* cmd = app.add_subcommand(
      "top", "Live CPU and memory of your deployments, refreshed every 2 s until interrupted");
  cmd->add_option("deployment", a->id, "One deployment (default: all of yours)");
  cmd->add_option("--peer", a->peer, "Ask this provider (default: every provider you deployed to)");
  cmd->add_flag("--no-stream", a->noStream, "Print one table and exit");
  cmd->callback([&g, a] {
    g.exitCode = runPrinted(OutputFormat::kTable, [&](Printer& out) { return runTop(g, *a, out); });
  });
}

}  // namespace pc::cli
