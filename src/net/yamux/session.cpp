#include "net/yamux/session.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "core/invariant.hpp"
#include "net/error.hpp"
#include "net/watchdog.hpp"

namespace pc::net::yamux {
namespace {
using Clock = std::chrono::steady_clock;
/// Session closes this long after a protocol-error GoAway even if the peer does not read it.
constexpr auto kGoAwayGrace = std::chrono::seconds(1);
/// Buffers of idle streams above this are released, so idle streams stay small.
constexpr std::size_t kIdleBufferKeep = 16 * 1024;
}  // namespace

// ---------------------------------------------------------------- Stream

Stream::Stream(std::shared_ptr<Session> session, std::uint32_t id)
    : session_(std::move(session)),
      id_(id),
      readable_(session_->ex_),
      writable_(session_->ex_),
      lastUpdate_(Clock::now()) {}

Stream::~Stream() {
  // Dropping a stream that we have not closed resets it, so the remote never waits forever.
  // After closeWrite() the drop is graceful: what we wrote is still delivered, and whatever the
  // remote still sends on this id is discarded by the session.
  if (registered_) {
    if (!reset_ && !localFin_) {
      session_->queueFrame({Type::kWindowUpdate, flags::kRst, id_, 0});
    }
    session_->unregister(this);
  }
}

std::uint16_t Stream::takeOpenFlags() {
  std::uint16_t f = 0;
  if (pendingSyn_) f |= flags::kSyn;
  if (pendingAck_) f |= flags::kAck;
  pendingSyn_ = pendingAck_ = false;
  return f;
}

Task<std::size_t> Stream::readSome(std::span<std::uint8_t> buf) {
  while (bufStart_ == bufEnd_) {
    if (reset_) co_return fail(Errc::kReset, "stream reset by the remote");
    if (remoteFin_) co_return std::size_t{0};
    if (session_->closed_)
      co_return Error(make_error_code(Errc::kClosed),
                      "connection closed: " + session_->closeReason_.message());
    co_await readable_.wait();
  }
  const auto n = std::min(buf.size(), bufEnd_ - bufStart_);
  std::memcpy(buf.data(), buf_.data() + bufStart_, n);
  bufStart_ += n;
  if (bufStart_ == bufEnd_ && !filling_) bufStart_ = bufEnd_ = 0;  // drained: reuse from the start
  maybeSendWindowUpdate();
  co_return n;
}

Task<void> Stream::waitReadable() {
  while (bufStart_ == bufEnd_ && !reset_ && !remoteFin_ && !session_->closed_) {
    co_await readable_.wait();
  }
  co_return Result<void>{};
}

void Stream::maybeSendWindowUpdate() {
  if (reset_ || remoteFin_ || session_->closed_) return;
  const auto buffered = bufEnd_ - bufStart_;
  const auto credited = static_cast<std::size_t>(recvWindow_) + buffered;
  if (credited >= recvWindowMax_) return;
  std::uint32_t delta = static_cast<std::uint32_t>(recvWindowMax_ - credited);
  if (delta < recvWindowMax_ / 2) return;
  // Auto-tuning: a reader that drains half a window within two round trips is limited by the
  // window, not by itself; double it (bounded per stream and per session).
  const auto now = Clock::now();
  const auto& cfg = session_->config_;
  const auto rtt = std::max<std::chrono::microseconds>(session_->rtt_, cfg.autoTuneMinRtt);
  if (now - lastUpdate_ < 2 * rtt && recvWindowMax_ < cfg.maxWindow &&
      session_->sessionWindow_ + recvWindowMax_ <= cfg.maxSessionWindow) {
    const auto grown = std::min<std::uint32_t>(recvWindowMax_ * 2, cfg.maxWindow);
    session_->sessionWindow_ += grown - recvWindowMax_;
    delta += grown - recvWindowMax_;
    recvWindowMax_ = grown;
  }
  lastUpdate_ = now;
  recvWindow_ += delta;
  session_->queueFrame({Type::kWindowUpdate, takeOpenFlags(), id_, delta});
}

Task<void> Stream::write(BytesView data) {
  if (writing_) co_return fail(Errc::kProtocolError, "concurrent writes on one stream");
  writing_ = true;
  struct Done {
    bool& w;
    ~Done() { w = false; }
  } done{writing_};
  auto& s = *session_;
  while (!data.empty()) {
    for (;;) {
      if (reset_) co_return fail(Errc::kReset, "stream reset");
      if (localFin_) co_return fail(Errc::kClosed, "write after close");
      if (s.closed_)
        co_return Error(make_error_code(Errc::kClosed),
                        "connection closed: " + s.closeReason_.message());
      if (sendWindow_ == 0) {
        co_await writable_.wait();
      } else if (s.outbox_.size() >= s.config_.maxQueuedWrite) {
        // Waits before queueing, so the outbox holds at most the bound plus one frame however
        // many streams write; on this stream's own signal, so a reset wakes only this writer.
        waitingDrain_ = true;
        ++s.drainWaiters_;
        struct Unwait {
          Stream& st;
          ~Unwait() {
            st.waitingDrain_ = false;
            --st.session_->drainWaiters_;
          }
        } unwait{*this};
        co_await writable_.wait();
      } else {
        break;
      }
    }
    const auto n = std::min<std::size_t>({data.size(), sendWindow_, s.config_.maxFrameData});
    s.queueFrame({Type::kData, takeOpenFlags(), id_, static_cast<std::uint32_t>(n)}, data.first(n));
    sendWindow_ -= static_cast<std::uint32_t>(n);
    data = data.subspan(n);
  }
  co_return Result<void>{};
}

Task<void> Stream::closeWrite() {
  if (localFin_ || reset_ || session_->closed_) co_return Result<void>{};
  localFin_ = true;
  // A zero-length WindowUpdate carries the FIN, as js-libp2p sends it: js-yamux 8 applies a
  // Data frame's FIN before its payload, so FIN never rides on data.
  session_->queueFrame(
      {Type::kWindowUpdate, static_cast<std::uint16_t>(takeOpenFlags() | flags::kFin), id_, 0});
  if (remoteFin_) session_->unregister(this);
  co_return Result<void>{};
}

void Stream::reset() {
  if (reset_ || !registered_) return;
  reset_ = true;
  session_->queueFrame({Type::kWindowUpdate, flags::kRst, id_, 0});
  session_->unregister(this);
  readable_.notify();
  writable_.notify();
}

void Stream::onFlags(std::uint16_t f) {
  if ((f & flags::kRst) != 0) {
    reset_ = true;
    session_->unregister(this);
  } else if ((f & flags::kFin) != 0 && !remoteFin_) {
    remoteFin_ = true;
    if (localFin_) session_->unregister(this);
  }
  readable_.notify();
  writable_.notify();
}

// ---------------------------------------------------------------- Session

Session::Session(std::unique_ptr<ByteStream> conn, asio::any_io_executor ex, bool client,
                 std::string label, Config config)
    : conn_(std::move(conn)),
      label_(std::move(label)),
      client_(client),
      config_(config),
      ex_(std::move(ex)),
      nextId_(client ? 1 : 2),
      acceptable_(ex_),
      outboxReady_(ex_),
      answersTaken_(ex_),
      pingBucket_(config_.maxPingsPerSecond, config_.maxPingBurst),
      refusedSynBucket_(config_.maxRefusedSynsPerSecond, config_.maxRefusedSynBurst),
      closedSignal_(ex_),
      keepAlive_(ex_),
      graceTimer_(ex_),
      tasks_(ex_) {}

Session::~Session() = default;

void Session::start() {
  auto self = shared_from_this();
  tasks_.spawn([self] { return self->readLoop(); });
  tasks_.spawn([self] { return self->writeLoop(); });
  tasks_.spawn([self] { return self->keepAliveLoop(); });
}

std::shared_ptr<Stream> Session::makeStream(std::uint32_t id) {
  std::shared_ptr<Stream> s(new Stream(shared_from_this(), id));
  streams_.emplace(id, s.get());
  sessionWindow_ += Config::kInitialWindow;
  return s;
}

Result<std::shared_ptr<Stream>> Session::openStream() {
  if (closed_ || closing_) return fail(Errc::kClosed, "connection is closed");
  if (goAwayReceived_) return fail(Errc::kLimit, "the remote is going away; open a new connection");
  if (streams_.size() >= config_.maxStreams) {
    return fail(Errc::kLimit, "too many streams on this connection (limit " +
                                  std::to_string(config_.maxStreams) + ")");
  }
  if (nextId_ > UINT32_MAX - 2) return fail(Errc::kLimit, "stream ids exhausted; reconnect");
  auto s = makeStream(nextId_);
  nextId_ += 2;
  s->pendingSyn_ = true;
  queueFrame({Type::kWindowUpdate, s->takeOpenFlags(), s->id_, 0});
  return s;
}

Task<std::shared_ptr<Stream>> Session::acceptStream() {
  auto self = shared_from_this();
  while (backlog_.empty()) {
    if (closed_)
      co_return Error(make_error_code(Errc::kClosed),
                      "connection closed: " + closeReason_.message());
    co_await acceptable_.wait();
  }
  auto s = std::move(backlog_.front());
  backlog_.pop_front();
  co_return s;
}

void Session::close() {
  if (closed_ || closing_) return;
  closing_ = true;
  flushAcks();  // streams accepted before the GoAway are acknowledged before it
  queueFrame({Type::kGoAway, 0, 0, static_cast<std::uint32_t>(GoAwayCode::kNormal)});
  closingReason_ = fail(Errc::kClosed, "closed locally");
  armGrace();
}

asio::awaitable<void> Session::shutdown(std::chrono::milliseconds grace) {
  auto self = shared_from_this();
  close();
  {
    Watchdog dog(ex_, grace, [this] {
      terminate(fail(Errc::kTimeout, "the remote did not take our last frames before shutdown"));
    });
    while (!closed_) {
      co_await closedSignal_.wait();
    }
  }
  // Closed: each loop ends at its next step. The deadline only guards against a loop stuck in
  // a stream that ignores reset().
  co_await tasks_.shutdown(grace);
}

asio::awaitable<void> Session::waitClosed() {
  auto self = shared_from_this();
  while (!closed_) co_await closedSignal_.wait();
}

void Session::protocolError(Error reason) {
  if (closed_ || closing_) return;
  spdlog::warn("yamux: closing connection to {}: {}", label_, reason.message());
  closing_ = true;
  flushAcks();
  queueFrame({Type::kGoAway, 0, 0, static_cast<std::uint32_t>(GoAwayCode::kProtocolError)});
  closingReason_ = std::move(reason);
  armGrace();
}

void Session::armGrace() {
  // If the peer does not read our last frames, stop waiting for it after a grace period.
  graceTimer_.expires_after(kGoAwayGrace);
  graceTimer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->terminate(self->closingReason_);
  });
}

void Session::terminate(Error reason) {
  if (closed_) return;
  closed_ = true;
  closeReason_ = std::move(reason);
  conn_->reset();
  keepAlive_.cancel();
  graceTimer_.cancel();
  for (auto& [id, s] : streams_) {
    s->readable_.notify();
    s->writable_.notify();
  }
  // Inbound streams nobody accepted hold a reference to us; release them.
  backlog_.clear();
  acceptable_.notify();
  outboxReady_.notify();
  answersTaken_.notify();
  closedSignal_.notify();
}

void Session::unregister(Stream* s) {
  if (!s->registered_) return;
  s->registered_ = false;
  if (s->ackListed_) {
    s->ackListed_ = false;
    std::erase(pendingAcks_, s->id_);  // nothing is owed to a stream that ended
  }
  streams_.erase(s->id_);
  sessionWindow_ -= s->recvWindowMax_;
}

void Session::queueFrame(const Header& h, BytesView data) {
  if (closed_) return;
  encode(h, outbox_);
  append(outbox_, data);
  outboxReady_.notify();
}

void Session::queueAnswer(const Header& h) {
  queueFrame(h);
  answerBytes_ += kHeaderSize;
}

asio::awaitable<void> Session::waitForAnswerRoom() {
  // Stops a peer that sends pings (or SYNs we refuse) and never reads from growing our memory.
  // Why this pause cannot deadlock two of our peers: see the declaration.
  while (answerBytes_ >= config_.maxQueuedAnswers && !closed_) co_await answersTaken_.wait();
}

void Session::flushAcks() {
  for (const auto id : pendingAcks_) {
    Stream& s = *streams_.at(id);  // listed streams are registered (unregister unlists)
    s.ackListed_ = false;
    if (s.pendingAck_) {
      encode({Type::kWindowUpdate, s.takeOpenFlags(), id, 0}, outbox_);
    }
  }
  pendingAcks_.clear();
}

void Session::notifyDrained() {
  if (drainWaiters_ == 0) return;
  for (auto& [id, s] : streams_) {
    if (s->waitingDrain_) s->writable_.notify();
  }
}

void Session::releaseIdleBuffers() {
  // Buffers grow to the size of a burst; a connection that has gone quiet gives them back, so
  // idle connections and streams stay small. Once per keep-alive tick costs nothing when busy.
  if (!writing_ && outbox_.empty()) {
    if (sending_.capacity() > kIdleBufferKeep) Bytes().swap(sending_);
    if (outbox_.capacity() > kIdleBufferKeep) Bytes().swap(outbox_);
    conn_->releaseBuffers();
  }
  for (auto& [id, s] : streams_) {
    if (s->bufStart_ == s->bufEnd_ && !s->filling_ && s->buf_.capacity() > kIdleBufferKeep) {
      s->bufStart_ = s->bufEnd_ = 0;
      Bytes().swap(s->buf_);
    }
  }
}

void Session::sendPing() {
  // An unpredictable value: a peer that does not read cannot answer it blindly (a counter it
  // could, keeping alive forever a session whose writer it has stalled). 0 means "none".
  while (outstandingPing_ == 0) {
    const int ok = RAND_bytes(reinterpret_cast<unsigned char*>(&outstandingPing_), 4);
    invariant(ok == 1, "the CSPRNG (RAND_bytes) works");
  }
  pingSent_ = Clock::now();
  queueFrame({Type::kPing, flags::kSyn, 0, outstandingPing_});
}

asio::awaitable<void> Session::writeLoop() {
  for (;;) {
    while (outbox_.empty() && pendingAcks_.empty() && !closed_) {
      if (closing_) {
        terminate(closingReason_);
        co_return;
      }
      co_await outboxReady_.wait();
    }
    if (closed_) co_return;
    flushAcks();
    if (outbox_.empty()) continue;  // the ACKs were no longer due
    std::swap(outbox_, sending_);
    answerBytes_ = 0;
    answersTaken_.notify();
    writing_ = true;
    auto r = co_await conn_->write(sending_);
    writing_ = false;
    sending_.clear();
    notifyDrained();
    if (!r) {
      terminate(r.error());
      co_return;
    }
  }
}

asio::awaitable<void> Session::keepAliveLoop() {
  sendPing();  // first ping measures the round-trip time for window auto-tuning
  while (!closed_) {
    keepAlive_.expires_after(config_.keepAliveInterval);
    auto [ec] = co_await keepAlive_.async_wait(kNoThrow);
    if (ec || closed_) co_return;
    releaseIdleBuffers();
    if (outstandingPing_ != 0) {
      terminate(fail(Errc::kTimeout, "the remote stopped answering keep-alive pings"));
      co_return;
    }
    sendPing();
  }
}

Stream* Session::streamFor(const Header& h, bool& protoError) {
  protoError = false;
  if (auto it = streams_.find(h.streamId); it != streams_.end()) {
    if ((h.flags & flags::kSyn) != 0) {
      protocolError(
          fail(Errc::kProtocolError,
               "yamux: SYN for stream " + std::to_string(h.streamId) + " which is already open"));
      protoError = true;
    }
    return it->second;
  }
  if ((h.flags & flags::kSyn) == 0) return nullptr;  // late frame for a closed stream: ignore
  // Remote-initiated ids have the remote's parity; anything else is forged or a bug.
  const bool remoteParity = (h.streamId % 2 == 1) != client_;
  if (!remoteParity) {
    protocolError(
        fail(Errc::kProtocolError,
             "yamux: remote opened stream " + std::to_string(h.streamId) + " with our id parity"));
    protoError = true;
    return nullptr;
  }
  if (closing_ || streams_.size() >= config_.maxStreams ||
      backlog_.size() >= config_.maxAcceptBacklog) {
    // Over a bound: refuse this stream only, keep the connection. A peer that keeps opening
    // streams past our limits is flooding us with RSTs to send: over the rate, the session ends.
    if (!closing_ && !refusedSynBucket_.take()) {
      protocolError(fail(Errc::kProtocolError,
                         fmt::format("yamux: more than {:g}/s (burst {:g}) inbound streams refused "
                                     "(yamux maxRefusedSynsPerSecond)",
                                     config_.maxRefusedSynsPerSecond, config_.maxRefusedSynBurst)));
      protoError = true;
      return nullptr;
    }
    queueAnswer({Type::kWindowUpdate, flags::kRst, h.streamId, 0});
    spdlog::debug("yamux: refused inbound stream {} (limit)", h.streamId);
    return nullptr;
  }
  auto s = makeStream(h.streamId);
  s->pendingAck_ = true;
  s->ackListed_ = true;
  pendingAcks_.push_back(s->id_);
  outboxReady_.notify();
  backlog_.push_back(s);
  acceptable_.notify();
  return s.get();
}

bool Session::onControl(const Header& h) {
  if (h.type == Type::kGoAway) {
    goAwayReceived_ = true;
    if (h.length != 0) {
      spdlog::info("yamux: remote going away with error code {}", h.length);
    }
    return true;
  }
  // Stops a ping flood (each SYN costs us an answer; unsolicited ACKs count too, so guessing
  // our keep-alive ping is slow): over the rate, the session ends.
  if (!pingBucket_.take()) {
    protocolError(
        fail(Errc::kProtocolError, fmt::format("yamux: more than {:g}/s (burst {:g}) pings (yamux "
                                               "maxPingsPerSecond)",
                                               config_.maxPingsPerSecond, config_.maxPingBurst)));
    return false;
  }
  if ((h.flags & flags::kSyn) != 0) {
    queueAnswer({Type::kPing, flags::kAck, 0, h.length});
  } else if ((h.flags & flags::kAck) != 0 && h.length == outstandingPing_) {
    rtt_ = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - pingSent_);
    outstandingPing_ = 0;
  }
  return true;
}

asio::awaitable<bool> Session::readData(const Header& h, Stream* s, Bytes& scratch) {
  if (s == nullptr || s->reset_ || s->remoteFin_) {
    // Data for a stream we already closed or refused: consume and drop it, bounded so a
    // peer cannot stream unbounded junk at an unknown id.
    if (h.length > config_.maxWindow) {
      protocolError(fail(Errc::kProtocolError, "yamux: oversized frame for a closed stream"));
      co_return false;
    }
    scratch.resize(h.length);
    if (auto r = co_await readExact(*conn_, scratch); !r) {
      terminate(r.error());
      co_return false;
    }
    co_return true;
  }
  auto& st = *s;
  // More than the window we granted: the peer ignores flow control, which would let it make us
  // buffer without limit.
  if (h.length > st.recvWindow_) {
    protocolError(fail(Errc::kProtocolError, "yamux: stream " + std::to_string(h.streamId) +
                                                 " sent " + std::to_string(h.length) +
                                                 " bytes over a window of " +
                                                 std::to_string(st.recvWindow_)));
    co_return false;
  }
  st.recvWindow_ -= h.length;
  if (st.bufStart_ == st.bufEnd_) {
    st.bufStart_ = st.bufEnd_ = 0;
    if (st.buf_.capacity() > kIdleBufferKeep && h.length <= kIdleBufferKeep) {
      Bytes().swap(st.buf_);
    }
  } else if (st.bufStart_ > 0 && st.bufEnd_ + h.length > st.buf_.size()) {
    std::memmove(st.buf_.data(), st.buf_.data() + st.bufStart_, st.bufEnd_ - st.bufStart_);
    st.bufEnd_ -= st.bufStart_;
    st.bufStart_ = 0;
  }
  if (st.buf_.size() < st.bufEnd_ + h.length) {
    st.buf_.resize(st.bufEnd_ + h.length);
  }
  // While we fill the tail, the reader must not move or free the buffer.
  st.filling_ = true;
  struct Filling {
    bool& f;
    ~Filling() { f = false; }
  } filling{st.filling_};
  if (auto r = co_await readExact(*conn_, std::span(st.buf_.data() + st.bufEnd_, h.length)); !r) {
    terminate(r.error());
    co_return false;
  }
  st.bufEnd_ += h.length;
  st.readable_.notify();
  co_return true;
}

asio::awaitable<void> Session::readLoop() {
  std::array<std::uint8_t, kHeaderSize> raw{};
  Bytes scratch;
  while (!closed_) {
    co_await waitForAnswerRoom();
    if (closed_) {
      co_return;
    }
    if (auto r = co_await readExact(*conn_, raw); !r) {
      terminate(r.error() == make_error_code(Errc::kClosed)
                    ? fail(Errc::kClosed, "connection closed by the remote")
                    : r.error());
      co_return;
    }
    auto decoded = decode(raw);
    if (!decoded) {
      protocolError(decoded.error());
      co_return;
    }
    const Header h = **decoded;
    ++framesReceived_;
    if (h.type == Type::kPing || h.type == Type::kGoAway) {
      if (!onControl(h)) {
        co_return;
      }
      continue;
    }
    bool protoError = false;
    Stream* s = streamFor(h, protoError);
    if (protoError) {
      co_return;
    }
    // Keeps the stream alive while its data is read, even if its owner drops it meanwhile.
    std::shared_ptr<Stream> keep = s != nullptr ? s->shared_from_this() : nullptr;
    if (h.type == Type::kData && h.length > 0) {
      if (!co_await readData(h, keep.get(), scratch)) {
        co_return;
      }
    }
    if (!keep) {
      continue;
    }
    if (h.type == Type::kWindowUpdate && h.length > 0) {
      if (std::uint64_t{keep->sendWindow_} + h.length > UINT32_MAX) {
        protocolError(fail(Errc::kProtocolError, "yamux: window update overflows the send window"));
        co_return;
      }
      keep->sendWindow_ += h.length;
    }
    keep->onFlags(h.flags);
  }
}

}  // namespace pc::net::yamux
