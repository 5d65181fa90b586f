#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "runtime/docker_api.hpp"
#include "runtime/error.hpp"

namespace pc::runtime::docker {
namespace {

namespace json = boost::json;

ContainerSpec spec() {
  ContainerSpec s;
  s.deploymentId = "dep-1";
  s.requesterId = "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB";
  s.image = "127.0.0.1:5055/peercompute/busybox:test";
  s.command = {"sh", "-c", "echo hi"};
  s.env = {{"GREETING", "hello world"}};
  s.exposedPort = 8080;
  s.cpuMillis = 500;
  s.memoryBytes = 64ULL << 20;
  s.pidsLimit = 50;
  s.tmpfsBytes = 16ULL << 20;
  return s;
}

TEST(DockerApi, ImageInfoHasIdAndSize) {
  auto info = parseImageInfo(R"({"Id":"sha256:abc","Size":2076672,"Config":{}})");
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->id, "sha256:abc");
  EXPECT_EQ(info->sizeBytes, 2076672U);
  for (const char* bad : {R"({"Id":"sha256:abc"})", R"({"Id":"sha256:abc","Size":-1})",
                          R"({"Size":5})", R"({"Id":"x","Size":"5"})", "[]"}) {
    EXPECT_FALSE(parseImageInfo(bad)) << bad;
  }
}

TEST(DockerApi, Negotiation) {
  EXPECT_EQ(negotiate("1.41").value().toString(), "1.41");
  EXPECT_EQ(negotiate("1.45").value().toString(), "1.45");
  EXPECT_EQ(negotiate("1.51").value().toString(), kMaxApi.toString());
  EXPECT_EQ(negotiate("2.0").value().toString(), kMaxApi.toString());
  auto old = negotiate("1.40");
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error(), make_error_code(Errc::kUnsupportedApi));
  EXPECT_NE(old.error().message().find("upgrade"), std::string::npos);
  for (auto bad : {"", "1", "1.", ".1", "x.y", "1.41.2", "-1.41", "1.4a"}) {
    EXPECT_FALSE(negotiate(bad)) << bad;
  }
}

TEST(DockerApi, CreateBodyAppliesTheWholeSecurityProfile) {
  auto s = spec();
  auto ref = validateSpec(s).value();
  auto v = json::parse(buildCreateBody(s, ref, {"/data"}, ProfileOptions{"runsc"}));
  const auto& c = v.as_object();
  EXPECT_EQ(c.at("Image").as_string(), "127.0.0.1:5055/peercompute/busybox:test");
  EXPECT_EQ(c.at("Tty").as_bool(), false);
  EXPECT_EQ(c.at("Cmd").as_array().size(), 3U);
  EXPECT_EQ(c.at("Env").as_array().at(0).as_string(), "GREETING=hello world");
  const auto& labels = c.at("Labels").as_object();
  EXPECT_EQ(labels.at("peercompute.managed").as_string(), "true");
  EXPECT_EQ(labels.at("peercompute.deployment-id").as_string(), "dep-1");
  EXPECT_EQ(labels.at("peercompute.requester-id").as_string(), s.requesterId);
  EXPECT_TRUE(c.at("ExposedPorts").as_object().contains("8080/tcp"));
  const auto& h = c.at("HostConfig").as_object();
  EXPECT_EQ(h.at("Privileged").as_bool(), false);
  EXPECT_EQ(json::serialize(h.at("CapDrop")), R"(["ALL"])");
  EXPECT_FALSE(h.contains("CapAdd"));
  EXPECT_EQ(json::serialize(h.at("SecurityOpt")), R"(["no-new-privileges:true"])");
  EXPECT_EQ(h.at("ReadonlyRootfs").as_bool(), true);
  EXPECT_EQ(h.at("Init").as_bool(), true);  // signals reach the workload, zombies are reaped
  EXPECT_EQ(h.at("Tmpfs").as_object().at("/tmp").as_string(),
            "rw,noexec,nosuid,nodev,mode=1777,size=16777216");
  EXPECT_EQ(h.at("Tmpfs").as_object().at("/data").as_string(),
            "rw,noexec,nosuid,nodev,mode=1777,size=16777216");
  // gVisor's own threads count against the limit: the guest still gets its 50.
  EXPECT_EQ(h.at("PidsLimit").as_int64(), 50 + kGvisorSandboxPids);
  EXPECT_EQ(h.at("NanoCpus").as_int64(), 500'000'000);
  EXPECT_EQ(h.at("Memory").as_int64(), 64LL << 20);
  EXPECT_EQ(h.at("MemorySwap").as_int64(), 64LL << 20);
  EXPECT_TRUE(h.at("Binds").as_array().empty());
  EXPECT_TRUE(h.at("Mounts").as_array().empty());
  EXPECT_TRUE(h.at("VolumesFrom").as_array().empty());
  EXPECT_TRUE(h.at("Devices").as_array().empty());
  EXPECT_EQ(h.at("NetworkMode").as_string(), "pc-dep-1");
  EXPECT_EQ(h.at("IpcMode").as_string(), "private");
  EXPECT_FALSE(h.contains("PidMode"));
  EXPECT_FALSE(h.contains("UsernsMode"));
  EXPECT_EQ(h.at("PublishAllPorts").as_bool(), false);
  EXPECT_EQ(h.at("Runtime").as_string(), "runsc");
  EXPECT_EQ(json::serialize(h.at("PortBindings")),
            R"({"8080/tcp":[{"HostIp":"127.0.0.1","HostPort":""}]})");
  EXPECT_TRUE(c.at("NetworkingConfig").at("EndpointsConfig").as_object().contains("pc-dep-1"));
  // Nothing that would loosen the engine's defaults (masked paths, seccomp, apparmor).
  EXPECT_FALSE(h.contains("MaskedPaths"));
  EXPECT_FALSE(h.contains("ReadonlyPaths"));
  EXPECT_FALSE(h.contains("Sysctls"));
}

TEST(DockerApi, UnderRuncThePidsLimitIsTheDeployments) {
  auto s = spec();
  auto ref = validateSpec(s).value();
  auto v = json::parse(buildCreateBody(s, ref, {}, ProfileOptions{}));
  EXPECT_EQ(v.at("HostConfig").at("PidsLimit").as_int64(), 50);
  EXPECT_FALSE(v.at("HostConfig").as_object().contains("Runtime"));
}

TEST(DockerApi, DefaultRuntimeAndNoPortWhenNotExposed) {
  auto s = spec();
  s.exposedPort.reset();
  s.command.clear();
  auto v = json::parse(buildCreateBody(s, validateSpec(s).value(), {}, {}));
  const auto& h = v.at("HostConfig").as_object();
  EXPECT_FALSE(h.contains("Runtime"));
  EXPECT_FALSE(h.contains("PortBindings"));
  EXPECT_FALSE(v.as_object().contains("Cmd"));
}

TEST(DockerApi, HostileSpecValuesStayData) {
  // Values that would break a string-built request stay inside JSON strings.
  auto s = spec();
  s.env = {{"X", "\"},\"Privileged\":true,\"x\":{\""}};
  s.command = {"\",\"Binds\":[\"/:/host\"]"};
  auto v = json::parse(buildCreateBody(s, validateSpec(s).value(), {}, {}));
  EXPECT_EQ(v.at("HostConfig").at("Privileged").as_bool(), false);
  EXPECT_TRUE(v.at("HostConfig").at("Binds").as_array().empty());
}

TEST(DockerApi, ValidateSpecNamesTheField) {
  auto expectField = [](ContainerSpec s, std::string_view field) {
    auto r = validateSpec(s);
    ASSERT_FALSE(r) << field;
    EXPECT_NE(r.error().message().find(field), std::string::npos) << r.error().message();
  };
  auto s = spec();
  s.deploymentId = "../../x";
  expectField(s, "deployment_id");
  s = spec();
  s.deploymentId = "UPPER";
  expectField(s, "deployment_id");
  s = spec();
  s.deploymentId = std::string(64, 'a');
  expectField(s, "deployment_id");
  s = spec();
  s.requesterId = "a b";
  expectField(s, "requester_id");
  s = spec();
  s.env = {{"A=B", "x"}};
  expectField(s, "env name");
  s = spec();
  s.env = {{"1A", "x"}};
  expectField(s, "env name");
  s = spec();
  s.exposedPort = 0;
  expectField(s, "exposed_port");
  s = spec();
  s.cpuMillis = 0;
  expectField(s, "cpu_millis");
  s = spec();
  s.memoryBytes = 1 << 20;
  expectField(s, "memory");
  s = spec();
  s.pidsLimit = 0;
  expectField(s, "pids_limit");
  s = spec();
  s.tmpfsBytes = 2ULL << 30;
  expectField(s, "tmpfs");
  s = spec();
  s.image = "not valid";
  expectField(s, "invalid image reference");
  s = spec();
  s.command = {std::string("a\0b", 3)};
  expectField(s, "NUL");
}

TEST(DockerApi, ObjectIds) {
  EXPECT_TRUE(validObjectId("0123abcdef"));
  EXPECT_TRUE(validObjectId("pc-dep-1"));
  for (auto bad : {"", "../images/x", "a/b", "a?b", "a b", ".hidden", "-x", "a%2fb"}) {
    EXPECT_FALSE(validObjectId(bad)) << bad;
  }
}

TEST(DockerApi, ParseInspect) {
  const std::string body = R"({
    "Id": "abc123", "Name": "/pc-dep-1",
    "Config": {"Image": "busybox", "Labels": {"peercompute.managed": "true",
      "peercompute.deployment-id": "dep-1", "peercompute.requester-id": "12D3"}},
    "State": {"Status": "exited", "ExitCode": 137, "OOMKilled": true, "Error": "",
      "StartedAt": "2024-05-01T10:00:00.5Z", "FinishedAt": "0001-01-01T00:00:00Z"},
    "NetworkSettings": {"Ports": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49153"}],
                                  "9090/tcp": null},
                        "Networks": {"pc-dep-1": {"IPAddress": "172.19.0.2"}}}})";
  auto i = parseInspect(body).value();
  EXPECT_EQ(i.id, "abc123");
  EXPECT_EQ(i.name, "pc-dep-1");
  EXPECT_TRUE(i.managed);
  EXPECT_EQ(i.deploymentId, "dep-1");
  EXPECT_EQ(i.state, ContainerState::kExited);
  EXPECT_EQ(i.exitCode, 137);
  EXPECT_TRUE(i.oomKilled);
  EXPECT_EQ(i.hostPort.value_or(0), 49153);
  EXPECT_EQ(i.address.value_or(""), "172.19.0.2");
  // Anything but a dotted IPv4 address is not a dial target.
  EXPECT_FALSE(
      parseInspect(
          R"({"Id":"a","NetworkSettings":{"Networks":{"n":{"IPAddress":"evil.example:80"}}}})")
          .value()
          .address);
  ASSERT_TRUE(i.startedAt);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(i.startedAt->time_since_epoch())
                .count(),
            1714557600500);
  EXPECT_FALSE(i.finishedAt);
  EXPECT_FALSE(parseInspect("[]"));
  EXPECT_FALSE(parseInspect("{"));
  EXPECT_FALSE(parseInspect(R"({"Name":"x"})"));
}

TEST(DockerApi, ParseListKeepsLabelsAndExitCode) {
  auto l = parseList(R"([{"Id":"a","Names":["/pc-x"],"Image":"i","State":"exited",
      "Status":"Exited (3) 2 seconds ago","Labels":{"peercompute.managed":"true",
      "peercompute.deployment-id":"x"},"Ports":[{"IP":"127.0.0.1","PrivatePort":80,"PublicPort":49000,"Type":"tcp"}]},
      {"Id":"b","Names":["/other"],"State":"running","Status":"Up","Labels":{}}])")
               .value();
  ASSERT_EQ(l.size(), 2U);
  EXPECT_EQ(l[0].name, "pc-x");
  EXPECT_EQ(l[0].exitCode, 3);
  EXPECT_TRUE(l[0].managed);
  EXPECT_EQ(l[0].hostPort.value_or(0), 49000);
  EXPECT_FALSE(l[1].managed);
  EXPECT_FALSE(parseList("{}"));
}

TEST(DockerApi, ParseStats) {
  auto s =
      parseStats(
          R"({"cpu_stats":{"cpu_usage":{"total_usage":300000000},"system_cpu_usage":4000000000,"online_cpus":2},
      "precpu_stats":{"cpu_usage":{"total_usage":100000000},"system_cpu_usage":2000000000},
      "memory_stats":{"usage":50000000,"limit":67108864,"stats":{"total_inactive_file":10000000}},
      "pids_stats":{"current":7},
      "networks":{"eth0":{"rx_bytes":1000,"tx_bytes":20},"eth1":{"rx_bytes":5,"tx_bytes":2}}})")
          .value();
  EXPECT_DOUBLE_EQ(s.cpuPercent, 20.0);
  EXPECT_EQ(s.memoryBytes, 40000000U);
  EXPECT_EQ(s.memoryLimitBytes, 67108864U);
  EXPECT_EQ(s.pids, 7U);
  EXPECT_DOUBLE_EQ(s.cpuSeconds, 0.3);
  EXPECT_EQ(s.netRxBytes, 1005U);  // summed over its networks
  EXPECT_EQ(s.netTxBytes, 22U);
  // A stopped container's stats are all zero: no division by zero.
  auto z = parseStats(R"({"cpu_stats":{},"precpu_stats":{},"memory_stats":{}})").value();
  EXPECT_EQ(z.cpuPercent, 0.0);
}

TEST(DockerApi, ParseEvents) {
  auto e = parseEvent(R"({"status":"die","id":"abc","Type":"container","Action":"die",
      "Actor":{"ID":"abc","Attributes":{"exitCode":"137","peercompute.deployment-id":"d1"}},
      "time":1714557600,"timeNano":1714557600123456789})")
               .value();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, EventKind::kDie);
  EXPECT_EQ(e->exitCode.value_or(-1), 137);
  EXPECT_EQ(e->deploymentId, "d1");
  EXPECT_EQ(e->containerId, "abc");
  auto oom = parseEvent(R"({"Type":"container","Action":"oom","Actor":{"ID":"abc"}})").value();
  ASSERT_TRUE(oom);
  EXPECT_EQ(oom->kind, EventKind::kOom);
  auto exec =
      parseEvent(R"({"Type":"container","Action":"exec_start: sh","Actor":{"ID":"abc"}})").value();
  EXPECT_EQ(exec->kind, EventKind::kOther);
  EXPECT_FALSE(parseEvent(R"({"Type":"network","Action":"connect"})").value());
  EXPECT_FALSE(parseEvent("nope"));
}

TEST(DockerApi, PullMessages) {
  auto p = parsePullMessage(
               R"({"status":"Downloading","progressDetail":{"current":10,"total":100},"id":"l1"})")
               .value();
  EXPECT_EQ(p.status, "Downloading");
  EXPECT_EQ(p.layer, "l1");
  EXPECT_EQ(p.current, 10U);
  EXPECT_EQ(p.total, 100U);
  auto err = parsePullMessage(
      R"({"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"})");
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error(), make_error_code(Errc::kPullFailed));
  EXPECT_NE(err.error().message().find("manifest unknown"), std::string::npos);
}

TEST(DockerApi, PullTrackerTurnsEngineWordsIntoNumbers) {
  PullTracker t;
  EXPECT_FALSE(t.update({"Status: Image is up to date", "", 0, 0}));
  auto p = t.update({"Pulling fs layer", "l1", 0, 0}).value();
  EXPECT_EQ(p.layer, "l1");
  EXPECT_EQ(p.current, 0U);
  EXPECT_EQ(p.total, 0U);
  p = t.update({"Downloading", "l1", 40, 100}).value();
  EXPECT_EQ(p.current, 40U);
  EXPECT_EQ(p.total, 100U);
  // Extraction figures are not download bytes: only the size is taken from them.
  p = t.update({"Extracting", "l1", 5, 100}).value();
  EXPECT_EQ(p.current, 40U);
  p = t.update({"Download complete", "l1", 0, 0}).value();
  EXPECT_EQ(p.current, 100U);
  EXPECT_EQ(p.total, 100U);
  p = t.update({"Pull complete", "l1", 0, 0}).value();
  EXPECT_EQ(p.current, 100U);
  // A layer already present counts as done once its size is known (here: never).
  p = t.update({"Already exists", "l2", 0, 0}).value();
  EXPECT_EQ(p.layer, "l2");
  EXPECT_EQ(p.current, 0U);
  EXPECT_EQ(p.total, 0U);
}

TEST(DockerApi, EngineMessagesAndTimestamps) {
  EXPECT_EQ(engineMessage(R"({"message":"No such container: x"})"), "No such container: x");
  EXPECT_EQ(engineMessage("plain text\n"), "plain text");
  EXPECT_EQ(engineMessage(""), "(no message)");
  auto t = parseTimestamp("2024-05-01T12:00:00+02:00").value();
  ASSERT_TRUE(t);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count(),
            1714557600);
  EXPECT_FALSE(parseTimestamp("2024-05-01 garbage"));
  EXPECT_FALSE(parseTimestamp("2024-13-01T00:00:00Z"));
  auto e = toLogEntry(LogStream::kStderr, "2024-05-01T10:00:00.000000001Z oops\n");
  EXPECT_EQ(e.text, "oops");
  EXPECT_TRUE(e.time);
  EXPECT_EQ(e.stream, LogStream::kStderr);
  EXPECT_EQ(toLogEntry(LogStream::kStdout, "no timestamp here\n").text, "no timestamp here");
  EXPECT_EQ(urlEncode("a b/{\"c\"}"), "a%20b%2F%7B%22c%22%7D");
}

}  // namespace
}  // namespace pc::runtime::docker

namespace pc::runtime::docker {
namespace {

TEST(DockerApi, NetworkPoolHandsOutDistinctSubnets) {
  EXPECT_EQ(poolSubnet("10.213.0.0/16", 28, 0).value(), "10.213.0.0/28");
  EXPECT_EQ(poolSubnet("10.213.0.0/16", 28, 3).value(), "10.213.0.48/28");
  EXPECT_EQ(poolSubnet("10.213.7.9/16", 28, 4096).value(), "10.213.0.0/28");  // cycles
  EXPECT_EQ(poolSubnet("10.213.0.0/28", 28, 5).value(), "10.213.0.0/28");
  EXPECT_FALSE(poolSubnet("10.213.0.0/29", 28, 0));
  EXPECT_FALSE(poolSubnet("not-an-ip/16", 28, 0));
  EXPECT_FALSE(poolSubnet("10.213.0.0", 28, 0));
  EXPECT_FALSE(poolSubnet("10.213.0.0/1x", 28, 0));
  ContainerSpec spec;
  spec.deploymentId = "dep-aaaaaaaaaaaaaaaa";
  const auto body = buildNetworkBody(spec, "10.213.0.48/28");
  EXPECT_NE(body.find(R"("IPAM":{"Driver":"default","Config":[{"Subnet":"10.213.0.48/28"}]})"),
            std::string::npos)
      << body;
  EXPECT_EQ(buildNetworkBody(spec).find("IPAM"), std::string::npos);
}

}  // namespace
}  // namespace pc::runtime::docker
