#include "net/task_group.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

namespace pc::net {
namespace {

using namespace std::chrono_literals;

/// Waits on a timer that never fires by itself; returns whether it was cancelled.
asio::awaitable<void> waitForever(bool& ended) {
  asio::steady_timer t(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
  struct Mark {
    bool& b;
    ~Mark() { b = true; }
  } mark{ended};
  co_await t.async_wait(kNoThrow);
  // Cancelled: a further co_await throws operation_aborted (terminal cancellation).
  co_await t.async_wait(kNoThrow);
}

/// A task that opts into total cancellation and ends by itself when it sees it.
asio::awaitable<void> graceful(bool& sawTotal) {
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  asio::steady_timer t(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
  co_await t.async_wait(kNoThrow);
  auto cs = co_await asio::this_coro::cancellation_state;
  sawTotal = (cs.cancelled() & asio::cancellation_type::total) != asio::cancellation_type::none;
}

TEST(TaskGroup, ShutdownEndsEveryTaskAndJoins) {
  asio::io_context io;
  TaskGroup group(io.get_executor());
  bool a = false;
  bool b = false;
  group.spawn(waitForever(a));
  group.spawn(waitForever(b));
  io.poll();
  EXPECT_EQ(group.size(), 2u);
  bool joined = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await group.shutdown(10ms);
        joined = true;
      },
      asio::detached);
  io.run_for(2s);
  EXPECT_TRUE(a);
  EXPECT_TRUE(b);
  EXPECT_TRUE(joined);
  EXPECT_EQ(group.size(), 0u);
}

TEST(TaskGroup, TotalCancellationComesFirst) {
  asio::io_context io;
  TaskGroup group(io.get_executor());
  bool sawTotal = false;
  group.spawn(graceful(sawTotal));
  bool joined = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await group.shutdown(10s);  // ends long before the deadline
        joined = true;
      },
      asio::detached);
  io.run_for(2s);
  EXPECT_TRUE(sawTotal);
  EXPECT_TRUE(joined);
}

TEST(TaskGroup, FinishedTasksLeaveTheGroup) {
  asio::io_context io;
  TaskGroup group(io.get_executor());
  int ran = 0;
  for (int i = 0; i < 3; ++i) {
    group.spawn([&]() -> asio::awaitable<void> {
      ++ran;
      co_return;
    });
  }
  io.run();
  EXPECT_EQ(ran, 3);
  EXPECT_EQ(group.size(), 0u);
}

TEST(TaskGroup, AGroupThatGoesFirstLeavesItsTasksSafe) {
  // An owner destroyed while its io_context still holds a task (teardown order): the task's
  // bookkeeping must not point into the destroyed group (ASan checks this).
  bool ended = false;
  {
    asio::io_context io;
    {
      TaskGroup group(io.get_executor());
      group.spawn(waitForever(ended));
      io.poll();
    }
    io.poll();
  }
  EXPECT_TRUE(ended);
}

TEST(TaskGroup, AnUnexpectedExceptionIsABugAndEscapes) {
  asio::io_context io;
  TaskGroup group(io.get_executor());
  group.spawn([]() -> asio::awaitable<void> {
    throw std::logic_error("bug");
    co_return;
  });
  EXPECT_THROW(io.run(), std::logic_error);
}

}  // namespace
}  // namespace pc::net
