#include "gateway/acme_crypto.hpp"

#include "core/base64url.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/hash.hpp"

namespace pc::gateway::acme {

namespace {

template <class T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using BioPtr = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Free<X509, X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Free<X509_REQ, X509_REQ_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION, X509_EXTENSION_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Free<BIGNUM, BN_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Free<X509_NAME, X509_NAME_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX, EVP_MD_CTX_free>>;
using OctetPtr =
    std::unique_ptr<ASN1_OCTET_STRING, Free<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>>;
using ObjPtr = std::unique_ptr<ASN1_OBJECT, Free<ASN1_OBJECT, ASN1_OBJECT_free>>;

Error sslError(std::string what) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    what += ": ";
    what += buf;
  }
  return fail(Errc::kIo, std::move(what));
}

std::string bioString(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

Result<Bytes> coordinate(EVP_PKEY* k, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &raw) != 1) return sslError("EC public key");
  BnPtr bn(raw);
  Bytes out(32);
  if (BN_bn2binpad(bn.get(), out.data(), 32) != 32) return sslError("EC coordinate");
  return out;
}

void freeExtensions(STACK_OF(X509_EXTENSION) * exts) {
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}
using ExtsPtr =
    std::unique_ptr<STACK_OF(X509_EXTENSION), Free<STACK_OF(X509_EXTENSION), freeExtensions>>;

/// The subject (CN = the first name) and extensions (one DNS subjectAltName per name) of a CSR
/// or challenge certificate.
struct Subject {
  NamePtr name;
  ExtsPtr exts;
};

Result<Subject> subjectFor(const std::vector<std::string>& names) {
  if (names.empty()) return fail(Errc::kInvalidArgument, "a certificate needs a name");
  std::string san;
  for (const auto& n : names) {
    if (!isValidCertName(n)) {
      return fail(Errc::kInvalidArgument, "'" + n + "' is not a DNS host name");
    }
    // Every name passed isValidCertName: no ',' can add another SAN through this string.
    san += (san.empty() ? "DNS:" : ",DNS:") + n;
  }
  Subject sub{NamePtr(X509_NAME_new()), ExtsPtr(sk_X509_EXTENSION_new_null())};
  if (!sub.name || !sub.exts) return sslError("certificate subject");
  const std::string& cn = names.front();
  if (X509_NAME_add_entry_by_txt(sub.name.get(), "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1) {
    return sslError("certificate subject");
  }
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str()));
  if (!ext) return sslError("subjectAltName");
  if (sk_X509_EXTENSION_push(sub.exts.get(), ext.get()) == 0) return sslError("subjectAltName");
  (void)ext.release();
  return sub;
}

Result<Subject> subjectFor(std::string_view host) {
  if (!isValidHostName(host)) {
    return fail(Errc::kInvalidArgument, "'" + std::string(host) + "' is not a DNS host name");
  }
  return subjectFor(std::vector<std::string>{std::string(host)});
}

}  // namespace

bool isValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t labels = 0;
  std::size_t start = 0;
  while (start <= host.size()) {
    std::size_t end = host.find('.', start);
    if (end == std::string_view::npos) end = host.size();
    const std::string_view label = host.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    ++labels;
    start = end + 1;
  }
  return labels >= 2;
}

bool isValidCertName(std::string_view name) {
  if (name.rfind("*.", 0) == 0) return isValidHostName(name.substr(2));
  return isValidHostName(name);
}

std::string dns01TxtValue(std::string_view keyAuthorization) {
  const auto d = crypto::sha256(asBytes(keyAuthorization));
  return pc::base64url::encode(BytesView(d.data(), d.size()));
}

std::string dns01RecordName(std::string_view identifier) {
  if (identifier.rfind("*.", 0) == 0) identifier.remove_prefix(2);
  return "_acme-challenge." + std::string(identifier);
}

Result<EcKey> EcKey::generate() {
  EVP_PKEY* k = EVP_EC_gen("P-256");
  if (k == nullptr) return sslError("generating a P-256 key");
  return EcKey(std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free));
}

Result<EcKey> EcKey::fromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return sslError("key buffer");
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (k == nullptr) {
    ERR_clear_error();
    return fail(Errc::kMalformed, "no PEM private key found");
  }
  std::shared_ptr<EVP_PKEY> key(k, EVP_PKEY_free);
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
      EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
          1 ||
      std::string_view(group, len) != "prime256v1") {
    ERR_clear_error();
    return fail(Errc::kInvalidArgument, "the key is not an ECDSA P-256 key");
  }
  return EcKey(std::move(key));
}

std::string EcKey::toPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bioString(bio.get());
}

std::string EcKey::jwkJson() const {
  auto x = coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X);
  auto y = coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
  if (!x || !y) return {};
  return R"({"crv":"P-256","kty":"EC","x":")" + pc::base64url::encode(*x) + R"(","y":")" +
         pc::base64url::encode(*y) + R"("})";
}

std::string EcKey::thumbprint() const {
  const auto d = crypto::sha256(asBytes(jwkJson()));
  return pc::base64url::encode(BytesView(d.data(), d.size()));
}

Result<Bytes> EcKey::signEs256(std::string_view data) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, asBytes(data).data(), data.size()) != 1) {
    return sslError("ES256 signature");
  }
  Bytes der(len);
  if (EVP_DigestSign(ctx.get(), der.data(), &len, asBytes(data).data(), data.size()) != 1) {
    return sslError("ES256 signature");
  }
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
  if (sig == nullptr) return sslError("ES256 signature encoding");
  Bytes out(64);
  const bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), out.data(), 32) == 32 &&
                  BN_bn2binpad(ECDSA_SIG_get0_s(sig), out.data() + 32, 32) == 32;
  ECDSA_SIG_free(sig);
  if (!ok) return sslError("ES256 signature encoding");
  return out;
}

Result<Bytes> makeCsr(std::string_view host, const EcKey& key) {
  if (!isValidHostName(host)) {
    return fail(Errc::kInvalidArgument, "'" + std::string(host) + "' is not a DNS host name");
  }
  return makeCsr(std::vector<std::string>{std::string(host)}, key);
}

Result<Bytes> makeCsr(const std::vector<std::string>& names, const EcKey& key) {
  auto sub = subjectFor(names);
  if (!sub) return sub.error();
  ReqPtr req(X509_REQ_new());
  if (!req) return sslError("CSR");
  const bool ok = X509_REQ_set_version(req.get(), 0) == 1 &&
                  X509_REQ_set_subject_name(req.get(), sub->name.get()) == 1 &&
                  X509_REQ_add_extensions(req.get(), sub->exts.get()) == 1 &&
                  X509_REQ_set_pubkey(req.get(), key.native()) == 1 &&
                  X509_REQ_sign(req.get(), key.native(), EVP_sha256()) > 0;
  if (!ok) return sslError("CSR");
  const int len = i2d_X509_REQ(req.get(), nullptr);
  if (len <= 0) return sslError("CSR encoding");
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_X509_REQ(req.get(), &p);
  return der;
}

Result<std::string> makeAlpnChallengeCert(std::string_view host, std::string_view keyAuthorization,
                                          const EcKey& key) {
  auto sub = subjectFor(host);
  if (!sub) return sub.error();
  X509Ptr cert(X509_new());
  if (!cert) return sslError("challenge certificate");
  STACK_OF(X509_EXTENSION)* exts = sub->exts.get();
  // id-pe-acmeIdentifier (1.3.6.1.5.5.7.1.31), critical; its value is the DER OCTET STRING of
  // SHA-256(keyAuthorization) (RFC 8737 §3).
  const auto digest = crypto::sha256(asBytes(keyAuthorization));
  Bytes inner{0x04, 0x20};
  inner.insert(inner.end(), digest.begin(), digest.end());
  OctetPtr value(ASN1_OCTET_STRING_new());
  ObjPtr oid(OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1));
  bool ok = value && oid &&
            ASN1_OCTET_STRING_set(value.get(), inner.data(), static_cast<int>(inner.size())) == 1;
  if (ok) {
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 1, value.get());
    ok = ext != nullptr && sk_X509_EXTENSION_push(exts, ext) != 0;
    if (!ok && ext != nullptr) X509_EXTENSION_free(ext);
  }
  Bytes serial(16);
  ok = ok && RAND_bytes(serial.data(), static_cast<int>(serial.size())) == 1;
  serial[0] &= 0x7f;  // a positive INTEGER
  BnPtr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  ok = ok && bn && BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) != nullptr &&
       X509_set_version(cert.get(), 2) == 1 &&
       X509_set_subject_name(cert.get(), sub->name.get()) == 1 &&
       X509_set_issuer_name(cert.get(), sub->name.get()) == 1 &&
       X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
       X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7L * 24 * 3600) != nullptr &&
       X509_set_pubkey(cert.get(), key.native()) == 1;
  for (int i = 0; ok && i < sk_X509_EXTENSION_num(exts); ++i) {
    ok = X509_add_ext(cert.get(), sk_X509_EXTENSION_value(exts, i), -1) == 1;
  }
  ok = ok && X509_sign(cert.get(), key.native(), EVP_sha256()) > 0;
  if (!ok) return sslError("challenge certificate");
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert.get());
  return bioString(bio.get());
}

}  // namespace pc::gateway::acme
