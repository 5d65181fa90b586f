#include "net/multiaddr.hpp"

#include <arpa/inet.h>

#include <charconv>

#include "core/base58.hpp"
#include "core/varint.hpp"

namespace pc::net {
namespace {

enum class Kind { kIp4, kIp6, kPort, kName, kPeer, kNone };

struct ProtoInfo {
  Proto proto;
  std::string_view name;
  Kind kind;
};

constexpr ProtoInfo kProtos[] = {
    {Proto::kIp4, "ip4", Kind::kIp4},         {Proto::kTcp, "tcp", Kind::kPort},
    {Proto::kDns, "dns", Kind::kName},        {Proto::kDns4, "dns4", Kind::kName},
    {Proto::kDns6, "dns6", Kind::kName},      {Proto::kIp6, "ip6", Kind::kIp6},
    {Proto::kUdp, "udp", Kind::kPort},        {Proto::kP2p, "p2p", Kind::kPeer},
    {Proto::kQuicV1, "quic-v1", Kind::kNone}, {Proto::kP2pCircuit, "p2p-circuit", Kind::kNone},
};

const ProtoInfo* byName(std::string_view name) {
  // "ipfs" is the historical name of p2p; accept it on input, print p2p.
  if (name == "ipfs") name = "p2p";
  for (const auto& p : kProtos) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const ProtoInfo* byCode(std::uint64_t code) {
  for (const auto& p : kProtos) {
    if (static_cast<std::uint64_t>(p.proto) == code) return &p;
  }
  return nullptr;
}

const ProtoInfo& info(Proto proto) {
  const auto* p = byCode(static_cast<std::uint64_t>(proto));
  return *p;  // every Proto value is in the table
}

Error bad(std::string message) { return fail(Errc::kBadMultiaddr, std::move(message)); }

// A DNS name as a multiaddr value: non-empty, bounded, no '/' (it would split the text form),
// printable ASCII only (no control characters to smuggle into logs or resolvers).
Result<void> checkName(std::string_view proto, std::string_view name) {
  if (name.empty() || name.size() > kMaxDnsNameLength) {
    return bad(proto.empty() ? "bad name" : "bad " + std::string(proto) + " name length");
  }
  for (char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == '/') {
      return bad("bad " + std::string(proto) + " name '" + std::string(name) + "'");
    }
  }
  return {};
}

Result<Bytes> valueFromText(const ProtoInfo& p, std::string_view text) {
  const std::string what = std::string(p.name) + " ";
  switch (p.kind) {
    case Kind::kIp4: {
      Bytes out(4);
      const std::string s(text);
      if (inet_pton(AF_INET, s.c_str(), out.data()) != 1) {
        return bad("bad ip4 address '" + s + "'");
      }
      return out;
    }
    case Kind::kIp6: {
      Bytes out(16);
      const std::string s(text);
      if (inet_pton(AF_INET6, s.c_str(), out.data()) != 1) {
        return bad("bad ip6 address '" + s + "'");
      }
      return out;
    }
    case Kind::kPort: {
      unsigned port = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
      if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || port > 65535 ||
          (text.size() > 1 && text[0] == '0')) {
        return bad("bad " + what + "port '" + std::string(text) + "'");
      }
      return Bytes{static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port & 0xff)};
    }
    case Kind::kName: {
      if (auto r = checkName(p.name, text); !r) return r.error();
      Bytes out;
      varint::encode(text.size(), out);
      append(out, asBytes(text));
      return out;
    }
    case Kind::kPeer: {
      auto id = crypto::PeerId::parse(text);
      if (!id) return bad("bad p2p peer id: " + id.error().message());
      Bytes out;
      varint::encode(id->bytes().size(), out);
      append(out, id->bytes());
      return out;
    }
    case Kind::kNone:
      return Bytes{};
  }
  return bad("unsupported protocol");
}

// Splits a binary value's length-prefixed payload; the caller checks the remaining size.
BytesView payload(const Component& c) {
  auto len = varint::decode(c.value);
  return BytesView(c.value).subspan(len ? len->size : 0);
}

std::string valueToText(const Component& c) {
  switch (info(c.proto).kind) {
    case Kind::kIp4: {
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, c.value.data(), buf, sizeof buf);
      return buf;
    }
    case Kind::kIp6: {
      char buf[INET6_ADDRSTRLEN];
      inet_ntop(AF_INET6, c.value.data(), buf, sizeof buf);
      return buf;
    }
    case Kind::kPort:
      return std::to_string(c.value[0] << 8 | c.value[1]);
    case Kind::kName:
      return std::string(asString(payload(c)));
    case Kind::kPeer:
      return base58::encode(payload(c));
    case Kind::kNone:
      return {};
  }
  return {};
}

}  // namespace

Result<Multiaddr> Multiaddr::parse(std::string_view text) {
  if (text.size() > kMaxMultiaddrBytes) {
    return bad("multiaddr longer than " + std::to_string(kMaxMultiaddrBytes) + " characters");
  }
  if (text.empty() || text.front() != '/') {
    return bad("multiaddr must start with '/': '" + std::string(text) + "'");
  }
  if (text.size() > 1 && text.back() == '/') text.remove_suffix(1);  // tolerate one trailing '/'
  Multiaddr out;
  std::size_t pos = 1;
  while (pos <= text.size()) {
    auto next = text.find('/', pos);
    if (next == std::string_view::npos) next = text.size();
    const auto name = text.substr(pos, next - pos);
    if (name.empty()) return bad("empty protocol name in '" + std::string(text) + "'");
    const auto* p = byName(name);
    if (p == nullptr) return bad("unknown protocol '" + std::string(name) + "'");
    if (out.components_.size() == kMaxMultiaddrComponents) {
      return bad("more than " + std::to_string(kMaxMultiaddrComponents) + " components");
    }
    pos = next + 1;
    Bytes value;
    if (p->kind != Kind::kNone) {
      if (pos > text.size()) return bad(std::string(p->name) + " needs a value");
      auto vend = text.find('/', pos);
      if (vend == std::string_view::npos) vend = text.size();
      auto v = valueFromText(*p, text.substr(pos, vend - pos));
      if (!v) return v.error();
      value = std::move(*v);
      pos = vend + 1;
    }
    out.components_.push_back({p->proto, std::move(value)});
  }
  return out;
}

Result<Multiaddr> Multiaddr::fromBytes(BytesView in) {
  if (in.size() > kMaxMultiaddrBytes) {
    return bad("binary multiaddr longer than " + std::to_string(kMaxMultiaddrBytes) + " bytes");
  }
  if (in.empty()) return bad("empty binary multiaddr");
  Multiaddr out;
  while (!in.empty()) {
    auto code = varint::decode(in);
    if (!code) return bad("bad protocol code: " + code.error().message());
    const auto* p = byCode(code->value);
    if (p == nullptr) return bad("unknown protocol code " + std::to_string(code->value));
    if (out.components_.size() == kMaxMultiaddrComponents) {
      return bad("more than " + std::to_string(kMaxMultiaddrComponents) + " components");
    }
    in = in.subspan(code->size);
    std::size_t size = 0;
    switch (p->kind) {
      case Kind::kIp4:
        size = 4;
        break;
      case Kind::kIp6:
        size = 16;
        break;
      case Kind::kPort:
        size = 2;
        break;
      case Kind::kNone:
        size = 0;
        break;
      case Kind::kName:
      case Kind::kPeer: {
        auto len = varint::decode(in);
        if (!len) return bad(std::string(p->name) + " length: " + len.error().message());
        if (len->value > in.size() - len->size) {
          return bad(std::string(p->name) + " value is truncated");
        }
        size = len->size + static_cast<std::size_t>(len->value);
        const auto body = in.subspan(len->size, static_cast<std::size_t>(len->value));
        if (p->kind == Kind::kName) {
          if (auto r = checkName(p->name, asString(body)); !r) return r.error();
        } else if (auto id = crypto::PeerId::fromBytes(body); !id) {
          return bad("bad p2p peer id: " + id.error().message());
        }
        break;
      }
    }
    if (in.size() < size) return bad(std::string(p->name) + " value is truncated");
    out.components_.push_back(
        {p->proto, Bytes(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(size))});
    in = in.subspan(size);
  }
  return out;
}

std::string Multiaddr::toString() const {
  std::string out;
  for (const auto& c : components_) {
    out += '/';
    out += info(c.proto).name;
    if (info(c.proto).kind != Kind::kNone) {
      out += '/';
      out += valueToText(c);
    }
  }
  return out;
}

Bytes Multiaddr::toBytes() const {
  Bytes out;
  for (const auto& c : components_) {
    varint::encode(static_cast<std::uint64_t>(c.proto), out);
    append(out, c.value);
  }
  return out;
}

std::optional<crypto::PeerId> Multiaddr::peerId() const {
  if (components_.empty() || components_.back().proto != Proto::kP2p) return std::nullopt;
  auto id = crypto::PeerId::fromBytes(payload(components_.back()));
  if (!id) return std::nullopt;
  return *id;
}

Multiaddr Multiaddr::withoutPeerId() const {
  Multiaddr out = *this;
  if (!out.components_.empty() && out.components_.back().proto == Proto::kP2p) {
    out.components_.pop_back();
  }
  return out;
}

Multiaddr Multiaddr::withPeerId(const crypto::PeerId& id) const {
  Multiaddr out = withoutPeerId();
  Bytes value;
  varint::encode(id.bytes().size(), value);
  append(value, id.bytes());
  out.components_.push_back({Proto::kP2p, std::move(value)});
  return out;
}

bool Multiaddr::isCircuit() const {
  for (const auto& c : components_) {
    if (c.proto == Proto::kP2pCircuit) return true;
  }
  return false;
}

std::optional<Circuit> Multiaddr::circuit() const {
  std::size_t at = components_.size();
  for (std::size_t i = 0; i < components_.size(); ++i) {
    if (components_[i].proto == Proto::kP2pCircuit) {
      if (at != components_.size()) return std::nullopt;  // a second hop: not supported
      at = i;
    }
  }
  if (at == components_.size() || at == 0) return std::nullopt;
  Multiaddr relay;
  relay.components_.assign(components_.begin(),
                           components_.begin() + static_cast<std::ptrdiff_t>(at));
  auto relayId = relay.peerId();
  if (!relayId) return std::nullopt;
  Multiaddr rest;
  rest.components_.assign(components_.begin() + static_cast<std::ptrdiff_t>(at) + 1,
                          components_.end());
  if (rest.components_.size() > 1 || (rest.components_.size() == 1 && !rest.peerId())) {
    return std::nullopt;
  }
  return Circuit{std::move(relay), std::move(*relayId), rest.peerId()};
}

std::optional<Multiaddr::TcpTarget> Multiaddr::tcpTarget() const {
  auto base = withoutPeerId();
  const auto& cs = base.components_;
  if (cs.size() != 2 || cs[1].proto != Proto::kTcp) return std::nullopt;
  switch (cs[0].proto) {
    case Proto::kIp4:
    case Proto::kIp6:
    case Proto::kDns:
    case Proto::kDns4:
    case Proto::kDns6:
      break;
    default:
      return std::nullopt;
  }
  return TcpTarget{valueToText(cs[0]),
                   static_cast<std::uint16_t>(cs[1].value[0] << 8 | cs[1].value[1]), cs[0].proto};
}

}  // namespace pc::net
