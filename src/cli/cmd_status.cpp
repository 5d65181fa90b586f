#include <CLI/CLI.hpp>
#include <set>

#include "cli/client.hpp"
#include "cli/deployments.hpp"
#include "cli/error.hpp"
#include "cli/json_output.hpp"
#include "cli/table.hpp"
#include "core/units.hpp"
#include "protocol/stream_protocols.hpp"

namespace pc::cli {
namespace {

struct StatusArgs {
  std::string id;
  std::string peer;
  std::string output = "table";
  bool quiet = false;
};

std::string ago(std::int64_t ms) {
  const std::int64_t s = (protocol::unixMillisNow() - ms) / 1000;
  if (s < 0) {
    return "just now";
  }
  if (s < 120) {
    return std::to_string(s) + "s ago";
  }
  if (s < 7200) {
    return std::to_string(s / 60) + "m ago";
  }
  if (s < 172800) {
    return std::to_string(s / 3600) + "h ago";
  }
  return std::to_string(s / 86400) + "d ago";
}

/// The providers to ask: the one holding `a.id`, `--peer`, or every provider deployed to from
/// here (empty when there is none).
Result<std::vector<std::string>> targetsFor(const Globals& g, const StatusArgs& a) {
  if (!a.id.empty()) {
    auto t = peerFor(g, a.id, a.peer);
    if (!t) {
      return t.error();
    }
    return std::vector<std::string>{*t};
  }
  if (!a.peer.empty()) {
    return std::vector<std::string>{a.peer};
  }
  auto book = DeploymentBook::load(g.home / DeploymentBook::kFileName);
  if (!book) {
    return book.error();
  }
  std::vector<std::string> targets;
  std::set<std::string> seen;
  for (const auto& e : book->entries()) {
    if (seen.insert(e.peerId).second) {
      targets.push_back(e.peerId);
    }
  }
  return targets;
}

/// Asks each of `targets` for `id` (or all of ours); a provider that fails adds an error to
/// `report` and the others are still asked.
net::asio::awaitable<std::vector<PeerStatus>> collect(Node& node,
                                                      const std::vector<std::string>& targets,
                                                      const std::string& id, Report& report) {
  std::vector<PeerStatus> rows;
  for (const auto& target : targets) {
    protocol::StatusRequest req;
    req.header = protocol::newRequestHeader(protocol::unixMillisNow());
    if (!id.empty()) {
      req.deploymentId = id;
    }
    const std::string proto(protocol::kStatusProtocol);
    auto m = co_await requestOnce(node, target, proto, req);
    if (!m) {
      report.errors.push_back(m.error().context("status from " + target));
      continue;
    }
    auto* r = std::get_if<protocol::StatusResponse>(&m->message);
    if (r == nullptr) {
      report.errors.push_back(
          fail(Errc::kUnexpectedAnswer, "unexpected answer to status from " + target));
      continue;
    }
    for (auto& st : r->deployments) {
      rows.push_back({m->peerId, std::move(st)});
    }
  }
  co_return rows;
}

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

/// The table, then why each failed deployment failed; `-q`: the deployment ids alone.
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
    if (row.status.error) {
      text += row.status.deploymentId + ": " + *row.status.error + "\n";
    }
  }
  return text;
}

Report runStatus(const Globals& g, const StatusArgs& a, Printer& out) {
  auto targets = targetsFor(g, a);
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
  constexpr std::chrono::milliseconds kDeadline{60'000};
  return runWithNode(g, out, kDeadline, [&](Node& node) -> net::asio::awaitable<Report> {
    Report r;
    const auto rows = co_await collect(node, *targets, a.id, r);
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
  cmd->add_flag("-q,--quiet", a->quiet, "Print only deployment ids, one a line (as docker ps -q)")
      ->excludes(output);
  cmd->callback([&g, a] {
    g.exitCode =
        runPrinted(outputFormat(a->output), [&](Printer& out) { return runStatus(g, *a, out); });
  });
}

}  // namespace pc::cli
