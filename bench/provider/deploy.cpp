// Benchmark (by hand, not part of the test suite): the deploy round trip through the Peer Compute
// protocol, excluding the pull, against the Docker API call alone, interleaved in one run.
//
// Ours: an in-process provider (Scheduler + Service + libp2p host over loopback TCP, Noise, yamux)
// with the real DockerRuntime; a developer host sends a signed DeployRequest on a fresh stream of
// a live connection and waits for the DeployResponse. The pull is excluded by subtracting the
// interval between the "pulling" and "starting" progress messages as the client saw them.
// Anchor: DockerRuntime::createAndStart of the same spec, the engine calls the provider makes.
//
//   bench/provider/run.sh [runs]
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cstdio>

#include "protocol/signing.hpp"
#include "protocol/sqlite_replay_cache.hpp"
#include "protocol/stream_protocols.hpp"
#include "provider/config.hpp"
#include "provider/service.hpp"
#include "rpc/message_stream.hpp"
#include "runtime/docker.hpp"

namespace asio = pc::net::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kImage = "127.0.0.1:5055/peercompute/demo-web:2";

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}

template <class T>
T runSync(asio::io_context& io, asio::awaitable<T> op) {
  std::optional<T> out;
  asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T v) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(v));
  });
  while (!out) io.run_one();
  return std::move(*out);
}

struct Sample {
  double total = 0;
  double pull = 0;
  std::string id;
};

/// The developer's side: deploy and stop over one live connection to the in-process provider,
/// and the anchor's engine calls alone.
struct Bench {
  pc::runtime::DockerRuntime& docker;
  std::shared_ptr<pc::net::Host> dev;
  const pc::crypto::Identity& devId;
  std::shared_ptr<pc::net::Connection> conn;

  asio::awaitable<Sample> deployOnce() {
    pc::protocol::DeployRequest req;
    req.header = pc::protocol::newRequestHeader(pc::protocol::unixMillisNow());
    req.image = kImage;
    req.cpuMillicores = 500;
    req.memoryBytes = 64 << 20;
    req.exposePort = 8080;
    req.timeoutSeconds = 60;
    pc::protocol::Message m = req;
    (void)pc::protocol::sign(m, devId);
    const auto t0 = Clock::now();
    const std::vector<std::string> protos{std::string(pc::protocol::kDeployProtocol)};
    auto s = (co_await dev->newStream(conn, protos)).value();
    (void)co_await pc::rpc::writeMessage(*s, m);
    pc::rpc::MessageReader reader(*s);
    Clock::time_point pulling{}, starting{};
    Sample out;
    while (true) {
      auto msg = (co_await reader.next()).value();
      if (!msg) break;
      if (auto* p = std::get_if<pc::protocol::DeployProgress>(&*msg)) {
        if (p->phase == pc::protocol::DeployPhase::kPulling && pulling == Clock::time_point{}) {
          pulling = Clock::now();
        }
        if (p->phase == pc::protocol::DeployPhase::kStarting) starting = Clock::now();
      } else if (auto* r = std::get_if<pc::protocol::DeployResponse>(&*msg)) {
        out.total = ms(Clock::now() - t0);
        out.pull = ms(starting - pulling);
        out.id = r->deploymentId;
        if (r->state != pc::protocol::DeploymentState::kRunning) {
          std::fprintf(stderr, "deploy failed: %s\n", r->error.value_or("?").c_str());
          std::exit(1);
        }
      }
    }
    co_return out;
  }

  asio::awaitable<int> stopOnce(std::string id) {
    pc::protocol::Message m = pc::protocol::StopRequest{
        pc::protocol::newRequestHeader(pc::protocol::unixMillisNow()), id, true};
    (void)pc::protocol::sign(m, devId);
    const std::vector<std::string> protos{std::string(pc::protocol::kStopProtocol)};
    auto s = (co_await dev->newStream(conn, protos)).value();
    (void)co_await pc::rpc::writeMessage(*s, m);
    pc::rpc::MessageReader reader(*s);
    (void)co_await reader.next();
    co_return 0;
  }

  asio::awaitable<double> anchorOnce(int i) {
    pc::runtime::ContainerSpec spec;
    spec.deploymentId = "bench-anchor-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    spec.requesterId = "bench";
    spec.image = kImage;
    spec.cpuMillis = 500;
    spec.memoryBytes = 64 << 20;
    spec.exposedPort = 8080;
    const auto t0 = Clock::now();
    auto started = co_await docker.createAndStart(spec);
    const double t = ms(Clock::now() - t0);
    if (!started) {
      std::fprintf(stderr, "anchor failed: %s\n", started.error().message().c_str());
      std::exit(1);
    }
    const std::string cid = started->id;
    (void)co_await docker.remove(cid);
    co_return t;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 20;
  char tmpl[] = "/tmp/pc-bench-deploy.XXXXXX";
  const std::filesystem::path dir = ::mkdtemp(tmpl);
  asio::io_context io(1);
  auto docker = pc::runtime::DockerRuntime(pc::runtime::DockerOptions::fromEnvironment().value());
  auto store = pc::provider::Store::open(dir / "provider.db").value();
  auto replay = pc::protocol::SqliteReplayCache::open(dir / "provider.db").value();
  auto audit = pc::provider::AuditLog::open(dir / "audit.jsonl").value();
  pc::provider::ProviderConfig cfg;
  cfg.allowedRegistries = {"127.0.0.1:5055"};
  pc::provider::Scheduler sched(io.get_executor(), docker, *store,
                                pc::runtime::Policy::create(cfg.policy()).value());
  (void)sched.load();
  auto svc = std::make_shared<pc::provider::Service>(sched, *audit, *replay);
  auto provId = pc::crypto::Identity::generate().value();
  auto devId = pc::crypto::Identity::generate().value();
  auto prov = pc::net::Host::create(io.get_executor(), provId);
  svc->install(*prov);
  const auto addr = prov->listen(pc::net::Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value())
                        .value()
                        .withPeerId(provId.peerId());
  auto dev = pc::net::Host::create(io.get_executor(), devId);
  Bench b{docker, dev, devId, runSync(io, dev->connect(addr)).value()};

  // One warm-up of each (image present, engine caches warm), then interleaved runs.
  {
    auto w = runSync(io, b.deployOnce());
    runSync(io, b.stopOnce(w.id));
    runSync(io, b.anchorOnce(-1));
  }
  std::vector<double> ours, pulls, totals, anchor;
  for (int i = 0; i < runs; ++i) {
    auto s = runSync(io, b.deployOnce());
    runSync(io, b.stopOnce(s.id));
    ours.push_back(s.total - s.pull);
    pulls.push_back(s.pull);
    totals.push_back(s.total);
    anchor.push_back(runSync(io, b.anchorOnce(i)));
  }
  const double o = percentile(ours, 0.5), a = percentile(anchor, 0.5);
  std::printf("runs: %d each, interleaved; image %s (present, pull = registry check)\n", runs,
              kImage);
  std::printf("deploy round trip excl. pull  median %7.1f ms  p90 %7.1f ms\n", o,
              percentile(ours, 0.9));
  std::printf("  (whole round trip           median %7.1f ms, of which pull %6.1f ms)\n",
              percentile(totals, 0.5), percentile(pulls, 0.5));
  std::printf("anchor createAndStart alone   median %7.1f ms  p90 %7.1f ms\n", a,
              percentile(anchor, 0.9));
  std::printf("overhead (median difference)          %+7.1f ms\n", o - a);
  prov->close();
  dev->close();
  std::filesystem::remove_all(dir);
  return 0;
}
