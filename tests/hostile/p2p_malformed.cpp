// The malformed-input cases of the hostile libp2p client: bytes the provider must refuse at
// every layer (multistream-select, Noise, yamux, Peer Compute frames).
#include "hostile/p2p_hostile.hpp"

namespace hostile {
namespace {

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

}  // namespace

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

}  // namespace hostile
