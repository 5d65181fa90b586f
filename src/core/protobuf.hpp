#pragma once
/// The small subset of protobuf wire format that libp2p messages use: varint (type 0) and
/// length-delimited (type 2) fields. Other wire types are rejected.
#include <cstdint>
#include <optional>

#include "core/bytes.hpp"

namespace pc::protobuf {

enum class WireType : std::uint8_t { kVarint = 0, kLengthDelimited = 2 };

struct Field {
  std::uint32_t number;
  WireType type;
  std::uint64_t varint;  ///< value when type == kVarint
  BytesView bytes;       ///< value when type == kLengthDelimited (points into the input)
};

/// Pull parser over one message. Never allocates; never reads outside the input.
class Reader {
 public:
  explicit Reader(BytesView in) : in_(in) {}
  /// The next field, nullopt at the end of the message, or an error for a truncated or
  /// unsupported field.
  Result<std::optional<Field>> next();

 private:
  Result<std::uint64_t> readVarint();
  BytesView in_;
  std::size_t pos_ = 0;
};

void writeVarintField(Bytes& out, std::uint32_t number, std::uint64_t value);
void writeBytesField(Bytes& out, std::uint32_t number, BytesView value);
void writeVarint(Bytes& out, std::uint64_t value);

}  // namespace pc::protobuf
