#pragma once
/// Byte buffers and views used at every layer.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace pc {

using Bytes = std::vector<std::uint8_t>;
using BytesView = std::span<const std::uint8_t>;

inline BytesView asBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view asString(BytesView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes toBytes(std::string_view s) {
  auto v = asBytes(s);
  return {v.begin(), v.end()};
}
inline void append(Bytes& out, BytesView in) { out.insert(out.end(), in.begin(), in.end()); }

/// Lower-case hexadecimal.
std::string toHex(BytesView bytes);
/// Parses hexadecimal (either case, even length).
Result<Bytes> fromHex(std::string_view hex);

/// Constant-time equality: the time taken depends only on the lengths, so a remote party cannot
/// learn a secret (MAC, token) byte by byte from response timing.
bool constantTimeEqual(BytesView a, BytesView b);

}  // namespace pc
