// A hostile libp2p client for the hostile-input and load suites: it floods a running
// peercomputed with untrusted peers and half-open connections, sends malformed bytes at every
// layer (multistream-select, Noise, yamux, Peer Compute frames) and holds many trusted
// connections. It reports what the provider did; the shell scripts judge it.
//
//   p2p_hostile untrusted <multiaddr> <count> <concurrency>
//       count fresh identities handshake; prints "untrusted N gated G refused R passed P"
//       (passed = the provider spoke a muxer byte to an untrusted peer: must be 0)
//   p2p_hostile half-open <multiaddr> <count> silent|partial|stalled <wait-seconds>
//       holds count connections that stall before / inside multistream / inside the Noise
//       handshake, prints "held N", then "freed F of N, last after T ms" once the provider cut
//       them (or wait-seconds passed)
//   p2p_hostile malformed <multiaddr> <home>
//       one line per case: "case <name>: closed=<0|1> after=<ms> goaway=<code|-> answer=<…>"
//       (closed=1: the provider closed the connection; the client gives up after 12 s)
//   p2p_hostile conns <multiaddr> <home> <count> <stop-file>
//       opens count trusted connections (each TCP + Noise + yamux), prints "connected N", holds
//       them until stop-file exists, then pings each and prints "alive K"
//   p2p_hostile ping-flood <multiaddr> <home> <megabytes> <connections> <stop-file>
//       as the trusted peer of <home>: writes megabytes of yamux Ping SYNs spread over
//       connections (and blind answers to the provider's keep-alive pings), never reading a
//       byte; a connection's flood ends when the provider closes it or stops reading (no
//       progress for 5 s). Prints "ping-flood sent B closed K stalled S
//       failed F", holds the connections (still not reading) until stop-file exists.
#include "hostile/p2p_hostile.hpp"

using namespace hostile;

namespace {

// ------------------------------------------------------------------ untrusted flood

struct FloodCounts {
  int gated = 0, refused = 0, passed = 0;
};

awaitable<void> untrustedOne(pc::net::Multiaddr addr, FloodCounts& c) {
  auto id = pc::crypto::Identity::generate();
  if (!id) {
    ++c.refused;
    co_return;
  }
  auto raw = co_await pc::net::dialTcp(addr.withoutPeerId(), std::chrono::seconds(10));
  if (!raw) {
    ++c.refused;
    co_return;
  }
  // Named, not temporaries inside the co_await expression (GCC 12).
  const std::vector<std::string> muxers{std::string(pc::net::yamux::kProtocolId)};
  const pc::net::noise::PreparedKeys keys{};
  auto sc = co_await pc::net::secureOutbound(std::move(*raw), *id, std::nullopt, keys, muxers);
  if (!sc) {
    ++c.refused;  // reset before or during the handshake (e.g. the connection limit)
    co_return;
  }
  // The provider gates right after the handshake: any byte from it now would be a muxer byte
  // sent to a peer it does not trust.
  Bytes hello;
  if (!(*sc)->earlyMuxer()) hello = multistreamHello(pc::net::yamux::kProtocolId);
  const pc::net::yamux::Header ping{pc::net::yamux::Type::kPing, pc::net::yamux::flags::kSyn, 0, 7};
  pc::net::yamux::encode(ping, hello);
  (void)co_await (*sc)->write(hello);
  std::array<std::uint8_t, 64> buf{};
  auto n = co_await (*sc)->readSome(buf);
  if (n && *n > 0) {
    ++c.passed;
  } else {
    ++c.gated;
  }
  (*sc)->reset();
}

awaitable<void> untrusted(pc::net::Multiaddr addr, int count, int concurrency) {
  FloodCounts c;
  int started = 0, running = 0;
  auto ex = co_await asio::this_coro::executor;
  pc::net::Signal done(ex);
  while (started < count || running > 0) {
    while (started < count && running < concurrency) {
      ++started;
      ++running;
      asio::co_spawn(ex, untrustedOne(addr, c), [&](std::exception_ptr) {
        --running;
        done.notify();
      });
    }
    co_await done.wait();
  }
  std::cout << "untrusted " << count << " gated " << c.gated << " refused " << c.refused
            << " passed " << c.passed << std::endl;
}

// ------------------------------------------------------------------ half-open

awaitable<void> halfOpen(pc::net::Multiaddr addr, int count, std::string mode, int waitSeconds) {
  auto ex = co_await asio::this_coro::executor;
  std::vector<std::unique_ptr<tcp::socket>> socks;
  const auto ep = endpointOf(addr);
  for (int i = 0; i < count; ++i) {
    auto s = std::make_unique<tcp::socket>(ex);
    auto [ec] = co_await s->async_connect(ep, pc::net::kNoThrow);
    if (ec) continue;
    Bytes out;
    if (mode == "partial") {
      out = multistreamHello("");
      out.resize(out.size() / 2);  // half a multistream header, then nothing
    } else if (mode == "stalled") {
      out = multistreamHello(pc::net::noise::kProtocolId);
      out.push_back(0);
      out.push_back(32);  // a Noise message of 32 bytes announced, 8 sent
      out.insert(out.end(), 8, 0x42);
    }
    if (!out.empty()) co_await asio::async_write(*s, asio::buffer(out), pc::net::kNoThrow);
    socks.push_back(std::move(s));
  }
  std::cout << "held " << socks.size() << std::endl;
  const auto t0 = Clock::now();
  int freed = 0;
  long last = 0;
  pc::net::Signal sig(ex);
  int pending = static_cast<int>(socks.size());
  for (auto& s : socks) {
    asio::co_spawn(
        ex,
        [&, sp = s.get()]() -> awaitable<void> {
          auto [closed, ms, bytes] = co_await drain(*sp, std::chrono::seconds(waitSeconds));
          (void)bytes;
          if (closed) {
            ++freed;
            last = std::max(last, msSince(t0));
          }
          --pending;
          sig.notify();
        },
        asio::detached);
  }
  while (pending > 0) co_await sig.wait();
  std::cout << "freed " << freed << " of " << socks.size() << ", last after " << last << " ms"
            << std::endl;
}

// ------------------------------------------------------------------ many trusted connections

awaitable<void> conns(pc::net::Multiaddr addr, pc::net::Host& host, int count,
                      std::filesystem::path stop) {
  std::vector<std::shared_ptr<pc::net::Connection>> held;
  const auto plain = addr.withoutPeerId();  // without /p2p: a new connection each time
  auto ex = co_await asio::this_coro::executor;
  int running = 0, started = 0;
  pc::net::Signal sig(ex);
  std::string firstError;
  while (started < count || running > 0) {
    while (started < count && running < 50) {
      ++started;
      ++running;
      asio::co_spawn(
          ex,
          [&]() -> awaitable<void> {
            auto c = co_await host.connect(plain);
            if (c) {
              held.push_back(*c);
            } else if (firstError.empty()) {
              firstError = c.error().message();
            }
            --running;
            sig.notify();
          },
          asio::detached);
    }
    co_await sig.wait();
  }
  std::cout << "connected " << held.size() << (firstError.empty() ? "" : " first error: ")
            << firstError << std::endl;
  while (!std::filesystem::exists(stop)) co_await pc::net::sleepFor(std::chrono::milliseconds(100));
  int alive = 0;
  for (auto& c : held) {
    auto rtt = co_await host.ping(c);
    if (rtt) ++alive;
  }
  std::cout << "alive " << alive << std::endl;
}

// ------------------------------------------------------------------ ping flood, never reading

struct PingFlood {
  std::size_t sent = 0;
  int closed = 0, stalled = 0, failed = 0;
  std::vector<std::unique_ptr<pc::net::SecureConn>> held;
};

/// A trusted connection with the muxer agreed (the Noise extensions or multistream-select).
awaitable<std::unique_ptr<pc::net::SecureConn>> trustedYamuxConn(pc::net::Multiaddr addr,
                                                                 const pc::crypto::Identity& id) {
  auto raw = co_await pc::net::dialTcp(addr.withoutPeerId(), std::chrono::seconds(10));
  if (!raw) co_return nullptr;
  const std::vector<std::string> muxers{std::string(pc::net::yamux::kProtocolId)};
  const pc::net::noise::PreparedKeys keys{};
  const auto expected = addr.peerId();
  auto sc = co_await pc::net::secureOutbound(std::move(*raw), id, expected, keys, muxers);
  if (!sc) co_return nullptr;
  if (!(*sc)->earlyMuxer()) {
    auto m = co_await pc::net::multistream::selectOne(**sc, muxers);
    if (!m) co_return nullptr;
  }
  co_return std::move(*sc);
}

awaitable<void> pingFloodOne(pc::net::Multiaddr addr, const pc::crypto::Identity& id,
                             std::size_t bytes, PingFlood& f) {
  auto c = co_await trustedYamuxConn(addr, id);
  if (!c) {
    ++f.failed;
    co_return;
  }
  // Each chunk starts with blind answers to the provider's first keep-alive pings (their ids
  // count up from 1), which kept a session that never reads alive; then pings.
  Bytes chunk;
  for (std::uint32_t i = 1; i <= 32; ++i) {
    pc::net::yamux::encode({pc::net::yamux::Type::kPing, pc::net::yamux::flags::kAck, 0, i}, chunk);
  }
  for (std::uint32_t i = 0; chunk.size() < 64 * 1024; ++i) {
    pc::net::yamux::encode({pc::net::yamux::Type::kPing, pc::net::yamux::flags::kSyn, 0, i}, chunk);
  }
  auto ex = co_await asio::this_coro::executor;
  std::size_t sent = 0;
  bool stalled = false;
  while (sent < bytes) {
    // A write that makes no progress for 5 s: the provider stopped reading this connection.
    asio::steady_timer deadline(ex, std::chrono::seconds(5));
    deadline.async_wait([&stalled, cp = c.get()](boost::system::error_code ec) {
      if (!ec) {
        stalled = true;
        boost::system::error_code ignored;
        static_cast<pc::net::TcpStream&>(cp->raw()).socket().cancel(ignored);
      }
    });
    auto w = co_await c->write(chunk);
    deadline.cancel();
    if (!w) break;
    sent += chunk.size();
  }
  f.sent += sent;
  if (stalled) {
    ++f.stalled;
  } else if (sent < bytes) {
    ++f.closed;
  }
  f.held.push_back(std::move(c));  // held open, never read
}

awaitable<void> pingFlood(pc::net::Multiaddr addr, const pc::crypto::Identity& id,
                          std::size_t megabytes, int connections, std::filesystem::path stop) {
  auto ex = co_await asio::this_coro::executor;
  PingFlood f;
  int running = connections;
  pc::net::Signal done(ex);
  const std::size_t each = megabytes * 1024 * 1024 / static_cast<std::size_t>(connections);
  for (int i = 0; i < connections; ++i) {
    asio::co_spawn(ex, pingFloodOne(addr, id, each, f), [&](std::exception_ptr) {
      --running;
      done.notify();
    });
  }
  while (running > 0) co_await done.wait();
  std::cout << "ping-flood sent " << f.sent << " closed " << f.closed << " stalled " << f.stalled
            << " failed " << f.failed << std::endl;
  while (!std::filesystem::exists(stop)) co_await pc::net::sleepFor(std::chrono::milliseconds(100));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: see the comment at the top of p2p_hostile.cpp\n";
    return 2;
  }
  const std::string mode = argv[1];
  auto addr = pc::net::Multiaddr::parse(argv[2]);
  if (!addr) {
    std::cerr << "bad multiaddr\n";
    return 2;
  }
  asio::io_context io(1);
  std::optional<pc::crypto::Identity> id;
  if (mode == "malformed" || mode == "conns" || mode == "ping-flood") {
    auto loaded = pc::crypto::Identity::load(std::string(argv[3]) + "/identity.key");
    if (!loaded) {
      std::cerr << loaded.error().message() << "\n";
      return 2;
    }
    id = std::move(*loaded);
  } else {
    id = pc::crypto::Identity::generate().value();
  }
  pc::net::HostConfig cfg;
  cfg.maxConnections = 100000;
  cfg.identifyOnConnect = false;
  auto host = pc::net::Host::create(io.get_executor(), *id, cfg);
  int rc = 0;
  auto body = [&]() -> awaitable<void> {
    if (mode == "untrusted" && argc >= 5) {
      co_await untrusted(*addr, std::stoi(argv[3]), std::stoi(argv[4]));
    } else if (mode == "half-open" && argc >= 6) {
      co_await halfOpen(*addr, std::stoi(argv[3]), argv[4], std::stoi(argv[5]));
    } else if (mode == "malformed") {
      co_await malformed(*addr, *id, *host);
    } else if (mode == "conns" && argc >= 6) {
      co_await conns(*addr, *host, std::stoi(argv[4]), argv[5]);
    } else if (mode == "ping-flood" && argc >= 7) {
      co_await pingFlood(*addr, *id, std::stoul(argv[4]), std::stoi(argv[5]), argv[6]);
    } else {
      std::cerr << "bad arguments\n";
      rc = 2;
    }
    host->close();
  };
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    if (e) rc = 1;
    io.stop();
  });
  io.run();
  return rc;
}
