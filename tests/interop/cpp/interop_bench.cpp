// The interop peer's benchmark scenarios: connection set-up, stream throughput and memory per
// connection and stream (run by bench/net against js-libp2p and this implementation).
#include <fstream>

#include "interop/cpp/interop_peer.hpp"
#include "net/relay/client.hpp"

namespace interop {
namespace {

long rssKiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

}  // namespace

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

}  // namespace interop
