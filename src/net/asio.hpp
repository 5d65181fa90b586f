#pragma once
/// Asio aliases for the network stack. Heavy: include from net/ sources and from the few
/// headers whose signatures need awaitables.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "core/error.hpp"

namespace pc::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
template <class T>
using Task = asio::awaitable<Result<T>>;
/// Completion token that returns (error_code, value…) instead of throwing.
inline constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

/// Suspends the calling coroutine for `d` on its own executor. Cancel-safe.
inline asio::awaitable<void> sleepFor(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(kNoThrow);
}

/// A wake-up signal for coroutines on one executor (no threads involved): waiters re-check their
/// condition after every notify(). notify() before wait() is not remembered, so always loop
/// `while (!condition) co_await signal.wait();` — on a single strand the check and the wait are
/// not interleaved with other coroutines, so no wake-up is lost.
class Signal {
 public:
  explicit Signal(const asio::any_io_executor& ex)
      : timer_(ex, asio::steady_timer::time_point::max()) {}
  /// Cancel-safe: a cancelled wait just returns.
  asio::awaitable<void> wait() { co_await timer_.async_wait(kNoThrow); }
  void notify() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

}  // namespace pc::net
