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
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/consign.hpp>

#include "net/asio.hpp"

namespace pc::net {

class TaskGroup {
 public:
  explicit TaskGroup(const asio::any_io_executor& ex) : ex_(ex), state_(std::make_shared<State>()) {
    state_->idle.emplace(ex, asio::steady_timer::time_point::max());
  }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  /// Owners join() before they go; should one go first (e.g. while its io_context is torn down
  /// with tasks still queued), the tasks' shares of the bookkeeping keep it valid until they end.
  ~TaskGroup() { state_->idle.reset(); }

  /// Starts `task` (an `awaitable<void>`) on the group's executor. It runs until it returns or is
  /// cancelled by cancel()/shutdown(). An exception other than a cancellation escaping a task is
  /// a bug: it is rethrown from the io_context's run().
  template <class Awaitable>
  void spawn(Awaitable&& task) {
    asio::co_spawn(ex_, std::forward<Awaitable>(task), adapt());
  }

  /// Tasks still running.
  [[nodiscard]] std::size_t size() const { return state_->signals.size(); }

  /// Sends `type` cancellation to every running task; returns at once.
  void cancel(asio::cancellation_type type = asio::cancellation_type::terminal) {
    // Emitting may complete a task synchronously and erase its entry: step past it first.
    auto st = state_;  // a task that ends now may hold the last share of its owner
    for (auto it = st->signals.begin(); it != st->signals.end();) {
      auto& sig = *it++;
      sig.emit(type);
    }
  }

  /// Waits until no task runs. Cancel-safe (a cancelled join just returns early).
  asio::awaitable<void> join() {
    auto st = state_;
    while (!st->signals.empty() && st->idle) {
      co_await st->idle->async_wait(kNoThrow);
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
  /// Shared with every task, so a task never points into a destroyed group.
  struct State {
    Signals signals;
    std::optional<asio::steady_timer> idle;  ///< cancelled whenever a task ends
  };

  /// Removes a finished task's signal and wakes join().
  struct Remover {
    std::shared_ptr<State> state;
    Signals::iterator it;
    Remover(std::shared_ptr<State> s, Signals::iterator i) : state(std::move(s)), it(i) {}
    Remover(Remover&& o) noexcept = default;
    Remover(const Remover&) = delete;
    Remover& operator=(const Remover&) = delete;
    Remover& operator=(Remover&&) = delete;
    ~Remover() {
      if (!state) return;
      state->signals.erase(it);
      if (state->idle) state->idle->cancel();
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
    auto it = state_->signals.emplace(state_->signals.end());
    return asio::bind_cancellation_slot(it->slot(), asio::consign(Done{}, Remover(state_, it)));
  }

  asio::any_io_executor ex_;
  std::shared_ptr<State> state_;
};

}  // namespace pc::net
