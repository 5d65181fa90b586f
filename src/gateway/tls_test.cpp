#include "gateway/tls.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <algorithm>
#include <cctype>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>

#include "core/base64url.hpp"
#include "crypto/hash.hpp"
#include "gateway/acme.hpp"
#include "gateway/acme_crypto.hpp"

namespace pc::gateway {
namespace {

namespace asio = net::asio;
namespace ssl = boost::asio::ssl;
using namespace std::chrono_literals;

Bytes serverNameExt(std::string_view name, std::uint8_t type = 0) {
  Bytes e;
  const auto n = name.size();
  const auto list = n + 3;
  e.push_back(static_cast<std::uint8_t>(list >> 8));
  e.push_back(static_cast<std::uint8_t>(list));
  e.push_back(type);
  e.push_back(static_cast<std::uint8_t>(n >> 8));
  e.push_back(static_cast<std::uint8_t>(n));
  append(e, asBytes(name));
  return e;
}

TEST(TlsHello, ServerName) {
  EXPECT_EQ(parseServerName(serverNameExt("Dep-X.Example.NET")), "dep-x.example.net");
  EXPECT_FALSE(parseServerName(serverNameExt("a\nb")));                 // no control bytes
  EXPECT_FALSE(parseServerName(serverNameExt(std::string(254, 'a'))));  // over 253
  EXPECT_FALSE(parseServerName(serverNameExt("x", 1)));                 // no host_name entry
  auto cut = serverNameExt("dep-x.example.net");
  cut.pop_back();
  EXPECT_FALSE(parseServerName(cut));  // list length says more than there is
  auto lying = serverNameExt("dep-x.example.net");
  lying[4] = 200;  // the name's length runs past the extension
  lying[0] = 0;
  lying[1] = static_cast<std::uint8_t>(lying.size() - 2);
  EXPECT_FALSE(parseServerName(lying));
  EXPECT_FALSE(parseServerName(Bytes{}));
}

TEST(TlsHello, AlpnOffers) {
  const std::string raw = std::string("\x02h2\x0a") + "acme-tls/1" + "\x08http/1.1";
  Bytes ext{0, static_cast<std::uint8_t>(raw.size())};
  append(ext, asBytes(raw));
  EXPECT_TRUE(alpnOffers(ext, "acme-tls/1"));
  EXPECT_TRUE(alpnOffers(ext, "http/1.1"));
  EXPECT_FALSE(alpnOffers(ext, "h3"));
  ext[2] = 60;  // an entry running past the end
  EXPECT_FALSE(alpnOffers(ext, "http/1.1"));
}

TEST(AcmeCrypto, Base64Url) {
  EXPECT_EQ(pc::base64url::encode(std::string_view("")), "");
  EXPECT_EQ(pc::base64url::encode(std::string_view("f")), "Zg");
  EXPECT_EQ(pc::base64url::encode(std::string_view("fo")), "Zm8");
  EXPECT_EQ(pc::base64url::encode(std::string_view("foo")), "Zm9v");
  EXPECT_EQ(pc::base64url::encode(Bytes{0xfb, 0xff, 0xfe}), "-__-");  // url alphabet, no padding
}

TEST(AcmeCrypto, HostNames) {
  EXPECT_TRUE(acme::isValidHostName("dep-abc.example.net"));
  EXPECT_FALSE(acme::isValidHostName("localhost"));  // one label
  EXPECT_FALSE(acme::isValidHostName("a.b,DNS:evil.com"));
  EXPECT_FALSE(acme::isValidHostName("*.example.net"));
  EXPECT_FALSE(acme::isValidHostName("Upper.example.net"));
  EXPECT_FALSE(acme::isValidHostName("-a.example.net"));
  EXPECT_FALSE(acme::isValidHostName("a..example.net"));
  EXPECT_FALSE(acme::isValidHostName(std::string(64, 'a') + ".net"));
}

TEST(AcmeCrypto, KeyJwkAndSignature) {
  auto k = acme::EcKey::generate();
  ASSERT_TRUE(k);
  auto again = acme::EcKey::fromPem(k->toPem());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->jwkJson(), k->jwkJson());
  EXPECT_EQ(k->thumbprint().size(), 43u);  // base64url of 32 bytes
  EXPECT_EQ(k->jwkJson().rfind(R"({"crv":"P-256","kty":"EC","x":")", 0), 0u);
  auto sig = k->signEs256("header.payload");
  ASSERT_TRUE(sig);
  ASSERT_EQ(sig->size(), 64u);
  // r‖s back to DER and verified with the public key: the JWS signature is a real ES256 one.
  ECDSA_SIG* es = ECDSA_SIG_new();
  ECDSA_SIG_set0(es, BN_bin2bn(sig->data(), 32, nullptr), BN_bin2bn(sig->data() + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(es, &der);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, k->native()), 1);
  const std::string msg = "header.payload";
  EXPECT_EQ(EVP_DigestVerify(ctx, der, static_cast<std::size_t>(len),
                             reinterpret_cast<const unsigned char*>(msg.data()), msg.size()),
            1);
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  ECDSA_SIG_free(es);
  EXPECT_FALSE(acme::EcKey::fromPem("not a key"));
}

TEST(AcmeCrypto, CsrNamesOnlyTheHost) {
  auto k = acme::EcKey::generate();
  ASSERT_TRUE(k);
  EXPECT_FALSE(acme::makeCsr("a.b,DNS:evil.com", *k));
  auto der = acme::makeCsr("dep-x.example.net", *k);
  ASSERT_TRUE(der);
  const unsigned char* p = der->data();
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size()));
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(X509_REQ_verify(req, k->native()), 1);
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  ASSERT_NE(exts, nullptr);
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(sans, nullptr);
  ASSERT_EQ(sk_GENERAL_NAME_num(sans), 1);
  const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, 0);
  ASSERT_EQ(gn->type, GEN_DNS);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName))),
            "dep-x.example.net");
  GENERAL_NAMES_free(sans);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
}

TEST(AcmeCrypto, Dns01TxtValueAndName) {
  // Computed independently: printf 'tok.thumb' | openssl dgst -sha256 -binary | basenc --base64url
  EXPECT_EQ(acme::dns01TxtValue("tok.thumb"), "sYAwVrqDtVOuJZvAHurSAYPoEt5fFV_C4bdSOOW-o5Y");
  // The wildcard and the apex of one order share the record name (RFC 8555 §8.4).
  EXPECT_EQ(acme::dns01RecordName("*.example.org"), "_acme-challenge.example.org");
  EXPECT_EQ(acme::dns01RecordName("example.org"), "_acme-challenge.example.org");
  EXPECT_EQ(acme::dns01RecordName("dep-x.example.org"), "_acme-challenge.dep-x.example.org");
}

TEST(AcmeCrypto, CertNames) {
  EXPECT_TRUE(acme::isValidCertName("*.example.net"));
  EXPECT_TRUE(acme::isValidCertName("example.net"));
  EXPECT_FALSE(acme::isValidCertName("*.net"));  // a wildcard over a top-level domain
  EXPECT_FALSE(acme::isValidCertName("*.*.example.net"));
  EXPECT_FALSE(acme::isValidCertName("a*.example.net"));
  EXPECT_FALSE(acme::isValidCertName("*.a,DNS:evil.com"));
}

TEST(AcmeCrypto, CsrForTheWildcardOrder) {
  auto k = acme::EcKey::generate();
  ASSERT_TRUE(k);
  EXPECT_FALSE(acme::makeCsr(std::vector<std::string>{}, *k));
  EXPECT_FALSE(acme::makeCsr(std::vector<std::string>{"*.example.net", "a.b,DNS:evil.com"}, *k));
  auto der = acme::makeCsr(std::vector<std::string>{"*.example.net", "example.net"}, *k);
  ASSERT_TRUE(der);
  const unsigned char* p = der->data();
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size()));
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(X509_REQ_verify(req, k->native()), 1);
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  ASSERT_NE(exts, nullptr);
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(sans, nullptr);
  std::vector<std::string> names;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
    ASSERT_EQ(gn->type, GEN_DNS);
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"*.example.net", "example.net"}));
  GENERAL_NAMES_free(sans);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
}

TEST(AcmeCrypto, AlpnChallengeCertificate) {
  auto k = acme::EcKey::generate();
  ASSERT_TRUE(k);
  auto pem = acme::makeAlpnChallengeCert("dep-x.example.net", "tok.thumb", *k);
  ASSERT_TRUE(pem);
  auto ck = CertifiedKey::fromPem(*pem, k->toPem());
  ASSERT_TRUE(ck) << ck.error().message();
  EXPECT_TRUE((*ck)->covers("dep-x.example.net"));
  EXPECT_FALSE((*ck)->covers("other.example.net"));
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
  const int at = X509_get_ext_by_OBJ((*ck)->leaf(), oid, -1);
  ASN1_OBJECT_free(oid);
  ASSERT_GE(at, 0);
  X509_EXTENSION* ext = X509_get_ext((*ck)->leaf(), at);
  EXPECT_EQ(X509_EXTENSION_get_critical(ext), 1);
  const ASN1_OCTET_STRING* v = X509_EXTENSION_get_data(ext);
  const auto d = crypto::sha256(asBytes("tok.thumb"));
  Bytes want{0x04, 0x20};
  want.insert(want.end(), d.begin(), d.end());
  EXPECT_EQ(Bytes(ASN1_STRING_get0_data(v), ASN1_STRING_get0_data(v) + ASN1_STRING_length(v)),
            want);
  auto other = acme::EcKey::generate();
  EXPECT_FALSE(CertifiedKey::fromPem(*pem, other->toPem()));  // key must match the certificate
}

/// A resolver that has no certificate until `release()`; counts its calls.
class LateResolver final : public CertResolver {
 public:
  explicit LateResolver(std::shared_ptr<const CertifiedKey> c) : cert_(std::move(c)) {}
  CertChoice choose(const std::string& sni, bool /*acme*/) override {
    ++chooses;
    lastSni = sni;
    CertChoice c;
    if (refuse) return c;
    c.kind = ready ? CertChoice::Kind::kUse : CertChoice::Kind::kWait;
    c.cert = cert_;
    return c;
  }
  asio::awaitable<bool> waitFor(std::string /*host*/) override {
    ++waits;
    co_await net::sleepFor(100ms);
    ready = giveUp ? false : true;
    co_return ready;
  }
  int chooses = 0;
  int waits = 0;
  bool ready = false;
  bool refuse = false;
  bool giveUp = false;
  std::string lastSni;

 private:
  std::shared_ptr<const CertifiedKey> cert_;
};

/// Runs one TLS handshake between a client (SNI `name`) and acceptTls; true when both finish.
bool handshake(TlsContext& server, const std::string& name) {
  asio::io_context io;
  net::tcp::acceptor acc(io, net::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  bool serverOk = false;
  bool clientOk = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto [ec, sock] = co_await acc.async_accept(net::kNoThrow);
        if (ec) co_return;
        auto s = co_await acceptTls(std::move(sock), server, 5000ms);
        // The server name the client asked for comes out with the stream (lower-cased).
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        serverOk = s.has_value() && s->sni == lower;
      },
      asio::detached);
  ssl::context cctx(ssl::context::tls_client);
  cctx.set_verify_mode(ssl::verify_none);
  ssl::stream<net::tcp::socket> client(io, cctx);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto [ec] = co_await client.next_layer().async_connect(acc.local_endpoint(), net::kNoThrow);
        if (ec) co_return;
        SSL_ctrl(client.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(name.c_str()));
        auto [hec] = co_await client.async_handshake(ssl::stream_base::client, net::kNoThrow);
        clientOk = !hec;
      },
      asio::detached);
  io.run_for(10s);
  return serverOk && clientOk;
}

std::shared_ptr<const CertifiedKey> testCert(const std::string& host) {
  auto k = acme::EcKey::generate();
  auto pem = acme::makeAlpnChallengeCert(host, "x", *k);
  return *CertifiedKey::fromPem(*pem, k->toPem());
}

TEST(TlsResolver, HandshakeHeldUntilTheCertificateExists) {
  auto r = std::make_shared<LateResolver>(testCert("dep-x.example.net"));
  auto ctx = TlsContext::withResolver(r);
  EXPECT_TRUE(handshake(*ctx, "dep-x.example.net"));
  EXPECT_EQ(r->waits, 1);
  EXPECT_EQ(r->chooses, 2);  // paused once, resumed once
  EXPECT_EQ(r->lastSni, "dep-x.example.net");
}

TEST(TlsResolver, RefusedAndFailedNamesEndTheHandshake) {
  auto r = std::make_shared<LateResolver>(testCert("dep-x.example.net"));
  r->refuse = true;
  auto ctx = TlsContext::withResolver(r);
  EXPECT_FALSE(handshake(*ctx, "dep-x.example.net"));
  EXPECT_EQ(r->waits, 0);
  auto r2 = std::make_shared<LateResolver>(testCert("dep-x.example.net"));
  r2->giveUp = true;  // issuance failed: the held client is let go, not left hanging
  auto ctx2 = TlsContext::withResolver(r2);
  EXPECT_FALSE(handshake(*ctx2, "dep-x.example.net"));
  EXPECT_EQ(r2->waits, 1);
}

TEST(AcmeOptions, ChallengeTypes) {
  EXPECT_EQ(acme::parseChallengeType("http-01"), acme::ChallengeType::kHttp01);
  EXPECT_EQ(acme::parseChallengeType("tls-alpn-01"), acme::ChallengeType::kTlsAlpn01);
  EXPECT_EQ(acme::parseChallengeType("dns-01"), acme::ChallengeType::kDns01);
  EXPECT_FALSE(acme::parseChallengeType("dns-02"));
  EXPECT_FALSE(acme::AcmeClient::create({"http://plain.example/dir", "", {}, {}},
                                        *acme::EcKey::generate(), {}));
}

}  // namespace
}  // namespace pc::gateway
