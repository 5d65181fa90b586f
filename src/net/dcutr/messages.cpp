#include "net/dcutr/messages.hpp"

#include <optional>
#include <string>

#include "core/protobuf.hpp"
#include "net/error.hpp"

namespace pc::net::dcutr {

Bytes encode(const HolePunch& m) {
  Bytes out;
  protobuf::writeVarintField(out, 1, static_cast<std::uint64_t>(m.type));
  for (const auto& a : m.observedAddrs) {
    protobuf::writeBytesField(out, 2, a.toBytes());
  }
  return out;
}

Result<HolePunch> decode(BytesView in) {
  if (in.size() > kMaxMessageSize) {
    return fail(Errc::kTooLarge,
                "dcutr message over " + std::to_string(kMaxMessageSize) + " bytes");
  }
  HolePunch m;
  std::optional<std::uint64_t> type;
  protobuf::Reader r(in);
  while (true) {
    auto f = r.next();
    if (!f) {
      return fail(Errc::kProtocolError, "dcutr message: " + f.error().message());
    }
    if (!*f) {
      break;
    }
    const auto& field = **f;
    if (field.number == 1) {
      if (field.type != protobuf::WireType::kVarint) {
        return fail(Errc::kProtocolError, "dcutr message: type is not a varint");
      }
      type = field.varint;
    } else if (field.number == 2) {
      if (field.type != protobuf::WireType::kLengthDelimited) {
        return fail(Errc::kProtocolError, "dcutr message: an address is not bytes");
      }
      // Bounded: a peer cannot make us parse and keep an unbounded list to dial.
      if (m.observedAddrs.size() >= kMaxAddrs) {
        return fail(Errc::kTooLarge,
                    "dcutr message: more than " + std::to_string(kMaxAddrs) + " addresses");
      }
      if (auto a = Multiaddr::fromBytes(field.bytes)) {
        m.observedAddrs.push_back(std::move(*a));
      }
    }
  }
  if (!type) {
    return fail(Errc::kProtocolError, "dcutr message without a type");
  }
  if (*type != static_cast<std::uint64_t>(HolePunch::Type::kConnect) &&
      *type != static_cast<std::uint64_t>(HolePunch::Type::kSync)) {
    return fail(Errc::kProtocolError, "dcutr message: unknown type " + std::to_string(*type));
  }
  m.type = static_cast<HolePunch::Type>(*type);
  return m;
}

}  // namespace pc::net::dcutr
