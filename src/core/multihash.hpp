#pragma once
/// Multihash: varint code ‖ varint digest length ‖ digest.
#include <cstdint>

#include "core/bytes.hpp"

namespace pc::multihash {

inline constexpr std::uint64_t kIdentity = 0x00;
inline constexpr std::uint64_t kSha2_256 = 0x12;
/// Digest length cap: identity digests are inlined keys; nothing we accept is bigger, and the cap
/// bounds what a peer can make us allocate.
inline constexpr std::size_t kMaxDigestLength = 128;

struct View {
  std::uint64_t code;
  BytesView digest;
};

/// Parses a whole multihash (no trailing bytes allowed). Unknown codes are rejected.
/// The returned view points into `in`.
Result<View> parse(BytesView in);
Bytes encode(std::uint64_t code, BytesView digest);

}  // namespace pc::multihash
