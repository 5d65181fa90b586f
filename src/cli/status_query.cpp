#include "cli/status_query.hpp"

#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <set>

#include "cli/deployments.hpp"
#include "cli/error.hpp"
#include "cli/table.hpp"
#include "core/units.hpp"
#include "protocol/stream_protocols.hpp"

namespace pc::cli {

namespace {

std::string fixed1(double v) {
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%.1f", v);
  return buf.data();
}

}  // namespace

Result<std::vector<std::string>> statusTargets(const Globals& g, const std::string& id,
                                               const std::string& peer) {
  if (!id.empty()) {
    auto t = peerFor(g, id, peer);
    if (!t) {
      return t.error();
    }
    return std::vector<std::string>{*t};
  }
  if (!peer.empty()) {
    return std::vector<std::string>{peer};
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

net::asio::awaitable<std::vector<PeerStatus>> collectStatus(Node& node,
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

std::vector<StateChange> stateChanges(StateMap& before, const std::vector<PeerStatus>& now) {
  std::vector<StateChange> out;
  for (const auto& row : now) {
    const auto& st = row.status;
    const auto it = before.find(st.deploymentId);
    if (it != before.end() && it->second == st.state) {
      continue;
    }
    StateChange c{st.deploymentId, row.peerId, std::nullopt, st.state, st.error};
    if (it != before.end()) {
      c.from = it->second;
    }
    before[st.deploymentId] = st.state;
    out.push_back(std::move(c));
  }
  return out;
}

std::string changeText(const StateChange& c, const std::string& label, const std::string& time) {
  std::string line = time + "  " + c.deploymentId + "  " + label + "  ";
  line += c.from ? std::string(protocol::toString(*c.from)) + " → " : std::string("→ ");
  line += protocol::toString(c.to);
  if (c.error && c.to == protocol::DeploymentState::kFailed) {
    line += " (" + *c.error + ")";
  }
  return line;
}

std::string changeJson(const StateChange& c, const std::string& time) {
  boost::json::object o{{"time", time},
                        {"deployment_id", c.deploymentId},
                        {"peer_id", c.peerId},
                        {"to", protocol::toString(c.to)}};
  o["from"] =
      c.from ? boost::json::value(protocol::toString(*c.from)) : boost::json::value(nullptr);
  if (c.error) {
    o["error"] = *c.error;
  }
  return boost::json::serialize(o);
}

std::string topTable(const std::vector<PeerStatus>& rows,
                     const std::function<std::string(const std::string&)>& label) {
  std::vector<const PeerStatus*> sorted;
  for (const auto& r : rows) {
    sorted.push_back(&r);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const PeerStatus* a, const PeerStatus* b) {
    const auto running = protocol::DeploymentState::kRunning;
    return (a->status.state == running) > (b->status.state == running);
  });
  Table t({"DEPLOYMENT", "PEER", "STATE", "CPU %", "MEM USAGE / LIMIT", "MEM %"});
  for (const auto* r : sorted) {
    const auto& st = r->status;
    const bool sampled = st.state == protocol::DeploymentState::kRunning && st.memoryBytes;
    const auto limit = static_cast<std::uint64_t>(st.memoryLimit);
    std::string cpu = "-";
    if (st.cpuUsageMillicores) {
      cpu = fixed1(static_cast<double>(*st.cpuUsageMillicores) / 10.0) + "%";
    }
    std::string mem = "- / " + units::formatBytes(limit);
    std::string memPct = "-";
    if (sampled) {
      const auto used = static_cast<std::uint64_t>(*st.memoryBytes);
      mem = units::formatBytes(used) + " / " + units::formatBytes(limit);
      if (limit > 0) {
        memPct = fixed1(100.0 * static_cast<double>(used) / static_cast<double>(limit)) + "%";
      }
    }
    t.addRow({st.deploymentId, label(r->peerId), std::string(protocol::toString(st.state)), cpu,
              mem, memPct});
  }
  return t.render();
}

}  // namespace pc::cli
