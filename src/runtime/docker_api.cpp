#include "runtime/docker_api.hpp"

#include <arpa/inet.h>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

#include "runtime/error.hpp"

namespace pc::runtime::docker {

namespace json = boost::json;

namespace {

Error malformed(std::string_view what) {
  return fail(Errc::kProtocolError, "the engine sent a malformed " + std::string(what) +
                                        " response; is this a Docker-compatible engine?");
}

Result<json::value> parseJson(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::parse_options opt;
  opt.max_depth = 64;  // engine documents are shallow; bound recursion on a hostile socket
  auto v = json::parse(json::string_view(text.data(), text.size()), ec, {}, opt);
  if (ec) return malformed(what);
  return v;
}

const json::object* obj(const json::value* v) { return v ? v->if_object() : nullptr; }
const json::value* at(const json::object* o, std::string_view key) {
  if (!o) return nullptr;
  auto it = o->find(json::string_view(key.data(), key.size()));
  return it == o->end() ? nullptr : &it->value();
}
std::string str(const json::value* v) {
  if (v && v->is_string()) return std::string(v->get_string());
  return {};
}
std::uint64_t u64(const json::value* v) {
  if (!v) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64()) return v->get_int64() < 0 ? 0 : static_cast<std::uint64_t>(v->get_int64());
  if (v->is_double()) {
    const double d = v->get_double();
    return d <= 0 || d > 1.8e19 ? 0 : static_cast<std::uint64_t>(d);
  }
  return 0;
}
std::int64_t i64(const json::value* v) {
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) {
    const auto u = v->get_uint64();
    return u > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(u);
  }
  return 0;
}

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isAlnum(char c) { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

ContainerState stateFrom(std::string_view s) {
  if (s == "created") return ContainerState::kCreated;
  if (s == "running") return ContainerState::kRunning;
  if (s == "paused") return ContainerState::kPaused;
  if (s == "restarting") return ContainerState::kRestarting;
  if (s == "removing") return ContainerState::kRemoving;
  if (s == "exited") return ContainerState::kExited;
  if (s == "dead") return ContainerState::kDead;
  return ContainerState::kUnknown;
}

void labelsInto(const json::value* labels, ContainerInfo& info) {
  const auto* o = obj(labels);
  info.managed = str(at(o, kLabelManaged)) == "true";
  info.deploymentId = str(at(o, kLabelDeployment));
  info.requesterId = str(at(o, kLabelRequester));
}

}  // namespace

Result<ApiVersion> ApiVersion::parse(std::string_view text) {
  ApiVersion v;
  const auto dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= text.size() || text.size() > 12) {
    return fail(Errc::kProtocolError, "the engine sent an invalid API version \"" +
                                          std::string(text.substr(0, 16)) + "\"");
  }
  const char* end = text.data() + text.size();
  auto r1 = std::from_chars(text.data(), text.data() + dot, v.major);
  auto r2 = std::from_chars(text.data() + dot + 1, end, v.minor);
  if (r1.ec != std::errc{} || r1.ptr != text.data() + dot || r2.ec != std::errc{} ||
      r2.ptr != end || v.major < 0 || v.minor < 0) {
    return fail(Errc::kProtocolError, "the engine sent an invalid API version \"" +
                                          std::string(text.substr(0, 16)) + "\"");
  }
  return v;
}

std::string ApiVersion::toString() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

Result<ApiVersion> negotiate(std::string_view engineApiVersion) {
  auto v = ApiVersion::parse(engineApiVersion);
  if (!v) return v.error();
  if (*v < kMinApi) {
    return fail(Errc::kUnsupportedApi, "the Docker engine speaks API " + v->toString() +
                                           " but at least " + kMinApi.toString() +
                                           " (Docker 20.10) is needed; upgrade the engine");
  }
  return std::min(*v, kMaxApi);
}

Result<std::vector<std::string>> parseImageVolumes(std::string_view text) {
  auto v = parseJson(text, "image inspect");
  if (!v) return v.error();
  const auto* root = v->if_object();
  if (!root) return malformed("image inspect");
  std::vector<std::string> out;
  if (const auto* vols = obj(at(obj(at(root, "Config")), "Volumes"))) {
    for (const auto& kv : *vols) {
      std::string path(kv.key());
      // Only absolute, ordinary paths; anything else would be refused by the engine anyway.
      if (path.empty() || path[0] != '/' || path.find(',') != std::string::npos ||
          path.find(':') != std::string::npos) {
        return fail(Errc::kInvalidSpec, "the image declares an invalid VOLUME \"" + path + "\"");
      }
      out.push_back(std::move(path));
    }
  }
  return out;
}

Result<ImageInfo> parseImageInfo(std::string_view text) {
  auto v = parseJson(text, "image inspect");
  if (!v) return v.error();
  const auto* root = v->if_object();
  if (!root) return malformed("image inspect");
  ImageInfo info;
  info.id = str(at(root, "Id"));
  const auto* size = at(root, "Size");
  if (info.id.empty() || size == nullptr || !(size->is_int64() || size->is_uint64()) ||
      (size->is_int64() && size->as_int64() < 0)) {
    return malformed("image inspect");
  }
  info.sizeBytes = u64(size);
  return info;
}

Result<std::optional<SystemTime>> parseTimestamp(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > t.size()) return false;
    auto r = std::from_chars(t.data() + pos, t.data() + pos + len, out);
    return r.ec == std::errc{} && r.ptr == t.data() + pos + len;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (t.size() < 20 || !num(0, 4, y) || t[4] != '-' || !num(5, 2, mo) || t[7] != '-' ||
      !num(8, 2, d) || (t[10] != 'T' && t[10] != ' ') || !num(11, 2, h) || t[13] != ':' ||
      !num(14, 2, mi) || t[16] != ':' || !num(17, 2, s) || mo < 1 || mo > 12 || d < 1 || d > 31 ||
      h > 23 || mi > 59 || s > 60) {
    return fail(Errc::kProtocolError, "the engine sent an invalid timestamp");
  }
  std::size_t pos = 19;
  std::int64_t nanos = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (t[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return fail(Errc::kProtocolError, "the engine sent an invalid timestamp");
    for (; digits < 9; ++digits) nanos *= 10;
  }
  std::int64_t offsetSeconds = 0;
  if (pos < t.size() && t[pos] == 'Z' && pos + 1 == t.size()) {
  } else if (pos + 6 == t.size() && (t[pos] == '+' || t[pos] == '-') && t[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (!num(pos + 1, 2, oh) || !num(pos + 4, 2, om)) {
      return fail(Errc::kProtocolError, "the engine sent an invalid timestamp");
    }
    offsetSeconds = (t[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return fail(Errc::kProtocolError, "the engine sent an invalid timestamp");
  }
  if (y <= 1) return std::optional<SystemTime>{};  // Go's zero time: "never"
  const auto days =
      std::chrono::sys_days(std::chrono::year(y) / std::chrono::month(static_cast<unsigned>(mo)) /
                            std::chrono::day(static_cast<unsigned>(d)));
  const auto tp = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      days + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(s) +
      std::chrono::nanoseconds(nanos) - std::chrono::seconds(offsetSeconds));
  return std::optional<SystemTime>{tp};
}

Result<ContainerInfo> parseInspect(std::string_view text) {
  auto v = parseJson(text, "container inspect");
  if (!v) return v.error();
  const auto* root = v->if_object();
  if (!root) return malformed("container inspect");
  ContainerInfo info;
  info.id = str(at(root, "Id"));
  if (info.id.empty()) return malformed("container inspect");
  info.name = str(at(root, "Name"));
  if (!info.name.empty() && info.name[0] == '/') info.name.erase(0, 1);
  const auto* config = obj(at(root, "Config"));
  info.image = str(at(config, "Image"));
  labelsInto(at(config, "Labels"), info);
  const auto* state = obj(at(root, "State"));
  info.state = stateFrom(str(at(state, "Status")));
  info.exitCode =
      static_cast<int>(std::clamp<std::int64_t>(i64(at(state, "ExitCode")), INT32_MIN, INT32_MAX));
  if (const auto* oom = at(state, "OOMKilled"); oom && oom->is_bool())
    info.oomKilled = oom->get_bool();
  info.error = str(at(state, "Error"));
  if (auto s = parseTimestamp(str(at(state, "StartedAt")))) info.startedAt = *s;
  if (auto f = parseTimestamp(str(at(state, "FinishedAt")))) info.finishedAt = *f;
  if (const auto* ports = obj(at(obj(at(root, "NetworkSettings")), "Ports"))) {
    for (const auto& kv : *ports) {
      const auto* bindings = kv.value().if_array();
      if (!bindings) continue;
      for (const auto& b : *bindings) {
        const auto* bo = b.if_object();
        const std::string hostPort = str(at(bo, "HostPort"));
        unsigned p = 0;
        auto r = std::from_chars(hostPort.data(), hostPort.data() + hostPort.size(), p);
        if (r.ec == std::errc{} && p > 0 && p <= 65535) {
          info.hostPort = static_cast<std::uint16_t>(p);
          break;
        }
      }
      if (info.hostPort) break;
    }
  }
  if (const auto* nets = obj(at(obj(at(root, "NetworkSettings")), "Networks"))) {
    for (const auto& kv : *nets) {
      const std::string ip = str(at(kv.value().if_object(), "IPAddress"));
      in_addr parsed{};
      // Only a well-formed IPv4 address is kept (it becomes a dial target).
      if (!ip.empty() && ::inet_pton(AF_INET, ip.c_str(), &parsed) == 1) {
        info.address = ip;
        break;
      }
    }
  }
  return info;
}

Result<std::vector<ContainerInfo>> parseList(std::string_view text) {
  auto v = parseJson(text, "container list");
  if (!v) return v.error();
  const auto* arr = v->if_array();
  if (!arr) return malformed("container list");
  std::vector<ContainerInfo> out;
  for (const auto& item : *arr) {
    const auto* o = item.if_object();
    if (!o) return malformed("container list");
    ContainerInfo info;
    info.id = str(at(o, "Id"));
    if (const auto* names = at(o, "Names");
        names && names->is_array() && !names->get_array().empty()) {
      info.name = str(&names->get_array()[0]);
      if (!info.name.empty() && info.name[0] == '/') info.name.erase(0, 1);
    }
    info.image = str(at(o, "Image"));
    labelsInto(at(o, "Labels"), info);
    info.state = stateFrom(str(at(o, "State")));
    // "Exited (137) 3 seconds ago": the list has no ExitCode field.
    const std::string status = str(at(o, "Status"));
    if (status.starts_with("Exited (")) {
      int code = 0;
      auto r = std::from_chars(status.data() + 8, status.data() + status.size(), code);
      if (r.ec == std::errc{}) info.exitCode = code;
    }
    if (const auto* ports = at(o, "Ports"); ports && ports->is_array()) {
      for (const auto& p : ports->get_array()) {
        const auto pub = u64(at(p.if_object(), "PublicPort"));
        if (pub > 0 && pub <= 65535) {
          info.hostPort = static_cast<std::uint16_t>(pub);
          break;
        }
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

Result<Stats> parseStats(std::string_view text) {
  auto v = parseJson(text, "stats");
  if (!v) return v.error();
  const auto* root = v->if_object();
  if (!root) return malformed("stats");
  Stats s;
  const auto* cpu = obj(at(root, "cpu_stats"));
  const auto* pre = obj(at(root, "precpu_stats"));
  const auto total = u64(at(obj(at(cpu, "cpu_usage")), "total_usage"));
  const auto preTotal = u64(at(obj(at(pre, "cpu_usage")), "total_usage"));
  const auto system = u64(at(cpu, "system_cpu_usage"));
  const auto preSystem = u64(at(pre, "system_cpu_usage"));
  auto online = u64(at(cpu, "online_cpus"));
  if (online == 0) {
    if (const auto* per = at(obj(at(cpu, "cpu_usage")), "percpu_usage"); per && per->is_array()) {
      online = per->get_array().size();
    }
  }
  if (online == 0) online = 1;
  // The `docker stats` formula: share of the whole machine's CPU time, scaled to cores.
  if (total > preTotal && system > preSystem) {
    s.cpuPercent = static_cast<double>(total - preTotal) / static_cast<double>(system - preSystem) *
                   static_cast<double>(online) * 100.0;
  }
  const auto* mem = obj(at(root, "memory_stats"));
  const auto usage = u64(at(mem, "usage"));
  const auto* ms = obj(at(mem, "stats"));
  // Page cache is reclaimable; subtract it like the CLI does (cgroup v1 and v2 names).
  std::uint64_t cache = u64(at(ms, "total_inactive_file"));
  if (cache == 0) cache = u64(at(ms, "inactive_file"));
  s.memoryBytes = usage > cache ? usage - cache : usage;
  s.memoryLimitBytes = u64(at(mem, "limit"));
  s.pids = u64(at(obj(at(root, "pids_stats")), "current"));
  s.cpuSeconds = static_cast<double>(total) / 1e9;  // total_usage is in nanoseconds
  if (const auto* nets = obj(at(root, "networks"))) {
    for (const auto& kv : *nets) {
      s.netRxBytes += u64(at(kv.value().if_object(), "rx_bytes"));
      s.netTxBytes += u64(at(kv.value().if_object(), "tx_bytes"));
    }
  }
  return s;
}

Result<std::optional<Event>> parseEvent(std::string_view text) {
  auto v = parseJson(text, "event");
  if (!v) return v.error();
  const auto* root = v->if_object();
  if (!root) return malformed("event");
  if (str(at(root, "Type")) != "container") return std::optional<Event>{};
  Event e;
  e.action = str(at(root, "Action"));
  const auto* actor = obj(at(root, "Actor"));
  e.containerId = str(at(actor, "ID"));
  const auto* attrs = obj(at(actor, "Attributes"));
  e.deploymentId = str(at(attrs, kLabelDeployment));
  // Actions can carry a suffix ("exec_start: sh"); classify on the verb.
  const std::string verb = e.action.substr(0, e.action.find(':'));
  if (verb == "create")
    e.kind = EventKind::kCreate;
  else if (verb == "start")
    e.kind = EventKind::kStart;
  else if (verb == "die")
    e.kind = EventKind::kDie;
  else if (verb == "oom")
    e.kind = EventKind::kOom;
  else if (verb == "stop")
    e.kind = EventKind::kStop;
  else if (verb == "kill")
    e.kind = EventKind::kKill;
  else if (verb == "destroy")
    e.kind = EventKind::kDestroy;
  if (e.kind == EventKind::kDie) {
    const std::string code = str(at(attrs, "exitCode"));
    int c = 0;
    auto r = std::from_chars(code.data(), code.data() + code.size(), c);
    if (r.ec == std::errc{} && r.ptr == code.data() + code.size()) e.exitCode = c;
  }
  const auto nanos = i64(at(root, "timeNano"));
  if (nanos > 0) {
    e.time = SystemTime(
        std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(nanos)));
  } else {
    e.time = SystemTime(std::chrono::duration_cast<SystemTime::duration>(
        std::chrono::seconds(i64(at(root, "time")))));
  }
  return std::optional<Event>{std::move(e)};
}

Result<PullMessage> parsePullMessage(std::string_view text) {
  auto v = parseJson(text, "pull progress");
  if (!v) return v.error();
  const auto* root = v->if_object();
  if (!root) return malformed("pull progress");
  // The engine reports pull failures inside a 200 response: an "error" message ends the pull.
  if (const auto* err = at(root, "error")) {
    std::string msg = str(err);
    if (msg.empty()) msg = str(at(obj(at(root, "errorDetail")), "message"));
    return fail(Errc::kPullFailed, "the engine could not pull the image: " + msg);
  }
  PullMessage p;
  p.status = str(at(root, "status"));
  p.layer = str(at(root, "id"));
  const auto* detail = obj(at(root, "progressDetail"));
  p.current = u64(at(detail, "current"));
  p.total = u64(at(detail, "total"));
  return p;
}

std::optional<PullProgress> PullTracker::update(const PullMessage& m) {
  if (m.layer.empty()) return std::nullopt;
  auto& l = layers_[m.layer];
  if (m.total > 0) l.total = m.total;
  if (m.status == "Downloading") {
    l.current = m.current;
  } else if (m.status == "Download complete" || m.status == "Pull complete" ||
             m.status == "Already exists") {
    l.current = l.total;
  }
  return PullProgress{m.layer, l.current, l.total};
}

Result<VersionInfo> parseVersion(std::string_view text) {
  auto v = parseJson(text, "version");
  if (!v) return v.error();
  const auto* root = v->if_object();
  if (!root) return malformed("version");
  return VersionInfo{str(at(root, "Version")), str(at(root, "ApiVersion")), str(at(root, "Os"))};
}

Result<std::string> parseNetworkDeployment(std::string_view text) {
  auto v = parseJson(text, "network inspect");
  if (!v) return v.error();
  const auto* labels = obj(at(v->if_object(), "Labels"));
  if (str(at(labels, kLabelManaged)) != "true") return std::string();
  return str(at(labels, kLabelDeployment));
}

Result<std::string> parseId(std::string_view text) {
  auto v = parseJson(text, "create");
  if (!v) return v.error();
  std::string id = str(at(v->if_object(), "Id"));
  if (!validObjectId(id)) return malformed("create");
  return id;
}

std::string engineMessage(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(json::string_view(body.data(), body.size()), ec);
  if (!ec) {
    if (auto m = str(at(v.if_object(), "message")); !m.empty()) return m.substr(0, 2048);
  }
  std::string raw(body.substr(0, 512));
  while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r')) raw.pop_back();
  return raw.empty() ? "(no message)" : raw;
}

std::string urlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (isAlnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string ownedFilter() {
  return json::serialize(
      json::object{{"label", json::array{std::string(kLabelManaged) + "=true"}}});
}

std::string eventsFilter() {
  return json::serialize(json::object{
      {"type", json::array{"container"}},
      {"label", json::array{std::string(kLabelManaged) + "=true"}},
      {"event", json::array{"create", "start", "die", "oom", "stop", "kill", "destroy"}}});
}

LogEntry toLogEntry(LogStream stream, std::string_view payload) {
  LogEntry e;
  e.stream = stream;
  if (const auto sp = payload.find(' '); sp != std::string_view::npos && sp >= 20 && sp <= 40) {
    if (auto t = parseTimestamp(payload.substr(0, sp)); t && *t) {
      e.time = **t;
      payload.remove_prefix(sp + 1);
    }
  }
  if (!payload.empty() && payload.back() == '\n') payload.remove_suffix(1);
  e.text = std::string(payload);
  return e;
}

}  // namespace pc::runtime::docker
