#pragma once
/// ChaCha20-Poly1305 (RFC 8439) with a reusable OpenSSL context per key, so that per-message
/// cost is one IV set and the cipher itself (no allocation on the hot path).
#include <memory>

#include "core/bytes.hpp"
#include "crypto/error.hpp"

struct evp_cipher_ctx_st;

namespace pc::crypto {

class ChaChaPoly {
 public:
  static constexpr std::size_t kKeySize = 32;
  static constexpr std::size_t kNonceSize = 12;
  static constexpr std::size_t kTagSize = 16;

  /// Errors: kBadKey for a key that is not 32 bytes.
  static Result<ChaChaPoly> create(BytesView key);
  ChaChaPoly(ChaChaPoly&&) noexcept;
  ChaChaPoly& operator=(ChaChaPoly&&) noexcept;
  ~ChaChaPoly();

  /// Writes ciphertext ‖ tag (plaintext.size() + 16 bytes) to `out`, which may alias `plaintext`
  /// exactly (in place) but must have room for the tag.
  Result<void> seal(BytesView nonce, BytesView ad, BytesView plaintext, std::uint8_t* out);
  /// Verifies and decrypts ciphertext ‖ tag into `out` (ciphertext.size() - 16 bytes; may alias).
  /// Errors: kDecryptFailed when authentication fails; nothing is released in that case.
  Result<void> open(BytesView nonce, BytesView ad, BytesView sealed, std::uint8_t* out);

 private:
  struct CtxFree {
    void operator()(evp_cipher_ctx_st* p) const;
  };
  using Ctx = std::unique_ptr<evp_cipher_ctx_st, CtxFree>;
  ChaChaPoly(Ctx enc, Ctx dec) : enc_(std::move(enc)), dec_(std::move(dec)) {}
  Ctx enc_;
  Ctx dec_;
};

}  // namespace pc::crypto
