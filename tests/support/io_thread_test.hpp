#pragma once
/// A fixture whose io_context runs on a thread of its own while the test thread plays the
/// public clients (curl, raw sockets): onIo/await hand work to the io thread and wait for it.
/// The limits in waitFor are a safety net for a hung test, not timing assertions.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <thread>

namespace pc::test {

class IoThreadTest : public ::testing::Test {
 protected:
  boost::asio::io_context io{1};
  std::thread ioThread;

  void startIoThread() {
    if (!ioThread.joinable()) ioThread = std::thread([this] { io.run(); });
  }
  /// Lets handlers posted by a close run, then stops the io thread.
  void stopIoThread() {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    io.stop();
    if (ioThread.joinable()) ioThread.join();
  }

  /// Runs `f` on the io thread and waits for its result.
  template <class F>
  auto onIo(F f) {
    std::promise<decltype(f())> p;
    boost::asio::post(io, [&] { p.set_value(f()); });
    return p.get_future().get();
  }
  /// Runs a coroutine on the io thread and waits for its result (an exception is a test bug).
  template <class T>
  T await(boost::asio::awaitable<T> a) {
    std::promise<T> p;
    boost::asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
      if (e) std::abort();
      p.set_value(std::move(v));
    });
    return p.get_future().get();
  }
  static bool waitFor(const std::function<bool()>& pred,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }
};

}  // namespace pc::test
