#pragma once
/// Runs one coroutine to completion on an io_context that also drives everything else the test
/// started (hosts, sessions). A hung test fails at a generous deadline instead of blocking CI;
/// this is a safety net, not a timing assertion.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

namespace pc::test {

template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> task,
      std::chrono::seconds deadline = std::chrono::seconds(120)) {
  std::optional<T> out;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) out.emplace(std::move(v));
    done = true;
  });
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done) {
    io.run_one_for(std::chrono::milliseconds(50));
    if (std::chrono::steady_clock::now() > end) throw std::runtime_error("test coroutine hung");
  }
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

/// Lets pending handlers run for `d` (e.g. to let a remote notice a close).
inline void pump(boost::asio::io_context& io, std::chrono::milliseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) io.run_one_for(std::chrono::milliseconds(5));
}

}  // namespace pc::test
