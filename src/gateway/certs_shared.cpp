// CertManager, dns-01 mode: the wildcard certificate shared by the gateways of one domain
// (peers.hpp). One of them orders it and sends it, with its key, to the others; each stores it
// as if it had ordered it, so a restart serves it without asking anyone.
#include <spdlog/spdlog.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>

#include "core/fs.hpp"
#include "core/time.hpp"
#include "gateway/certs.hpp"

namespace pc::gateway {

using SystemClock = std::chrono::system_clock;

namespace {
/// How far a peer's clock (or the CA's) may be ahead of ours.
constexpr std::chrono::minutes kMaxClockSkew{5};

/// Whether `ck`'s chain leads to one of the roots in `caFile` (empty: the system's). Validity in
/// time is judged by the caller (with the clock skew it allows), not here.
Result<void> issuedByTrustedRoot(const CertifiedKey& ck, const std::string& caFile) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  if (!store || !ctx) return fail(Errc::kIo, "out of memory for a certificate check");
  const int loaded = caFile.empty()
                         ? X509_STORE_set_default_paths(store.get())
                         : X509_STORE_load_locations(store.get(), caFile.c_str(), nullptr);
  if (loaded != 1) {
    ERR_clear_error();
    return fail(Errc::kIo,
                "cannot read the issuer roots " + (caFile.empty() ? "of the system" : caFile));
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), ck.leaf(), ck.chain()) != 1) {
    ERR_clear_error();
    return fail(Errc::kIo, "cannot check the certificate chain");
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  const int ok = X509_verify_cert(ctx.get());
  const int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  if (ok != 1) {
    return fail(Errc::kMalformed, std::string("it is not issued by a trusted CA (") +
                                      X509_verify_cert_error_string(err) + ")");
  }
  return {};
}
}  // namespace

std::uint64_t CertManager::wildcardNotAfter() const {
  if (!wildcardMode()) return 0;
  auto it = certs_.find(wildcardNames().front());
  if (it == certs_.end()) return 0;
  const auto s =
      std::chrono::duration_cast<std::chrono::seconds>(it->second->notAfter().time_since_epoch());
  return s.count() > 0 ? static_cast<std::uint64_t>(s.count()) : 0;
}

std::optional<std::pair<std::string, std::string>> CertManager::wildcardPem() const {
  if (!wildcardMode() || wildcardChain_.empty() || wildcardKey_.empty()) return std::nullopt;
  return std::pair{wildcardChain_, wildcardKey_};
}

Result<bool> CertManager::installShared(const std::string& chainPem, const std::string& keyPem,
                                        const std::string& from) {
  if (!wildcardMode()) {
    return fail(Errc::kInvalidArgument, "this gateway does not use a wildcard certificate");
  }
  auto ck = CertifiedKey::fromPem(chainPem, keyPem);  // also: the key is the leaf's
  if (!ck) return ck.error();
  const auto names = wildcardNames();
  // Only the domain's own certificate: a peer cannot make us serve other names.
  if (!namesAll(**ck, names)) {
    return fail(Errc::kMalformed, "it does not name " + names[0] + " and " + names[1]);
  }
  // Only a CA's certificate: a peer (faulty, or its host taken over) cannot make every gateway
  // of the domain serve a self-made one that browsers refuse, nor block renewals with one that
  // expires in a century (no rollback below keeps the latest expiry).
  if (auto t = issuedByTrustedRoot(**ck, options_.issuerCaFile); !t) return t.error();
  // Not yet valid is allowed within a clock difference between the gateways (and the CA).
  const auto now = SystemClock::now();
  if ((*ck)->notAfter() <= now || (*ck)->notBefore() > now + kMaxClockSkew) {
    return fail(Errc::kMalformed, "it is not valid now");
  }
  // Never backwards: a peer holding an older certificate (or replaying one) does not replace a
  // newer one.
  const std::string key = names.front();
  if (auto it = certs_.find(key);
      it != certs_.end() && it->second->notAfter() >= (*ck)->notAfter()) {
    return false;
  }
  auto w = fs::ensurePrivateDir(options_.dir / "wildcard");
  if (w) {
    auto pem = acme::EcKey::fromPem(keyPem);
    w = pem ? store(wildcardBase(), *pem, chainPem) : Result<void>(pem.error());
  }
  if (!w) spdlog::warn("acme: certificate for {} not saved: {}", key, w.error().message());
  certs_[key] = *ck;
  wildcardChain_ = chainPem;
  wildcardKey_ = keyPem;
  failures_.erase(key);
  const std::string when = time::formatRfc3339((*ck)->notAfter());
  spdlog::info("acme: certificate for {} and {} received from {} (serial {}, valid until {})",
               names[0], names[1], from, (*ck)->serialHex(), when);
  // A handshake held for the first certificate can go on.
  if (auto it = pending_.find(key); it != pending_.end()) it->second->notify();
  return true;
}

bool CertManager::deferToPeer(const std::string& key) {
  std::optional<std::string> why = options_.deferOrder ? options_.deferOrder() : std::nullopt;
  if (!why) {
    deferredWhy_.clear();
    return false;
  }
  if (*why != deferredWhy_) {
    spdlog::info("acme: not ordering the certificate for {}: {}", key, *why);
    deferredWhy_ = *why;
  }
  return true;
}

}  // namespace pc::gateway
