#include "rpc/message_writer.hpp"

#include "rpc/message_stream.hpp"

namespace pc::rpc {

namespace asio = net::asio;

MessageWriter::MessageWriter(const asio::any_io_executor& ex,
                             std::shared_ptr<net::ByteStream> stream, std::size_t maxQueued,
                             Overflow overflow)
    : stream_(std::move(stream)),
      maxQueued_(std::max<std::size_t>(maxQueued, 1)),
      overflow_(overflow),
      ready_(ex),
      endedSignal_(ex),
      tasks_(ex) {}

std::shared_ptr<MessageWriter> MessageWriter::start(const asio::any_io_executor& ex,
                                                    std::shared_ptr<net::ByteStream> stream,
                                                    std::size_t maxQueued, Overflow overflow) {
  std::shared_ptr<MessageWriter> w(new MessageWriter(ex, std::move(stream), maxQueued, overflow));
  w->tasks_.spawn(run(w));  // the task holds the writer until it ends
  return w;
}

bool MessageWriter::push(protocol::Message m) {
  if (failed_ || closed_ || finishing_) return false;
  if (queue_.size() >= maxQueued_) {
    if (overflow_ == Overflow::kRefuse) return false;
    queue_.back() = std::move(m);
  } else {
    queue_.push_back(std::move(m));
  }
  ready_.notify();
  return true;
}

void MessageWriter::finish() {
  finishing_ = true;
  ready_.notify();
}

void MessageWriter::close() {
  closed_ = true;
  queue_.clear();
  ready_.notify();
}

asio::awaitable<void> MessageWriter::ended() {
  while (!ended_) co_await endedSignal_.wait();
}

asio::awaitable<void> MessageWriter::run(std::shared_ptr<MessageWriter> self) {
  for (;;) {
    while (!self->queue_.empty() && !self->closed_) {
      const protocol::Message m = std::move(self->queue_.front());
      self->queue_.pop_front();
      if (auto w = co_await writeMessage(*self->stream_, m); !w) {
        self->failed_ = true;
        self->queue_.clear();
        self->stream_->reset();
        break;
      }
    }
    if (self->failed_ || self->closed_ || (self->finishing_ && self->queue_.empty())) break;
    co_await self->ready_.wait();
  }
  self->ended_ = true;
  self->endedSignal_.notify();
}

}  // namespace pc::rpc
