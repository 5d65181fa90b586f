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
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "core/protobuf.hpp"
#include "net/host.hpp"
#include "net/multistream/codec.hpp"
#include "net/multistream/negotiate.hpp"
#include "net/noise/handshake.hpp"
#include "net/secure_conn.hpp"
#include "net/tcp.hpp"
#include "net/yamux/frame.hpp"
#include "protocol/frame.hpp"
#include "protocol/stream_protocols.hpp"
#include "rpc/message_stream.hpp"

namespace asio = pc::net::asio;
using asio::awaitable;
using pc::Bytes;
using pc::net::tcp;
using Clock = std::chrono::steady_clock;

namespace {

long msSince(Clock::time_point t0) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

tcp::endpoint endpointOf(const pc::net::Multiaddr& a) {
  // The tests use /ip4/127.0.0.1/tcp/<port>[/p2p/…].
  const std::string s = a.toString();
  const auto p = s.find("/tcp/");
  const auto port = static_cast<std::uint16_t>(std::stoi(s.substr(p + 5)));
  return {asio::ip::make_address(s.substr(5, p - 5)), port};
}

Bytes multistreamHello(std::string_view proto) {
  Bytes out;
  pc::net::multistream::encode(pc::net::multistream::kProtocolId, out);
  if (!proto.empty()) pc::net::multistream::encode(proto, out);
  return out;
}

/// Reads until the peer closes or `limit` passes; returns (closed, ms, bytes).
awaitable<std::tuple<bool, long, std::size_t>> drain(tcp::socket& s,
                                                     std::chrono::milliseconds limit) {
  const auto t0 = Clock::now();
  asio::steady_timer timer(s.get_executor(), limit);
  timer.async_wait([&s](boost::system::error_code ec) {
    if (!ec) {
      boost::system::error_code ignored;
      s.cancel(ignored);
    }
  });
  std::array<char, 4096> buf{};
  std::size_t total = 0;
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), pc::net::kNoThrow);
    total += n;
    if (ec == asio::error::operation_aborted) co_return std::make_tuple(false, msSince(t0), total);
    if (ec) {
      timer.cancel();
      co_return std::make_tuple(true, msSince(t0), total);
    }
  }
}

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

// ------------------------------------------------------------------ malformed input

struct Outcome {
  bool closed = false;
  long ms = 0;
  std::string goaway = "-";
  std::string answer = "-";
};

void report(const std::string& name, const Outcome& o) {
  std::cout << "case " << name << ": closed=" << (o.closed ? 1 : 0) << " after=" << o.ms
            << " goaway=" << o.goaway << " answer=" << o.answer << std::endl;
}

/// Raw TCP: send `bytes`, then see whether and when the provider closes.
awaitable<void> rawCase(const std::string& name, tcp::endpoint ep, Bytes bytes) {
  tcp::socket s(co_await asio::this_coro::executor);
  co_await s.async_connect(ep, pc::net::kNoThrow);
  co_await asio::async_write(s, asio::buffer(bytes), pc::net::kNoThrow);
  auto [closed, ms, n] = co_await drain(s, std::chrono::seconds(15));
  Outcome o;
  o.closed = closed;
  o.ms = ms;
  o.answer = std::to_string(n) + "B";
  report(name, o);
}

/// A trusted, secured connection with the muxer agreed; then raw yamux bytes.
awaitable<void> yamuxCase(const std::string& name, pc::net::Multiaddr addr,
                          const pc::crypto::Identity& id, Bytes frames, std::size_t repeat = 1) {
  Outcome o;
  auto raw = co_await pc::net::dialTcp(addr.withoutPeerId(), std::chrono::seconds(10));
  if (!raw) {
    report(name + " (dial failed)", o);
    co_return;
  }
  const std::vector<std::string> muxers{std::string(pc::net::yamux::kProtocolId)};
  const pc::net::noise::PreparedKeys keys{};
  const auto expected = addr.peerId();
  auto sc = co_await pc::net::secureOutbound(std::move(*raw), id, expected, keys, muxers);
  if (!sc) {
    report(name + " (handshake failed: " + sc.error().message() + ")", o);
    co_return;
  }
  auto& c = **sc;
  if (!c.earlyMuxer()) {
    const std::vector<std::string> muxers{std::string(pc::net::yamux::kProtocolId)};
    auto m = co_await pc::net::multistream::selectOne(c, muxers);
    if (!m) {
      report(name + " (muxer refused)", o);
      co_return;
    }
  }
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < repeat; ++i) {
    if (auto w = co_await c.write(frames); !w) break;
  }
  // Parse what comes back: frame headers (skipping data payloads) until EOF or 15 s.
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer limit(ex, std::chrono::seconds(12));
  bool gaveUp = false;
  limit.async_wait([&c, &gaveUp](boost::system::error_code ec) {
    if (!ec) {
      gaveUp = true;
      c.reset();
    }
  });
  Bytes in;
  std::array<std::uint8_t, 16384> buf{};
  int rsts = 0, pongs = 0;
  for (;;) {
    auto n = co_await c.readSome(buf);
    if (!n || *n == 0) {
      o.closed = !gaveUp;  // closed by the provider, not by our own deadline
      break;
    }
    in.insert(in.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    for (;;) {
      auto h = pc::net::yamux::decode(in);
      if (!h || !*h) break;
      std::size_t skip = pc::net::yamux::kHeaderSize;
      if ((*h)->type == pc::net::yamux::Type::kData) skip += (*h)->length;
      if (in.size() < skip) break;
      if ((*h)->type == pc::net::yamux::Type::kGoAway) o.goaway = std::to_string((*h)->length);
      if ((*h)->flags & pc::net::yamux::flags::kRst) ++rsts;
      if ((*h)->type == pc::net::yamux::Type::kPing && ((*h)->flags & pc::net::yamux::flags::kAck))
        ++pongs;
      in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(skip));
    }
  }
  limit.cancel();
  o.ms = msSince(t0);
  o.answer = std::to_string(rsts) + "rst," + std::to_string(pongs) + "pong";
  report(name, o);
}

Bytes yamuxFrame(std::uint8_t version, std::uint8_t type, std::uint16_t flags, std::uint32_t sid,
                 std::uint32_t len) {
  Bytes b{version, type, static_cast<std::uint8_t>(flags >> 8), static_cast<std::uint8_t>(flags)};
  for (int sh = 24; sh >= 0; sh -= 8) b.push_back(static_cast<std::uint8_t>(sid >> sh));
  for (int sh = 24; sh >= 0; sh -= 8) b.push_back(static_cast<std::uint8_t>(len >> sh));
  return b;
}

/// A real stream on a real connection, then hand-made Peer Compute frame bytes.
awaitable<void> frameCase(const std::string& name, pc::net::Host& host, pc::net::Multiaddr addr,
                          Bytes bytes) {
  Outcome o;
  auto conn = co_await host.connect(addr);
  if (!conn) {
    report(name + " (connect failed)", o);
    co_return;
  }
  const std::vector<std::string> protos{std::string(pc::protocol::kStatusProtocol)};
  auto s = co_await host.newStream(*conn, protos);
  if (!s) {
    report(name + " (stream failed)", o);
    co_return;
  }
  const auto t0 = Clock::now();
  (void)co_await (*s)->write(bytes);
  (void)co_await (*s)->closeWrite();  // a truncated frame is then known to be cut short
  pc::rpc::MessageReader reader(**s);
  auto m = co_await reader.next();
  o.ms = msSince(t0);
  if (!m) {
    o.answer = "stream-error";
  } else if (!*m) {
    o.answer = "closed";
  } else if (auto* e = std::get_if<pc::protocol::ErrorMessage>(&**m)) {
    o.answer = "error:" + e->code;
  } else {
    o.answer = std::string(pc::protocol::messageTypeName(pc::protocol::typeOf(**m)));
  }
  o.closed = true;
  report(name, o);
}

struct Case {
  enum Kind { kRaw, kYamux, kFrame } kind;
  std::string name;
  Bytes bytes;
  std::size_t repeat = 1;
};

std::vector<Case> malformedCases() {
  namespace ms = pc::net::multistream;
  std::vector<Case> cs;
  // multistream-select
  {
    Bytes b;
    pc::protobuf::writeVarint(b, 100000);
    b.insert(b.end(), 2000, 'a');
    cs.push_back({Case::kRaw, "multistream-oversized-length", b});
  }
  cs.push_back({Case::kRaw, "multistream-bad-varint", Bytes(12, 0xff)});
  {
    Bytes b = multistreamHello("");
    b.push_back(5);
    b.insert(b.end(), {0x00, 0x01, 0xfe, 0x7f, '\n'});
    cs.push_back({Case::kRaw, "multistream-binary-proposal", b});
  }
  {
    Bytes b = multistreamHello("");
    for (int i = 0; i < 100; ++i) ms::encode("/nope/" + std::to_string(i), b);
    cs.push_back({Case::kRaw, "multistream-100-proposals", b});
  }
  // Noise
  {
    Bytes b = multistreamHello(pc::net::noise::kProtocolId);
    b.push_back(0xff);
    b.push_back(0xff);
    b.insert(b.end(), 65535, 0x41);
    cs.push_back({Case::kRaw, "noise-max-length-garbage", b});
  }
  {
    Bytes b = multistreamHello(pc::net::noise::kProtocolId);
    b.insert(b.end(), {0x00, 0x05, 1, 2, 3, 4, 5});
    cs.push_back({Case::kRaw, "noise-short-first-message", b});
  }
  {
    Bytes b = multistreamHello(pc::net::noise::kProtocolId);
    b.insert(b.end(), {0x00, 0x00});
    cs.push_back({Case::kRaw, "noise-empty-message", b});
  }
  // yamux (trusted peer, after a correct handshake)
  cs.push_back({Case::kYamux, "yamux-bad-version", yamuxFrame(1, 0, 1, 1, 0)});
  cs.push_back({Case::kYamux, "yamux-unknown-type", yamuxFrame(0, 9, 0, 1, 0)});
  cs.push_back({Case::kYamux, "yamux-unknown-flags", yamuxFrame(0, 1, 0x40, 1, 0)});
  {
    // A stream opened, then 16 MiB announced on it: far past the 256 KiB window.
    Bytes b = yamuxFrame(0, 1, 1, 1, 0);
    Bytes d = yamuxFrame(0, 0, 0, 1, 16u << 20);
    b.insert(b.end(), d.begin(), d.end());
    b.insert(b.end(), 300 * 1024, 0);
    cs.push_back({Case::kYamux, "yamux-data-over-window", b});
  }
  {
    Bytes b = yamuxFrame(0, 1, 1, 1, 0);
    Bytes u = yamuxFrame(0, 1, 0, 1, 0xffffffffu);
    b.insert(b.end(), u.begin(), u.end());
    b.insert(b.end(), u.begin(), u.end());
    cs.push_back({Case::kYamux, "yamux-window-overflow", b});
  }
  cs.push_back({Case::kYamux, "yamux-even-stream-id", yamuxFrame(0, 1, 1, 2, 0)});
  {
    // 10,000 streams opened and never used: the muxer must bound them.
    Bytes b;
    for (std::uint32_t i = 0; i < 10000; ++i) {
      Bytes f = yamuxFrame(0, 1, 1, 2 * i + 1, 0);
      b.insert(b.end(), f.begin(), f.end());
    }
    cs.push_back({Case::kYamux, "yamux-10000-syn", b});
  }
  cs.push_back({Case::kYamux, "yamux-ping-flood", yamuxFrame(0, 2, 1, 0, 1), 100000});
  // Peer Compute frames on a real stream
  const auto status = static_cast<std::uint8_t>(pc::protocol::MessageType::kStatusRequest);
  {
    Bytes b{status, 0x7f, 0xff, 0xff, 0xff};
    b.insert(b.end(), 1024, '{');
    cs.push_back({Case::kFrame, "frame-oversized-length", b});
  }
  cs.push_back({Case::kFrame, "frame-unknown-type", Bytes{0x55, 0, 0, 0, 2, '{', '}'}});
  cs.push_back(
      {Case::kFrame, "frame-bad-json",
       pc::protocol::encodeFrame(pc::protocol::MessageType::kStatusRequest, "{not json").value()});
  cs.push_back({Case::kFrame, "frame-bad-fields",
                pc::protocol::encodeFrame(pc::protocol::MessageType::kStatusRequest,
                                          R"({"request_id":"x","requester_id":1})")
                    .value()});
  cs.push_back({Case::kFrame, "frame-wrong-message-type",
                pc::protocol::encodeFrame(pc::protocol::MessageType::kHeartbeat, R"({"time_ms":1})")
                    .value()});
  cs.push_back({Case::kFrame, "frame-truncated", Bytes{status, 0, 0, 1, 0, '{'}});
  return cs;
}

awaitable<void> malformed(pc::net::Multiaddr addr, const pc::crypto::Identity& id,
                          pc::net::Host& host) {
  const auto ep = endpointOf(addr);
  const std::vector<Case> cases = malformedCases();
  for (const auto& c : cases) {
    if (c.kind == Case::kRaw) {
      co_await rawCase(c.name, ep, c.bytes);
    } else if (c.kind == Case::kYamux) {
      co_await yamuxCase(c.name, addr, id, c.bytes, c.repeat);
    } else {
      co_await frameCase(c.name, host, addr, c.bytes);
    }
  }
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
