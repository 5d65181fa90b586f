#pragma once
/// DNS messages (RFC 1035 §4): a strict, pure decoder and an encoder, shared by multicast DNS
/// (RFC 6762, net/mdns) and the gateway's authoritative server (src/dns). The class top bits
/// are read the mDNS way (unicast-response, cache-flush); a unicast user puts them back with
/// fullClass(). Everything a packet declares (counts, lengths, compression pointers) is checked
/// against the bytes actually present and against the named limits below before it is used, so a
/// hostile packet costs a bounded amount of time and memory and is rejected with a reason.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "core/bytes.hpp"
#include "net/error.hpp"

namespace pc::net::dns {

/// RFC 6762 §17: an mDNS message (without IP/UDP headers) is at most 9000 bytes.
inline constexpr std::size_t kMaxMessageSize = 9000;
inline constexpr std::size_t kHeaderSize = 12;
/// RFC 1035 §2.3.4: labels are 1–63 bytes; a name is at most 255 bytes in wire form.
inline constexpr std::size_t kMaxLabelLength = 63;
inline constexpr std::size_t kMaxNameWireLength = 255;
/// Compression pointers followed while reading one name. Pointers must also point strictly
/// backwards (so loops are impossible); this bounds the work on a chain of pointers to pointers.
inline constexpr std::size_t kMaxPointerHops = 16;
/// Questions + records in one message. Real mDNS packets carry a handful; this bounds what a
/// packet full of minimal records can make us allocate.
inline constexpr std::size_t kMaxEntries = 128;
/// Character-strings in one TXT record.
inline constexpr std::size_t kMaxTxtStrings = 64;
/// Smallest possible question (root name + type + class) and record (+ ttl + rdlength).
inline constexpr std::size_t kMinQuestionSize = 1 + 4;
inline constexpr std::size_t kMinRecordSize = 1 + 10;
static_assert(kMaxEntries * kMinRecordSize < kMaxMessageSize);

enum class Type : std::uint16_t {
  kA = 1,
  kNs = 2,
  kCname = 5,
  kSoa = 6,
  kPtr = 12,
  kTxt = 16,
  kAaaa = 28,
  kSrv = 33,
  kOpt = 41,  ///< EDNS(0) pseudo-record (RFC 6891): class = UDP payload size
  kIxfr = 251,
  kAxfr = 252,
  kAny = 255,
};
inline constexpr std::uint16_t kClassIn = 1;
inline constexpr std::uint16_t kClassAny = 255;
/// Top bit of a question's class: the querier accepts a unicast answer (RFC 6762 §5.4).
/// Top bit of a record's class: cache-flush (RFC 6762 §10.2).
inline constexpr std::uint16_t kClassTopBit = 0x8000;

inline constexpr std::uint16_t kFlagResponse = 0x8000;            ///< QR
inline constexpr std::uint16_t kFlagAuthoritative = 0x0400;       ///< AA
inline constexpr std::uint16_t kFlagTruncated = 0x0200;           ///< TC
inline constexpr std::uint16_t kFlagRecursionDesired = 0x0100;    ///< RD
inline constexpr std::uint16_t kFlagRecursionAvailable = 0x0080;  ///< RA
inline constexpr std::uint16_t kOpcodeMask = 0x7800;
inline constexpr std::uint16_t kRcodeMask = 0x000f;

/// Response codes (RFC 1035 §4.1.1; BADVERS is RFC 6891's, carried in the OPT record).
enum class Rcode : std::uint16_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
  kBadVers = 16,
};

/// A domain name as its labels (without the root). Labels are kept apart rather than joined with
/// dots because a label may itself contain a dot: joining would let "a.b" (one label) pass for
/// two labels. Compare with sameName() (DNS names are ASCII case-insensitive).
using Name = std::vector<std::string>;
/// "a.b.local" → {"a","b","local"}; empty labels and over-long ones are an error.
Result<Name> parseName(std::string_view dotted);
/// Joined with dots, with '.', '\\' and bytes outside printable ASCII escaped (for logs and CLI).
std::string toString(const Name& name);
bool sameName(const Name& a, const Name& b);

struct Question {
  Name name;
  Type type = Type::kPtr;
  std::uint16_t qclass = kClassIn;  ///< without the unicast-response bit
  bool unicastResponse = false;
  friend bool operator==(const Question&, const Question&) = default;
};

/// rdata of a PTR record: the name it points to.
struct Ptr {
  Name target;
  friend bool operator==(const Ptr&, const Ptr&) = default;
};
/// rdata of a TXT record: its character-strings (each 0–255 bytes).
struct Txt {
  std::vector<std::string> strings;
  friend bool operator==(const Txt&, const Txt&) = default;
};
/// rdata of any other type, kept as bytes (names inside it are not decompressed).
struct Opaque {
  Bytes bytes;
  friend bool operator==(const Opaque&, const Opaque&) = default;
};

struct Record {
  Name name;
  Type type = Type::kTxt;
  std::uint16_t rclass = kClassIn;  ///< without the cache-flush bit
  bool cacheFlush = false;
  std::uint32_t ttl = 0;  ///< seconds
  std::variant<Ptr, Txt, Opaque> data;
  friend bool operator==(const Record&, const Record&) = default;
};

struct Message {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> authorities;
  std::vector<Record> additionals;
  bool isResponse() const { return (flags & kFlagResponse) != 0; }
  friend bool operator==(const Message&, const Message&) = default;
};

/// Decodes one whole UDP payload. Errors (kProtocolError unless noted, each naming the problem):
/// over kMaxMessageSize (kTooLarge), truncated header/name/record, counts the packet cannot hold,
/// more than kMaxEntries entries (kTooLarge), bad label length or type, name over 255 bytes,
/// compression pointer not strictly backwards or over kMaxPointerHops, control characters in a
/// label, PTR/TXT rdata that does not exactly fill its rdlength, trailing bytes.
Result<Message> decode(BytesView packet);

/// A record's or question's 16-bit class as it was on the wire (top bit included).
inline std::uint16_t fullClass(std::uint16_t cls, bool topBit) {
  return static_cast<std::uint16_t>(cls | (topBit ? kClassTopBit : 0));
}

/// `name` in wire form, uncompressed (for names inside rdata: NS, SOA). Errors as parseName's.
Result<Bytes> nameToWire(const Name& name);

/// Encodes `m` with name compression. Errors: kProtocolError for an invalid name (empty or
/// over-long label, name over 255 bytes) or TXT string over 255 bytes or a PTR/TXT record whose
/// data does not match its type; kTooLarge if the message would exceed kMaxMessageSize.
Result<Bytes> encode(const Message& m);

}  // namespace pc::net::dns
