#include "crypto/aead.hpp"

#include "crypto/secret.hpp"

#include <openssl/evp.h>

namespace pc::crypto {

void ChaChaPoly::CtxFree::operator()(evp_cipher_ctx_st* p) const { EVP_CIPHER_CTX_free(p); }

ChaChaPoly::ChaChaPoly(ChaChaPoly&&) noexcept = default;
ChaChaPoly& ChaChaPoly::operator=(ChaChaPoly&&) noexcept = default;
ChaChaPoly::~ChaChaPoly() = default;

Result<ChaChaPoly> ChaChaPoly::create(BytesView key) {
  if (key.size() != kKeySize) {
    return fail(Errc::kBadKey, "ChaCha20-Poly1305 key must be 32 bytes");
  }
  Ctx enc(EVP_CIPHER_CTX_new());
  Ctx dec(EVP_CIPHER_CTX_new());
  if (!enc || !dec ||
      EVP_EncryptInit_ex(enc.get(), EVP_chacha20_poly1305(), nullptr, key.data(), nullptr) != 1 ||
      EVP_DecryptInit_ex(dec.get(), EVP_chacha20_poly1305(), nullptr, key.data(), nullptr) != 1) {
    return fail(Errc::kOpenSsl, "cannot initialise ChaCha20-Poly1305");
  }
  return ChaChaPoly(std::move(enc), std::move(dec));
}

Result<void> ChaChaPoly::seal(BytesView nonce, BytesView ad, BytesView plaintext,
                              std::uint8_t* out) {
  int len = 0;
  if (nonce.size() != kNonceSize ||
      EVP_EncryptInit_ex(enc_.get(), nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      (!ad.empty() &&
       EVP_EncryptUpdate(enc_.get(), nullptr, &len, ad.data(), static_cast<int>(ad.size())) != 1) ||
      EVP_EncryptUpdate(enc_.get(), out, &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(enc_.get(), out + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(enc_.get(), EVP_CTRL_AEAD_GET_TAG, kTagSize, out + plaintext.size()) !=
          1) {
    return fail(Errc::kOpenSsl, "ChaCha20-Poly1305 encryption failed");
  }
  return {};
}

Result<void> ChaChaPoly::open(BytesView nonce, BytesView ad, BytesView sealed, std::uint8_t* out) {
  if (sealed.size() < kTagSize) {
    return fail(Errc::kDecryptFailed, "ciphertext shorter than its tag");
  }
  const auto clen = sealed.size() - kTagSize;
  // The tag is copied first: `out` may alias `sealed`, and decryption overwrites it in place.
  std::uint8_t tag[kTagSize];
  std::copy(sealed.begin() + static_cast<std::ptrdiff_t>(clen), sealed.end(), tag);
  int len = 0;
  if (nonce.size() != kNonceSize ||
      EVP_DecryptInit_ex(dec_.get(), nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      (!ad.empty() &&
       EVP_DecryptUpdate(dec_.get(), nullptr, &len, ad.data(), static_cast<int>(ad.size())) != 1) ||
      EVP_DecryptUpdate(dec_.get(), out, &len, sealed.data(), static_cast<int>(clen)) != 1 ||
      EVP_CIPHER_CTX_ctrl(dec_.get(), EVP_CTRL_AEAD_SET_TAG, kTagSize, tag) != 1) {
    return fail(Errc::kOpenSsl, "ChaCha20-Poly1305 decryption failed");
  }
  if (EVP_DecryptFinal_ex(dec_.get(), out + len, &len) != 1) {
    // Forged or corrupted ciphertext: wipe the unauthenticated plaintext so no caller uses it.
    secureWipe(out, clen);
    return fail(Errc::kDecryptFailed, "ChaCha20-Poly1305 authentication failed");
  }
  return {};
}

}  // namespace pc::crypto
