#include "crypto/hash.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include <memory>

#include "core/multihash.hpp"

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

Sha256Digest hmacSha256(BytesView key, BytesView data) {
  Sha256Digest d{};
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), d.data(),
       &len);
  return d;
}

Result<Bytes> hkdfSha256(BytesView salt, BytesView ikm, BytesView info, std::size_t length) {
  if (length == 0 || length > 255 * kSha256Size) {
    return fail(Errc::kBadKey, "HKDF output length out of range");
  }
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr), &EVP_PKEY_CTX_free);
  Bytes out(length);
  static const std::uint8_t kEmpty = 0;
  // OpenSSL refuses a null pointer for zero-length inputs; point at a dummy byte instead.
  auto ptr = [](BytesView v) { return v.empty() ? &kEmpty : v.data(); };
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), ptr(salt), static_cast<int>(salt.size())) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), ptr(ikm), static_cast<int>(ikm.size())) != 1 ||
      (!info.empty() &&
       EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), info.data(), static_cast<int>(info.size())) != 1) ||
      EVP_PKEY_derive(ctx.get(), out.data(), &length) != 1) {
    return fail(Errc::kOpenSsl, "HKDF-SHA256 failed");
  }
  return out;
}

Bytes sha256Multihash(BytesView data) {
  auto d = sha256(data);
  return multihash::encode(multihash::kSha2_256, d);
}

}  // namespace pc::crypto
