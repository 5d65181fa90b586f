// Benchmark (by hand, not part of the test suite): time from "create+start" to a running
// container through DockerRuntime, against the anchor `docker run -d` of the same image measured
// in the same run, interleaved so both see the same engine state. Also measures `docker run -d`
// with the same hardening flags on a fresh per-deployment network (what DockerRuntime does).
//
//   bench/runtime_start.sh [runs]        (default 20; needs dockerd and the test image)
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/docker.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kImage = "peercompute/busybox:test";

template <class T>
T sync(boost::asio::awaitable<T> op) {
  boost::asio::io_context io;
  std::optional<T> out;
  boost::asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T v) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(v));
  });
  io.run_for(std::chrono::seconds(120));
  if (!out) {
    std::fprintf(stderr, "runtime call timed out\n");
    std::exit(1);
  }
  return std::move(*out);
}

std::string sh(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p.get())) out += buf;
  return out;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 20;
  auto opts = pc::runtime::DockerOptions::fromEnvironment();
  if (!opts) {
    std::fprintf(stderr, "%s\n", opts.error().message().c_str());
    return 1;
  }
  pc::runtime::DockerRuntime rt(*opts);
  auto info = sync(rt.ping());
  if (!info) {
    std::fprintf(stderr, "%s\n", info.error().message().c_str());
    return 1;
  }
  std::printf("engine %s, API %s, %d runs each, interleaved\n", info->engineVersion.c_str(),
              info->apiVersion.c_str(), runs);

  std::vector<double> ours, anchor, anchorHardened, anchorUserNet;
  // The floor any user-defined network imposes: `docker run -d` on a network that already exists
  // (created once, outside the timing).
  const std::string sharedNet = "pc-benchnet-" + std::to_string(::getpid());
  sh("docker network create " + sharedNet + " >/dev/null");
  for (int i = 0; i < runs; ++i) {
    const std::string dep = "bench-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    pc::runtime::ContainerSpec spec;
    spec.deploymentId = dep;
    spec.requesterId = "bench";
    spec.image = kImage;
    spec.command = {"sleep", "300"};
    spec.cpuMillis = 500;
    spec.memoryBytes = 64ULL << 20;

    auto t0 = Clock::now();
    auto started = sync(rt.createAndStart(spec));
    auto t1 = Clock::now();
    if (!started) {
      std::fprintf(stderr, "createAndStart: %s\n", started.error().message().c_str());
      return 1;
    }
    ours.push_back(ms(t1 - t0));

    t0 = Clock::now();
    const std::string id = sh(std::string("docker run -d ") + kImage + " sleep 300");
    t1 = Clock::now();
    if (id.empty()) {
      std::fprintf(stderr, "docker run -d failed\n");
      return 1;
    }
    anchor.push_back(ms(t1 - t0));

    const std::string net = "pc-benchcli-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    t0 = Clock::now();
    const std::string id2 =
        sh("docker network create -o com.docker.network.bridge.host_binding_ipv4=127.0.0.1 " + net +
           " >/dev/null && docker run -d --network " + net +
           " --cap-drop ALL --security-opt no-new-privileges:true --read-only"
           " --tmpfs /tmp:rw,noexec,nosuid,nodev,size=67108864 --pids-limit 100 --cpus 0.5"
           " -m 64m --memory-swap 64m --ipc private " +
           kImage + " sleep 300");
    t1 = Clock::now();
    anchorHardened.push_back(ms(t1 - t0));

    t0 = Clock::now();
    const std::string id3 =
        sh("docker run -d --network " + sharedNet + " " + std::string(kImage) + " sleep 300");
    t1 = Clock::now();
    anchorUserNet.push_back(ms(t1 - t0));

    // Clean-up is outside the timed regions.
    (void)sync(rt.remove(started->id));
    sh("docker rm -f " + id.substr(0, id.find('\n')) + " " + id2.substr(0, id2.find('\n')) + " " +
       id3.substr(0, id3.find('\n')) + " >/dev/null; docker network rm " + net + " >/dev/null");
  }
  sh("docker network rm " + sharedNet + " >/dev/null");
  const double o = median(ours), a = median(anchor), h = median(anchorHardened);
  std::printf("DockerRuntime create+start (own network, full profile): median %.1f ms\n", o);
  std::printf("anchor `docker run -d IMAGE`:                           median %.1f ms\n", a);
  std::printf("  difference (ours - anchor):                           %+.1f ms\n", o - a);
  std::printf("`docker network create` + `docker run -d` same profile: median %.1f ms\n", h);
  std::printf("  difference (ours - same-profile CLI):                 %+.1f ms\n", o - h);
  const double u = median(anchorUserNet);
  std::printf("`docker run -d --network EXISTING-USER-NETWORK IMAGE`:  median %.1f ms\n", u);
  std::printf("  (a user-defined network's own cost over the default bridge: %+.1f ms)\n", u - a);
  return 0;
}
