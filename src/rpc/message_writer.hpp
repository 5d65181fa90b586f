#pragma once
/// The single writer of a stream's messages: producers push() without waiting and one coroutine
/// writes the messages in order (one write in flight per stream). The queue is bounded; what a
/// full queue does is the caller's choice, so no peer that stops reading can make us buffer
/// without limit.
#include <deque>
#include <memory>

#include "net/asio.hpp"
#include "net/stream.hpp"
#include "net/task_group.hpp"
#include "protocol/messages.hpp"

namespace pc::rpc {

class MessageWriter {
 public:
  /// What push() does when `maxQueued` messages are already waiting.
  enum class Overflow {
    kRefuse,         ///< push() returns false; the caller decides (typically: end the stream)
    kReplaceNewest,  ///< the newest queued message is replaced (progress: the latest one wins)
  };

  /// Starts the writer coroutine on `ex`. A failed write resets the stream and drops the queue.
  static std::shared_ptr<MessageWriter> start(const net::asio::any_io_executor& ex,
                                              std::shared_ptr<net::ByteStream> stream,
                                              std::size_t maxQueued, Overflow overflow);

  /// Queues `m`. False when it was not queued: the queue is full (kRefuse), the writer failed,
  /// or finish()/close() was called.
  bool push(protocol::Message m);
  /// No more messages: the writer ends once what is queued has been written.
  void finish();
  /// Ends the writer at once, dropping what is queued.
  void close();
  /// Completes when the writer has ended (after finish() and the queue drained, close(), or a
  /// failed write).
  net::asio::awaitable<void> ended();
  [[nodiscard]] bool failed() const { return failed_; }
  [[nodiscard]] std::size_t queued() const { return queue_.size(); }

 private:
  MessageWriter(const net::asio::any_io_executor& ex, std::shared_ptr<net::ByteStream> stream,
                std::size_t maxQueued, Overflow overflow);
  static net::asio::awaitable<void> run(std::shared_ptr<MessageWriter> self);

  std::shared_ptr<net::ByteStream> stream_;
  std::size_t maxQueued_;
  Overflow overflow_;
  std::deque<protocol::Message> queue_;
  net::Signal ready_;
  net::Signal endedSignal_;
  net::TaskGroup tasks_;  ///< the writer coroutine
  bool finishing_ = false;
  bool closed_ = false;
  bool failed_ = false;
  bool ended_ = false;
};

}  // namespace pc::rpc
