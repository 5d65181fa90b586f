#pragma once
/// SHA-256, HMAC-SHA256 and HKDF-SHA256 (RFC 5869).
#include <array>

#include "core/bytes.hpp"
#include "crypto/error.hpp"

namespace pc::crypto {

inline constexpr std::size_t kSha256Size = 32;
using Sha256Digest = std::array<std::uint8_t, kSha256Size>;

Sha256Digest sha256(BytesView data);
/// Incremental SHA-256 for streams (transfers checked by hash).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(BytesView data);
  Sha256Digest finish();

 private:
  void* ctx_;
};

Sha256Digest hmacSha256(BytesView key, BytesView data);
/// HKDF-SHA256 extract-and-expand: `length` bytes (≤ 255·32) from `ikm` with `salt` and `info`.
Result<Bytes> hkdfSha256(BytesView salt, BytesView ikm, BytesView info, std::size_t length);
/// sha2-256 multihash of `data`.
Bytes sha256Multihash(BytesView data);

}  // namespace pc::crypto
