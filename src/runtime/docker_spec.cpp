// The security profile: what a ContainerSpec becomes in the engine's create requests (and the
// checks every spec field passes first). Pure; response parsing is in docker_api.cpp.
#include "runtime/docker_spec.hpp"

#include <boost/asio/ip/network_v4.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

#include "runtime/error.hpp"

namespace pc::runtime::docker {

namespace json = boost::json;

namespace {

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isAlnum(char c) { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

json::object ourLabels(const ContainerSpec& spec) {
  return {{kLabelManaged, "true"},
          {kLabelDeployment, spec.deploymentId},
          {kLabelRequester, spec.requesterId}};
}

std::string portKey(std::uint16_t port) { return std::to_string(port) + "/tcp"; }

}  // namespace

std::string objectName(std::string_view deploymentId) { return "pc-" + std::string(deploymentId); }

bool validObjectId(std::string_view id) {
  if (id.empty() || id.size() > 128 || !isAlnum(id.front())) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return isAlnum(c) || c == '_' || c == '.' || c == '-'; });
}

Result<ImageRef> validateSpec(const ContainerSpec& spec) {
  auto bad = [](std::string msg) { return fail(Errc::kInvalidSpec, std::move(msg)); };
  // The deployment id names engine objects and becomes a label: keep it to a DNS label so it
  // cannot address another object or smuggle separators into names and URLs.
  const auto& d = spec.deploymentId;
  if (d.empty() || d.size() > 63 || !isLowerAlnum(d.front()) ||
      !std::all_of(d.begin(), d.end(), [](char c) { return isLowerAlnum(c) || c == '-'; })) {
    return bad("deployment_id must be 1-63 of [a-z0-9-] starting with a letter or digit");
  }
  const auto& r = spec.requesterId;
  if (r.empty() || r.size() > 128 || !std::all_of(r.begin(), r.end(), isAlnum)) {
    return bad("requester_id must be 1-128 alphanumeric characters (a PeerId)");
  }
  auto ref = ImageRef::parse(spec.image);
  if (!ref) return ref.error();
  if (spec.command.size() > kMaxCommandArgs) {
    return bad("command has more than " + std::to_string(kMaxCommandArgs) + " arguments");
  }
  std::size_t bytes = 0;
  for (const auto& a : spec.command) {
    bytes += a.size();
    if (a.find('\0') != std::string::npos) return bad("command arguments must not contain NUL");
  }
  if (bytes > kMaxCommandBytes) return bad("command is longer than 64 KiB");
  if (spec.env.size() > kMaxEnvVars) {
    return bad("env has more than " + std::to_string(kMaxEnvVars) + " variables");
  }
  bytes = 0;
  for (const auto& [k, v] : spec.env) {
    bytes += k.size() + v.size();
    const bool nameOk =
        !k.empty() && k.size() <= 256 && !(k[0] >= '0' && k[0] <= '9') &&
        std::all_of(k.begin(), k.end(), [](char c) { return isAlnum(c) || c == '_'; });
    if (!nameOk) return bad("env name \"" + k.substr(0, 64) + "\" must be [A-Za-z_][A-Za-z0-9_]*");
    if (v.find('\0') != std::string::npos) return bad("env value of " + k + " contains NUL");
  }
  if (bytes > kMaxEnvBytes) return bad("env is larger than 64 KiB");
  if (spec.exposedPort && *spec.exposedPort == 0) return bad("exposed_port must be 1-65535");
  if (spec.cpuMillis == 0) return bad("cpu_millis must be at least 1");
  if (spec.memoryBytes < (6ULL << 20)) return bad("memory must be at least 6 MiB");
  if (spec.pidsLimit == 0 || spec.pidsLimit > kMaxPidsLimit) {
    return bad("pids_limit must be 1-" + std::to_string(kMaxPidsLimit));
  }
  if (spec.tmpfsBytes < kMinTmpfsBytes || spec.tmpfsBytes > kMaxTmpfsBytes) {
    return bad("tmpfs size must be between 1 MiB and 1 GiB");
  }
  return ref;
}

Result<std::string> poolSubnet(std::string_view pool, unsigned prefix, std::uint64_t index) {
  boost::system::error_code ec;
  const auto net = boost::asio::ip::make_network_v4(pool, ec);
  if (ec || net.prefix_length() > prefix || prefix > 30) {
    return fail(Errc::kInvalidSpec, "network_pool '" + std::string(pool) +
                                        "' is not an IPv4 CIDR of /" + std::to_string(prefix) +
                                        " or larger (e.g. 10.213.0.0/16)");
  }
  // The pool holds 2^(prefix - pool prefix) subnets; `index` picks one, cycling.
  const std::uint64_t count = std::uint64_t{1} << (prefix - net.prefix_length());
  const auto n = static_cast<std::uint32_t>(index % count);
  const boost::asio::ip::address_v4 first(net.network().to_uint() + (n << (32 - prefix)));
  return boost::asio::ip::network_v4(first, static_cast<unsigned short>(prefix)).to_string();
}

std::string buildNetworkBody(const ContainerSpec& spec, const std::string& subnet) {
  json::object body{
      {"Name", objectName(spec.deploymentId)},
      {"Driver", "bridge"},
      {"CheckDuplicate", true},
      {"Internal", false},
      {"Attachable", false},
      {"Labels", ourLabels(spec)},
      // Defence in depth: even a port binding without an address lands on loopback, and a
      // deployment's bridge never forwards between containers.
      {"Options",
       {{"com.docker.network.bridge.host_binding_ipv4", "127.0.0.1"},
        {"com.docker.network.bridge.enable_icc", "false"},
        // Our own bridge name: the provider's egress rules confine the deployment by it.
        {"com.docker.network.bridge.name", deploymentInterface(spec.deploymentId)}}},
  };
  if (!subnet.empty()) {
    body["IPAM"] = {{"Driver", "default"}, {"Config", json::array{{{"Subnet", subnet}}}}};
  }
  return json::serialize(body);
}

std::string buildCreateBody(const ContainerSpec& spec, const ImageRef& image,
                            const std::vector<std::string>& imageVolumes,
                            const ProfileOptions& options) {
  const std::string net = objectName(spec.deploymentId);
  const std::string tmpfsOpts =
      "rw,noexec,nosuid,nodev,mode=1777,size=" + std::to_string(spec.tmpfsBytes);
  json::object tmpfs;
  // Each VOLUME the image declares gets a tmpfs: otherwise the engine would create an anonymous
  // volume on the host disk, outside the memory limit (a disk-filling attack).
  for (const auto& v : imageVolumes) tmpfs[v] = tmpfsOpts;
  // Writable scratch space on a read-only root; noexec stops dropping and running a binary there.
  tmpfs["/tmp"] = tmpfsOpts;

  json::object host{
      // Privileged would give every capability and every device: never.
      {"Privileged", false},
      // Drop every capability: no mount, no raw sockets, no ptrace, no chown games.
      {"CapDrop", json::array{"ALL"}},
      // no-new-privileges: a setuid binary in the image cannot regain what CapDrop removed.
      // The default seccomp profile applies because we never pass a seccomp= option.
      {"SecurityOpt", json::array{"no-new-privileges:true"}},
      // A read-only root stops persistence and tampering with the image's binaries.
      {"ReadonlyRootfs", true},
      {"Tmpfs", std::move(tmpfs)},
      // Bounded process count stops fork bombs; CPU and memory limits stop starving the host.
      {"PidsLimit", static_cast<std::int64_t>(spec.pidsLimit) +
                        (options.ociRuntime == "runsc" ? kGvisorSandboxPids : 0)},
      {"NanoCpus", static_cast<std::int64_t>(spec.cpuMillis) * 1'000'000},
      {"Memory", static_cast<std::int64_t>(spec.memoryBytes)},
      // Memory = MemorySwap: no swap, so the memory limit is a real limit and the OOM killer acts.
      {"MemorySwap", static_cast<std::int64_t>(spec.memoryBytes)},
      {"OomKillDisable", false},
      // No host paths, volumes or devices: the container sees nothing of the host's files.
      {"Binds", json::array{}},
      {"Mounts", json::array{}},
      {"VolumesFrom", json::array{}},
      {"Devices", json::array{}},
      // Own network, own IPC; PID and UTS namespaces stay private (engine default, never "host").
      {"NetworkMode", net},
      {"IpcMode", "private"},
      {"PublishAllPorts", false},
      {"RestartPolicy", {{"Name", "no"}}},
      // The engine's init (tini) as PID 1: it forwards SIGTERM to the workload, so a stop is
      // graceful even for programs that install no handler (PID 1 ignores default-action
      // signals), and it reaps zombies that would otherwise count against the pids limit.
      {"Init", true},
      {"AutoRemove", false},
      // Bounded logs: a chatty container cannot fill the host's disk through the log driver.
      {"LogConfig", {{"Type", "json-file"}, {"Config", {{"max-size", "10m"}, {"max-file", "3"}}}}},
  };
  if (!options.ociRuntime.empty()) host["Runtime"] = options.ociRuntime;
  json::object config{
      {"Image", image.toString()},
      {"Labels", ourLabels(spec)},
      {"Tty", false},  // the multiplexed log format keeps stdout and stderr apart
      {"OpenStdin", false},
      {"AttachStdin", false},
      {"AttachStdout", false},
      {"AttachStderr", false},
      {"NetworkingConfig", {{"EndpointsConfig", {{net, json::object{}}}}}},
  };
  if (spec.exposedPort) {
    // Published on 127.0.0.1 only, host port chosen by the engine: the tunnel reaches it, the
    // host's other interfaces (LAN, public) do not.
    const auto key = portKey(*spec.exposedPort);
    config["ExposedPorts"] = {{key, json::object{}}};
    host["PortBindings"] = {
        {key, json::array{json::object{{"HostIp", "127.0.0.1"}, {"HostPort", ""}}}}};
  }
  if (!spec.command.empty()) {
    json::array cmd;
    for (const auto& a : spec.command) cmd.emplace_back(a);
    config["Cmd"] = std::move(cmd);
  }
  json::array env;
  for (const auto& [k, v] : spec.env) env.emplace_back(k + "=" + v);
  config["Env"] = std::move(env);
  config["HostConfig"] = std::move(host);
  return json::serialize(config);
}

}  // namespace pc::runtime::docker
