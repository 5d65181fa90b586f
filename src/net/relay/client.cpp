#include "net/relay/client.hpp"

#include <spdlog/spdlog.h>

#include "net/error.hpp"
#include "net/relay/circuit_conn.hpp"
#include "net/watchdog.hpp"

namespace pc::net::relay {
namespace {

Task<HopMessage> readHop(ByteStream& s) {
  auto bytes = co_await readLengthPrefixed(s, kMaxMessageSize);
  if (!bytes) co_return bytes.error();
  co_return decodeHop(*bytes);
}

Task<StopMessage> readStop(ByteStream& s) {
  auto bytes = co_await readLengthPrefixed(s, kMaxMessageSize);
  if (!bytes) co_return bytes.error();
  co_return decodeStop(*bytes);
}

/// A relay's refusal as an error a user can act on.
Error refused(Status s, const std::string& what) {
  Errc code = Errc::kProtocolError;
  switch (s) {
    case Status::kPermissionDenied:
      code = Errc::kGated;
      break;
    case Status::kReservationRefused:
    case Status::kResourceLimitExceeded:
      code = Errc::kLimit;
      break;
    case Status::kNoReservation:
    case Status::kConnectionFailed:
      code = Errc::kUnreachable;
      break;
    default:
      break;
  }
  return fail(code, what + ": " + statusMeaning(s) + " (" + statusName(s) + ")");
}

/// The relay's answer to one hop request: its STATUS, checked.
Result<HopMessage> checkStatus(Result<HopMessage> m, const std::string& what) {
  if (!m) return m.error().context(what);
  if (m->type != HopMessage::Type::kStatus || !m->status) {
    return fail(Errc::kProtocolError, what + ": the relay did not answer with a status");
  }
  if (*m->status != Status::kOk) return refused(*m->status, what);
  return m;
}

/// One hop request and its answer, within kHopExchangeTimeout.
Task<HopMessage> hopExchange(Host& host, const std::shared_ptr<Connection>& relayConn,
                             const HopMessage& request, const std::string& what,
                             std::shared_ptr<yamux::Stream>& stream) {
  const std::vector<std::string> protos{std::string(kHopProtocol)};
  auto s = co_await host.newStream(relayConn, protos);
  if (!s) co_return s.error().context(what);
  stream = *s;
  yamux::Stream* sp = s->get();
  Watchdog dog(host.executor(), kHopExchangeTimeout, [sp] { sp->reset(); });
  const Bytes out = encode(request);
  if (auto w = co_await writeLengthPrefixed(*stream, out); !w) co_return w.error().context(what);
  auto answer = co_await readHop(*stream);
  dog.disarm();
  if (dog.fired()) co_return fail(Errc::kTimeout, what + ": the relay did not answer in time");
  co_return checkStatus(std::move(answer), what);
}

}  // namespace

std::string statusMeaning(Status s) {
  switch (s) {
    case Status::kOk:
      return "accepted";
    case Status::kReservationRefused:
      return "the relay has no room for another reservation";
    case Status::kResourceLimitExceeded:
      return "a relay limit was reached";
    case Status::kPermissionDenied:
      return "the relay does not allow it (not on its allowlist, or over a relayed connection)";
    case Status::kConnectionFailed:
      return "the relay could not reach the target";
    case Status::kNoReservation:
      return "the target holds no reservation on this relay (is it online?)";
    case Status::kMalformedMessage:
    case Status::kUnexpectedMessage:
      return "protocol error";
    default:
      return "refused";
  }
}

Multiaddr circuitAddr(const Multiaddr& relay) {
  return Multiaddr::parse(relay.toString() + "/p2p-circuit").value();
}

Task<Reserved> reserve(Host& host, std::shared_ptr<Connection> relayConn) {
  auto self = host.shared_from_this();
  const std::string what = "reservation on relay " + relayConn->peer.toBase58();
  HopMessage request;
  request.type = HopMessage::Type::kReserve;
  std::shared_ptr<yamux::Stream> stream;
  auto m = co_await hopExchange(host, relayConn, request, what, stream);
  if (stream) stream->reset();  // the reservation lives on the connection, not the stream
  if (!m) co_return m.error();
  if (!m->reservation) co_return fail(Errc::kProtocolError, what + ": OK without a reservation");
  co_return Reserved{m->reservation->expire, m->reservation->addrs, m->limit};
}

Task<std::shared_ptr<Connection>> dialCircuit(std::shared_ptr<Host> host, Multiaddr addr) {
  const auto circuit = addr.circuit();
  if (!circuit || !circuit->target) {
    co_return fail(Errc::kBadMultiaddr, addr.toString() +
                                            " is not a relayed address of the form "
                                            "<relay address>/p2p/<relay>/p2p-circuit/p2p/<peer>");
  }
  const auto target = *circuit->target;
  auto relayConn = co_await host->connect(circuit->relay);
  if (!relayConn) co_return relayConn.error().context("relay " + circuit->relay.toString());
  // A circuit over a circuit would hide who relays what; the spec's relays refuse it too.
  if ((*relayConn)->isRelayed()) {
    co_return fail(Errc::kUnreachable,
                   "no direct connection to relay " + circuit->relayId.toBase58());
  }
  HopMessage request;
  request.type = HopMessage::Type::kConnect;
  request.peer = Peer{target, {}};
  std::shared_ptr<yamux::Stream> stream;
  const std::string what = "relay " + circuit->relayId.toBase58() + " to " + target.toBase58();
  auto m = co_await hopExchange(*host, *relayConn, request, what, stream);
  if (!m) {
    if (stream) stream->reset();
    co_return m.error();
  }
  if (m->limit) {
    spdlog::debug("relay {} limits the circuit to {} s and {} bytes (0: none)",
                  circuit->relayId.toBase58(), m->limit->durationSeconds, m->limit->dataBytes);
  }
  auto raw = std::make_unique<CircuitConn>(std::move(stream), (*relayConn)->localAddr, addr,
                                           host->executor());
  co_return co_await host->addRelayed(std::move(raw), true, target, circuit->relayId);
}

namespace {

Task<void> answerStop(yamux::Stream& s, Status status) {
  StopMessage m;
  m.type = StopMessage::Type::kStatus;
  m.status = status;
  const Bytes out = encode(m);
  co_return co_await writeLengthPrefixed(s, out);
}

/// STOP: a relay connects a source to us. The relay's word is checked by Noise, and the source
/// is gated exactly as a direct peer (Host::addRelayed).
asio::awaitable<void> serveStop(std::weak_ptr<Host> weak, std::shared_ptr<yamux::Stream> s,
                                std::shared_ptr<Connection> relayConn) {
  auto host = weak.lock();
  if (!host) co_return;
  yamux::Stream* sp = s.get();
  Watchdog dog(host->executor(), kHopExchangeTimeout, [sp] { sp->reset(); });
  auto m = co_await readStop(*s);
  Status refusal = Status::kOk;
  if (!m) {
    refusal = Status::kMalformedMessage;
  } else if (m->type != StopMessage::Type::kConnect) {
    refusal = Status::kUnexpectedMessage;
  } else if (!m->peer) {
    refusal = Status::kMalformedMessage;
  } else if (relayConn->isRelayed()) {
    refusal = Status::kPermissionDenied;  // no circuits over circuits
  }
  const auto answered = co_await answerStop(*s, refusal);
  dog.disarm();
  if (refusal != Status::kOk || !answered) {
    spdlog::debug("relay {}: STOP refused ({})", relayConn->peer.toBase58(), statusName(refusal));
    (void)co_await s->closeWrite();
    co_return;
  }
  const auto source = m->peer->id;
  const auto remote =
      Multiaddr::parse(circuitAddr(relayConn->remoteAddr.withPeerId(relayConn->peer)).toString() +
                       "/p2p/" + source.toBase58());
  auto raw =
      std::make_unique<CircuitConn>(std::move(s), relayConn->localAddr,
                                    remote ? *remote : relayConn->remoteAddr, host->executor());
  auto c = co_await host->addRelayed(std::move(raw), false, source, relayConn->peer);
  if (!c) {
    spdlog::debug("relayed connection from {} via {} failed: {}", source.toBase58(),
                  relayConn->peer.toBase58(), c.error().message());
  }
}

}  // namespace

void installRelayTransport(Host& host) {
  host.setCircuitDialer(&dialCircuit);
  std::weak_ptr<Host> weak = host.weak_from_this();
  host.setHandler(std::string(kStopProtocol),
                  [weak](std::shared_ptr<yamux::Stream> s, std::shared_ptr<Connection> c) {
                    return serveStop(weak, std::move(s), std::move(c));
                  });
}

}  // namespace pc::net::relay
