#include <CLI/CLI.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <ctime>
#include <map>

#include "cli/client.hpp"
#include "cli/error.hpp"
#include "cli/json_output.hpp"
#include "cli/live_view.hpp"
#include "cli/status_query.hpp"
#include "cli/table.hpp"
#include "core/units.hpp"

namespace pc::cli {
namespace {

struct StatusArgs {
  std::string id;
  std::string peer;
  std::string output = "table";
  bool quiet = false;
  bool watch = false;
};

/// How often `status -w` asks again.
constexpr std::chrono::seconds kWatchEvery{1};

std::vector<std::string> tableRow(const Node& node, const PeerStatus& row) {
  const auto& st = row.status;
  std::string state(protocol::toString(st.state));
  if (st.exitCode && st.state != protocol::DeploymentState::kRunning) {
    state += " (exit " + std::to_string(*st.exitCode) + ")";
  }
  const std::string limit = units::formatBytes(static_cast<std::uint64_t>(st.memoryLimit));
  const std::string memory =
      st.memoryBytes
          ? units::formatBytes(static_cast<std::uint64_t>(*st.memoryBytes)) + " / " + limit
          : "- / " + limit;
  return {st.deploymentId,
          peerLabel(node, row.peerId),
          st.image,
          state,
          st.cpuUsageMillicores ? std::to_string(*st.cpuUsageMillicores) + "m" : "-",
          memory,
          st.startedAtMs ? ago(*st.startedAtMs) : "-",
          st.url.value_or("-")};
}

/// The table, then each deployment's other URLs (gateways of other domains) and why each failed
/// deployment failed; `-q`: the deployment ids alone.
std::string statusText(const Node& node, const std::vector<PeerStatus>& rows, bool quiet) {
  std::string text;
  if (quiet) {
    for (const auto& row : rows) {
      text += row.status.deploymentId + "\n";
    }
    return text;
  }
  Table t({"DEPLOYMENT", "PEER", "IMAGE", "STATE", "CPU", "MEMORY", "STARTED", "URL"});
  for (const auto& row : rows) {
    t.addRow(tableRow(node, row));
  }
  text = t.render();
  for (const auto& row : rows) {
    for (std::size_t i = 1; i < row.status.urls.size(); ++i) {
      text += row.status.deploymentId + ": also at " + row.status.urls[i] + "\n";
    }
  }
  for (const auto& row : rows) {
    if (row.status.error) {
      text += row.status.deploymentId + ": " + *row.status.error + "\n";
    }
  }
  return text;
}

std::string localClock() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

void printChanges(Printer& out, const std::vector<StatusChange>& changes, const PeerLabel& label) {
  for (const auto& c : changes) {
    out.stream(out.format() == OutputFormat::kJson ? changeJson(protocol::unixMillisNow(), c)
                                                   : changeLine(localClock(), c, label));
  }
}

/// `status -w`: the table (JSON: every deployment as a change from nothing), then a line per
/// change of state, asking again every kWatchEvery until interrupted. A provider that does not
/// answer a round keeps the rows it last gave (its deployments are not "gone") while the others'
/// changes are still printed; its error is printed once per change of cause. The table waits
/// for the first round in which some provider answered.
net::asio::awaitable<Report> watchStatus(Node& node, const std::vector<std::string>& targets,
                                         const StatusArgs& a, Printer& out) {
  const PeerLabel label = [&node](const std::string& id) { return peerLabel(node, id); };
  std::map<std::string, std::vector<PeerStatus>> lastRows;  ///< by target, from its last answer
  std::vector<PeerStatus> prev;
  std::string lastError;
  bool shown = false;
  const auto ex = co_await net::asio::this_coro::executor;
  net::asio::steady_timer timer(ex);
  for (bool first = true;; first = false) {
    if (!first) {
      timer.expires_after(kWatchEvery);
      co_await timer.async_wait(net::asio::use_awaitable);
    }
    auto each = co_await askEachTarget(node, targets, a.id);
    std::string error;
    std::vector<PeerStatus> cur;
    for (auto& t : each) {
      if (t.error) {
        if (error.empty()) error = t.error->message();
      } else {
        lastRows[t.target] = std::move(t.rows);
      }
      const auto& rows = lastRows[t.target];
      cur.insert(cur.end(), rows.begin(), rows.end());
    }
    if (error != lastError && !error.empty()) out.streamErr("error: " + error + "\n");
    lastError = error;
    if (!shown && lastRows.empty()) continue;  // nobody has answered yet
    if (!shown && out.format() == OutputFormat::kTable) {
      out.stream(cur.empty() ? "no deployments\n" : statusText(node, cur, false));
    } else {
      printChanges(out, statusChanges(prev, cur), label);
    }
    shown = true;
    prev = std::move(cur);
  }
}

Report runStatus(const Globals& g, const StatusArgs& a, Printer& out) {
  auto targets = statusTargets(g, a.id, a.peer);
  if (!targets) {
    return Report::failure(targets.error());
  }
  if (targets->empty()) {
    Report r;
    r.notice =
        "no deployments made from this machine; `peerctl status --peer <name>` asks a provider "
        "directly\n";
    return r;
  }
  if (a.watch) {
    return runWithNode(g, out, std::chrono::milliseconds{0},
                       [&](Node& node) { return watchStatus(node, *targets, a, out); });
  }
  constexpr std::chrono::milliseconds kDeadline{60'000};
  return runWithNode(g, out, kDeadline, [&](Node& node) -> net::asio::awaitable<Report> {
    Report r;
    const auto rows = co_await collectStatus(node, *targets, a.id, r);
    r.exitCode = r.errors.empty() ? 0 : 1;
    if (!a.quiet) {
      r.json = statusJson(rows);
    }
    if (!rows.empty()) {
      r.text = statusText(node, rows, a.quiet);
    } else if (r.errors.empty() && !a.quiet) {
      r.text = "no deployments\n";
    }
    co_return r;
  });
}

}  // namespace

void addStatusCommand(CLI::App& app, Globals& g) {
  auto a = std::make_shared<StatusArgs>();
  auto* cmd = app.add_subcommand("status", "Show deployments: state, URL, CPU and memory use");
  cmd->add_option("deployment", a->id, "One deployment (default: all of yours)");
  cmd->add_option("--peer", a->peer, "Ask this provider (default: every provider you deployed to)");
  auto* output = cmd->add_option("-o,--output", a->output, "Output format")
                     ->check(CLI::IsMember({"table", "json"}))
                     ->capture_default_str();
  auto* quiet = cmd->add_flag("-q,--quiet", a->quiet,
                              "Print only deployment ids, one a line (as docker ps -q)")
                    ->excludes(output);
  cmd->add_flag("-w,--watch", a->watch,
                "Keep watching: print a line each time a deployment changes state (JSON: one "
                "object a change), until interrupted")
      ->excludes(quiet);
  cmd->callback([&g, a] {
    g.exitCode =
        runPrinted(outputFormat(a->output), [&](Printer& out) { return runStatus(g, *a, out); });
  });
}

}  // namespace pc::cli
