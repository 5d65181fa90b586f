#include "net/pipe.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>

#include "net/error.hpp"
#include "support/memory_stream.hpp"
#include "support/run.hpp"

namespace pc::net {
namespace {
using namespace std::chrono_literals;

struct Pipes {
  std::shared_ptr<ByteStream> client, left, right, server;
};

Pipes makePipes(asio::io_context& io) {
  auto [c, l] = test::memoryPipe(io.get_executor());
  auto [r, s] = test::memoryPipe(io.get_executor());
  return {std::move(c), std::move(l), std::move(r), std::move(s)};
}

TEST(Pipe, CopiesBothWaysAndCarriesHalfCloses) {
  asio::io_context io;
  auto p = makePipes(io);
  std::optional<PipeStats> stats;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { stats = co_await pipeBoth(p.left, p.right, 10s); },
      asio::detached);
  const Bytes request = toBytes("request");
  const Bytes response = toBytes("response!");
  ASSERT_TRUE(test::run(io, p.client->write(request)));
  ASSERT_TRUE(test::run(io, p.client->closeWrite()));
  auto got = test::run(io, readToEnd(*p.server, 1024));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, request);
  ASSERT_TRUE(test::run(io, p.server->write(response)));
  ASSERT_TRUE(test::run(io, p.server->closeWrite()));
  auto back = test::run(io, readToEnd(*p.client, 1024));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, response);
  for (int i = 0; i < 200 && !stats; ++i) test::pump(io, 5ms);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->aToB, request.size());
  EXPECT_EQ(stats->bToA, response.size());
  EXPECT_FALSE(stats->idleTimeout);
}

TEST(Pipe, CancellingThePipeResetsBothSidesAndEndsTheCopies) {
  asio::io_context io;
  auto p = makePipes(io);
  asio::cancellation_signal cancel;
  bool ended = false;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { (void)co_await pipeBoth(p.left, p.right, 10s); },
      asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr) { ended = true; }));
  test::pump(io, 10ms);
  cancel.emit(asio::cancellation_type::terminal);
  for (int i = 0; i < 200 && !ended; ++i) test::pump(io, 5ms);
  EXPECT_TRUE(ended);
  // Nothing is left running: the io_context ran dry.
  EXPECT_TRUE(io.stopped());
  io.restart();
  // Both outer ends see the pipe gone instead of waiting forever.
  std::array<std::uint8_t, 8> buf{};
  EXPECT_FALSE(test::run(io, p.client->readSome(buf)));
  io.restart();  // each read leaves the io_context without work again
  EXPECT_FALSE(test::run(io, p.server->readSome(buf)));
}

}  // namespace
}  // namespace pc::net
