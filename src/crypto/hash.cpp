#include "crypto/hash.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include "core/multihash.hpp"
#include "crypto/secret.hpp"

namespace pc::crypto {

Sha256Digest sha256(BytesView data) {
  Sha256Digest d{};
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256::update(BytesView data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}
Sha256Digest Sha256::finish() {
  Sha256Digest d{};
  unsigned len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d.data(), &len);
  return d;
}

namespace {

/// HMAC-SHA256 (RFC 2104) over SHA-256 directly: OpenSSL 3's HMAC and HKDF entry points look up
/// their implementation by name on every call, which cost ~10 µs per HKDF — more than the hashing
/// itself, on every Noise handshake. Verified by the RFC 4231 and RFC 5869 vectors.
class HmacSha256 {
 public:
  explicit HmacSha256(BytesView key) {
    std::array<std::uint8_t, kBlock> k{};
    if (key.size() > kBlock) {
      const auto d = sha256(key);
      std::copy(d.begin(), d.end(), k.begin());
    } else {
      std::copy(key.begin(), key.end(), k.begin());
    }
    for (std::size_t i = 0; i < kBlock; ++i) {
      ipad_[i] = static_cast<std::uint8_t>(k[i] ^ 0x36);
      opad_[i] = static_cast<std::uint8_t>(k[i] ^ 0x5c);
    }
    secureWipe(k.data(), k.size());
  }
  ~HmacSha256() {
    secureWipe(ipad_.data(), ipad_.size());
    secureWipe(opad_.data(), opad_.size());
  }
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  /// HMAC of the concatenation of `parts`.
  Sha256Digest mac(std::initializer_list<BytesView> parts) const {
    Sha256 inner;
    inner.update(ipad_);
    for (const auto& p : parts) inner.update(p);
    const auto innerDigest = inner.finish();
    Sha256 outer;
    outer.update(opad_);
    outer.update(innerDigest);
    return outer.finish();
  }

 private:
  static constexpr std::size_t kBlock = 64;
  std::array<std::uint8_t, kBlock> ipad_{};
  std::array<std::uint8_t, kBlock> opad_{};
};

}  // namespace

Sha256Digest hmacSha256(BytesView key, BytesView data) { return HmacSha256(key).mac({data}); }

Result<Bytes> hkdfSha256(BytesView salt, BytesView ikm, BytesView info, std::size_t length) {
  if (length == 0 || length > 255 * kSha256Size) {
    return fail(Errc::kBadKey, "HKDF output length out of range");
  }
  // RFC 5869: PRK = HMAC(salt, IKM) (an empty salt is HashLen zeros — the same HMAC key);
  // T(i) = HMAC(PRK, T(i-1) ‖ info ‖ i).
  auto prk = HmacSha256(salt).mac({ikm});
  const HmacSha256 expand(prk);
  secureWipe(prk.data(), prk.size());
  Bytes out;
  out.reserve(length);
  Sha256Digest t{};
  for (std::uint8_t i = 1; out.size() < length; ++i) {
    const std::uint8_t counter[1] = {i};
    t = i == 1 ? expand.mac({info, counter}) : expand.mac({t, info, counter});
    const auto take = std::min<std::size_t>(t.size(), length - out.size());
    out.insert(out.end(), t.begin(), t.begin() + static_cast<std::ptrdiff_t>(take));
  }
  secureWipe(t.data(), t.size());
  return out;
}

Bytes sha256Multihash(BytesView data) {
  auto d = sha256(data);
  return multihash::encode(multihash::kSha2_256, d);
}

}  // namespace pc::crypto
