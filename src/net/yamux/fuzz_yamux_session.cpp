// Stateful fuzz target: two yamux sessions joined by an in-memory pipe. The input is a program:
// application operations on the client (open, write, close, reset, ping the pipe) interleaved
// with corruption of the bytes in flight (flip, drop, inject raw frames). Whatever happens, the
// sessions must neither crash nor leak (ASan) nor loop forever (bounded steps).
#include <boost/asio/io_context.hpp>

#include "net/yamux/session.hpp"
#include "support/memory_stream.hpp"

using namespace pc;
using namespace pc::net;

namespace {
struct Input {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::uint32_t u32() { return std::uint32_t{byte()} << 8 | byte(); }
};

asio::awaitable<void> echo(std::shared_ptr<yamux::Session> s) {
  for (;;) {
    auto st = co_await s->acceptStream();
    if (!st) co_return;
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [st = *st]() -> asio::awaitable<void> {
          std::array<std::uint8_t, 4096> buf{};
          for (;;) {
            auto n = co_await st->readSome(buf);
            if (!n || *n == 0) break;
            if (!co_await st->write(BytesView(buf.data(), *n))) break;
          }
          co_await st->closeWrite();
        },
        asio::detached);
  }
}
asio::awaitable<void> writeOp(std::shared_ptr<yamux::Stream> s, Bytes payload) {
  co_await s->write(payload);
}
asio::awaitable<void> closeOp(std::shared_ptr<yamux::Stream> s) { co_await s->closeWrite(); }
asio::awaitable<void> rawOp(ByteStream* raw, Bytes junk) { co_await raw->write(junk); }

// gcc 12 mis-mangles coroutine lambdas inside an extern "C" function, so the program runs here.
void runProgram(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  asio::io_context io(1);
  // Corruption schedule for client→server bytes, decided by the input's first bytes.
  const std::size_t flipAt = in.u32() % 4096;
  const std::uint8_t flipMask = in.byte();
  std::size_t seen = 0;
  auto tap = [&](Bytes& chunk) {
    if (flipMask != 0 && flipAt >= seen && flipAt < seen + chunk.size())
      chunk[flipAt - seen] ^= flipMask;
    seen += chunk.size();
  };
  yamux::Config cfg;
  cfg.maxStreams = 16;
  cfg.maxAcceptBacklog = 8;
  auto [a, b] = test::memoryPipe(io.get_executor(), tap);
  ByteStream* rawClient = a.get();
  auto client = std::make_shared<yamux::Session>(std::move(a), io.get_executor(), true, "s", cfg);
  auto server = std::make_shared<yamux::Session>(std::move(b), io.get_executor(), false, "c", cfg);
  client->start();
  server->start();
  asio::co_spawn(io, echo(server), asio::detached);
  std::vector<std::shared_ptr<yamux::Stream>> streams;
  for (int step = 0; step < 64 && in.n > 0; ++step) {
    const auto op = in.byte() % 6;
    const auto idx = streams.empty() ? 0 : in.byte() % streams.size();
    switch (op) {
      case 0:
        if (auto s = client->openStream()) streams.push_back(*s);
        break;
      case 1:
        if (!streams.empty()) {
          Bytes payload(in.u32() % 70000, in.byte());
          asio::co_spawn(io, writeOp(streams[idx], std::move(payload)), asio::detached);
        }
        break;
      case 2:
        if (!streams.empty()) {
          asio::co_spawn(io, closeOp(streams[idx]), asio::detached);
        }
        break;
      case 3:
        if (!streams.empty()) streams[idx]->reset();
        break;
      case 4: {  // raw bytes straight onto the wire, as a hostile client would
        Bytes junk;
        for (int i = in.byte() % 32; i > 0; --i) junk.push_back(in.byte());
        asio::co_spawn(io, rawOp(rawClient, std::move(junk)), asio::detached);
        break;
      }
      default:
        if (!streams.empty()) streams.erase(streams.begin() + static_cast<long>(idx));
    }
    for (int i = 0; i < 64 && io.poll_one() > 0; ++i) {
    }
  }
  for (int i = 0; i < 20000 && io.poll_one() > 0; ++i) {
  }
  streams.clear();
  client->close();
  server->close();
  for (int i = 0; i < 20000 && io.poll_one() > 0; ++i) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  runProgram(data, size);
  return 0;
}
