// The C++ side of the interop tests and benchmarks: the same CLI, scenarios and JSON lines as
// tests/interop/js/peer.mjs, so either implementation can dial the other.
//
//   interop_peer listen [--seed HEX32] [--port N]
//   interop_peer dial <multiaddr> --scenario a,b,... [--seed HEX32] [--count N] [--seconds N]
//                [--bytes N] [--streams K]
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <random>

#include "crypto/hash.hpp"
#include "net/error.hpp"
#include "net/host.hpp"
#include "net/relay/client.hpp"
#include "net/relay/keeper.hpp"

using namespace pc;
using namespace pc::net;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr const char* kEcho = "/echo/1.0.0";
constexpr const char* kSink = "/sink/1.0.0";
constexpr const char* kReset = "/reset/1.0.0";
constexpr const char* kHold = "/hold/1.0.0";  // benchmark only: keeps the stream open and idle

void out(const json::object& o) { std::cout << json::serialize(o) << std::endl; }

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

json::array addrsJson(const std::vector<Multiaddr>& as) {
  json::array a;
  for (const auto& m : as) a.emplace_back(m.toString());
  return a;
}

asio::awaitable<void> sleepFor(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(kNoThrow);
}

Bytes pseudoRandom(std::size_t n, std::uint32_t seed) {
  Bytes b(n);
  std::uint32_t x = seed;
  for (auto& v : b) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    v = static_cast<std::uint8_t>(x);
  }
  return b;
}

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

struct Ctx {
  std::shared_ptr<Host> host;
  std::shared_ptr<Connection> conn;
  Multiaddr target;
  std::map<std::string, std::string> opts;
  std::int64_t num(const std::string& k, std::int64_t d) const {
    auto it = opts.find(k);
    return it == opts.end() ? d : std::stoll(it->second);
  }
};

asio::awaitable<Result<Bytes>> echoOnce(Ctx& c, Bytes payload) {
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

asio::awaitable<json::object> scBenchConnect(Ctx& c) {
  const auto n = c.num("connections", c.num("count", 200));
  std::vector<double> totals, dialOnly;
  // One node dialing fresh connections, as js's harness does: the address without /p2p is never
  // matched to a live connection, so every iteration is a full TCP + Noise + yamux setup.
  HostConfig cfg;
  cfg.identifyOnConnect = false;
  auto h = Host::create(co_await asio::this_coro::executor, c.host->identity(), cfg);
  // A relayed target is dialled cold each time: a fresh host, so the relay connection is new too.
  const bool relayed = c.target.isCircuit();
  const auto plain = relayed ? c.target : c.target.withoutPeerId();
  for (std::int64_t i = 0; i < n; ++i) {
    if (relayed) {
      h->close();
      h = Host::create(co_await asio::this_coro::executor, c.host->identity(), cfg);
      relay::installRelayTransport(*h);
    }
    const auto start = Clock::now();
    auto conn = co_await h->connect(plain);
    if (!conn) co_return json::object{{"ok", false}, {"error", conn.error().message()}};
    dialOnly.push_back(ms(Clock::now() - start));
    auto rtt = co_await h->ping(*conn);
    if (!rtt) co_return json::object{{"ok", false}, {"error", rtt.error().message()}};
    totals.push_back(ms(Clock::now() - start));
    (*conn)->session->close();
  }
  h->close();
  std::sort(totals.begin(), totals.end());
  std::sort(dialOnly.begin(), dialOnly.end());
  co_return json::object{{"ok", true},
                         {"connections", n},
                         {"medianMs", totals[totals.size() / 2]},
                         {"p90Ms", totals[totals.size() * 9 / 10]},
                         {"minMs", totals.front()},
                         {"dialOnlyMedianMs", dialOnly[dialOnly.size() / 2]}};
}

asio::awaitable<json::object> scBenchThroughput(Ctx& c) {
  const auto bytes = static_cast<std::uint64_t>(c.num("bytes", 1ll << 30));
  const auto streams = static_cast<int>(c.num("streams", 1));
  const auto per = bytes / static_cast<std::uint64_t>(streams);
  Bytes chunk = pseudoRandom(256 * 1024, 9);
  int done = 0;
  bool ok = true;
  std::string err;
  const auto start = Clock::now();
  for (int i = 0; i < streams; ++i) {
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          const std::vector<std::string> p{kSink};
          auto s = co_await c.host->newStream(c.conn, p);
          if (!s) {
            ok = false;
            err = s.error().message();
            ++done;
            co_return;
          }
          std::uint64_t left = per;
          while (left > 0) {
            const auto n = std::min<std::uint64_t>(left, chunk.size());
            if (auto w = co_await (*s)->write(BytesView(chunk.data(), n)); !w) {
              ok = false;
              err = w.error().message();
              break;
            }
            left -= n;
          }
          co_await (*s)->closeWrite();
          std::uint8_t be[8];
          if (auto r = co_await readExact(**s, be); r) {
            std::uint64_t got = 0;
            for (auto v : be) got = got << 8 | v;
            if (got != per) {
              ok = false;
              err = "sink counted " + std::to_string(got);
            }
          } else {
            ok = false;
            err = r.error().message();
          }
          ++done;
        },
        asio::detached);
  }
  while (done < streams) co_await sleepFor(1ms);
  const double secs = ms(Clock::now() - start) / 1000.0;
  json::object o{
      {"ok", ok},
      {"bytes", per * static_cast<std::uint64_t>(streams)},
      {"streams", streams},
      {"seconds", secs},
      {"MBps", static_cast<double>(per * static_cast<std::uint64_t>(streams)) / 1e6 / secs}};
  if (!ok) o["error"] = err;
  co_return o;
}

long rssKiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// Opens --connections connections (each a fresh dial) and --streams-per-conn idle /hold streams
// on each, announcing each phase and pausing --pause-ms so the harness can sample the listener's
// memory. Also reports this (dialing) process's own memory.
asio::awaitable<json::object> scBenchMemory(Ctx& c) {
  const auto conns = c.num("connections", 1000);
  const auto perConn = c.num("streams-per-conn", 10);
  const auto pause = std::chrono::milliseconds(c.num("pause-ms", 1500));
  HostConfig cfg;
  cfg.identifyOnConnect = false;
  cfg.maxConnections = static_cast<std::size_t>(conns) + 10;
  auto h = Host::create(co_await asio::this_coro::executor, c.host->identity(), cfg);
  const auto base = rssKiB();
  out({{"phase", "start"}, {"dialerRssKiB", base}});
  co_await sleepFor(pause);
  std::vector<std::shared_ptr<Connection>> held;
  const auto plain = c.target.withoutPeerId();  // no /p2p: every dial is a new connection
  for (std::int64_t i = 0; i < conns; ++i) {
    auto conn = co_await h->connect(plain);
    if (!conn)
      co_return json::object{
          {"ok", false},
          {"error", "connection " + std::to_string(i) + ": " + conn.error().message()}};
    held.push_back(*conn);
  }
  const auto afterConns = rssKiB();
  out({{"phase", "connections"}, {"connections", conns}, {"dialerRssKiB", afterConns}});
  co_await sleepFor(pause);
  std::vector<std::shared_ptr<yamux::Stream>> streams;
  const std::vector<std::string> hold{kHold};
  for (auto& conn : held) {
    for (std::int64_t j = 0; j < perConn; ++j) {
      auto s = co_await h->newStream(conn, hold);
      if (!s) co_return json::object{{"ok", false}, {"error", "stream: " + s.error().message()}};
      streams.push_back(*s);
    }
  }
  const auto afterStreams = rssKiB();
  out({{"phase", "streams"}, {"streams", streams.size()}, {"dialerRssKiB", afterStreams}});
  co_await sleepFor(pause);
  streams.clear();
  h->close();
  co_return json::object{{"ok", true},
                         {"connections", conns},
                         {"streams", conns * perConn},
                         {"dialerKiBPerConnection",
                          static_cast<double>(afterConns - base) / static_cast<double>(conns)},
                         {"dialerKiBPerStream", static_cast<double>(afterStreams - afterConns) /
                                                    static_cast<double>(conns * perConn)}};
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: interop_peer listen|dial ...\n";
    return 2;
  }
  // Diagnostics go to stderr (stdout carries JSON lines only); SPDLOG_LEVEL=debug for more.
  spdlog::set_default_logger(spdlog::stderr_color_mt("interop"));
  spdlog::cfg::load_env_levels();
  const std::string mode = argv[1];
  std::vector<std::string> positional;
  std::map<std::string, std::string> opts;
  std::vector<std::string> scenarios;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      const auto key = a.substr(2);
      std::string v = argv[++i];
      if (key == "scenario") {
        std::size_t p = 0;
        while (p <= v.size()) {
          auto q = v.find(',', p);
          if (q == std::string::npos) q = v.size();
          scenarios.push_back(v.substr(p, q - p));
          p = q + 1;
        }
      } else {
        opts[key] = v;
      }
    } else {
      positional.push_back(a);
    }
  }
  auto identity = identityFrom(opts);
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
  std::shared_ptr<relay::ReservationKeeper> keeper;

  if (mode == "listen") {
    const auto port = opts.count("port") ? opts["port"] : "0";
    auto bound = host->listen(Multiaddr::parse("/ip4/127.0.0.1/tcp/" + port).value());
    if (!bound) {
      std::cerr << bound.error().message() << "\n";
      return 1;
    }
    host->onConnected([&](const std::shared_ptr<Connection>& c) {
      out({{"event", "connection"}, {"peer", c->peer.toBase58()}});
      asio::co_spawn(
          io,
          [&, c]() -> asio::awaitable<void> {
            // Our own identify of the dialer, so the test can check what it advertises.
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
    if (opts.count("relay")) {  // reachable through a relay too: report each reservation
      relay::KeeperOptions ko;
      ko.relay = Multiaddr::parse(opts["relay"]).value();
      ko.onChange = [&](const std::vector<Multiaddr>& addrs) {
        json::array a;
        for (const auto& m : addrs) a.emplace_back(m.withPeerId(host->peerId()).toString());
        out({{"event", "reserved"}, {"addrs", a}});
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
  if (mode != "dial" || positional.empty() || scenarios.empty()) {
    std::cerr << "usage: interop_peer dial <multiaddr> --scenario a,b\n";
    return 2;
  }
  auto target = Multiaddr::parse(positional[0]);
  if (!target) {
    std::cerr << target.error().message() << "\n";
    return 2;
  }
  int failures = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Ctx c{host, nullptr, *target, opts};
        auto conn = co_await host->connect(*target);
        if (!conn) {
          for (const auto& s : scenarios)
            out({{"scenario", s},
                 {"ok", false},
                 {"error", "dial failed: " + conn.error().message()}});
          failures = static_cast<int>(scenarios.size());
          co_return;
        }
        c.conn = *conn;
        out({{"event", "connected"},
             {"peer", c.conn->peer.toBase58()},
             {"security", c.conn->security},
             {"muxer", c.conn->muxer}});
        for (const auto& name : scenarios) {
          json::object r;
          const auto t0 = Clock::now();
          if (name == "ping")
            r = co_await scPing(c);
          else if (name == "identify")
            r = co_await scIdentify(c);
          else if (name == "echo")
            r = co_await scEcho(c);
          else if (name == "echo-concurrent")
            r = co_await scEchoConcurrent(c);
          else if (name == "transfer")
            r = co_await scTransfer(c);
          else if (name == "reset")
            r = co_await scReset(c);
          else if (name == "hold")
            r = co_await scHold(c);
          else if (name == "bench-connect")
            r = co_await scBenchConnect(c);
          else if (name == "bench-throughput")
            r = co_await scBenchThroughput(c);
          else if (name == "bench-memory")
            r = co_await scBenchMemory(c);
          else
            r = {{"ok", false}, {"error", "unknown scenario"}};
          r["scenario"] = name;
          r["elapsedMs"] = ms(Clock::now() - t0);
          if (!r["ok"].as_bool()) ++failures;
          out(r);
        }
        host->close();
      },
      [&](std::exception_ptr e) {
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
