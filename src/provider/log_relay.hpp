#pragma once
/// Relaying one deployment's logs to one client (the `/peercompute/logs/1.0.0` stream): an engine
/// reader fills a bounded queue, the stream's handler drains it in batches of frames, and a
/// watcher notices the client leaving. A slow client pauses the engine read (it resumes from the
/// last delivered timestamp); a follow is read in windows of kLogFollowWindow.
///
/// Threading: one executor (the daemon's single io_context thread); nothing here is thread-safe.
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "net/asio.hpp"
#include "net/yamux/session.hpp"
#include "protocol/checks.hpp"
#include "protocol/messages.hpp"
#include "provider/scheduler.hpp"
#include "runtime/runtime.hpp"

namespace pc::provider {

/// Log lines queued for one slow client before the provider stops reading from the engine (it
/// resumes, from the last delivered timestamp, once the client drained half).
inline constexpr std::size_t kMaxQueuedLogBytes = 1 << 20;
/// Engine log requests of a follow are renewed after this long.
inline constexpr std::chrono::seconds kLogFollowWindow{60};

/// Log lines between the engine reader and one client, bounded by kMaxQueuedLogBytes.
struct LogQueue {
  explicit LogQueue(const net::asio::any_io_executor& ex) : ready(ex), drained(ex) {}
  std::deque<protocol::LogEntry> lines;
  std::size_t bytes = 0;
  net::Signal ready;    ///< lines added, or the producer finished
  net::Signal drained;  ///< the consumer took lines
  bool producerDone = false;
  bool consumerGone = false;
  std::optional<std::string> endReason;

  /// What one queued line counts against kMaxQueuedLogBytes (the text and the frame around it).
  static std::size_t cost(const protocol::LogEntry& e) { return e.line.size() + 64; }
  /// Records why the logs end early (sent in LogsEnd).
  void leave(std::string reason) { endReason = std::move(reason); }
  /// The client is gone: wakes both sides so they stop.
  void consumerLeft() {
    consumerGone = true;
    ready.notify();
    drained.notify();
  }
};

/// How far ahead of the provider's clock a logs request's `since` may be: no line has a later
/// time yet. It also keeps `since` far inside what the engine's nanoseconds hold: the wire allows
/// up to 2^53 ms, which overflowed when turned into nanoseconds (int64 holds ~2^63 ns, year 2262).
inline constexpr std::int64_t kMaxLogSinceAheadMs = protocol::kMaxFutureSkewMs;

/// The engine request for a logs request received at `nowMs`: tail and since as asked; a follow
/// is read in windows of kLogFollowWindow. Errors: Errc::kBadRequest for a `since` more than
/// kMaxLogSinceAheadMs after `nowMs` (the message says the value and the bound).
Result<runtime::LogOptions> engineLogOptions(const protocol::LogsRequest& req, std::int64_t nowMs);
/// An engine line as the wire's LogEntry: cut to the wire's line limit, valid UTF-8.
protocol::LogEntry toWire(const runtime::LogEntry& e);

/// The client keeps its write side open while it reads; anything from it (EOF, reset, bytes)
/// means it is done: marks `q`'s consumer gone. Cancelling it is safe.
net::asio::awaitable<void> watchLogClient(std::shared_ptr<net::yamux::Stream> s,
                                          std::shared_ptr<LogQueue> q);
/// Consumer: queue → client, several frames per write, until the producer is done (true: the
/// end message is due) or the client is gone (false). Cancelling it is safe (the stream is left
/// half-written; reset it).
net::asio::awaitable<bool> writeLogLines(net::yamux::Stream& s, LogQueue& q);
/// Producer: engine → queue, until the end of the logs (or of the follow), an engine error or the
/// client's departure; `q`'s producer is done however it ends. Cancelling it is safe.
net::asio::awaitable<void> produceLogs(Scheduler& scheduler, std::shared_ptr<LogQueue> q,
                                       std::string id, std::string cid, runtime::LogOptions opts);

}  // namespace pc::provider
