#include "net/identify/identify.hpp"

#include "core/protobuf.hpp"
#include "net/error.hpp"

namespace pc::net::identify {
namespace {

/// Field numbers of the Identify protobuf message.
enum Field : std::uint32_t {
  kPublicKey = 1,
  kListenAddrs = 2,
  kProtocols = 3,
  kObservedAddr = 4,
  kProtocolVersionField = 5,
  kAgentVersion = 6,
};

/// Applies one length-delimited field to `m`.
Result<void> apply(const protobuf::Field& field, Message& m) {
  switch (field.number) {
    case kPublicKey:
      m.publicKey.assign(field.bytes.begin(), field.bytes.end());
      break;
    case kListenAddrs:
      if (m.info.listenAddrs.size() >= kMaxEntries) {
        return fail(Errc::kTooLarge, "identify: too many addresses");
      }
      if (auto a = Multiaddr::fromBytes(field.bytes)) {
        m.info.listenAddrs.push_back(std::move(*a));
      }
      break;
    case kProtocols:
      if (m.info.protocols.size() >= kMaxEntries) {
        return fail(Errc::kTooLarge, "identify: too many protocols");
      }
      m.info.protocols.emplace_back(asString(field.bytes));
      break;
    case kObservedAddr:
      if (auto a = Multiaddr::fromBytes(field.bytes)) {
        m.info.observedAddr = std::move(*a);
      }
      break;
    case kProtocolVersionField:
      m.info.protocolVersion = std::string(asString(field.bytes));
      break;
    case kAgentVersion:
      m.info.agentVersion = std::string(asString(field.bytes));
      break;
    default:
      break;  // signedPeerRecord and future fields
  }
  return {};
}

}  // namespace

Bytes encode(const Message& m) {
  Bytes out;
  protobuf::writeBytesField(out, kPublicKey, m.publicKey);
  for (const auto& a : m.info.listenAddrs) {
    protobuf::writeBytesField(out, kListenAddrs, a.toBytes());
  }
  for (const auto& p : m.info.protocols) {
    protobuf::writeBytesField(out, kProtocols, asBytes(p));
  }
  if (m.info.observedAddr) {
    protobuf::writeBytesField(out, kObservedAddr, m.info.observedAddr->toBytes());
  }
  protobuf::writeBytesField(out, kProtocolVersionField, asBytes(m.info.protocolVersion));
  protobuf::writeBytesField(out, kAgentVersion, asBytes(m.info.agentVersion));
  return out;
}

Result<Message> decode(BytesView in) {
  if (in.size() > kMaxSize) {
    return fail(Errc::kTooLarge, "identify message too large");
  }
  Message m;
  protobuf::Reader r(in);
  std::size_t fields = 0;
  for (;;) {
    auto f = r.next();
    if (!f) {
      return fail(Errc::kProtocolError, "identify: " + f.error().message());
    }
    if (!*f) {
      break;
    }
    if (++fields > kMaxFields) {
      return fail(Errc::kTooLarge, "identify: too many fields");
    }
    if ((*f)->type != protobuf::WireType::kLengthDelimited) {
      continue;  // unknown scalar fields
    }
    if (auto applied = apply(**f, m); !applied) {
      return applied.error();
    }
  }
  return m;
}

Result<PeerInfo> verify(const Message& m, const crypto::PeerId& peer) {
  if (!m.publicKey.empty()) {
    auto key = crypto::decodePublicKey(m.publicKey);
    if (!key || crypto::PeerId::fromPublicKey(*key) != peer) {
      return fail(Errc::kProtocolError,
                  "identify: public key does not match the connection's peer id");
    }
  }
  return m.info;
}

Task<void> send(ByteStream& s, const Message& m) {
  const Bytes encoded = encode(m);
  if (auto r = co_await writeLengthPrefixed(s, encoded); !r) {
    co_return r.error();
  }
  co_return co_await s.closeWrite();
}

Task<Message> receive(ByteStream& s) {
  auto msg = co_await readLengthPrefixed(s, kMaxSize);
  co_await s.closeWrite();
  if (!msg) {
    co_return msg.error();
  }
  co_return decode(*msg);
}

}  // namespace pc::net::identify
