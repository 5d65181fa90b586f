#include "net/dns/message.hpp"

#include <algorithm>

namespace pc::net::dns {
namespace {

Error bad(std::string what) { return fail(Errc::kProtocolError, "DNS message: " + what); }

// Control characters in a name would reach logs and the terminal of `peerctl peers discover`:
// rejecting them stops escape-sequence injection through a peer's announcement.
bool validLabelBytes(std::string_view label) {
  return std::none_of(label.begin(), label.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

Result<void> validateName(const Name& name) {
  std::size_t wire = 1;  // the root label
  for (const auto& l : name) {
    if (l.empty()) return bad("empty label");
    if (l.size() > kMaxLabelLength) return bad("label over 63 bytes");
    if (!validLabelBytes(l)) return bad("control character in a label");
    wire += 1 + l.size();
  }
  if (wire > kMaxNameWireLength) return bad("name over 255 bytes");
  return {};
}

class Reader {
 public:
  explicit Reader(BytesView p) : p_(p) {}
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return p_.size() - pos_; }

  Result<std::uint16_t> u16() {
    if (remaining() < 2) return bad("truncated");
    const auto v = static_cast<std::uint16_t>((p_[pos_] << 8) | p_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  Result<std::uint32_t> u32() {
    auto hi = u16();
    if (!hi) return hi.error();
    auto lo = u16();
    if (!lo) return lo.error();
    return (static_cast<std::uint32_t>(*hi) << 16) | *lo;
  }

  /// Reads a possibly compressed name at the current position and moves past its in-place part.
  Result<Name> name() {
    Name out;
    std::size_t cur = pos_;
    // Where the current run of labels began: every pointer must point before it.
    std::size_t runStart = pos_;
    std::size_t wire = 1;
    std::size_t hops = 0;
    bool jumped = false;
    for (;;) {
      if (cur >= p_.size()) return bad("truncated name");
      const std::uint8_t len = p_[cur];
      if ((len & 0xC0) == 0xC0) {
        if (cur + 1 >= p_.size()) return bad("truncated compression pointer");
        const std::size_t target = (static_cast<std::size_t>(len & 0x3F) << 8) | p_[cur + 1];
        // Only strictly backward pointers: a pointer to itself or forward could form a loop
        // (endless CPU on one packet). Offsets strictly decrease along a chain, so it ends.
        if (target >= runStart) return bad("compression pointer does not point backwards");
        // Pointers into the header would read the header as labels: never valid.
        if (target < kHeaderSize) return bad("compression pointer into the header");
        // Bounds the work on a long chain of pointers to pointers (quadratic per packet).
        if (++hops > kMaxPointerHops) return bad("too many compression pointers in one name");
        if (!jumped) {
          pos_ = cur + 2;
          jumped = true;
        }
        cur = target;
        runStart = target;
        continue;
      }
      // 0x40 / 0x80 are extended or obsolete label types (RFC 6891 §5): not part of mDNS.
      if ((len & 0xC0) != 0) return bad("unsupported label type");
      if (len == 0) {
        if (!jumped) pos_ = cur + 1;
        return out;
      }
      if (p_.size() - cur - 1 < len) return bad("truncated label");
      wire += 1 + len;
      // The 255-byte bound is checked as labels arrive, so a name cannot grow past it
      // (memory per name is bounded whatever the pointers do).
      if (wire > kMaxNameWireLength) return bad("name over 255 bytes");
      std::string label(reinterpret_cast<const char*>(p_.data() + cur + 1), len);
      if (!validLabelBytes(label)) return bad("control character in a label");
      out.push_back(std::move(label));
      cur += 1 + len;
    }
  }

  Result<Record> record() {
    Record r;
    auto n = name();
    if (!n) return n.error();
    r.name = std::move(*n);
    auto type = u16();
    if (!type) return type.error();
    auto cls = u16();
    if (!cls) return cls.error();
    auto ttl = u32();
    if (!ttl) return ttl.error();
    auto rdlen = u16();
    if (!rdlen) return rdlen.error();
    r.type = static_cast<Type>(*type);
    r.rclass = static_cast<std::uint16_t>(*cls & 0x7FFF);
    r.cacheFlush = (*cls & kClassTopBit) != 0;
    r.ttl = *ttl;
    // A record may not claim more data than the packet holds (over-read).
    if (*rdlen > remaining()) return bad("truncated record data");
    const std::size_t end = pos_ + *rdlen;
    switch (r.type) {
      case Type::kPtr: {
        auto target = name();
        if (!target) return target.error();
        // The name must fill rdata exactly: a PTR that runs past its rdlength would make the
        // next record start inside this one.
        if (pos_ != end) return bad("PTR data does not match its length");
        r.data = Ptr{std::move(*target)};
        break;
      }
      case Type::kTxt: {
        Txt txt;
        while (pos_ < end) {
          const std::size_t len = p_[pos_];
          if (end - pos_ - 1 < len) return bad("TXT string runs past its record");
          if (txt.strings.size() == kMaxTxtStrings) return bad("too many TXT strings");
          txt.strings.emplace_back(reinterpret_cast<const char*>(p_.data() + pos_ + 1), len);
          pos_ += 1 + len;
        }
        r.data = std::move(txt);
        break;
      }
      default: {
        if (r.type == Type::kA && *rdlen != 4) return bad("A record is not 4 bytes");
        if (r.type == Type::kAaaa && *rdlen != 16) return bad("AAAA record is not 16 bytes");
        r.data = Opaque{Bytes(p_.begin() + static_cast<std::ptrdiff_t>(pos_),
                              p_.begin() + static_cast<std::ptrdiff_t>(end))};
        pos_ = end;
        break;
      }
    }
    return r;
  }

 private:
  BytesView p_;
  std::size_t pos_ = 0;
};

class Writer {
 public:
  Bytes out;

  void u16(std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }

  Result<void> name(const Name& n) {
    if (auto r = validateName(n); !r) return r.error();
    for (std::size_t i = 0; i < n.size(); ++i) {
      // Exact (case-preserving) suffix match, so decoding gives back the very same labels.
      for (const auto& s : suffixes_) {
        if (std::equal(n.begin() + static_cast<std::ptrdiff_t>(i), n.end(),
                       s.name->begin() + static_cast<std::ptrdiff_t>(s.from), s.name->end())) {
          u16(static_cast<std::uint16_t>(0xC000 | s.offset));
          return {};
        }
      }
      if (out.size() < 0x3FFF) {
        suffixes_.push_back(Suffix{&n, i, static_cast<std::uint16_t>(out.size())});
      }
      out.push_back(static_cast<std::uint8_t>(n[i].size()));
      append(out, asBytes(n[i]));
    }
    out.push_back(0);
    return {};
  }

  Result<void> record(const Record& r) {
    if (auto x = name(r.name); !x) return x.error();
    if (r.rclass & kClassTopBit) return bad("record class over 15 bits");
    u16(static_cast<std::uint16_t>(r.type));
    u16(static_cast<std::uint16_t>(r.rclass | (r.cacheFlush ? kClassTopBit : 0)));
    u32(r.ttl);
    const std::size_t lenAt = out.size();
    u16(0);
    if (r.type == Type::kPtr) {
      const auto* p = std::get_if<Ptr>(&r.data);
      if (!p) return bad("PTR record without a target");
      if (auto x = name(p->target); !x) return x.error();
    } else if (r.type == Type::kTxt) {
      const auto* t = std::get_if<Txt>(&r.data);
      if (!t) return bad("TXT record without strings");
      if (t->strings.size() > kMaxTxtStrings) return bad("too many TXT strings");
      for (const auto& s : t->strings) {
        if (s.size() > 255) return bad("TXT string over 255 bytes");
        out.push_back(static_cast<std::uint8_t>(s.size()));
        append(out, asBytes(s));
      }
    } else {
      const auto* o = std::get_if<Opaque>(&r.data);
      if (!o) return bad("record data does not match its type");
      if (r.type == Type::kA && o->bytes.size() != 4) return bad("A record is not 4 bytes");
      if (r.type == Type::kAaaa && o->bytes.size() != 16) return bad("AAAA record is not 16 bytes");
      if (o->bytes.size() > kMaxMessageSize) return fail(Errc::kTooLarge, "record data too large");
      append(out, o->bytes);
    }
    const std::size_t len = out.size() - lenAt - 2;
    if (len > 0xFFFF) return fail(Errc::kTooLarge, "record data too large");
    out[lenAt] = static_cast<std::uint8_t>(len >> 8);
    out[lenAt + 1] = static_cast<std::uint8_t>(len);
    return {};
  }

 private:
  /// A name written in place: labels [from, end) of *name start at offset. The names belong to
  /// the message being encoded, which outlives the Writer (no copies on the hot path).
  struct Suffix {
    const Name* name;
    std::size_t from;
    std::uint16_t offset;
  };
  std::vector<Suffix> suffixes_;
};

bool asciiEqualNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) {
             return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
           };
           return lower(x) == lower(y);
         });
}

}  // namespace

Result<Name> parseName(std::string_view dotted) {
  Name n;
  if (!dotted.empty() && dotted.back() == '.') dotted.remove_suffix(1);
  while (!dotted.empty()) {
    const auto dot = dotted.find('.');
    n.emplace_back(dotted.substr(0, dot));
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
    if (dotted.empty()) return bad("empty label");
  }
  if (auto r = validateName(n); !r) return r.error();
  return n;
}

std::string toString(const Name& name) {
  std::string s;
  for (const auto& l : name) {
    if (!s.empty()) s += '.';
    for (char c : l) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '.' || c == '\\') {
        s += '\\';
        s += c;
      } else if (u < 0x20 || u >= 0x7f) {
        static constexpr char kHex[] = "0123456789abcdef";
        s += "\\x";
        s += kHex[u >> 4];
        s += kHex[u & 15];
      } else {
        s += c;
      }
    }
  }
  return s.empty() ? "." : s;
}

bool sameName(const Name& a, const Name& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), asciiEqualNoCase);
}

Result<Bytes> nameToWire(const Name& name) {
  if (auto r = validateName(name); !r) return r.error();
  Bytes out;
  for (const auto& l : name) {
    out.push_back(static_cast<std::uint8_t>(l.size()));
    append(out, asBytes(l));
  }
  out.push_back(0);
  return out;
}

Result<Message> decode(BytesView packet) {
  // Bounds what one datagram can make us parse, whatever the socket buffer allows.
  if (packet.size() > kMaxMessageSize) return fail(Errc::kTooLarge, "DNS message over 9000 bytes");
  if (packet.size() < kHeaderSize) return bad("shorter than its header");
  Reader r(packet);
  Message m;
  m.id = r.u16().value();
  m.flags = r.u16().value();
  const std::size_t qd = r.u16().value();
  const std::size_t an = r.u16().value();
  const std::size_t ns = r.u16().value();
  const std::size_t ar = r.u16().value();
  // Counts are checked before anything is allocated for them: a 12-byte packet claiming 65535
  // records must not make us reserve memory or loop for them.
  if (qd + an + ns + ar > kMaxEntries) {
    return fail(Errc::kTooLarge,
                "DNS message: more than " + std::to_string(kMaxEntries) + " questions and records");
  }
  if (qd * kMinQuestionSize + (an + ns + ar) * kMinRecordSize > r.remaining()) {
    return bad("counts larger than the packet");
  }
  m.questions.reserve(qd);
  for (std::size_t i = 0; i < qd; ++i) {
    Question q;
    auto n = r.name();
    if (!n) return n.error();
    q.name = std::move(*n);
    auto type = r.u16();
    if (!type) return type.error();
    auto cls = r.u16();
    if (!cls) return cls.error();
    q.type = static_cast<Type>(*type);
    q.qclass = static_cast<std::uint16_t>(*cls & 0x7FFF);
    q.unicastResponse = (*cls & kClassTopBit) != 0;
    m.questions.push_back(std::move(q));
  }
  for (auto [count, section] :
       {std::pair{an, &m.answers}, std::pair{ns, &m.authorities}, std::pair{ar, &m.additionals}}) {
    section->reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      auto rec = r.record();
      if (!rec) return rec.error();
      section->push_back(std::move(*rec));
    }
  }
  // Bytes after the last record mean the counts and the content disagree: reject rather than
  // guess which one is right.
  if (r.remaining() != 0) return bad("trailing bytes after the last record");
  return m;
}

Result<Bytes> encode(const Message& m) {
  const std::size_t entries =
      m.questions.size() + m.answers.size() + m.authorities.size() + m.additionals.size();
  if (entries > kMaxEntries) return fail(Errc::kTooLarge, "DNS message: too many records");
  Writer w;
  w.u16(m.id);
  w.u16(m.flags);
  w.u16(static_cast<std::uint16_t>(m.questions.size()));
  w.u16(static_cast<std::uint16_t>(m.answers.size()));
  w.u16(static_cast<std::uint16_t>(m.authorities.size()));
  w.u16(static_cast<std::uint16_t>(m.additionals.size()));
  for (const auto& q : m.questions) {
    if (auto r = w.name(q.name); !r) return r.error();
    if (q.qclass & kClassTopBit) return bad("question class over 15 bits");
    w.u16(static_cast<std::uint16_t>(q.type));
    w.u16(static_cast<std::uint16_t>(q.qclass | (q.unicastResponse ? kClassTopBit : 0)));
  }
  for (const auto* section : {&m.answers, &m.authorities, &m.additionals}) {
    for (const auto& rec : *section) {
      if (auto r = w.record(rec); !r) return r.error();
      if (w.out.size() > kMaxMessageSize) break;
    }
  }
  if (w.out.size() > kMaxMessageSize) {
    return fail(Errc::kTooLarge, "DNS message: over 9000 bytes");
  }
  return std::move(w.out);
}

}  // namespace pc::net::dns
