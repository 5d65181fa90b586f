#include "net/relay/messages.hpp"

#include <string>

#include "core/protobuf.hpp"
#include "net/error.hpp"

namespace pc::net::relay {
namespace {

using protobuf::Field;
using protobuf::WireType;

/// Calls `apply(field)` for each field of `in`; stops at the first error.
template <class Apply>
Result<void> forEachField(BytesView in, Apply apply) {
  protobuf::Reader r(in);
  while (true) {
    auto f = r.next();
    if (!f) {
      return fail(Errc::kProtocolError, "relay message: " + f.error().message());
    }
    if (!*f) {
      return {};
    }
    if (auto a = apply(**f); !a) {
      return a;
    }
  }
}

/// A field must have the wire type its number is declared with (a varint where bytes are
/// expected would otherwise be read as an empty value).
Result<void> expect(const Field& f, WireType t, std::string_view what) {
  if (f.type != t) {
    return fail(Errc::kProtocolError,
                "relay message: " + std::string(what) + " has the wrong type");
  }
  return {};
}

Result<void> addAddr(std::vector<Multiaddr>& addrs, const Field& f) {
  if (auto e = expect(f, WireType::kLengthDelimited, "an address"); !e) {
    return e;
  }
  if (addrs.size() >= kMaxAddrs) {
    return fail(Errc::kTooLarge,
                "relay message: more than " + std::to_string(kMaxAddrs) + " addresses");
  }
  if (auto a = Multiaddr::fromBytes(f.bytes)) {
    addrs.push_back(std::move(*a));  // transports we do not know are skipped
  }
  return {};
}

Result<Peer> decodePeer(BytesView in) {
  std::optional<crypto::PeerId> id;
  std::vector<Multiaddr> addrs;
  auto r = forEachField(in, [&](const Field& f) -> Result<void> {
    if (f.number == 1) {
      if (auto e = expect(f, WireType::kLengthDelimited, "peer id"); !e) {
        return e;
      }
      auto p = crypto::PeerId::fromBytes(f.bytes);
      if (!p) {
        return fail(Errc::kProtocolError, "relay message: bad peer id: " + p.error().message());
      }
      id = std::move(*p);
    } else if (f.number == 2) {
      return addAddr(addrs, f);
    }
    return {};
  });
  if (!r) {
    return r.error();
  }
  if (!id) {
    return fail(Errc::kProtocolError, "relay message: peer without an id");
  }
  return Peer{std::move(*id), std::move(addrs)};
}

Result<Reservation> decodeReservation(BytesView in) {
  Reservation res;
  auto r = forEachField(in, [&](const Field& f) -> Result<void> {
    switch (f.number) {
      case 1:
        if (auto e = expect(f, WireType::kVarint, "expire"); !e) {
          return e;
        }
        res.expire = f.varint;
        return {};
      case 2:
        return addAddr(res.addrs, f);
      case 3:
        if (auto e = expect(f, WireType::kLengthDelimited, "voucher"); !e) {
          return e;
        }
        if (f.bytes.size() > kMaxVoucherSize) {
          return fail(Errc::kTooLarge, "relay message: voucher too large");
        }
        res.voucher.assign(f.bytes.begin(), f.bytes.end());
        return {};
      default:
        return {};
    }
  });
  if (!r) {
    return r.error();
  }
  return res;
}

Result<Limit> decodeLimit(BytesView in) {
  Limit limit;
  auto r = forEachField(in, [&](const Field& f) -> Result<void> {
    if (f.number != 1 && f.number != 2) {
      return {};
    }
    if (auto e = expect(f, WireType::kVarint, "a limit"); !e) {
      return e;
    }
    if (f.number == 1) {
      // A duration past 2^32 s is not a limit anyone means: read as the largest one.
      limit.durationSeconds =
          f.varint > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(f.varint);
    } else {
      limit.dataBytes = f.varint;
    }
    return {};
  });
  if (!r) {
    return r.error();
  }
  return limit;
}

Result<Status> decodeStatus(const Field& f) {
  if (auto e = expect(f, WireType::kVarint, "status"); !e) {
    return e.error();
  }
  return static_cast<Status>(f.varint > UINT32_MAX ? UINT32_MAX : f.varint);
}

Bytes encodePeer(const Peer& p) {
  Bytes out;
  protobuf::writeBytesField(out, 1, p.id.bytes());
  for (const auto& a : p.addrs) {
    protobuf::writeBytesField(out, 2, a.toBytes());
  }
  return out;
}

Bytes encodeReservation(const Reservation& r) {
  Bytes out;
  protobuf::writeVarintField(out, 1, r.expire);
  for (const auto& a : r.addrs) {
    protobuf::writeBytesField(out, 2, a.toBytes());
  }
  if (!r.voucher.empty()) {
    protobuf::writeBytesField(out, 3, r.voucher);
  }
  return out;
}

Bytes encodeLimit(const Limit& l) {
  Bytes out;
  if (l.durationSeconds != 0) {
    protobuf::writeVarintField(out, 1, l.durationSeconds);
  }
  if (l.dataBytes != 0) {
    protobuf::writeVarintField(out, 2, l.dataBytes);
  }
  return out;
}

/// The fields the two messages share, by their numbers in each.
struct Numbers {
  std::uint32_t peer;
  std::uint32_t limit;
  std::uint32_t status;
};

/// Writes type, peer, limit and status (and, for a hop message, the reservation in its place).
template <class M>
Bytes encodeCommon(const M& m, const Numbers& n, const std::optional<Reservation>* reservation) {
  Bytes out;
  protobuf::writeVarintField(out, 1, static_cast<std::uint64_t>(m.type));
  if (m.peer) {
    protobuf::writeBytesField(out, n.peer, encodePeer(*m.peer));
  }
  if (reservation != nullptr && *reservation) {
    protobuf::writeBytesField(out, 3, encodeReservation(**reservation));
  }
  if (m.limit) {
    protobuf::writeBytesField(out, n.limit, encodeLimit(*m.limit));
  }
  if (m.status) {
    protobuf::writeVarintField(out, n.status, static_cast<std::uint64_t>(*m.status));
  }
  return out;
}

/// Decodes the fields both messages share into `m`; `other(f)` takes the rest.
template <class M, class Other>
Result<void> decodeCommon(BytesView in, M& m, const Numbers& n, std::uint64_t maxType,
                          Other other) {
  if (in.size() > kMaxMessageSize) {
    return fail(Errc::kTooLarge,
                "relay message over " + std::to_string(kMaxMessageSize) + " bytes");
  }
  bool typed = false;
  auto r = forEachField(in, [&](const Field& f) -> Result<void> {
    if (f.number == 1) {
      if (auto e = expect(f, WireType::kVarint, "type"); !e) {
        return e;
      }
      if (f.varint > maxType) {
        return fail(Errc::kProtocolError,
                    "relay message: unknown type " + std::to_string(f.varint));
      }
      m.type = static_cast<typename M::Type>(f.varint);
      typed = true;
    } else if (f.number == n.peer) {
      if (auto e = expect(f, WireType::kLengthDelimited, "peer"); !e) {
        return e;
      }
      auto p = decodePeer(f.bytes);
      if (!p) {
        return p.error();
      }
      m.peer = std::move(*p);
    } else if (f.number == n.limit) {
      if (auto e = expect(f, WireType::kLengthDelimited, "limit"); !e) {
        return e;
      }
      auto l = decodeLimit(f.bytes);
      if (!l) {
        return l.error();
      }
      m.limit = *l;
    } else if (f.number == n.status) {
      auto s = decodeStatus(f);
      if (!s) {
        return s.error();
      }
      m.status = *s;
    } else {
      return other(f);
    }
    return {};
  });
  if (!r) {
    return r;
  }
  if (!typed) {
    return fail(Errc::kProtocolError, "relay message without a type");
  }
  return {};
}

constexpr Numbers kHop{2, 4, 5};
constexpr Numbers kStop{2, 3, 4};

}  // namespace

std::string statusName(Status s) {
  switch (s) {
    case Status::kUnused:
      return "UNUSED";
    case Status::kOk:
      return "OK";
    case Status::kReservationRefused:
      return "RESERVATION_REFUSED";
    case Status::kResourceLimitExceeded:
      return "RESOURCE_LIMIT_EXCEEDED";
    case Status::kPermissionDenied:
      return "PERMISSION_DENIED";
    case Status::kConnectionFailed:
      return "CONNECTION_FAILED";
    case Status::kNoReservation:
      return "NO_RESERVATION";
    case Status::kMalformedMessage:
      return "MALFORMED_MESSAGE";
    case Status::kUnexpectedMessage:
      return "UNEXPECTED_MESSAGE";
  }
  return "status " + std::to_string(static_cast<std::uint32_t>(s));
}

Bytes encode(const HopMessage& m) { return encodeCommon(m, kHop, &m.reservation); }

Bytes encode(const StopMessage& m) { return encodeCommon(m, kStop, nullptr); }

Result<HopMessage> decodeHop(BytesView in) {
  HopMessage m;
  auto r = decodeCommon(in, m, kHop, 2, [&](const Field& f) -> Result<void> {
    if (f.number != 3) {
      return {};  // unknown fields are skipped
    }
    if (auto e = expect(f, WireType::kLengthDelimited, "reservation"); !e) {
      return e;
    }
    auto res = decodeReservation(f.bytes);
    if (!res) {
      return res.error();
    }
    m.reservation = std::move(*res);
    return {};
  });
  if (!r) {
    return r.error();
  }
  return m;
}

Result<StopMessage> decodeStop(BytesView in) {
  StopMessage m;
  auto r = decodeCommon(in, m, kStop, 1, [](const Field&) -> Result<void> { return {}; });
  if (!r) {
    return r.error();
  }
  return m;
}

}  // namespace pc::net::relay
