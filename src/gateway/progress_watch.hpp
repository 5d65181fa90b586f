#pragma once
/// Deadlines on progress for one proxied exchange. A public client that asks for a large body
/// and never reads would otherwise hold its tunnel stream for ever (a write to it never ends),
/// and a deployment that stops sending mid-body likewise: enough of either starves every other
/// deployment of the provider. The watch cuts the exchange when nothing has moved for
/// `writeLimit` while a write to the client is pending, or for `idleLimit` otherwise (waiting
/// for the response, a silent body, an upload the deployment does not read).
///
/// Progress is recorded by the WatchedStream wrappers the relay reads and writes through: a
/// time stamp per I/O call, no timer work per byte. One timer per exchange wakes at most every
/// min(idleLimit, writeLimit).
#include <chrono>
#include <functional>
#include <memory>

#include "net/asio.hpp"
#include "net/stream.hpp"

namespace pc::gateway {

class ProgressWatch : public std::enable_shared_from_this<ProgressWatch> {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Stall { kNone, kIdle, kClientNotReading };

  /// `onStall` runs once, on the executor, when a limit passes; it resets the streams, which
  /// makes the pending operations fail. Call start() once the watch is owned by a shared_ptr.
  ProgressWatch(const net::asio::any_io_executor& ex, std::chrono::milliseconds idleLimit,
                std::chrono::milliseconds writeLimit, std::function<void(Stall)> onStall);
  ~ProgressWatch();
  ProgressWatch(const ProgressWatch&) = delete;
  ProgressWatch& operator=(const ProgressWatch&) = delete;

  void start();
  /// Something moved: a read returned bytes or a write completed.
  void moved() { last_ = Clock::now(); }
  /// A write to the client begins (true) or ends (false).
  void clientWriting(bool on) {
    clientWriting_ = on;
    moved();
  }
  /// Stops watching (the exchange ended); onStall will not run.
  void disarm();
  [[nodiscard]] Stall stalled() const { return stalled_; }

 private:
  void arm(Clock::time_point at);
  void check();

  net::asio::steady_timer timer_;
  std::chrono::milliseconds idleLimit_;
  std::chrono::milliseconds writeLimit_;
  std::function<void(Stall)> onStall_;
  Clock::time_point last_ = Clock::now();
  bool clientWriting_ = false;
  bool disarmed_ = false;
  Stall stalled_ = Stall::kNone;
};

/// A byte stream whose I/O is recorded as progress on a watch. `client` marks the public
/// client's side, whose pending writes are held to the write limit. Holds the stream.
class WatchedStream final : public net::ByteStream {
 public:
  WatchedStream(std::shared_ptr<net::ByteStream> inner, std::shared_ptr<ProgressWatch> watch,
                bool client)
      : inner_(std::move(inner)), watch_(std::move(watch)), client_(client) {}
  net::Task<std::size_t> readSome(std::span<std::uint8_t> buf) override;
  net::Task<void> write(BytesView data) override;
  net::Task<void> closeWrite() override { return inner_->closeWrite(); }
  void reset() override { inner_->reset(); }
  void releaseBuffers() override { inner_->releaseBuffers(); }
  net::Task<void> waitReadable() override { return inner_->waitReadable(); }

 private:
  std::shared_ptr<net::ByteStream> inner_;
  std::shared_ptr<ProgressWatch> watch_;
  bool client_;
};

}  // namespace pc::gateway
