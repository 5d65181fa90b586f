#pragma once
/// Ed25519 (RFC 8032) through OpenSSL 3 EVP.
#include <array>
#include <memory>

#include "core/bytes.hpp"
#include "crypto/error.hpp"
#include "crypto/secret.hpp"

namespace pc::crypto::ed25519 {

inline constexpr std::size_t kPublicKeySize = 32;
inline constexpr std::size_t kSeedSize = 32;
inline constexpr std::size_t kSignatureSize = 64;

using PublicKey = std::array<std::uint8_t, kPublicKeySize>;
using Signature = std::array<std::uint8_t, kSignatureSize>;

class PrivateKey {
 public:
  /// A fresh key from OpenSSL's CSPRNG.
  static Result<PrivateKey> generate();
  /// The key for a 32-byte seed (RFC 8032 private key).
  static Result<PrivateKey> fromSeed(BytesView seed);

  const Secret<kSeedSize>& seed() const { return seed_; }
  const PublicKey& publicKey() const { return public_; }
  Result<Signature> sign(BytesView message) const;

 private:
  PrivateKey() = default;
  Secret<kSeedSize> seed_;
  PublicKey public_{};
  /// The OpenSSL key, built once: rebuilding it per signature re-derives the public key.
  std::shared_ptr<void> pkey_;
};

/// True only when `signature` is a valid signature of `message` by `key`.
bool verify(const PublicKey& key, BytesView message, BytesView signature);

}  // namespace pc::crypto::ed25519
