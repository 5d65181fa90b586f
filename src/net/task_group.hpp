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
/// Threading: one executor, one thread (each daemon runs a single io_context), so no locking;
/// call spawn(), cancel() and shutdown() on that thread only (from another thread, post them).
#include <chrono>
#include <list>
#include <memory>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/consign.hpp>

#include "net/asio.hpp"

namespace pc::net {

class TaskGroup {
 public:
  explicit TaskGroup(const asio::any_io_executor& ex)
      : ex_(ex), state_(std::make_shared<State>(ex)) {}
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  /// Does not cancel tasks still running: an owner ends them first (shutdown() or cancel()).
  /// Their bookkeeping is shared, so a task that ends after its group is gone (an io_context torn
  /// down with tasks suspended) touches no freed memory. Emitting cancellation here could reach a
  /// coroutine that is itself being destroyed, hence not done.
  ~TaskGroup() = default;

  /// Starts `task` on the group's executor: an `awaitable<void>`, or a function object returning
  /// one. Prefer the function form capturing the owner's shared_ptr (`[self] { return
  /// self->loop(); }`): the capture lives until the task has completed, so the owner — and the
  /// group inside it — outlives each of its tasks. The task runs until it returns or is cancelled
  /// by cancel()/shutdown(). An exception other than a cancellation escaping a task is a bug: it
  /// is rethrown from the io_context's run().
  template <class Awaitable>
  void spawn(Awaitable&& task) {
    asio::co_spawn(ex_, std::forward<Awaitable>(task), adapt());
  }

  /// Tasks still running.
  [[nodiscard]] std::size_t size() const { return state_->signals.size(); }

  /// Sends `type` cancellation to every running task; returns at once.
  void cancel(asio::cancellation_type type = asio::cancellation_type::terminal) {
    emitAll(state_->signals, type);
  }

  /// Waits until no task runs. Cancel-safe (a cancelled join just returns early). Must not be
  /// awaited by one of the group's own tasks (it would wait for itself).
  asio::awaitable<void> join() {
    const auto state = state_;
    while (!state->signals.empty()) {
      co_await state->idle.async_wait(kNoThrow);
    }
  }

  /// Total cancellation, then terminal cancellation after `grace`; returns once every task has
  /// ended. Not cancel-safe: it is the owner's last step and must run to completion. Must not be
  /// awaited by one of the group's own tasks.
  asio::awaitable<void> shutdown(std::chrono::milliseconds grace) {
    cancel(asio::cancellation_type::total);
    asio::steady_timer deadline(ex_, grace);
    // The handler may run after shutdown() returned and the group is gone (the deadline expired
    // as the last task ended): it holds the shared state, not the group.
    deadline.async_wait([state = state_](boost::system::error_code ec) {
      if (!ec) {
        emitAll(state->signals, asio::cancellation_type::terminal);
      }
    });
    co_await join();
    deadline.cancel();
  }

 private:
  using Signals = std::list<asio::cancellation_signal>;

  static void emitAll(Signals& signals, asio::cancellation_type type) {
    // Emitting may complete a task synchronously and erase its entry: step past it first.
    for (auto it = signals.begin(); it != signals.end();) {
      auto& sig = *it++;
      sig.emit(type);
    }
  }

  /// What a task's completion needs after its group may be gone.
  struct State {
    explicit State(const asio::any_io_executor& ex)
        : idle(ex, asio::steady_timer::time_point::max()) {}
    Signals signals;
    Signals retired;          ///< signals of ended tasks, freed by a later post (see Remover)
    asio::steady_timer idle;  ///< cancelled whenever a task ends
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
      if (!state) {
        return;
      }
      // co_spawn delivers a cancellation by posting it to the task's executor, and that post
      // still uses the signal's handler storage: a task cancelled just before it ended (one
      // that had not even started, say) would be delivered to a freed signal. The node leaves
      // the live list now and is freed by a post of our own, which runs after that delivery
      // (one thread, handlers in order).
      state->retired.splice(state->retired.end(), state->signals, it);
      asio::post(state->idle.get_executor(), [st = state, node = it] { st->retired.erase(node); });
      state->idle.cancel();
    }
  };

  /// The completion of one task: swallows cancellation, rethrows anything else.
  struct Done {
    void operator()(const std::exception_ptr& e) const {
      if (!e) {
        return;
      }
      try {
        std::rethrow_exception(e);
      } catch (const boost::system::system_error& se) {
        if (se.code() != asio::error::operation_aborted) {
          throw;
        }
      }
    }
  };

  // The return type is spelt out: clang cannot use a deduced one in spawn(), defined above it.
  asio::cancellation_slot_binder<asio::consign_t<Done, Remover>, asio::cancellation_slot> adapt() {
    auto it = state_->signals.emplace(state_->signals.end());
    return asio::bind_cancellation_slot(it->slot(), asio::consign(Done{}, Remover(state_, it)));
  }

  asio::any_io_executor ex_;
  std::shared_ptr<State> state_;
};

}  // namespace pc::net
