#include "core/varint.hpp"
#include "core/invariant.hpp"

#include <cassert>

namespace pc::varint {

Result<Decoded> decode(BytesView in) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (i == kMaxBytes) {
      return fail(Errc::kOverlong, "varint longer than 9 bytes");
    }
    const std::uint8_t b = in[i];
    value |= std::uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 0) {
        return fail(Errc::kNonMinimal, "varint is not minimally encoded");
      }
      return Decoded{value, i + 1};
    }
  }
  if (in.size() >= kMaxBytes) {
    return fail(Errc::kOverlong, "varint longer than 9 bytes");
  }
  return fail(Errc::kTruncated, "input ends inside a varint");
}

void encode(std::uint64_t value, Bytes& out) {
  invariant(value <= kMaxValue, "varint value within 63 bits");
  while (value >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

Bytes encode(std::uint64_t value) {
  Bytes out;
  encode(value, out);
  return out;
}

std::size_t encodedSize(std::uint64_t value) {
  std::size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

}  // namespace pc::varint
