#include "net/relay/hop_service.hpp"

#include <spdlog/spdlog.h>

#include "net/error.hpp"
#include "net/pipe.hpp"
#include "net/watchdog.hpp"

namespace pc::net::relay {
namespace {

using SystemClock = std::chrono::system_clock;

std::string shortId(const crypto::PeerId& p) { return p.toBase58(); }

/// A HopMessage STATUS (with `limit` when the circuit has one).
HopMessage status(Status st, std::optional<Limit> limit = std::nullopt) {
  HopMessage m;
  m.type = HopMessage::Type::kStatus;
  m.status = st;
  m.limit = limit;
  return m;
}

Task<void> send(ByteStream& s, const HopMessage& m) {
  const Bytes bytes = encode(m);
  co_return co_await writeLengthPrefixed(s, bytes);
}

/// Answers a refusal, logs it and closes the stream.
asio::awaitable<void> refuse(yamux::Stream& s, Status st, std::string_view what,
                             std::string_view why) {
  spdlog::warn("hop: refused {}: {} ({})", what, why, statusName(st));
  const HopMessage m = status(st);
  if (auto w = co_await send(s, m); !w) {
    s.reset();
    co_return;
  }
  (void)co_await s.closeWrite();
}

/// One direction of a circuit under the per-circuit data limit: a read that takes the direction
/// over `limit` bytes fails, and the splice then resets both sides (spec: over `data`, reset).
class DataLimited final : public ByteStream {
 public:
  DataLimited(std::shared_ptr<ByteStream> inner, std::uint64_t limit, std::shared_ptr<bool> hit)
      : inner_(std::move(inner)), limit_(limit), hit_(std::move(hit)) {}
  Task<std::size_t> readSome(std::span<std::uint8_t> buf) override {
    auto n = co_await inner_->readSome(buf);
    if (n && *n > 0) {
      read_ += *n;
      if (read_ > limit_) {
        *hit_ = true;
        co_return fail(Errc::kLimit, "circuit data limit reached");
      }
    }
    co_return n;
  }
  Task<void> write(BytesView data) override { co_return co_await inner_->write(data); }
  Task<void> closeWrite() override { co_return co_await inner_->closeWrite(); }
  void reset() override { inner_->reset(); }
  void releaseBuffers() override { inner_->releaseBuffers(); }
  Task<void> waitReadable() override { co_return co_await inner_->waitReadable(); }

 private:
  std::shared_ptr<ByteStream> inner_;
  std::uint64_t limit_;
  std::uint64_t read_ = 0;
  std::shared_ptr<bool> hit_;
};

}  // namespace

HopService::HopService(HopServiceOptions options)
    : options_(std::move(options)), table_(options_.limits) {}

void HopService::install(const std::shared_ptr<Host>& host) {
  host_ = host;
  host->setHandler(std::string(kHopProtocol),
                   [self = shared_from_this()](std::shared_ptr<yamux::Stream> s,
                                               std::shared_ptr<Connection> conn) {
                     return self->serve(std::move(s), std::move(conn));
                   });
}

bool HopService::dropReservation(const crypto::PeerId& peer) {
  const bool had = table_.reserved(peer, SystemClock::now());
  table_.release(peer);
  reservedOn_.erase(peer);
  if (had) spdlog::info("hop: reservation of {} dropped", shortId(peer));
  return had;
}

bool HopService::hasReservation(const crypto::PeerId& peer) const {
  return table_.reserved(peer, SystemClock::now());
}

asio::awaitable<void> HopService::serve(std::shared_ptr<yamux::Stream> s,
                                        std::shared_ptr<Connection> conn) {
  auto self = shared_from_this();
  auto ex = co_await asio::this_coro::executor;
  // A peer that opens hop and never finishes its request must not hold the stream for ever.
  Watchdog dog(ex, options_.exchangeTimeout, [s] { s->reset(); });
  auto raw = co_await readLengthPrefixed(*s, kMaxMessageSize);
  if (!raw) {
    spdlog::debug("hop: request from {} not read: {}", shortId(conn->peer), raw.error().message());
    s->reset();
    co_return;
  }
  auto req = decodeHop(*raw);
  const std::string from = "hop request from " + shortId(conn->peer);
  if (!req) {
    const std::string why = req.error().message();
    co_await refuse(*s, Status::kMalformedMessage, from, why);
    co_return;
  }
  // Spec: no reservation and no circuit over a relayed connection (stops relay chains that
  // hide the source and multiply the relay's load).
  if (conn->isRelayed()) {
    co_await refuse(*s, Status::kPermissionDenied, from, "over a relayed connection");
    co_return;
  }
  if (req->type == HopMessage::Type::kReserve) {
    const bool watch = co_await reserve(*s, conn);
    dog.disarm();
    s.reset();  // the stream is done; the reservation lives on the connection
    if (watch) co_await watchReservation(conn);
  } else if (req->type == HopMessage::Type::kConnect) {
    dog.disarm();  // connect() puts its own deadline on the rest of the exchange
    co_await connect(s, conn, *req);
  } else {
    co_await refuse(*s, Status::kUnexpectedMessage, from, "a STATUS is not a request");
  }
}

asio::awaitable<bool> HopService::reserve(yamux::Stream& s,
                                          const std::shared_ptr<Connection>& conn) {
  const crypto::PeerId& peer = conn->peer;
  const std::string what = "RESERVE from " + shortId(peer);
  // Only the gateway's own providers may take a slot: anyone else could make the relay
  // advertise and carry traffic for them.
  if (!options_.mayReserve || !options_.mayReserve(peer)) {
    co_await refuse(s, Status::kPermissionDenied, what, "not on the provider allowlist");
    co_return false;
  }
  auto r = table_.reserve(peer, SystemClock::now());
  if (r.refused) {
    co_await refuse(s, r.refused->status, what, r.refused->why);
    co_return false;
  }
  auto& on = reservedOn_[peer];
  const bool fresh = on.lock() != conn;
  on = conn;
  spdlog::info("hop: reservation {} for {} until {}", fresh ? "granted" : "refreshed",
               shortId(peer), r.expire);
  HopMessage ok = status(Status::kOk, table_.circuitLimit());
  ok.reservation = Reservation{r.expire, options_.publicAddrs, {}};
  if (auto w = co_await send(s, ok); !w) {
    s.reset();
  } else {
    (void)co_await s.closeWrite();
  }
  co_return fresh;
}

asio::awaitable<void> HopService::watchReservation(std::shared_ptr<Connection> conn) {
  auto self = shared_from_this();
  if (conn->session) co_await conn->session->waitClosed();
  auto it = reservedOn_.find(conn->peer);
  if (it == reservedOn_.end() || it->second.lock() != conn) {
    co_return;  // refreshed on a newer connection, or already dropped
  }
  reservedOn_.erase(it);
  table_.release(conn->peer);
  spdlog::info("hop: reservation of {} ended: its connection closed", shortId(conn->peer));
}

std::shared_ptr<Connection> HopService::targetConnection(const crypto::PeerId& target) const {
  auto usable = [](const std::shared_ptr<Connection>& c) {
    return c && c->isOpen() && !c->isRelayed();
  };
  if (auto it = reservedOn_.find(target); it != reservedOn_.end()) {
    if (auto c = it->second.lock(); usable(c)) return c;
  }
  auto host = host_.lock();
  if (!host) return nullptr;
  auto c = host->connectionTo(target);
  return usable(c) ? c : nullptr;
}

asio::awaitable<void> HopService::connect(std::shared_ptr<yamux::Stream> s,
                                          std::shared_ptr<Connection> conn, const HopMessage& req) {
  const crypto::PeerId source = conn->peer;
  if (!req.peer) {
    const std::string what = "CONNECT from " + shortId(source);
    co_await refuse(*s, Status::kMalformedMessage, what, "no target peer");
    co_return;
  }
  const crypto::PeerId target = req.peer->id;
  const std::string what = "CONNECT " + shortId(source) + " -> " + shortId(target);
  auto admitted = table_.admitCircuit(source, target, SystemClock::now());
  if (admitted.refused) {
    co_await refuse(*s, admitted.refused->status, what, admitted.refused->why);
    co_return;
  }
  // The relay never dials for a circuit: the target is reachable only over the connection it
  // keeps to us (else any source could make the relay dial anywhere).
  auto tconn = targetConnection(target);
  if (!tconn) {
    co_await refuse(*s, Status::kNoReservation, what, "the target has no live connection");
    co_return;
  }
  auto ex = co_await asio::this_coro::executor;
  Watchdog dog(ex, options_.exchangeTimeout, [s] { s->reset(); });
  auto stop = co_await openStop(tconn, source);
  if (!stop) {
    const std::string why = "stop: " + stop.error().message();
    co_await refuse(*s, Status::kConnectionFailed, what, why);
    co_return;
  }
  const HopMessage ok = status(Status::kOk, table_.circuitLimit());
  if (auto w = co_await send(*s, ok); !w) {
    (*stop)->reset();
    s->reset();
    co_return;
  }
  dog.disarm();
  CircuitTicket ticket = std::move(admitted.ticket);  // counted until the splice ends
  co_await splice(s, *stop, source, target);
}

Task<std::shared_ptr<yamux::Stream>> HopService::openStop(const std::shared_ptr<Connection>& target,
                                                          const crypto::PeerId& source) {
  auto host = host_.lock();
  if (!host) co_return fail(Errc::kClosed, "the relay host is gone");
  const std::vector<std::string> protos{std::string(kStopProtocol)};
  auto st = co_await host->newStream(target, protos);
  if (!st) co_return st.error();
  std::shared_ptr<yamux::Stream> stream = *st;
  auto ex = co_await asio::this_coro::executor;
  Watchdog dog(ex, options_.exchangeTimeout, [stream] { stream->reset(); });
  StopMessage m;
  m.type = StopMessage::Type::kConnect;
  m.peer = Peer{source, {}};
  m.limit = table_.circuitLimit();
  const Bytes bytes = encode(m);
  if (auto w = co_await writeLengthPrefixed(*stream, bytes); !w) {
    stream->reset();
    co_return w.error();
  }
  auto raw = co_await readLengthPrefixed(*stream, kMaxMessageSize);
  if (!raw) {
    stream->reset();
    co_return raw.error();
  }
  auto ans = decodeStop(*raw);
  if (!ans) {
    stream->reset();
    co_return ans.error();
  }
  if (ans->type != StopMessage::Type::kStatus || ans->status != Status::kOk) {
    stream->reset();
    co_return fail(Errc::kProtocolError,
                   "the target answered " + statusName(ans->status.value_or(Status::kUnused)));
  }
  co_return stream;
}

asio::awaitable<void> HopService::splice(std::shared_ptr<yamux::Stream> src,
                                         std::shared_ptr<yamux::Stream> dst,
                                         const crypto::PeerId& source,
                                         const crypto::PeerId& target) {
  auto self = shared_from_this();
  auto ex = co_await asio::this_coro::executor;
  const std::string name = shortId(source) + " -> " + shortId(target);
  ++circuits_;
  struct Count {
    std::size_t& n;
    ~Count() { --n; }
  } count{circuits_};
  spdlog::info("hop: circuit {} open ({} open)", name, circuits_);
  const HopLimits& lim = options_.limits;
  std::shared_ptr<ByteStream> a = src;
  std::shared_ptr<ByteStream> b = dst;
  auto dataHit = std::make_shared<bool>(false);
  if (lim.circuitDataBytes != 0) {
    a = std::make_shared<DataLimited>(src, lim.circuitDataBytes, dataHit);
    b = std::make_shared<DataLimited>(dst, lim.circuitDataBytes, dataHit);
  }
  std::optional<Watchdog> duration;
  if (lim.circuitDurationSeconds != 0) {
    // Spec: over `duration` the relay resets both sides.
    duration.emplace(ex, std::chrono::seconds(lim.circuitDurationSeconds), [src, dst] {
      src->reset();
      dst->reset();
    });
  }
  const PipeStats stats = co_await pipeBoth(a, b, options_.circuitIdleTimeout);
  if (*dataHit) {
    spdlog::warn("hop: circuit {} reset: circuit_data_limit ({} bytes) reached", name,
                 lim.circuitDataBytes);
  } else if (duration && duration->fired()) {
    spdlog::warn("hop: circuit {} reset: circuit_duration_limit ({} s) reached", name,
                 lim.circuitDurationSeconds);
  } else if (stats.idleTimeout) {
    spdlog::info("hop: circuit {} reset: idle for {} ms", name,
                 options_.circuitIdleTimeout.count());
  }
  spdlog::info("hop: circuit {} closed ({} bytes to the target, {} back)", name, stats.aToB,
               stats.bToA);
}

}  // namespace pc::net::relay
