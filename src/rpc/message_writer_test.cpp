#include "rpc/message_writer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "net/error.hpp"
#include "rpc/message_stream.hpp"
#include "support/memory_stream.hpp"
#include "support/run.hpp"

namespace pc::rpc {
namespace {

namespace asio = net::asio;
using Overflow = MessageWriter::Overflow;

protocol::Message heartbeat(std::int64_t t) { return protocol::Heartbeat{t}; }

/// Waits for the writer to end while reading the other end; returns the timestamps received.
std::vector<std::int64_t> endAndRead(asio::io_context& io, MessageWriter& w, net::ByteStream& out,
                                     net::ByteStream& in) {
  std::vector<std::int64_t> got;
  bool readerDone = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        MessageReader reader(in);
        for (;;) {
          auto m = co_await reader.next();
          if (!m || !*m) break;
          got.push_back(std::get<protocol::Heartbeat>(**m).timestampMs);
        }
        readerDone = true;
      },
      asio::detached);
  test::run(io, [&]() -> asio::awaitable<bool> {
    co_await w.ended();
    co_await out.closeWrite();
    while (!readerDone) co_await net::sleepFor(std::chrono::milliseconds(1));
    co_return true;
  }());
  return got;
}

TEST(MessageWriter, WritesInOrderAndEndsAfterFinish) {
  asio::io_context io;
  auto [a, b] = test::memoryPipe(io.get_executor());
  std::shared_ptr<net::ByteStream> out(std::move(a));
  auto w = MessageWriter::start(io.get_executor(), out, 8, Overflow::kRefuse);
  for (int i = 1; i <= 5; ++i) EXPECT_TRUE(w->push(heartbeat(i)));
  w->finish();
  EXPECT_FALSE(w->push(heartbeat(6)));  // nothing after finish()
  EXPECT_EQ(endAndRead(io, *w, *out, *b), (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
}

TEST(MessageWriter, RefusesBeyondTheBound) {
  asio::io_context io;
  auto [a, b] = test::memoryPipe(io.get_executor());
  std::shared_ptr<net::ByteStream> out(std::move(a));
  // Nothing runs until the io_context does: the queue only fills.
  auto w = MessageWriter::start(io.get_executor(), out, 3, Overflow::kRefuse);
  EXPECT_TRUE(w->push(heartbeat(1)));
  EXPECT_TRUE(w->push(heartbeat(2)));
  EXPECT_TRUE(w->push(heartbeat(3)));
  EXPECT_FALSE(w->push(heartbeat(4)));
  EXPECT_EQ(w->queued(), 3u);
  w->finish();
  EXPECT_EQ(endAndRead(io, *w, *out, *b), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(MessageWriter, ReplaceNewestKeepsTheLatest) {
  asio::io_context io;
  auto [a, b] = test::memoryPipe(io.get_executor());
  std::shared_ptr<net::ByteStream> out(std::move(a));
  auto w = MessageWriter::start(io.get_executor(), out, 2, Overflow::kReplaceNewest);
  for (int i = 1; i <= 6; ++i) EXPECT_TRUE(w->push(heartbeat(i)));
  w->finish();
  EXPECT_EQ(endAndRead(io, *w, *out, *b), (std::vector<std::int64_t>{1, 6}));
}

/// A stream whose writes fail, as one whose peer went away.
class BrokenStream final : public net::ByteStream {
 public:
  net::Task<std::size_t> readSome(std::span<std::uint8_t>) override { co_return std::size_t{0}; }
  net::Task<void> write(BytesView) override {
    co_return net::fail(net::Errc::kReset, "stream reset by the remote");
  }
  net::Task<void> closeWrite() override { co_return Result<void>{}; }
  void reset() override { wasReset = true; }
  bool wasReset = false;
};

TEST(MessageWriter, AFailedWriteResetsTheStreamAndEndsTheWriter) {
  asio::io_context io;
  auto broken = std::make_shared<BrokenStream>();
  auto w = MessageWriter::start(io.get_executor(), broken, 4, Overflow::kRefuse);
  EXPECT_TRUE(w->push(heartbeat(1)));
  EXPECT_TRUE(w->push(heartbeat(2)));
  test::run(io, [&]() -> asio::awaitable<bool> {
    co_await w->ended();  // ends without finish(): the write failed
    co_return true;
  }());
  EXPECT_TRUE(w->failed());
  EXPECT_TRUE(broken->wasReset);
  EXPECT_EQ(w->queued(), 0u);
  EXPECT_FALSE(w->push(heartbeat(3)));
}

}  // namespace
}  // namespace pc::rpc
