#pragma once
#include <functional>
#include <memory>

#include "net/asio.hpp"

namespace pc::net {

/// Runs `onExpire` when `timeout` passes unless destroyed first. Used to put deadlines on
/// whole multi-step exchanges: the callback closes the socket or resets the stream, which makes
/// the pending operation fail with an error.
class Watchdog {
 public:
  Watchdog(const asio::any_io_executor& ex, std::chrono::milliseconds timeout,
           std::function<void()> onExpire)
      : timer_(ex, timeout), state_(std::make_shared<State>()) {
    state_->onExpire = std::move(onExpire);
    timer_.async_wait([st = state_](boost::system::error_code ec) {
      if (!ec && !st->disarmed) {
        st->fired = true;
        st->onExpire();
      }
    });
  }
  ~Watchdog() { disarm(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  void disarm() {
    state_->disarmed = true;
    state_->onExpire = nullptr;
    timer_.cancel();
  }
  bool fired() const { return state_->fired; }

 private:
  struct State {
    bool disarmed = false;
    bool fired = false;
    std::function<void()> onExpire;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

}  // namespace pc::net
