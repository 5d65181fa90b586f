#pragma once
/// X25519 Diffie-Hellman (RFC 7748) through OpenSSL 3 EVP.
#include <array>
#include <memory>

#include "core/bytes.hpp"
#include "crypto/error.hpp"
#include "crypto/secret.hpp"

namespace pc::crypto::x25519 {

inline constexpr std::size_t kKeySize = 32;
using PublicKey = std::array<std::uint8_t, kKeySize>;

class KeyPair {
 public:
  static Result<KeyPair> generate();
  static Result<KeyPair> fromPrivate(BytesView privateKey);
  const PublicKey& publicKey() const { return public_; }
  const Secret<kKeySize>& privateKey() const { return private_; }

  /// The shared secret with `peer`. Errors: kBadKey, kWeakSharedSecret when the result is all
  /// zeros (a small-order public key, which would let an attacker force a known secret).
  Result<Secret<kKeySize>> dh(BytesView peer) const;

 private:
  KeyPair() = default;
  Secret<kKeySize> private_;
  PublicKey public_{};
  /// The OpenSSL key, built once (building it from raw bytes costs a scalar multiplication).
  std::shared_ptr<void> pkey_;
};

}  // namespace pc::crypto::x25519
