// End-to-end tests of DockerRuntime against the real dockerd that scripts/test.d/10-docker.sh
// starts (images built locally from busybox-static; a local registry on 127.0.0.1:5055).
// The abuse probes run inside deployed containers and must all hold.
//
// Run by hand: scripts/test.d/10-docker.sh && build/<preset>/bin/pc_runtime_e2e_tests
// There is no skip: without an engine every test fails with the reason.
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "runtime/docker.hpp"
#include "runtime/docker_spec.hpp"
#include "runtime/error.hpp"

namespace pc::runtime {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr const char* kLocalImage = "peercompute/busybox:test";

/// The OCI runtime the tests run containers under: PC_TEST_OCI_RUNTIME (e.g. "runsc" for
/// gVisor), else the engine's default.
std::string ociRuntime() {
  const char* r = std::getenv("PC_TEST_OCI_RUNTIME");
  return r != nullptr ? r : "";
}
bool underGvisor() { return ociRuntime() == "runsc"; }
constexpr const char* kRegistryImage = "127.0.0.1:5055/peercompute/busybox:test";
const char* gSelf = nullptr;

/// Runs one runtime call to completion on a private io_context, with a deadline.
template <class T>
T sync(asio::awaitable<T> op, std::chrono::seconds limit = 180s) {
  asio::io_context io;
  std::optional<T> out;
  std::exception_ptr failure;
  asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T v) {
    failure = e;
    if (!e) out.emplace(std::move(v));
  });
  io.run_for(limit);
  if (failure) std::rethrow_exception(failure);
  if (!out) throw std::runtime_error("runtime call did not finish within its test deadline");
  return std::move(*out);
}

std::string uniqueId(std::string_view name) {
  static int counter = 0;
  return "e2e-" + std::to_string(::getpid()) + "-" + std::string(name) + "-" +
         std::to_string(++counter);
}

ContainerSpec baseSpec(std::string_view name, std::vector<std::string> cmd) {
  ContainerSpec s;
  s.deploymentId = uniqueId(name);
  s.requesterId = "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB";
  s.image = kLocalImage;
  s.command = std::move(cmd);
  s.cpuMillis = 500;
  s.memoryBytes = 64ULL << 20;
  s.pidsLimit = 50;
  s.tmpfsBytes = 8ULL << 20;
  return s;
}

std::string sh(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  if (!p) return out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p.get())) out += buf.data();
  return out;
}

class RuntimeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opts = DockerOptions::fromEnvironment();
    ASSERT_TRUE(opts) << opts.error().message();
    opts->ociRuntime = ociRuntime();
    rt = std::make_unique<DockerRuntime>(*opts);
    auto info = sync(rt->ping());
    ASSERT_TRUE(info) << "no Docker engine for the e2e tests: " << info.error().message()
                      << " (scripts/test.d/10-docker.sh starts one)";
  }
  void TearDown() override {
    for (const auto& id : started) {
      (void)sync(rt->remove(id));
    }
  }

  Started run(const ContainerSpec& spec) {
    auto r = sync(rt->createAndStart(spec));
    if (!r) {
      ADD_FAILURE() << "createAndStart(" << spec.deploymentId << "): " << r.error().message();
      return {};
    }
    started.push_back(r->id);
    return *r;
  }

  /// Waits (on engine events, with a deadline) until `id` dies; returns the events seen for it.
  std::vector<Event> waitForDeath(const std::string& id, SystemTime since,
                                  std::chrono::seconds limit = 120s) {
    std::vector<Event> seen;
    bool died = false;
    auto r = sync(rt->events({since, limit}, [&](const Event& e) {
      if (e.containerId != id) return true;
      seen.push_back(e);
      died = e.kind == EventKind::kDie;
      return !died;
    }));
    EXPECT_TRUE(r) << r.error().message();
    EXPECT_TRUE(died) << "container " << id << " did not die within " << limit.count() << " s";
    return seen;
  }

  std::string allLogs(const std::string& id, LogStream only) {
    std::string out;
    LogOptions o;
    o.stderrStream = only == LogStream::kStderr;
    o.stdoutStream = only == LogStream::kStdout;
    auto r = sync(rt->logs(id, o, [&](const LogEntry& e) {
      out += e.text + "\n";
      return true;
    }));
    EXPECT_TRUE(r) << r.error().message();
    return out;
  }

  std::unique_ptr<DockerRuntime> rt;
  std::vector<std::string> started;
};

TEST_F(RuntimeE2E, PingNegotiatesTheApiVersion) {
  auto info = sync(rt->ping()).value();
  EXPECT_FALSE(info.engineVersion.empty());
  EXPECT_EQ(info.os, "linux");
  // Debian's 20.10 engine is at 1.41; a newer engine is spoken to at most at our maximum.
  EXPECT_GE(info.apiVersion, std::string("1.41"));
}

TEST_F(RuntimeE2E, PullFromRegistryReportsProgress) {
  (void)sync(rt->removeImage(kRegistryImage));  // make the pull real (the tag may be absent)
  std::vector<PullProgress> progress;
  auto r = sync(rt->pull(kRegistryImage, [&](const PullProgress& p) { progress.push_back(p); }));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_FALSE(progress.empty());
  // Numbers only: every layer reported with a known size ends downloaded.
  std::map<std::string, PullProgress> layers;
  for (const auto& p : progress) layers[p.layer] = p;
  for (const auto& [id, p] : layers) {
    if (p.total > 0) {
      EXPECT_EQ(p.current, p.total) << id;
    }
  }
  // The pulled image runs.
  auto spec = baseSpec("pulled", {"true"});
  spec.image = kRegistryImage;
  auto s = run(spec);
  EXPECT_FALSE(s.id.empty());

  auto missing = sync(rt->pull("127.0.0.1:5055/peercompute/does-not-exist:v1", nullptr));
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error() == make_error_code(Errc::kImageNotFound) ||
              missing.error() == make_error_code(Errc::kPullFailed))
      << missing.error().message();
  EXPECT_NE(missing.error().message().find("does-not-exist"), std::string::npos);
}

TEST_F(RuntimeE2E, LifecycleLogsStatsStopRemove) {
  const auto since = std::chrono::system_clock::now() - 1s;
  auto spec = baseSpec(
      "life", {"sh", "-c", "echo out1; echo err1 >&2; echo out2; trap '' TERM; exec sleep 300"});
  auto s = run(spec);
  ASSERT_FALSE(s.id.empty());

  auto info = sync(rt->inspect(s.id)).value();
  EXPECT_EQ(info.state, ContainerState::kRunning);
  EXPECT_EQ(info.deploymentId, spec.deploymentId);
  EXPECT_EQ(info.requesterId, spec.requesterId);
  EXPECT_EQ(info.name, "pc-" + spec.deploymentId);
  EXPECT_TRUE(info.startedAt);

  // Follow until the three lines are there (the sink ends the stream), with a deadline.
  std::vector<LogEntry> entries;
  LogOptions follow;
  follow.follow = true;
  follow.maxDuration = 60s;
  auto lr = sync(rt->logs(s.id, follow, [&](const LogEntry& e) {
    entries.push_back(e);
    return entries.size() < 3;
  }));
  ASSERT_TRUE(lr) << lr.error().message();
  ASSERT_EQ(entries.size(), 3U);
  std::map<std::string, LogStream> byText;
  for (const auto& e : entries) {
    byText[e.text] = e.stream;
    ASSERT_TRUE(e.time);
    EXPECT_GE(*e.time, since);
  }
  EXPECT_EQ(byText.at("out1"), LogStream::kStdout);
  EXPECT_EQ(byText.at("out2"), LogStream::kStdout);
  EXPECT_EQ(byText.at("err1"), LogStream::kStderr);
  EXPECT_EQ(allLogs(s.id, LogStream::kStdout), "out1\nout2\n");
  EXPECT_EQ(allLogs(s.id, LogStream::kStderr), "err1\n");
  // `tail` applies to the interleaved log (stdout and stderr arrive on separate pipes, so their
  // relative order is the engine's): tail=2 gives the last two of the full listing.
  std::vector<std::string> full, tailed;
  ASSERT_TRUE(sync(rt->logs(s.id, {}, [&](const LogEntry& e) {
    full.push_back(e.text);
    return true;
  })));
  LogOptions tail;
  tail.tail = 2;
  ASSERT_TRUE(sync(rt->logs(s.id, tail, [&](const LogEntry& e) {
    tailed.push_back(e.text);
    return true;
  })));
  ASSERT_EQ(full.size(), 3U);
  EXPECT_EQ(tailed, std::vector<std::string>(full.begin() + 1, full.end()));
  LogOptions later;
  later.since = std::chrono::system_clock::now() + 1h;
  int none = 0;
  ASSERT_TRUE(sync(rt->logs(s.id, later, [&](const LogEntry&) { return ++none > 0; })));
  EXPECT_EQ(none, 0);
  // Follow with nothing new returns at its deadline, not with an error.
  LogOptions idle;
  idle.follow = true;
  idle.since = std::chrono::system_clock::now() + 1h;
  idle.maxDuration = 1s;
  EXPECT_TRUE(sync(rt->logs(s.id, idle, [&](const LogEntry&) { return true; })));

  auto st = sync(rt->stats(s.id));
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(st->memoryLimitBytes, spec.memoryBytes);
  EXPECT_GT(st->memoryBytes, 0U);
  EXPECT_GE(st->pids, 1U);
  EXPECT_GE(st->cpuPercent, 0.0);

  // The workload ignores SIGTERM (inherited SIG_IGN): stop must fall back to SIGKILL after the
  // grace period. (Programs that merely install no handler stop gracefully: the engine's init is
  // PID 1 and forwards SIGTERM.)
  auto stopped = sync(rt->stop(s.id, 1s));
  ASSERT_TRUE(stopped) << stopped.error().message();
  info = sync(rt->inspect(s.id)).value();
  EXPECT_EQ(info.state, ContainerState::kExited);
  EXPECT_EQ(info.exitCode, 137);
  EXPECT_FALSE(info.oomKilled);
  EXPECT_TRUE(sync(rt->stop(s.id, 1s)));  // stopping a stopped container succeeds

  ASSERT_TRUE(sync(rt->remove(s.id)));
  started.clear();
  auto gone = sync(rt->inspect(s.id));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error(), make_error_code(Errc::kNoSuchContainer));
  // The deployment's network went with it.
  EXPECT_EQ(sh("docker network ls -q --filter name=^pc-" + spec.deploymentId + "$"), "");
}

TEST_F(RuntimeE2E, ListOwnedAfterARestartOfOurProcess) {
  const std::string dep = uniqueId("restart");
  // A separate process (this binary in helper mode) creates the deployment and exits.
  const std::string out = sh(std::string(gSelf) + " --create-only " + dep);
  ASSERT_EQ(out.rfind("ID=", 0), 0U) << out;
  const std::string id = out.substr(3, out.find('\n') - 3);
  started.push_back(id);
  // A fresh runtime object (as after a provider restart) finds it by its labels.
  DockerRuntime fresh(DockerOptions::fromEnvironment().value());
  auto list = sync(fresh.listOwned());
  ASSERT_TRUE(list) << list.error().message();
  bool found = false;
  for (const auto& c : *list) {
    EXPECT_TRUE(c.managed);
    if (c.deploymentId == dep) {
      found = true;
      EXPECT_EQ(c.id, id);
      EXPECT_EQ(c.state, ContainerState::kRunning);
      EXPECT_EQ(c.requesterId, "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB");
    }
  }
  EXPECT_TRUE(found) << "deployment " << dep << " not in listOwned()";
}

TEST_F(RuntimeE2E, ProfileIsWhatTheEngineApplied) {
  auto spec = baseSpec("profile", {"sleep", "300"});
  spec.exposedPort = 8080;
  auto s = run(spec);
  ASSERT_FALSE(s.id.empty());
  const std::string f =
      "{{.HostConfig.Privileged}}|{{.HostConfig.CapDrop}}|{{.HostConfig.SecurityOpt}}|"
      "{{.HostConfig.ReadonlyRootfs}}|{{.HostConfig.PidsLimit}}|{{.HostConfig.NanoCpus}}|"
      "{{.HostConfig.Memory}}|{{.HostConfig.MemorySwap}}|{{len .HostConfig.Binds}}|"
      "{{len .Mounts}}|{{.HostConfig.NetworkMode}}|{{.HostConfig.PidMode}}|{{.HostConfig.IpcMode}}|"
      "{{json .HostConfig.PortBindings}}|{{.HostConfig.Runtime}}";
  const std::string got = sh("docker inspect --format '" + f + "' " + s.id);
  EXPECT_EQ(got, "false|[ALL]|[no-new-privileges:true]|true|" +
                     std::to_string(50 + (underGvisor() ? docker::kGvisorSandboxPids : 0)) +
                     "|500000000|67108864|67108864|0|0|pc-" + spec.deploymentId +
                     "||private|{\"8080/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]}|" +
                     (underGvisor() ? "runsc" : "runc") + "\n");
}

TEST_F(RuntimeE2E, AbuseProbesHoldInsideTheContainer) {
  const auto since = std::chrono::system_clock::now() - 1s;
  auto spec = baseSpec("probe", {"sh", "-c", R"(
grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\t ' 
if dmesg 2>/dev/null | grep -q gVisor; then echo KERNEL=gvisor; else echo KERNEL=host; fi
if mount -t tmpfs none /tmp 2>/dev/null; then echo MOUNT=allowed; else echo MOUNT=denied; fi
if touch /probe 2>/dev/null; then echo ROOTFS=writable; else echo ROOTFS=readonly; fi
if echo x >/tmp/probe; then echo TMP=writable; fi
if cp /bin/busybox /tmp/bb && /tmp/bb true 2>/dev/null; then echo TMPEXEC=yes; else echo TMPEXEC=no; fi
if chroot / true 2>/dev/null; then echo CHROOT=allowed; else echo CHROOT=denied; fi
if ls /dev/sda /dev/mem >/dev/null 2>&1; then echo HOSTDEV=visible; else echo HOSTDEV=none; fi
)"});
  auto s = run(spec);
  ASSERT_FALSE(s.id.empty());
  waitForDeath(s.id, since);
  const std::string out = allLogs(s.id, LogStream::kStdout);
  EXPECT_NE(out.find("CapEff:0000000000000000"), std::string::npos) << out;
  if (underGvisor()) {
    // gVisor is the sandbox: its /proc reports no seccomp filter and an empty NoNewPrivs, and
    // the container's system calls reach its own kernel, never the host's.
    EXPECT_NE(out.find("KERNEL=gvisor"), std::string::npos) << out;
  } else {
    EXPECT_NE(out.find("KERNEL=host"), std::string::npos) << out;
    EXPECT_NE(out.find("NoNewPrivs:1"), std::string::npos) << out;
    EXPECT_NE(out.find("Seccomp:2"), std::string::npos) << out;
  }
  EXPECT_NE(out.find("MOUNT=denied"), std::string::npos) << out;
  EXPECT_NE(out.find("ROOTFS=readonly"), std::string::npos) << out;
  EXPECT_NE(out.find("TMP=writable"), std::string::npos) << out;
  EXPECT_NE(out.find("TMPEXEC=no"), std::string::npos) << out;
  EXPECT_NE(out.find("CHROOT=denied"), std::string::npos) << out;
  EXPECT_NE(out.find("HOSTDEV=none"), std::string::npos) << out;
}

TEST_F(RuntimeE2E, ForkBombStopsAtThePidsLimit) {
  const auto since = std::chrono::system_clock::now() - 1s;
  auto spec = baseSpec("forkbomb", {"sh", "-c", R"(
(i=0; while [ $i -lt 500 ]; do sleep 300 & i=$((i+1)); done) 2>/tmp/err
echo SUBSHELL=$?
set -- /proc/[0-9]*; echo PROCS=$#
kill -9 -1 2>/dev/null
grep -q "can't fork" /tmp/err && echo FORK=refused
)"});
  spec.pidsLimit = 30;
  auto s = run(spec);
  ASSERT_FALSE(s.id.empty());
  waitForDeath(s.id, since);
  const std::string out = allLogs(s.id, LogStream::kStdout);
  EXPECT_NE(out.find("FORK=refused"), std::string::npos) << out;
  const auto p = out.find("PROCS=");
  ASSERT_NE(p, std::string::npos) << out;
  const int procs = std::stoi(out.substr(p + 6));
  EXPECT_LE(procs, 30) << out;
  EXPECT_GE(procs, 10) << out;  // it did fork up to the limit
}

TEST_F(RuntimeE2E, MemoryHogIsOomKilledAndReportedAsOom) {
  const auto since = std::chrono::system_clock::now() - 1s;
  auto spec = baseSpec("oom", {"sh", "-c", "exec tail /dev/zero"});  // tail buffers a line forever
  spec.memoryBytes = 32ULL << 20;
  auto s = run(spec);
  ASSERT_FALSE(s.id.empty());
  auto events = waitForDeath(s.id, since);
  bool oomEvent = false;
  std::optional<int> exitCode;
  for (const auto& e : events) {
    if (e.kind == EventKind::kOom) oomEvent = true;
    if (e.kind == EventKind::kDie) exitCode = e.exitCode;
  }
  EXPECT_TRUE(oomEvent) << "no oom event";
  EXPECT_EQ(exitCode.value_or(-1), 137);
  auto info = sync(rt->inspect(s.id)).value();
  EXPECT_TRUE(info.oomKilled);
  EXPECT_EQ(info.state, ContainerState::kExited);
}

/// Connects with a deadline; true when the TCP handshake completes.
bool tcpConnects(const sockaddr* addr, socklen_t len, std::chrono::milliseconds limit) {
  const int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = false;
  if (::connect(fd, addr, len) == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) == 1) {
      int err = 0;
      socklen_t l = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
      ok = err == 0;
    }
  }
  ::close(fd);
  return ok;
}

std::string httpGet(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n";
    (void)::write(fd, req.data(), req.size());
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST_F(RuntimeE2E, PublishedPortOnlyOnLoopback) {
  auto spec = baseSpec("port", {"sh", "-c",
                                "mkdir -p /tmp/www && echo hello-from-pc >/tmp/www/index.html && "
                                "exec httpd -f -p 8080 -h /tmp/www"});
  spec.exposedPort = 8080;
  auto s = run(spec);
  ASSERT_FALSE(s.id.empty());
  ASSERT_TRUE(s.hostPort) << "no host port published";
  const std::uint16_t port = *s.hostPort;
  // Reachable on loopback (httpd may need a moment: retry until a deadline, on the response).
  std::string body;
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       body.find("hello-from-pc") == std::string::npos &&
       std::chrono::steady_clock::now() < deadline;) {
    body = httpGet(port);
  }
  EXPECT_NE(body.find("hello-from-pc"), std::string::npos) << body;

  // Not reachable on any non-loopback address of the host (LAN, docker bridges, IPv6).
  ifaddrs* ifs = nullptr;
  ASSERT_EQ(::getifaddrs(&ifs), 0);
  int tried = 0;
  for (auto* i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP)) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET) {
      sockaddr_in a = *reinterpret_cast<sockaddr_in*>(i->ifa_addr);
      a.sin_port = htons(port);
      ::inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
      EXPECT_FALSE(tcpConnects(reinterpret_cast<sockaddr*>(&a), sizeof a, 2000ms))
          << "published port " << port << " reachable on " << i->ifa_name << " " << text;
      ++tried;
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      sockaddr_in6 a = *reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
      a.sin6_port = htons(port);
      ::inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
      EXPECT_FALSE(tcpConnects(reinterpret_cast<sockaddr*>(&a), sizeof a, 2000ms))
          << "published port " << port << " reachable on " << i->ifa_name << " " << text;
      ++tried;
    }
  }
  ::freeifaddrs(ifs);
  EXPECT_GT(tried, 0) << "the host has no non-loopback address to probe";
}

TEST_F(RuntimeE2E, ClearErrors) {
  auto spec = baseSpec("noimage", {"true"});
  spec.image = "127.0.0.1:5055/peercompute/not-pulled:v1";
  auto r = sync(rt->createAndStart(spec));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kImageNotFound));
  EXPECT_NE(r.error().message().find("pull it first"), std::string::npos) << r.error().message();
  EXPECT_EQ(sh("docker network ls -q --filter name=^pc-" + spec.deploymentId + "$"), "");

  auto none = sync(rt->inspect("0123456789abcdef0123"));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), make_error_code(Errc::kNoSuchContainer));

  DockerOptions bad;
  bad.socketPath = "/nonexistent/docker.sock";
  DockerRuntime away(bad);
  auto p = sync(away.ping());
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error(), make_error_code(Errc::kDaemonUnreachable));
  EXPECT_NE(p.error().message().find("is dockerd running"), std::string::npos);

  // A container that is not ours cannot be stopped, removed or read through the runtime.
  const std::string foreign = sh(std::string("docker create ") + kLocalImage + " true");
  ASSERT_FALSE(foreign.empty());
  const std::string fid = foreign.substr(0, foreign.find('\n'));
  for (auto res : {sync(rt->stop(fid, 1s)), sync(rt->remove(fid))}) {
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error(), make_error_code(Errc::kNoSuchContainer));
    EXPECT_NE(res.error().message().find("not managed by Peer Compute"), std::string::npos);
  }
  EXPECT_EQ(sh("docker inspect -f '{{.State.Status}}' " + fid), "created\n");
  sh("docker rm -f " + fid);

  // One deployment id, one container.
  auto twice = baseSpec("twice", {"sleep", "300"});
  auto first = run(twice);
  ASSERT_FALSE(first.id.empty());
  auto second = sync(rt->createAndStart(twice));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), make_error_code(Errc::kConflict)) << second.error().message();
  EXPECT_EQ(sync(rt->inspect(first.id)).value().state, ContainerState::kRunning);
}

/// Removes deployments left by an earlier e2e run that died before its TearDown (its pid is gone).
class LeftoverCleanup : public ::testing::Environment {
 public:
  void SetUp() override {
    auto opts = DockerOptions::fromEnvironment();
    if (!opts) return;
    DockerRuntime rt(*opts);
    auto list = sync(rt.listOwned());
    if (!list) return;  // the tests themselves report an unreachable engine
    for (const auto& c : *list) {
      if (!c.deploymentId.starts_with("e2e-")) continue;
      const int pid = std::atoi(c.deploymentId.c_str() + 4);
      if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0) (void)sync(rt.remove(c.id));
    }
  }
};

int createOnly(const std::string& dep) {
  DockerRuntime rt(DockerOptions::fromEnvironment().value());
  auto spec = baseSpec("x", {"sleep", "300"});
  spec.deploymentId = dep;
  auto r = sync(rt.createAndStart(spec));
  if (!r) {
    std::printf("ERROR %s\n", r.error().message().c_str());
    return 1;
  }
  std::printf("ID=%s\n", r->id.c_str());
  return 0;
}

}  // namespace
}  // namespace pc::runtime

int main(int argc, char** argv) {
  pc::runtime::gSelf = argv[0];
  if (argc == 3 && std::string(argv[1]) == "--create-only") {
    return pc::runtime::createOnly(argv[2]);
  }
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new pc::runtime::LeftoverCleanup);
  return RUN_ALL_TESTS();
}
