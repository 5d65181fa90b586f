#include "crypto/x25519.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

namespace pc::crypto::x25519 {
namespace {
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
}  // namespace

Result<KeyPair> KeyPair::generate() {
  std::array<std::uint8_t, kKeySize> priv{};
  if (RAND_bytes(priv.data(), static_cast<int>(priv.size())) != 1) {
    return fail(Errc::kOpenSsl, "the system random generator failed");
  }
  auto kp = fromPrivate(priv);
  secureWipe(priv.data(), priv.size());
  return kp;
}

Result<KeyPair> KeyPair::fromPrivate(BytesView privateKey) {
  if (privateKey.size() != kKeySize) {
    return fail(Errc::kBadKey, "X25519 private key must be 32 bytes");
  }
  Pkey pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, privateKey.data(), kKeySize));
  if (!pkey) return fail(Errc::kOpenSsl, "OpenSSL rejected the X25519 key");
  KeyPair kp;
  std::copy(privateKey.begin(), privateKey.end(), kp.private_.data());
  std::size_t len = kKeySize;
  if (EVP_PKEY_get_raw_public_key(pkey.get(), kp.public_.data(), &len) != 1 || len != kKeySize) {
    return fail(Errc::kOpenSsl, "cannot derive the X25519 public key");
  }
  kp.pkey_ = std::shared_ptr<void>(pkey.release(),
                                   [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
  return kp;
}

Result<Secret<kKeySize>> KeyPair::dh(BytesView peer) const {
  if (peer.size() != kKeySize) {
    return fail(Errc::kBadKey,
                "X25519 public key must be 32 bytes, got " + std::to_string(peer.size()));
  }
  auto* self = static_cast<EVP_PKEY*>(pkey_.get());
  Pkey remote(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), kKeySize));
  if (self == nullptr || !remote) return fail(Errc::kBadKey, "invalid X25519 key");
  PkeyCtx ctx(EVP_PKEY_CTX_new(self, nullptr));
  Secret<kKeySize> out;
  std::size_t len = kKeySize;
  // OpenSSL fails the derivation itself when the result is all zeros (small-order point).
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), remote.get()) != 1) {
    return fail(Errc::kOpenSsl, "X25519 setup failed");
  }
  if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != kKeySize) {
    return fail(Errc::kWeakSharedSecret, "X25519 with this public key gives a weak shared secret");
  }
  std::uint8_t acc = 0;
  for (std::size_t i = 0; i < kKeySize; ++i) acc = static_cast<std::uint8_t>(acc | out.data()[i]);
  if (acc == 0) {
    return fail(Errc::kWeakSharedSecret, "X25519 with this public key gives the all-zero secret");
  }
  return out;
}

}  // namespace pc::crypto::x25519
