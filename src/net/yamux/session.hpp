#pragma once
/// yamux session (`/yamux/1.0.0`) over a secured connection: the "muxed" stage.
///
/// One reader coroutine decodes frames and dispatches them; one writer coroutine owns the
/// underlying connection's write side and flushes frames that streams queue, batching many small
/// frames into one encrypted write. Everything runs on one executor, so there are no locks.
///
/// Bounds (all in Config): streams per session, inbound streams waiting for accept(), bytes
/// queued for writing, the receive window per stream (auto-tuned between 256 KiB and 16 MiB
/// while the session-wide budget allows), the control frames queued in answer to the peer, and
/// the rate of inbound pings and refused SYNs. A peer that breaks them gets a GoAway with a
/// protocol error and the connection is closed.
///
/// Every queue of a session and its bound:
///   outbox (frames for the writer): data ≤ maxQueuedWrite + one frame (writers wait before
///     queueing); answers to the peer (ping ACKs, RSTs of refused SYNs) ≤ maxQueuedAnswers
///     (the reader waits); stream ACKs, FINs, RSTs and window updates ≤ a few per live stream.
///   sending (the batch being written): one outbox.
///   pending ACKs of inbound streams: ≤ maxStreams (stream ids, dropped with their stream).
///   accept backlog ≤ maxAcceptBacklog; streams ≤ maxStreams; received data ≤ the windows.
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/token_bucket.hpp"
#include "net/stream.hpp"
#include "net/task_group.hpp"
#include "net/yamux/frame.hpp"

namespace pc::net::yamux {

struct Config {
  static constexpr std::uint32_t kInitialWindow = 256 * 1024;  ///< fixed by the spec
  std::uint32_t maxWindow = 16 * 1024 * 1024;
  /// Sum of receive windows across one session's streams that auto-tuning may reach.
  std::size_t maxSessionWindow = 64 * 1024 * 1024;
  std::size_t maxStreams = 1024;
  std::size_t maxAcceptBacklog = 256;
  /// Data frames are cut at this size so one stream cannot monopolise the writer.
  std::uint32_t maxFrameData = 256 * 1024;
  /// A stream's write waits while this much is queued for the socket.
  std::size_t maxQueuedWrite = 1024 * 1024;
  std::chrono::milliseconds keepAliveInterval{30000};
  /// Control frames we queue in answer to the peer (ping ACKs, RSTs of refused SYNs) that the
  /// writer has not taken yet, in bytes (12 per frame). At this bound the reader stops reading
  /// the connection until the writer takes the outbox: a peer that sends pings and never reads
  /// cannot grow our memory. Keep it far above the few answers a well-behaved peer has
  /// outstanding (one ping at a time): waitForAnswerRoom's no-deadlock argument relies on it.
  std::size_t maxQueuedAnswers = 64 * 1024;
  /// Inbound pings (SYN or ACK) per second, sustained and in a burst. go-yamux and js-yamux send
  /// one keep-alive ping every 15–30 s (rust-yamux one RTT probe at a time), so no
  /// well-behaved peer comes near; more ends the session with a protocol error.
  double maxPingsPerSecond = 10;
  double maxPingBurst = 100;
  /// Inbound SYNs refused (over maxStreams or maxAcceptBacklog, or while closing) per second,
  /// sustained and in a burst. A peer that opens streams within our limits is never refused;
  /// more ends the session with a protocol error.
  double maxRefusedSynsPerSecond = 128;
  double maxRefusedSynBurst = 1024;
  /// Lower bound on the RTT used by window auto-tuning (a window grows when half of it is
  /// drained within two RTTs); loopback RTTs are too small to measure usefully.
  std::chrono::microseconds autoTuneMinRtt{500};
};

class Session;

class Stream final : public ByteStream, public std::enable_shared_from_this<Stream> {
 public:
  ~Stream() override;
  Task<std::size_t> readSome(std::span<std::uint8_t> buf) override;
  Task<void> write(BytesView data) override;
  Task<void> closeWrite() override;
  void reset() override;
  Task<void> waitReadable() override;

  std::uint32_t id() const { return id_; }
  Session& session() { return *session_; }
  /// The protocol negotiated on this stream (set by the host after multistream-select).
  std::string protocol;
  /// Current receive window target (for tests and metrics).
  std::uint32_t receiveWindow() const { return recvWindowMax_; }

 private:
  friend class Session;
  Stream(std::shared_ptr<Session> session, std::uint32_t id);
  void onFlags(std::uint16_t flags);
  void maybeSendWindowUpdate();
  std::uint16_t takeOpenFlags();

  std::shared_ptr<Session> session_;
  std::uint32_t id_;
  Signal readable_;
  Signal writable_;
  Bytes buf_;  ///< received data: [bufStart_, bufEnd_); only the session's reader grows it
  std::size_t bufStart_ = 0;
  std::size_t bufEnd_ = 0;
  bool filling_ = false;  ///< the session reader is writing into buf_'s tail
  std::uint32_t recvWindow_ = Config::kInitialWindow;     ///< what the peer may still send
  std::uint32_t recvWindowMax_ = Config::kInitialWindow;  ///< current window target
  std::uint32_t sendWindow_ = Config::kInitialWindow;
  std::chrono::steady_clock::time_point lastUpdate_;
  bool writing_ = false;
  bool localFin_ = false;
  bool remoteFin_ = false;
  bool reset_ = false;  ///< reset by either side
  bool pendingSyn_ = false;
  bool pendingAck_ = false;
  bool ackListed_ = false;     ///< in the session's pendingAcks_
  bool waitingDrain_ = false;  ///< write() waits for the outbox to drain
  bool registered_ = true;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  /// `conn` is the secured connection (any ByteStream: tests use an in-memory pipe); `label`
  /// names the remote in logs.
  Session(std::unique_ptr<ByteStream> conn, asio::any_io_executor ex, bool client,
          std::string label, Config config = {});
  ~Session();

  /// Starts the reader, writer and keep-alive coroutines (tasks of this session, each holding
  /// it alive until it ends).
  void start();
  /// Opens an outbound stream. Errors: kClosed, kLimit (maxStreams or GoAway received).
  Result<std::shared_ptr<Stream>> openStream();
  /// Waits for the next inbound stream. Errors: kClosed when the session ends. Cancel-safe (a
  /// stream that arrives afterwards waits in the backlog for the next call).
  Task<std::shared_ptr<Stream>> acceptStream();
  /// Sends GoAway(normal) after queued frames and closes the connection (at the latest a grace
  /// second later). Returns at once.
  void close();
  /// close(), waits up to `grace` for the connection to close, closes it hard if it has not,
  /// and returns once the session's coroutines have ended. Not cancel-safe (the owner's last
  /// step).
  asio::awaitable<void> shutdown(std::chrono::milliseconds grace);
  bool isClosed() const { return closed_; }
  /// Why the session ended (empty while open).
  const Error& closeReason() const { return closeReason_; }
  /// Waits until the session is closed. Cancel-safe.
  asio::awaitable<void> waitClosed();

  ByteStream& conn() { return *conn_; }
  std::size_t streamCount() const { return streams_.size(); }
  /// Frames received so far (0 means the remote never spoke yamux on this connection).
  std::uint64_t framesReceived() const { return framesReceived_; }
  /// Round-trip time measured with yamux pings (zero until the first pong).
  std::chrono::microseconds rtt() const { return rtt_; }
  /// Bytes queued for the connection: the outbox and the batch being written (for tests and
  /// metrics).
  std::size_t queuedBytes() const { return outbox_.size() + sending_.size(); }
  /// True while the reader waits for the writer to take the answers it queued
  /// (maxQueuedAnswers reached).
  bool readPaused() const { return answerBytes_ >= config_.maxQueuedAnswers; }
  const Config& config() const { return config_; }

 private:
  friend class Stream;
  asio::awaitable<void> readLoop();
  /// Ping and GoAway frames (session-level, no payload). False when the session ended.
  bool onControl(const Header& h);
  /// Reads a data frame's payload into `s` (or drops it: `s` null, reset or finished). False
  /// when the session ended (protocol error or connection failure).
  asio::awaitable<bool> readData(const Header& h, Stream* s, Bytes& scratch);
  asio::awaitable<void> writeLoop();
  asio::awaitable<void> keepAliveLoop();
  Stream* streamFor(const Header& h, bool& protoError);
  void queueFrame(const Header& h, BytesView data = {});
  /// Queues a frame we send in answer to the peer (counted against maxQueuedAnswers).
  void queueAnswer(const Header& h);
  /// Waits while maxQueuedAnswers bytes of answers wait for the writer (the reader's only
  /// pause). Why it cannot deadlock two of our peers that both send heavily, as a pause on "the
  /// outbox is big" could (each one's reader waiting for its own writer, each writer waiting
  /// for the other's reader): our writer waits only for the peer's reader, and our reader stops
  /// only here, so a cycle needs both peers' readers here at once, each having queued
  /// maxQueuedAnswers / 12 answers (5461 by default) within one write that does not finish.
  /// Data, window updates and the ACKs of accepted streams never count (windows and stream
  /// limits bound them); answers do only for pings and refused SYNs. Within the rate limits
  /// that takes a peer over 30 s of flooding while our write is stuck; a well-behaved peer
  /// pings every 15–30 s and is refused a SYN only at our stream limits, so it never gets
  /// there, and neither do we (we ping once per keepAliveInterval; Host does not retry a refused
  /// stream). Only the peer that floods (and does not read) is paused.
  asio::awaitable<void> waitForAnswerRoom();
  /// Encodes the ACKs of inbound streams still due into the outbox (writer, before a batch).
  void flushAcks();
  /// Wakes the writes waiting for the outbox to drain.
  void notifyDrained();
  void sendPing();
  void releaseIdleBuffers();
  /// Sends GoAway(protocol error) and closes once it is flushed (or after a grace period).
  void protocolError(Error reason);
  void armGrace();
  /// Closes the connection now; every waiter wakes up and sees `reason`.
  void terminate(Error reason);
  void unregister(Stream* s);
  std::shared_ptr<Stream> makeStream(std::uint32_t id);

  std::unique_ptr<ByteStream> conn_;
  std::string label_;
  bool client_;
  Config config_;
  asio::any_io_executor ex_;
  std::uint32_t nextId_;
  std::unordered_map<std::uint32_t, Stream*> streams_;
  std::deque<std::shared_ptr<Stream>> backlog_;
  Signal acceptable_;
  Bytes outbox_;
  Bytes sending_;
  Signal outboxReady_;
  std::size_t drainWaiters_ = 0;  ///< streams whose write() waits for the outbox to drain
  /// Ids of inbound streams whose ACK is due: sent with the writer's next batch unless the
  /// stream sends a frame first (which carries it) or ends first (then nothing is owed), so a
  /// peer that opens and resets streams without reading makes us queue nothing.
  std::vector<std::uint32_t> pendingAcks_;
  std::size_t answerBytes_ =
      0;  ///< queueAnswer() bytes in outbox_ (reset when the writer takes it)
  Signal answersTaken_;
  TokenBucket pingBucket_;
  TokenBucket refusedSynBucket_;
  Signal closedSignal_;
  bool closed_ = false;
  bool writing_ = false;
  std::uint64_t framesReceived_ = 0;
  bool goAwayReceived_ = false;
  bool closing_ = false;
  Error closeReason_;
  Error closingReason_;
  std::size_t sessionWindow_ = 0;  ///< sum of recvWindowMax_ over streams
  std::uint32_t outstandingPing_ = 0;
  std::chrono::steady_clock::time_point pingSent_;
  std::chrono::microseconds rtt_{0};
  asio::steady_timer keepAlive_;
  asio::steady_timer graceTimer_;
  TaskGroup tasks_;  ///< the reader, writer and keep-alive loops
};

}  // namespace pc::net::yamux
