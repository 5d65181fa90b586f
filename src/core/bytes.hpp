#pragma once
/// Byte buffers and views used at every layer.
#include <cstdint>
#include <memory>
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

/// A heap byte buffer that is not zero-filled on allocation (hot I/O paths allocate and free
/// these; zeroing 64 KiB per use would cost more than the I/O).
class RawBuffer {
 public:
  RawBuffer() = default;
  explicit RawBuffer(std::size_t n) { allocate(n); }
  void allocate(std::size_t n) {
    data_.reset(new std::uint8_t[n]);
    size_ = n;
  }
  void release() {
    data_.reset();
    size_ = 0;
  }
  std::uint8_t* data() { return data_.get(); }
  const std::uint8_t* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::uint8_t& operator[](std::size_t i) { return data_[i]; }
  operator std::span<std::uint8_t>() { return {data_.get(), size_}; }

 private:
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
};

/// Lower-case hexadecimal.
std::string toHex(BytesView bytes);
/// Parses hexadecimal (either case, even length).
Result<Bytes> fromHex(std::string_view hex);
/// True when every character of `s` is 0-9 or a-f (the one text form toHex writes; empty text
/// included, and any length: callers check the length they need).
bool isLowerHex(std::string_view s);

/// Constant-time equality: the time taken depends only on the lengths, so a remote party cannot
/// learn a secret (MAC, token) byte by byte from response timing.
bool constantTimeEqual(BytesView a, BytesView b);

}  // namespace pc
