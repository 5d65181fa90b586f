#pragma once
/// A daemon's main loop: runs `io` until SIGINT or SIGTERM, then runs the node's shutdown to
/// completion and stops.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>

#include <spdlog/spdlog.h>

#include "net/asio.hpp"

namespace pc::net {

inline void runUntilSignal(asio::io_context& io,
                           const std::function<asio::awaitable<void>()>& shutdown) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("received signal {}, shutting down", sig);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await shutdown();
          io.stop();
        },
        asio::detached);
  });
  io.run();
}

}  // namespace pc::net
