#include "cli/live_view.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <map>

#include "cli/table.hpp"
#include "core/units.hpp"

namespace pc::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::string key(const PeerStatus& r) { return r.peerId + "/" + r.status.deploymentId; }

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string bytesOr(const std::optional<std::int64_t>& v) {
  return v ? units::formatBytes(static_cast<std::uint64_t>(*v)) : "-";
}

/// Bytes per second of `counter` between two samples; nullopt when either lacks it, or the
/// counter went back (the container restarted: its counters start again).
std::optional<double> rate(const std::optional<std::int64_t>& before,
                           const std::optional<std::int64_t>& now, double seconds) {
  if (!before || !now || *now < *before || seconds <= 0) return std::nullopt;
  return static_cast<double>(*now - *before) / seconds;
}

std::string perSecond(std::optional<double> r) {
  return r ? units::formatBytes(static_cast<std::uint64_t>(*r + 0.5)) + "/s" : "-";
}

}  // namespace

std::string TopView::update(const StatusSample& cur, const PeerLabel& label) {
  std::map<std::string, Seen> next;
  Table t({"DEPLOYMENT", "PEER", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "NET RX/s",
           "NET TX/s"});
  for (const auto& r : cur.rows) {
    const auto& st = r.status;
    if (st.state != protocol::DeploymentState::kRunning) continue;
    Seen seen{{st, cur.at}, std::nullopt};
    if (auto it = seen_.find(key(r)); it != seen_.end()) {
      const bool sameSample = st.statsAtMs && st.statsAtMs == it->second.latest.status.statsAtMs;
      seen = sameSample ? it->second : Seen{{st, cur.at}, it->second.latest};
    }
    next[key(r)] = seen;
    std::optional<double> rx, tx;
    if (const auto& b = seen.before) {
      const auto& was = b->status;
      const auto& now = seen.latest.status;
      const double seconds = was.statsAtMs && now.statsAtMs
                                 ? static_cast<double>(*now.statsAtMs - *was.statsAtMs) / 1000.0
                                 : std::chrono::duration<double>(seen.latest.at - b->at).count();
      rx = rate(was.netRxBytes, now.netRxBytes, seconds);
      tx = rate(was.netTxBytes, now.netTxBytes, seconds);
    }
    const std::string cpu =
        st.cpuUsageMillicores ? fixed1(static_cast<double>(*st.cpuUsageMillicores) / 10.0) : "-";
    const std::string memPct = st.memoryBytes && st.memoryLimit > 0
                                   ? fixed1(100.0 * static_cast<double>(*st.memoryBytes) /
                                            static_cast<double>(st.memoryLimit))
                                   : "-";
    t.addRow({st.deploymentId, label(r.peerId), cpu,
              bytesOr(st.memoryBytes) + " / " +
                  units::formatBytes(static_cast<std::uint64_t>(st.memoryLimit)),
              memPct, bytesOr(st.netRxBytes) + " / " + bytesOr(st.netTxBytes), perSecond(rx),
              perSecond(tx)});
  }
  seen_ = std::move(next);
  return t.render();
}

std::vector<StatusChange> statusChanges(const std::vector<PeerStatus>& prev,
                                        const std::vector<PeerStatus>& cur) {
  std::map<std::string, const PeerStatus*> before;
  for (const auto& r : prev) before[key(r)] = &r;
  std::vector<StatusChange> out;
  for (const auto& r : cur) {
    auto it = before.find(key(r));
    const std::string to(protocol::toString(r.status.state));
    std::string from;
    if (it != before.end()) {
      from = protocol::toString(it->second->status.state);
      before.erase(it);
      if (from == to) continue;
    }
    out.push_back({r.status.deploymentId, r.peerId, from, to, r.status.exitCode, r.status.error});
  }
  for (const auto& r : prev) {
    if (!before.contains(key(r))) continue;
    out.push_back({r.status.deploymentId, r.peerId, std::string(protocol::toString(r.status.state)),
                   "gone", std::nullopt, std::nullopt});
  }
  return out;
}

std::string changeLine(const std::string& clock, const StatusChange& c, const PeerLabel& label) {
  std::string line = clock + "  " + c.deploymentId + "  " + label(c.peerId) + "  ";
  line += c.from.empty() ? c.to : c.from + " → " + c.to;
  if (c.exitCode && c.to != "running") line += " (exit " + std::to_string(*c.exitCode) + ")";
  if (c.error) line += ": " + *c.error;
  return line + "\n";
}

std::string changeJson(std::int64_t unixMs, const StatusChange& c) {
  boost::json::object o;
  o["time"] = unixMs;
  o["deployment_id"] = c.deploymentId;
  o["peer_id"] = c.peerId;
  if (c.from.empty()) {
    o["from"] = nullptr;
  } else {
    o["from"] = c.from;
  }
  o["to"] = c.to;
  if (c.exitCode) o["exit_code"] = *c.exitCode;
  if (c.error) o["error"] = *c.error;
  return boost::json::serialize(o) + "\n";
}

}  // namespace pc::cli
