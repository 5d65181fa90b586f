#include "gateway/progress_watch.hpp"

#include <algorithm>

namespace pc::gateway {

ProgressWatch::ProgressWatch(const net::asio::any_io_executor& ex,
                             std::chrono::milliseconds idleLimit,
                             std::chrono::milliseconds writeLimit,
                             std::function<void(Stall)> onStall)
    : timer_(ex), idleLimit_(idleLimit), writeLimit_(writeLimit), onStall_(std::move(onStall)) {}

ProgressWatch::~ProgressWatch() { disarm(); }

void ProgressWatch::start() { arm(last_ + std::min(idleLimit_, writeLimit_)); }

void ProgressWatch::disarm() {
  disarmed_ = true;
  onStall_ = nullptr;
  timer_.cancel();
}

void ProgressWatch::arm(Clock::time_point at) {
  timer_.expires_at(at);
  // A weak reference: the watch may be gone (exchange over) when the timer completes.
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!ec && self && !self->disarmed_) {
      self->check();
    }
  });
}

void ProgressWatch::check() {
  const auto now = Clock::now();
  const auto limit = clientWriting_ ? writeLimit_ : idleLimit_;
  if (now - last_ >= limit) {
    stalled_ = clientWriting_ ? Stall::kClientNotReading : Stall::kIdle;
    disarmed_ = true;
    auto f = std::move(onStall_);
    onStall_ = nullptr;
    if (f) {
      f(stalled_);
    }
    return;
  }
  // The phase may change before the deadline (a write starts): wake again no later than the
  // shorter limit from now, so a client write is never held longer than writeLimit + that.
  arm(std::min(last_ + limit, now + std::min(idleLimit_, writeLimit_)));
}

net::Task<std::size_t> WatchedStream::readSome(std::span<std::uint8_t> buf) {
  auto n = co_await inner_->readSome(buf);
  if (n) {
    watch_->moved();
  }
  co_return n;
}

net::Task<void> WatchedStream::write(BytesView data) {
  if (client_) {
    watch_->clientWriting(true);
  }
  auto w = co_await inner_->write(data);
  if (client_) {
    watch_->clientWriting(false);
  } else {
    watch_->moved();
  }
  co_return w;
}

}  // namespace pc::gateway
