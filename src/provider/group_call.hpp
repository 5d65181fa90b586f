#pragma once
/// Running an object's work as a task of the group it owns, for a caller that waits for the
/// result from a coroutine the object does not own (a request handler of the host).
///
/// The work touches the object's state; the caller touches only a shared slot once it resumes.
/// So the object may shut down while callers wait (their wait ends with no result), and a caller
/// that is cancelled does not cancel the work (it goes on in the group).
#include <memory>
#include <optional>
#include <utility>

#include "net/asio.hpp"
#include "net/task_group.hpp"

namespace pc::provider {

namespace detail {

template <class T>
struct GroupCallSlot {
  explicit GroupCallSlot(const net::asio::any_io_executor& ex) : done(ex) {}
  std::optional<T> value;
  bool ended = false;
  net::Signal done;
};

/// Marks the slot ended however the task ends: returned, cancelled or destroyed unresumed.
template <class T>
struct GroupCallEnd {
  explicit GroupCallEnd(GroupCallSlot<T>& s) : slot(s) {}
  GroupCallSlot<T>& slot;
  GroupCallEnd(const GroupCallEnd&) = delete;
  GroupCallEnd& operator=(const GroupCallEnd&) = delete;
  ~GroupCallEnd() {
    slot.ended = true;
    slot.done.notify();
  }
};

template <class T>
net::asio::awaitable<void> deliver(std::shared_ptr<GroupCallSlot<T>> slot,
                                   net::asio::awaitable<T> work) {
  GroupCallEnd<T> end{*slot};
  slot->value = co_await std::move(work);
}

}  // namespace detail

/// Runs `work` as a task of `group` and waits for its result; `nullopt` when the task ended
/// without one (the group was cancelled: its owner is shutting down). Cancelling the wait is
/// safe: only the wait ends, the work goes on in the group.
template <class T>
net::asio::awaitable<std::optional<T>> callInGroup(net::TaskGroup& group,
                                                   net::asio::awaitable<T> work) {
  auto ex = co_await net::asio::this_coro::executor;
  auto slot = std::make_shared<detail::GroupCallSlot<T>>(ex);
  group.spawn(detail::deliver<T>(slot, std::move(work)));
  while (!slot->ended) {
    co_await slot->done.wait();
  }
  co_return std::move(slot->value);
}

}  // namespace pc::provider
