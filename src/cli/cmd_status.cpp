#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <set>

#include "cli/client.hpp"
#include "cli/deployments.hpp"
#include "cli/table.hpp"
#include "core/units.hpp"
#include "protocol/ids.hpp"

namespace pc::cli {
namespace {

struct StatusArgs {
  std::string id;
  std::string peer;
  std::string output = "table";
};

std::string ago(std::int64_t ms) {
  const std::int64_t s = (protocol::unixMillisNow() - ms) / 1000;
  if (s < 0) return "just now";
  if (s < 120) return std::to_string(s) + "s ago";
  if (s < 7200) return std::to_string(s / 60) + "m ago";
  if (s < 172800) return std::to_string(s / 3600) + "h ago";
  return std::to_string(s / 86400) + "d ago";
}

struct Row {
  std::string peerId;
  protocol::DeploymentStatus st;
};

int runStatus(const Globals& g, const StatusArgs& a) {
  std::vector<std::string> targets;
  if (!a.id.empty()) {
    auto t = peerFor(g, a.id, a.peer);
    if (!t) return reportError(t.error());
    targets.push_back(*t);
  } else if (!a.peer.empty()) {
    targets.push_back(a.peer);
  } else {
    auto book = DeploymentBook::load(g.home / DeploymentBook::kFileName);
    if (!book) return reportError(book.error());
    std::set<std::string> seen;
    for (const auto& e : book->entries()) {
      if (seen.insert(e.peerId).second) targets.push_back(e.peerId);
    }
    if (targets.empty()) {
      std::cerr << "no deployments made from this machine; `peerctl status --peer <name>` asks a "
                   "provider directly\n";
      return 0;
    }
  }
  constexpr std::chrono::milliseconds kDeadline{60'000};
  return runWithNode(g, kDeadline, [&](Node& node) -> net::asio::awaitable<int> {
    std::vector<Row> rows;
    int rc = 0;
    for (const auto& target : targets) {
      protocol::StatusRequest req;
      req.header = protocol::newRequestHeader(protocol::unixMillisNow());
      if (!a.id.empty()) req.deploymentId = a.id;
      const std::string proto(protocol::kStatusProtocol);
      auto m = co_await requestOnce(node, target, proto, req);
      if (!m) {
        rc = reportError(m.error().context("status from " + target));
        continue;
      }
      auto* r = std::get_if<protocol::StatusResponse>(&m->message);
      if (r == nullptr) {
        rc = reportError(fail(Errc::kMalformed, "unexpected answer to status from " + target));
        continue;
      }
      for (auto& st : r->deployments) rows.push_back({m->peerId, std::move(st)});
    }
    if (a.output == "json") {
      boost::json::array arr;
      for (const auto& [peerId, st] : rows) {
        boost::json::object o{{"deployment_id", st.deploymentId},
                              {"peer_id", peerId},
                              {"image", st.image},
                              {"state", std::string(protocol::toString(st.state))},
                              {"memory_limit", st.memoryLimit}};
        if (st.startedAtMs) o["started_at"] = *st.startedAtMs;
        if (st.url) o["url"] = *st.url;
        if (st.cpuUsageMillicores) o["cpu_usage_millicores"] = *st.cpuUsageMillicores;
        if (st.memoryBytes) o["memory_bytes"] = *st.memoryBytes;
        if (st.exitCode) o["exit_code"] = *st.exitCode;
        if (st.error) o["error"] = *st.error;
        arr.push_back(std::move(o));
      }
      std::cout << boost::json::serialize(arr) << std::endl;
    } else if (!rows.empty()) {
      Table t({"DEPLOYMENT", "PEER", "IMAGE", "STATE", "CPU", "MEMORY", "STARTED", "URL"});
      for (const auto& [peerId, st] : rows) {
        std::string state(protocol::toString(st.state));
        if (st.exitCode && st.state != protocol::DeploymentState::kRunning) {
          state += " (exit " + std::to_string(*st.exitCode) + ")";
        }
        const std::string limit = units::formatBytes(static_cast<std::uint64_t>(st.memoryLimit));
        t.addRow({st.deploymentId, peerLabel(node, peerId), st.image, state,
                  st.cpuUsageMillicores ? std::to_string(*st.cpuUsageMillicores) + "m" : "-",
                  st.memoryBytes ? units::formatBytes(static_cast<std::uint64_t>(*st.memoryBytes)) +
                                       " / " + limit
                                 : "- / " + limit,
                  st.startedAtMs ? ago(*st.startedAtMs) : "-", st.url.value_or("-")});
      }
      t.print(std::cout);
      for (const auto& [peerId, st] : rows) {
        if (st.error) std::cout << st.deploymentId << ": " << *st.error << "\n";
      }
    } else if (rc == 0) {
      std::cout << "no deployments" << std::endl;
    }
    co_return rc;
  });
}

}  // namespace

void addStatusCommand(CLI::App& app, Globals& g) {
  auto a = std::make_shared<StatusArgs>();
  auto* cmd = app.add_subcommand("status", "Show deployments: state, URL, CPU and memory use");
  cmd->add_option("deployment", a->id, "One deployment (default: all of yours)");
  cmd->add_option("--peer", a->peer, "Ask this provider (default: every provider you deployed to)");
  cmd->add_option("-o,--output", a->output, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([&g, a] { g.exitCode = runStatus(g, *a); });
}

}  // namespace pc::cli
