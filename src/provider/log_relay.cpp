#include "provider/log_relay.hpp"

#include <array>
#include <span>

#include "core/time.hpp"
#include "provider/error.hpp"

namespace pc::provider {

namespace asio = net::asio;
using asio::awaitable;

namespace {

/// Where a paused or windowed read resumes: the engine's `since` has a resolution of one
/// instant, so the lines already queued at the last instant are skipped when they come again.
class LogCursor {
 public:
  /// True when `e` was delivered before the resumption (skip it).
  bool seen(const runtime::LogEntry& e) {
    if (!resumeAt_ || !e.time) {
      return false;
    }
    if (*e.time < *resumeAt_) {
      return true;
    }
    if (*e.time == *resumeAt_ && skip_ > 0) {
      --skip_;
      return true;
    }
    return false;
  }
  /// Notes that `e` was queued.
  void queued(const runtime::LogEntry& e) {
    if (!e.time) {
      return;
    }
    if (last_ && *last_ == *e.time) {
      ++sameInstant_;
    } else {
      last_ = e.time;
      sameInstant_ = 1;
    }
  }
  /// Makes `opts` read on after the last line queued.
  void resume(runtime::LogOptions& opts) {
    opts.tail.reset();
    if (last_) {
      opts.since = *last_;
      resumeAt_ = *last_;
      skip_ = sameInstant_;
    }
  }

 private:
  std::optional<runtime::SystemTime> last_;  ///< time of the last line queued
  std::size_t sameInstant_ = 0;              ///< lines queued with exactly that time
  std::optional<runtime::SystemTime> resumeAt_;
  std::size_t skip_ = 0;
};

/// After an engine read ended normally: whether the follow goes on (the deployment still runs).
awaitable<bool> stillFollowing(Scheduler& scheduler, const std::string& id, const std::string& cid,
                               bool follow, LogQueue& q) {
  if (!follow || !scheduler.isRunning(id)) {
    if (follow) {
      q.leave("the deployment is no longer running");
    }
    co_return false;
  }
  // The follow window ended while it still runs: check with the engine, so a container that
  // just exited does not make us loop.
  auto info = co_await scheduler.runtime().inspect(cid);
  if (!info || info->state != runtime::ContainerState::kRunning) {
    q.leave("the deployment is no longer running");
    co_return false;
  }
  co_return true;
}

}  // namespace

Result<runtime::LogOptions> engineLogOptions(const protocol::LogsRequest& req, std::int64_t nowMs) {
  // Checked before the milliseconds become nanoseconds: up to 2^53 ms passes the wire's bound
  // and overflowed the conversion (a time before 1970 as far as the engine query went).
  if (req.sinceMs && *req.sinceMs > nowMs + kMaxLogSinceAheadMs) {
    return fail(Errc::kBadRequest,
                "since " + std::to_string(*req.sinceMs) + " ms is more than " +
                    std::to_string(kMaxLogSinceAheadMs / 1000) +
                    " s after this provider's clock (" + std::to_string(nowMs) +
                    " ms since 1970): no log line has that time yet; give a time in the past");
  }
  runtime::LogOptions opts;
  opts.follow = req.follow;
  if (req.tail) {
    opts.tail = static_cast<std::uint32_t>(*req.tail);
  }
  if (req.sinceMs) {
    opts.since = runtime::SystemTime(std::chrono::milliseconds(*req.sinceMs));
  }
  opts.maxDuration = req.follow ? kLogFollowWindow : std::chrono::seconds(30);
  return opts;
}

protocol::LogEntry toWire(const runtime::LogEntry& e) {
  protocol::LogEntry out;
  out.stream = e.stream == runtime::LogStream::kStderr ? protocol::LogStream::kStderr
                                                       : protocol::LogStream::kStdout;
  out.timestampMs = e.time ? time::toUnixMillis(*e.time) : protocol::unixMillisNow();
  std::string_view text = e.text;
  if (text.size() > protocol::kMaxLogLineBytes - 3) {
    text = text.substr(0, protocol::kMaxLogLineBytes - 3);
  }
  out.line = protocol::sanitizeUtf8(text);
  return out;
}

awaitable<void> watchLogClient(std::shared_ptr<net::yamux::Stream> s, std::shared_ptr<LogQueue> q) {
  std::array<std::uint8_t, 64> buf{};
  (void)co_await s->readSome(std::span<std::uint8_t>(buf.data(), buf.size()));
  q->consumerLeft();
}

awaitable<bool> writeLogLines(net::yamux::Stream& s, LogQueue& q) {
  constexpr std::size_t kBatchBytes = 64 * 1024;
  Bytes batch;
  while (true) {
    batch.clear();
    while (!q.lines.empty() && batch.size() < kBatchBytes) {
      const protocol::Message msg = std::move(q.lines.front());
      q.lines.pop_front();
      auto frame = protocol::encodeMessage(msg);
      q.bytes -= std::min(q.bytes, LogQueue::cost(std::get<protocol::LogEntry>(msg)));
      if (frame) {
        batch.insert(batch.end(), frame->begin(), frame->end());
      }
    }
    if (!batch.empty()) {
      q.drained.notify();
      auto w = co_await s.write(batch);
      if (!w) {
        q.consumerLeft();
        co_return false;
      }
      continue;
    }
    if (q.consumerGone) {
      co_return false;
    }
    if (q.producerDone) {
      co_return true;
    }
    co_await q.ready.wait();
  }
}

awaitable<void> produceLogs(Scheduler& scheduler, std::shared_ptr<LogQueue> q, std::string id,
                            std::string cid, runtime::LogOptions opts) {
  // When the queue is full it stops reading from the engine and later resumes from the last
  // delivered timestamp, skipping lines already sent at that instant.
  // However it ends (also cancelled at shutdown), the consumer sends the end of the logs.
  struct Finish {
    explicit Finish(LogQueue& queue) : q(queue) {}
    Finish(const Finish&) = delete;
    Finish& operator=(const Finish&) = delete;
    ~Finish() {
      q.producerDone = true;
      q.ready.notify();
    }
    LogQueue& q;
  } finish(*q);
  LogCursor cursor;
  bool paused = false;
  const runtime::LogSink sink = [&](const runtime::LogEntry& e) -> bool {
    if (q->consumerGone) {
      return false;
    }
    if (cursor.seen(e)) {
      return true;
    }
    protocol::LogEntry out = toWire(e);
    cursor.queued(e);
    q->bytes += LogQueue::cost(out);
    q->lines.push_back(std::move(out));
    q->ready.notify();
    paused = q->bytes > kMaxQueuedLogBytes;
    return !paused;
  };
  while (true) {
    paused = false;
    auto r = co_await scheduler.runtime().logs(cid, opts, sink);
    if (!r) {
      q->leave(r.error().message());
      break;
    }
    if (q->consumerGone) {
      break;
    }
    if (paused) {
      while (q->bytes > kMaxQueuedLogBytes / 2 && !q->consumerGone) {
        co_await q->drained.wait();
      }
      if (q->consumerGone) {
        break;
      }
    } else if (!co_await stillFollowing(scheduler, id, cid, opts.follow, *q)) {
      break;
    }
    cursor.resume(opts);
  }
}

}  // namespace pc::provider
