#include "gateway/peer_codec.hpp"

#include <algorithm>

namespace pc::gateway::peer {

namespace {

Error malformed(std::string_view what) {
  return fail(Errc::kMalformed, "gateway-peer message: " + std::string(what));
}

std::size_t maxBody(Type t) {
  switch (t) {
    case Type::kHeartbeat:
      return kMaxHeartbeatBody;
    case Type::kChallengeSet:
      return kMaxChallengeSetBody;
    case Type::kChallengeAck:
      return 4;
    case Type::kChallengeClear:
      return 1 + kMaxNameLength;
    case Type::kCertificateRequest:
      return 0;
    case Type::kCertificate:
      return kMaxCertificateBody;
  }
  return 0;
}

std::optional<Type> typeFromByte(std::uint8_t b) {
  if (b < static_cast<std::uint8_t>(Type::kHeartbeat) ||
      b > static_cast<std::uint8_t>(Type::kCertificate)) {
    return std::nullopt;
  }
  return static_cast<Type>(b);
}

// The alphabets: a domain as a gateway writes it, a TXT owner name (underscore for
// `_acme-challenge`), a TXT value (ACME's are base64url), PEM text.
bool isDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}
bool isOwnerChar(char c) { return isDomainChar(c) || c == '_'; }
bool isValueChar(char c) { return c > 0x20 && c < 0x7f; }
bool isPemChar(char c) { return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r'; }

template <class Pred>
bool allOf(std::string_view s, Pred p) {
  return std::all_of(s.begin(), s.end(), p);
}

// ---- writing ----

void put8(Bytes& out, std::uint8_t v) { out.push_back(v); }
void putBE(Bytes& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void putStr(Bytes& out, std::string_view s, int lengthBytes) {
  putBE(out, s.size(), lengthBytes);
  append(out, asBytes(s));
}

// ---- reading: a cursor over one body; the first failure sticks ----

class Cursor {
 public:
  explicit Cursor(BytesView in) : in_(in) {}
  std::uint64_t be(int bytes) {
    if (!need(static_cast<std::size_t>(bytes))) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | in_[pos_++];
    return v;
  }
  std::string str(int lengthBytes, std::size_t max, std::string_view field) {
    const auto n = static_cast<std::size_t>(be(lengthBytes));
    if (ok_ && (n == 0 || n > max)) return bad(std::string(field) + " length out of range");
    if (!need(n)) return {};
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> raw() {
    std::array<std::uint8_t, N> a{};
    if (!need(N)) return a;
    std::copy_n(in_.begin() + static_cast<std::ptrdiff_t>(pos_), N, a.begin());
    pos_ += N;
    return a;
  }
  std::string bad(std::string what) {
    if (ok_) error_ = std::move(what);
    ok_ = false;
    return {};
  }
  /// The result: the first error, or trailing bytes.
  Result<void> end() {
    if (ok_ && pos_ != in_.size()) bad("trailing bytes");
    if (!ok_) return malformed(error_);
    return {};
  }
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  bool need(std::size_t n) {
    if (ok_ && in_.size() - pos_ < n) bad("body ends early");
    return ok_;
  }
  BytesView in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
  std::string error_;
};

Result<Message> readHeartbeat(Cursor& c) {
  Heartbeat h;
  h.flags = static_cast<std::uint8_t>(c.be(1));
  if ((h.flags & ~kKnownFlags) != 0) c.bad("unknown heartbeat flags");
  h.domain = c.str(1, kMaxNameLength, "domain");
  if (c.ok() && !allOf(h.domain, isDomainChar)) c.bad("domain is not a lower-case DNS name");
  const auto n4 = static_cast<std::size_t>(c.be(1));
  if (n4 > kMaxAddressesPerGateway) c.bad("address count out of range");
  for (std::size_t i = 0; c.ok() && i < n4; ++i) h.addresses.v4.push_back(c.raw<4>());
  const auto n6 = static_cast<std::size_t>(c.be(1));
  if (n4 + n6 == 0 || n4 + n6 > kMaxAddressesPerGateway) c.bad("address count out of range");
  for (std::size_t i = 0; c.ok() && i < n6; ++i) h.addresses.v6.push_back(c.raw<16>());
  h.certNotAfter = c.be(8);
  if (h.certNotAfter > kMaxUnixSeconds) c.bad("cert_not_after out of range");
  h.intervalMs = static_cast<std::uint32_t>(c.be(4));
  if (c.ok() && (h.intervalMs < kMinHeartbeatMs || h.intervalMs > kMaxHeartbeatMs)) {
    c.bad("interval_ms out of range");
  }
  if (auto r = c.end(); !r) return r.error();
  return Message(std::move(h));
}

Result<Message> readChallengeSet(Cursor& c) {
  ChallengeSet s;
  s.seq = static_cast<std::uint32_t>(c.be(4));
  s.name = c.str(1, kMaxNameLength, "name");
  if (c.ok() && !allOf(s.name, isOwnerChar)) c.bad("name is not a lower-case DNS name");
  const auto n = static_cast<std::size_t>(c.be(1));
  if (c.ok() && (n == 0 || n > dns::kMaxChallengeValues)) c.bad("value count out of range");
  for (std::size_t i = 0; c.ok() && i < n; ++i) {
    s.values.push_back(c.str(1, dns::kMaxTxtValueLength, "value"));
    if (c.ok() && !allOf(s.values.back(), isValueChar)) c.bad("value is not printable ASCII");
  }
  if (auto r = c.end(); !r) return r.error();
  return Message(std::move(s));
}

Result<Message> readCertificate(Cursor& c) {
  Certificate m;
  m.chainPem = c.str(2, kMaxChainPem, "chain");
  if (c.ok() && !allOf(m.chainPem, isPemChar)) c.bad("chain is not PEM text");
  m.keyPem = c.str(2, kMaxKeyPem, "key");
  if (c.ok() && !allOf(m.keyPem, isPemChar)) c.bad("key is not PEM text");
  if (auto r = c.end(); !r) return r.error();
  return Message(std::move(m));
}

}  // namespace

Result<Message> decodeBody(Type type, BytesView body) {
  Cursor c(body);
  switch (type) {
    case Type::kHeartbeat:
      return readHeartbeat(c);
    case Type::kChallengeSet:
      return readChallengeSet(c);
    case Type::kChallengeAck: {
      ChallengeAck a{static_cast<std::uint32_t>(c.be(4))};
      if (auto r = c.end(); !r) return r.error();
      return Message(a);
    }
    case Type::kChallengeClear: {
      ChallengeClear m{c.str(1, kMaxNameLength, "name")};
      if (c.ok() && !allOf(m.name, isOwnerChar)) c.bad("name is not a lower-case DNS name");
      if (auto r = c.end(); !r) return r.error();
      return Message(std::move(m));
    }
    case Type::kCertificateRequest:
      if (auto r = c.end(); !r) return r.error();
      return Message(CertificateRequest{});
    case Type::kCertificate:
      return readCertificate(c);
  }
  return malformed("unknown type");
}

namespace {

/// The body of `m`, checked against what the decoder accepts (so a bad value fails here, at
/// the sender, not at every peer).
Result<std::pair<Type, Bytes>> encodeBody(const Message& m) {
  Bytes b;
  if (const auto* h = std::get_if<Heartbeat>(&m)) {
    put8(b, h->flags);
    putStr(b, h->domain, 1);
    put8(b, static_cast<std::uint8_t>(h->addresses.v4.size()));
    for (const auto& a : h->addresses.v4) append(b, a);
    put8(b, static_cast<std::uint8_t>(h->addresses.v6.size()));
    for (const auto& a : h->addresses.v6) append(b, a);
    putBE(b, h->certNotAfter, 8);
    putBE(b, h->intervalMs, 4);
    return std::pair{Type::kHeartbeat, std::move(b)};
  }
  if (const auto* s = std::get_if<ChallengeSet>(&m)) {
    putBE(b, s->seq, 4);
    putStr(b, s->name, 1);
    put8(b, static_cast<std::uint8_t>(s->values.size()));
    for (const auto& v : s->values) putStr(b, v, 1);
    return std::pair{Type::kChallengeSet, std::move(b)};
  }
  if (const auto* a = std::get_if<ChallengeAck>(&m)) {
    putBE(b, a->seq, 4);
    return std::pair{Type::kChallengeAck, std::move(b)};
  }
  if (const auto* c = std::get_if<ChallengeClear>(&m)) {
    putStr(b, c->name, 1);
    return std::pair{Type::kChallengeClear, std::move(b)};
  }
  if (std::holds_alternative<CertificateRequest>(m)) {
    return std::pair{Type::kCertificateRequest, std::move(b)};
  }
  const auto& cert = std::get<Certificate>(m);
  if (cert.chainPem.size() > kMaxChainPem || cert.keyPem.size() > kMaxKeyPem) {
    return fail(Errc::kTooLarge, "gateway-peer message: the certificate is over " +
                                     std::to_string(kMaxChainPem) + " bytes or its key over " +
                                     std::to_string(kMaxKeyPem));
  }
  putStr(b, cert.chainPem, 2);
  putStr(b, cert.keyPem, 2);
  return std::pair{Type::kCertificate, std::move(b)};
}

}  // namespace

Result<Bytes> encode(const Message& m) {
  auto body = encodeBody(m);
  if (!body) return body.error();
  auto& [type, bytes] = *body;
  // Oversized or out-of-alphabet fields (lengths would wrap in their 1-byte prefix): refuse
  // rather than send what every peer would refuse.
  if (bytes.size() > maxBody(type)) return fail(Errc::kTooLarge, "gateway-peer message too large");
  auto check = decodeBody(type, bytes);
  if (!check) return check.error();
  // A length that wrapped in its prefix could still decode: only an exact round trip is sent.
  if (*check != m) return fail(Errc::kMalformed, "gateway-peer message: a field is out of range");
  Bytes out;
  put8(out, static_cast<std::uint8_t>(type));
  putBE(out, bytes.size(), 4);
  append(out, bytes);
  return out;
}

Result<std::optional<Message>> FrameDecoder::feed(BytesView bytes) {
  if (failed_) return *failed_;
  // Drop what was consumed before growing the buffer (it never holds more than one frame plus
  // one read).
  if (offset_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(offset_));
    offset_ = 0;
  }
  append(buffer_, bytes);
  return next();
}

Result<std::optional<Message>> FrameDecoder::next() {
  if (failed_) return *failed_;
  const std::size_t avail = buffer_.size() - offset_;
  if (avail < kFrameHeaderSize) return std::optional<Message>{};
  const std::uint8_t* h = buffer_.data() + offset_;
  const auto type = typeFromByte(h[0]);
  if (!type) {
    failed_ = fail(Errc::kUnknownCode,
                   "gateway-peer message: unknown type " + std::to_string(unsigned{h[0]}));
    return *failed_;
  }
  const std::size_t len = (std::size_t{h[1]} << 24) | (std::size_t{h[2]} << 16) |
                          (std::size_t{h[3]} << 8) | std::size_t{h[4]};
  // Refused from the header: a peer cannot make us buffer more than its type allows.
  if (len > maxBody(*type)) {
    failed_ = fail(Errc::kTooLarge, "gateway-peer message: body of " + std::to_string(len) +
                                        " bytes over the limit of its type");
    return *failed_;
  }
  if (avail < kFrameHeaderSize + len) return std::optional<Message>{};
  auto m = decodeBody(*type, BytesView(h + kFrameHeaderSize, len));
  if (!m) {
    failed_ = m.error();
    return *failed_;
  }
  offset_ += kFrameHeaderSize + len;
  return std::optional<Message>(std::move(*m));
}

}  // namespace pc::gateway::peer
