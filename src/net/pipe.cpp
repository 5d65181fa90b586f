#include "net/pipe.hpp"

#include "net/task_group.hpp"

namespace pc::net {
namespace {

struct PipeState {
  explicit PipeState(const asio::any_io_executor& ex) : idleTimer(ex) {}
  asio::steady_timer idleTimer;  ///< fires at lastActivity + idle; cancelled when both end
  int running = 2;
  bool failed = false;
  bool idle = false;
  std::chrono::steady_clock::time_point lastActivity = std::chrono::steady_clock::now();
  PipeStats stats;
};

asio::awaitable<void> copy(std::shared_ptr<PipeState> st, std::shared_ptr<ByteStream> from,
                           std::shared_ptr<ByteStream> to, std::uint64_t& counter) {
  while (!st->failed) {
    // No buffer is held while the direction is idle: an idle proxied connection costs only its
    // coroutine frames. The buffer is uninitialised (no zero-fill per chunk).
    if (auto w = co_await from->waitReadable(); !w) {
      st->failed = true;
      break;
    }
    std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[kPipeChunk]);
    auto n = co_await from->readSome(std::span<std::uint8_t>(buf.get(), kPipeChunk));
    if (!n) {
      st->failed = true;
      break;
    }
    if (*n == 0) {
      (void)co_await to->closeWrite();
      break;
    }
    st->lastActivity = std::chrono::steady_clock::now();
    counter += *n;
    if (auto w = co_await to->write(BytesView(buf.get(), *n)); !w) {
      st->failed = true;
      break;
    }
  }
  if (st->failed) {
    // Either side broke: the other must not wait for bytes that will never come.
    from->reset();
    to->reset();
  }
  if (--st->running == 0) st->idleTimer.cancel();
}

}  // namespace

asio::awaitable<PipeStats> pipeBoth(std::shared_ptr<ByteStream> a, std::shared_ptr<ByteStream> b,
                                    std::chrono::milliseconds idle) {
  auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<PipeState>(ex);
  TaskGroup copies(ex);
  // Normally both copies have ended when this returns. If it is cancelled instead (its owner
  // shuts down), the copies end with it: both streams are reset and the copies cancelled.
  struct EndCopies {
    PipeState& st;
    TaskGroup& copies;
    ByteStream& a;
    ByteStream& b;
    ~EndCopies() {
      if (st.running > 0) {
        st.failed = true;
        a.reset();
        b.reset();
        copies.cancel(asio::cancellation_type::terminal);
      }
    }
  } endCopies{*st, copies, *a, *b};
  copies.spawn(copy(st, a, b, st->stats.aToB));
  copies.spawn(copy(st, b, a, st->stats.bToA));
  // One timer for the idle deadline, re-armed from the last activity: no per-byte timer work.
  while (st->running > 0) {
    st->idleTimer.expires_at(st->lastActivity + idle);
    auto [ec] = co_await st->idleTimer.async_wait(kNoThrow);
    if (st->running == 0) break;
    if (!ec && std::chrono::steady_clock::now() - st->lastActivity >= idle) {
      st->idle = true;
      st->failed = true;
      a->reset();
      b->reset();
      st->lastActivity = std::chrono::steady_clock::now();  // wait for the copies to notice
    }
  }
  st->stats.idleTimeout = st->idle;
  co_return st->stats;
}

}  // namespace pc::net
