#pragma once
/// Unsigned varint (multiformats/unsigned-varint): LEB128, at most 9 bytes (63 bits of value),
/// minimally encoded.
#include <cstdint>

#include "core/bytes.hpp"

namespace pc::varint {

/// The spec's practical maximum: 9 bytes carry 63 bits.
inline constexpr std::size_t kMaxBytes = 9;
inline constexpr std::uint64_t kMaxValue = (std::uint64_t{1} << 63) - 1;
static_assert(kMaxBytes * 7 == 63);

struct Decoded {
  std::uint64_t value;
  std::size_t size;  ///< bytes consumed
};

/// Decodes one varint from the front of `in`.
/// Errors: Errc::kTruncated when `in` ends inside the varint (a streaming caller waits for more),
/// Errc::kOverlong past 9 bytes, Errc::kNonMinimal for a redundant trailing zero group (two
/// encodings of one value would let a peer smuggle distinct-looking but equal data).
Result<Decoded> decode(BytesView in);

/// Appends the encoding of `value` (must be <= kMaxValue) to `out`.
void encode(std::uint64_t value, Bytes& out);
Bytes encode(std::uint64_t value);
std::size_t encodedSize(std::uint64_t value);

}  // namespace pc::varint
