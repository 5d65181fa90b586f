// The C++ side of the interop tests and benchmarks: the same CLI, scenarios and JSON lines as
// tests/interop/js/peer.mjs, so either implementation can dial the other.
//
//   interop_peer listen [--seed HEX32] [--port N]
//   interop_peer dial <multiaddr> --scenario a,b,... [--seed HEX32] [--count N] [--seconds N]
//                [--bytes N] [--streams K]
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>

#include "interop/cpp/interop_peer.hpp"
#include "net/relay/client.hpp"
#include "net/relay/keeper.hpp"

using namespace interop;

namespace {

// ---------------------------------------------------------------- protocol handlers

asio::awaitable<void> echoHandler(std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection>) {
  Bytes buf(256 * 1024);
  for (;;) {
    auto n = co_await s->readSome(buf);
    if (!n) {
      if (n.error() == make_error_code(net::Errc::kReset))
        out({{"event", "reset"}, {"protocol", kEcho}});
      co_return;
    }
    if (*n == 0) break;
    if (auto w = co_await s->write(BytesView(buf.data(), *n)); !w) co_return;
  }
  co_await s->closeWrite();
}

asio::awaitable<void> sinkHandler(std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection>) {
  Bytes buf(256 * 1024);
  std::uint64_t total = 0;
  for (;;) {
    auto n = co_await s->readSome(buf);
    if (!n) co_return;
    if (*n == 0) break;
    total += *n;
  }
  std::uint8_t be[8];
  for (int i = 0; i < 8; ++i) be[i] = static_cast<std::uint8_t>(total >> (56 - 8 * i));
  if (auto w = co_await s->write(BytesView(be, 8)); w) co_await s->closeWrite();
}

asio::awaitable<void> holdHandler(std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection>) {
  std::array<std::uint8_t, 1> buf{};
  for (;;) {
    auto n = co_await s->readSome(buf);
    if (!n || *n == 0) break;
  }
  co_await s->closeWrite();
}

asio::awaitable<void> resetHandler(std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection>) {
  s->reset();
  co_return;
}

// ---------------------------------------------------------------- dial scenarios

}  // namespace

asio::awaitable<Result<Bytes>> interop::echoOnce(Ctx& c, Bytes payload) {
  const std::vector<std::string> protos{kEcho};
  auto s = co_await c.host->newStream(c.conn, protos);
  if (!s) co_return s.error();
  Bytes got;
  bool done = false;
  Result<void> rr = Result<void>{};
  auto stream = *s;
  asio::co_spawn(
      co_await asio::this_coro::executor,
      [&, stream]() -> asio::awaitable<void> {
        auto r = co_await readToEnd(*stream, 1ull << 31);
        if (r)
          got = std::move(*r);
        else
          rr = r.error();
        done = true;
      },
      asio::detached);
  if (auto w = co_await stream->write(payload); !w) co_return w.error();
  co_await stream->closeWrite();
  while (!done) co_await sleepFor(1ms);
  if (!rr) co_return rr.error();
  co_return got;
}

namespace {

asio::awaitable<json::object> scPing(Ctx& c) {
  json::array rtts;
  for (int i = 0; i < c.num("count", 5); ++i) {
    auto r = co_await c.host->ping(c.conn);
    if (!r) co_return json::object{{"ok", false}, {"error", r.error().message()}};
    rtts.emplace_back(static_cast<double>(r->count()) / 1000.0);
  }
  co_return json::object{{"ok", true}, {"rttsMs", rtts}};
}

asio::awaitable<json::object> scIdentify(Ctx& c) {
  auto info = co_await c.host->identify(c.conn);
  if (!info) co_return json::object{{"ok", false}, {"error", info.error().message()}};
  json::array protos;
  for (const auto& p : info->protocols) protos.emplace_back(p);
  const bool hasPing = std::find(info->protocols.begin(), info->protocols.end(),
                                 "/ipfs/ping/1.0.0") != info->protocols.end();
  const bool hasEcho =
      std::find(info->protocols.begin(), info->protocols.end(), kEcho) != info->protocols.end();
  const bool observedOk =
      info->observedAddr && info->observedAddr->withoutPeerId() == c.conn->localAddr;
  const bool listenOk = std::find(info->listenAddrs.begin(), info->listenAddrs.end(),
                                  c.target.withoutPeerId()) != info->listenAddrs.end();
  std::string problems;
  if (!hasPing) problems += "no /ipfs/ping/1.0.0; ";
  if (!hasEcho) problems += "no /echo/1.0.0; ";
  if (!observedOk) problems += "observedAddr is not our address; ";
  if (!listenOk) problems += "listenAddrs lack the dialed address; ";
  json::object o{{"ok", problems.empty()},
                 {"agentVersion", info->agentVersion},
                 {"protocolVersion", info->protocolVersion},
                 {"protocols", protos},
                 {"listenAddrs", addrsJson(info->listenAddrs)},
                 {"observedAddr", info->observedAddr ? info->observedAddr->toString() : ""}};
  if (!problems.empty()) o["error"] = problems;
  co_return o;
}

asio::awaitable<json::object> scEcho(Ctx& c) {
  auto payload = pseudoRandom(100000, 7);
  auto got = co_await echoOnce(c, payload);
  if (!got) co_return json::object{{"ok", false}, {"error", got.error().message()}};
  co_return json::object{{"ok", *got == payload}, {"bytes", payload.size()}};
}

asio::awaitable<json::object> scEchoConcurrent(Ctx& c) {
  const int n = static_cast<int>(c.num("streams", 100));
  int ok = 0, done = 0;
  std::string firstError;
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&, i]() -> asio::awaitable<void> {
          auto payload = pseudoRandom(1024 + static_cast<std::size_t>(i) * 631 % (63 * 1024),
                                      static_cast<std::uint32_t>(i + 1));
          auto got = co_await echoOnce(c, payload);
          if (got && *got == payload)
            ++ok;
          else if (firstError.empty())
            firstError = got ? "payload mismatch" : got.error().message();
          ++done;
        },
        asio::detached);
  }
  while (done < n) co_await sleepFor(2ms);
  json::object o{{"ok", ok == n}, {"streams", n}, {"matched", ok}};
  if (ok != n) o["error"] = firstError;
  co_return o;
}

asio::awaitable<json::object> scTransfer(Ctx& c) {
  const auto size = static_cast<std::size_t>(c.num("bytes", 64 << 20));
  auto payload = pseudoRandom(size, 42);
  const auto start = Clock::now();
  auto got = co_await echoOnce(c, payload);
  const auto elapsed = Clock::now() - start;
  if (!got) co_return json::object{{"ok", false}, {"error", got.error().message()}};
  const auto sent = toHex(crypto::sha256(payload));
  const auto back = toHex(crypto::sha256(*got));
  co_return json::object{{"ok", sent == back},
                         {"bytes", size},
                         {"sha256Sent", sent},
                         {"sha256Received", back},
                         {"ms", ms(elapsed)}};
}

asio::awaitable<json::object> scReset(Ctx& c) {
  // 1. We reset an echo stream mid-way; the connection must survive.
  const std::vector<std::string> echoP{kEcho};
  auto s = co_await c.host->newStream(c.conn, echoP);
  if (!s) co_return json::object{{"ok", false}, {"error", s.error().message()}};
  Bytes hello = toBytes("hello");
  co_await (*s)->write(hello);
  std::uint8_t b[5];
  if (auto r = co_await readExact(**s, b); !r)
    co_return json::object{{"ok", false}, {"error", "no echo before reset"}};
  (*s)->reset();
  // 2. The remote resets /reset/1.0.0 right after negotiation; we must see kReset.
  const std::vector<std::string> resetP{kReset};
  auto r2 = co_await c.host->newStream(c.conn, resetP);
  bool sawReset = false;
  if (r2) {
    std::uint8_t buf[8];
    auto n = co_await (*r2)->readSome(buf);
    sawReset = !n && n.error() == make_error_code(net::Errc::kReset);
  } else {
    sawReset = r2.error() == make_error_code(net::Errc::kReset);
  }
  auto alive = co_await c.host->ping(c.conn);
  json::object o{{"ok", sawReset && alive.has_value()},
                 {"remoteResetSeen", sawReset},
                 {"connectionAlive", alive.has_value()}};
  if (!sawReset) o["error"] = "remote reset not observed";
  co_return o;
}

asio::awaitable<json::object> scHold(Ctx& c) {
  const auto seconds = c.num("seconds", 15);
  const auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(seconds)) {
    co_await sleepFor(250ms);
    if (!c.conn->isOpen()) {
      co_return json::object{
          {"ok", false},
          {"error", "connection closed after " + std::to_string(ms(Clock::now() - start)) +
                        " ms: " + c.conn->session->closeReason().message()}};
    }
  }
  auto alive = co_await c.host->ping(c.conn);
  co_return json::object{{"ok", alive.has_value()}, {"seconds", seconds}};
}

std::optional<crypto::Identity> identityFrom(const std::map<std::string, std::string>& opts) {
  if (auto it = opts.find("seed"); it != opts.end()) {
    auto seed = fromHex(it->second);
    if (!seed) return std::nullopt;
    auto id = crypto::Identity::fromSeed(*seed);
    if (!id) return std::nullopt;
    return *id;
  }
  return crypto::Identity::generate().value();
}

/// The command line: positional arguments, --key value options, and --scenario a,b,c.
struct Args {
  std::string mode;
  std::vector<std::string> positional;
  std::map<std::string, std::string> opts;
  std::vector<std::string> scenarios;
};

Args parseArgs(int argc, char** argv) {
  Args a;
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!arg.starts_with("--") || i + 1 >= argc) {
      a.positional.push_back(arg);
      continue;
    }
    const auto key = arg.substr(2);
    const std::string v = argv[++i];
    if (key != "scenario") {
      a.opts[key] = v;
      continue;
    }
    for (std::size_t p = 0; p <= v.size();) {
      auto q = v.find(',', p);
      if (q == std::string::npos) q = v.size();
      a.scenarios.push_back(v.substr(p, q - p));
      p = q + 1;
    }
  }
  return a;
}

/// Reports a dialer's connection, then our own identify of it (what it advertises), then its end.
void reportDialers(asio::io_context& io, const std::shared_ptr<Host>& host) {
  // A plain pointer: the host holds this handler, and it outlives io.run().
  host->onConnected([&io, host = host.get()](const std::shared_ptr<Connection>& c) {
    out({{"event", "connection"}, {"peer", c->peer.toBase58()}});
    asio::co_spawn(
        io,
        [host, c]() -> asio::awaitable<void> {
          auto info = co_await host->identify(c);
          if (!info) co_return;
          json::array protos;
          for (const auto& p : info->protocols) protos.emplace_back(p);
          out({{"event", "identify"},
               {"peer", c->peer.toBase58()},
               {"protocols", protos},
               {"agentVersion", info->agentVersion},
               {"protocolVersion", info->protocolVersion},
               {"listenAddrs", addrsJson(info->listenAddrs)},
               {"observedAddr", info->observedAddr ? info->observedAddr->toString() : ""}});
          co_await c->session->waitClosed();
          out({{"event", "disconnect"}, {"peer", c->peer.toBase58()}});
        },
        asio::detached);
  });
}

int runListen(asio::io_context& io, const std::shared_ptr<Host>& host, Args& a) {
  const auto port = a.opts.count("port") ? a.opts["port"] : "0";
  auto bound = host->listen(Multiaddr::parse("/ip4/127.0.0.1/tcp/" + port).value());
  if (!bound) {
    std::cerr << bound.error().message() << "\n";
    return 1;
  }
  reportDialers(io, host);
  std::shared_ptr<relay::ReservationKeeper> keeper;
  if (a.opts.count("relay")) {  // reachable through a relay too: report each reservation
    relay::KeeperOptions ko;
    ko.relay = Multiaddr::parse(a.opts["relay"]).value();
    ko.onChange = [host = host.get()](const std::vector<Multiaddr>& addrs) {
      json::array arr;
      for (const auto& m : addrs) arr.emplace_back(m.withPeerId(host->peerId()).toString());
      out({{"event", "reserved"}, {"addrs", arr}});
    };
    keeper = std::make_shared<relay::ReservationKeeper>(host, std::move(ko));
    keeper->start();
  }
  out({{"event", "listening"},
       {"peerId", host->peerId().toBase58()},
       {"addrs", addrsJson({bound->withPeerId(host->peerId())})}});
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, auto) { io.stop(); });
  io.run();
  return 0;
}

using Scenario = asio::awaitable<json::object> (*)(Ctx&);
const std::map<std::string, Scenario>& scenarioTable() {
  static const std::map<std::string, Scenario> table{
      {"ping", scPing},
      {"identify", scIdentify},
      {"echo", scEcho},
      {"echo-concurrent", scEchoConcurrent},
      {"transfer", scTransfer},
      {"reset", scReset},
      {"hold", scHold},
      {"bench-connect", scBenchConnect},
      {"bench-throughput", scBenchThroughput},
      {"bench-memory", scBenchMemory},
  };
  return table;
}

/// Dials `target`, then runs each scenario in turn, one JSON line each; the number that failed.
asio::awaitable<int> dialScenarios(std::shared_ptr<Host> host, Multiaddr target, Args a) {
  Ctx c{host, nullptr, target, a.opts};
  auto conn = co_await host->connect(target);
  if (!conn) {
    for (const auto& s : a.scenarios) {
      out({{"scenario", s}, {"ok", false}, {"error", "dial failed: " + conn.error().message()}});
    }
    co_return static_cast<int>(a.scenarios.size());
  }
  c.conn = *conn;
  out({{"event", "connected"},
       {"peer", c.conn->peer.toBase58()},
       {"security", c.conn->security},
       {"muxer", c.conn->muxer}});
  int failures = 0;
  for (const auto& name : a.scenarios) {
    json::object r;
    const auto t0 = Clock::now();
    const auto it = scenarioTable().find(name);
    if (it != scenarioTable().end()) {
      r = co_await it->second(c);
    } else {
      r = {{"ok", false}, {"error", "unknown scenario"}};
    }
    r["scenario"] = name;
    r["elapsedMs"] = ms(Clock::now() - t0);
    if (!r["ok"].as_bool()) ++failures;
    out(r);
  }
  host->close();
  co_return failures;
}

int runDial(asio::io_context& io, const std::shared_ptr<Host>& host, const Args& a) {
  if (a.positional.empty() || a.scenarios.empty()) {
    std::cerr << "usage: interop_peer dial <multiaddr> --scenario a,b\n";
    return 2;
  }
  auto target = Multiaddr::parse(a.positional[0]);
  if (!target) {
    std::cerr << target.error().message() << "\n";
    return 2;
  }
  int failures = 0;
  asio::co_spawn(io, dialScenarios(host, *target, a), [&](std::exception_ptr e, int n) {
    failures = n;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::cerr << "fatal: " << ex.what() << "\n";
      }
      failures = 1;
    }
    io.stop();
  });
  io.run();
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: interop_peer listen|dial ...\n";
    return 2;
  }
  // Diagnostics go to stderr (stdout carries JSON lines only); SPDLOG_LEVEL=debug for more.
  spdlog::set_default_logger(spdlog::stderr_color_mt("interop"));
  spdlog::cfg::load_env_levels();
  Args args = parseArgs(argc, argv);
  auto identity = identityFrom(args.opts);
  if (!identity) {
    std::cerr << "bad --seed\n";
    return 2;
  }
  asio::io_context io(1);
  HostConfig cfg;
  cfg.maxConnections = 5000;  // benchmarks hold 1000 connections
  cfg.yamux.maxStreams = 4096;
  // The listener identifies explicitly and reports it; dial scenarios do their own.
  cfg.identifyOnConnect = false;
  auto host = Host::create(io.get_executor(), *identity, cfg);
  host->setHandler(kEcho, echoHandler);
  host->setHandler(kSink, sinkHandler);
  host->setHandler(kReset, resetHandler);
  host->setHandler(kHold, holdHandler);
  relay::installRelayTransport(*host);
  if (args.mode == "listen") return runListen(io, host, args);
  if (args.mode == "dial") return runDial(io, host, args);
  std::cerr << "usage: interop_peer listen|dial ...\n";
  return 2;
}
