#pragma once
/// TaskGroup: the owner of an object's long-lived coroutines (accept loops, read loops, per-
/// connection handlers, watchers). Every coroutine an object starts is spawned into the group it
/// owns, so shutdown is one call that cancels them all and waits until each has ended — no
/// `detached` spawn outlives its owner and no `alive_` flag is needed.
///
/// Shutdown follows Beast's flex-awaitable server: first a *total* cancellation (a coroutine that
/// enabled it finishes its current exchange gracefully), then, after a deadline, a *terminal*
/// one (every pending operation fails with `operation_aborted`, and the next co_await of a
/// coroutine that ignores it throws, unwinding its RAII state).
///
/// Threading: one executor, one thread (each daemon runs a single io_context), so no locking.
#include <chrono>
#include <list>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/consign.hpp>

#include "net/asio.hpp"

namespace pc::net {

class TaskGroup {
 public:
  explicit TaskGroup(const asio::any_io_executor& ex)
      : ex_(ex), idle_(ex, asio::steady_timer::time_point::max()) {}
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  /// Tasks hold an iterator into `signals_`: the group must outlive them (join() first).
  ~TaskGroup() = default;

  /// Starts `task` (an `awaitable<void>`) on the group's executor. It runs until it returns or is
  /// cancelled by cancel()/shutdown(). An exception other than a cancellation escaping a task is
  /// a bug: it is rethrown from the io_context's run().
  template <class Awaitable>
  void spawn(Awaitable&& task) {
    asio::co_spawn(ex_, std::forward<Awaitable>(task), adapt());
  }

  /// Tasks still running.
  [[nodiscard]] std::size_t size() const { return signals_.size(); }

  /// Sends `type` cancellation to every running task; returns at once.
  void cancel(asio::cancellation_type type = asio::cancellation_type::terminal) {
    // Emitting may complete a task synchronously and erase its entry: step past it first.
    for (auto it = signals_.begin(); it != signals_.end();) {
      auto& sig = *it++;
      sig.emit(type);
    }
  }

  /// Waits until no task runs. Cancel-safe (a cancelled join just returns early).
  asio::awaitable<void> join() {
    while (!signals_.empty()) {
      co_await idle_.async_wait(kNoThrow);
    }
  }

  /// Total cancellation, then terminal cancellation after `grace`; returns once every task has
  /// ended. Not cancel-safe: it is the owner's last step and must run to completion.
  asio::awaitable<void> shutdown(std::chrono::milliseconds grace) {
    cancel(asio::cancellation_type::total);
    asio::steady_timer deadline(ex_, grace);
    deadline.async_wait([this](boost::system::error_code ec) {
      if (!ec) cancel(asio::cancellation_type::terminal);
    });
    co_await join();
    deadline.cancel();
  }

 private:
  using Signals = std::list<asio::cancellation_signal>;

  /// Removes a finished task's signal and wakes join().
  struct Remover {
    TaskGroup* group;
    Signals::iterator it;
    Remover(TaskGroup* g, Signals::iterator i) : group(g), it(i) {}
    Remover(Remover&& o) noexcept : group(std::exchange(o.group, nullptr)), it(o.it) {}
    Remover(const Remover&) = delete;
    Remover& operator=(const Remover&) = delete;
    Remover& operator=(Remover&&) = delete;
    ~Remover() {
      if (group == nullptr) return;
      group->signals_.erase(it);
      group->idle_.cancel();
    }
  };

  /// The completion of one task: swallows cancellation, rethrows anything else.
  struct Done {
    void operator()(const std::exception_ptr& e) const {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const boost::system::system_error& se) {
        if (se.code() != asio::error::operation_aborted) throw;
      }
    }
  };

  auto adapt() {
    auto it = signals_.emplace(signals_.end());
    return asio::bind_cancellation_slot(it->slot(), asio::consign(Done{}, Remover(this, it)));
  }

  asio::any_io_executor ex_;
  Signals signals_;
  asio::steady_timer idle_;  ///< cancelled whenever a task ends
};

}  // namespace pc::net
