#include "crypto/ed25519.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

namespace pc::crypto {

void secureWipe(void* p, std::size_t n) { OPENSSL_cleanse(p, n); }

namespace ed25519 {
namespace {
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
}  // namespace

Result<PrivateKey> PrivateKey::generate() {
  std::array<std::uint8_t, kSeedSize> seed{};
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
    return fail(Errc::kOpenSsl, "the system random generator failed");
  }
  auto key = fromSeed(seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  return key;
}

Result<PrivateKey> PrivateKey::fromSeed(BytesView seed) {
  if (seed.size() != kSeedSize) {
    return fail(Errc::kBadKey, "Ed25519 seed must be 32 bytes, got " + std::to_string(seed.size()));
  }
  Pkey pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!pkey) {
    return fail(Errc::kOpenSsl, "OpenSSL rejected the Ed25519 seed");
  }
  PrivateKey key;
  std::copy(seed.begin(), seed.end(), key.seed_.data());
  std::size_t len = key.public_.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), key.public_.data(), &len) != 1 ||
      len != kPublicKeySize) {
    return fail(Errc::kOpenSsl, "cannot derive the Ed25519 public key");
  }
  key.pkey_ = std::shared_ptr<void>(pkey.release(),
                                    [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
  return key;
}

Result<Signature> PrivateKey::sign(BytesView message) const {
  auto* pkey = static_cast<EVP_PKEY*>(pkey_.get());
  MdCtx ctx(EVP_MD_CTX_new());
  Signature sig{};
  std::size_t len = sig.size();
  if (pkey == nullptr || !ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1 ||
      len != kSignatureSize) {
    return fail(Errc::kOpenSsl, "Ed25519 signing failed");
  }
  return sig;
}

bool verify(const PublicKey& key, BytesView message, BytesView signature) {
  if (signature.size() != kSignatureSize) {
    return false;
  }
  Pkey pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

}  // namespace ed25519
}  // namespace pc::crypto
