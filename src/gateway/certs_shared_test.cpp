// CertManager in dns-01 mode with peer gateways: a peer's certificate taken only when it is the
// domain's and newer; the order left to a peer while deferOrder says so.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gateway/certs.hpp"
#include "support/temp_dir.hpp"

namespace pc::gateway {
namespace {

struct Pem {
  std::string chain;
  std::string key;
};

/// A self-signed certificate naming `sans`, valid for `days` from a minute ago.
Pem makeCert(const std::string& sans, long days) {
  auto key = acme::EcKey::generate().value();
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), days);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), days * 24 * 3600);
  X509_set_pubkey(x, key.native());
  // A name of its own (self-signed: subject = issuer), so each is its own root in the roots file.
  static int made = 0;
  const std::string cn = "test root " + std::to_string(++made);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, sans.c_str());
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(x, key.native(), EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  Pem out{std::string(data, static_cast<std::size_t>(n)), key.toPem()};
  BIO_free(bio);
  X509_free(x);
  return out;
}

const std::string kBoth = "DNS:*.example.net,DNS:example.net";

/// The test's "CA": self-signed certificates are trusted once they are in the roots file.
void trust(const std::filesystem::path& dir, const Pem& p) {
  std::ofstream(dir / "roots.pem", std::ios::app) << p.chain;
}

std::shared_ptr<CertManager> manager(boost::asio::io_context& io, const std::filesystem::path& dir,
                                     std::function<std::optional<std::string>()> defer = {},
                                     std::uint16_t caPort = 1) {
  CertManagerOptions o;
  o.dir = dir;
  // Port 1: an order fails at once; a silent listener: an order stays in progress.
  o.acme.directoryUrl = "https://127.0.0.1:" + std::to_string(caPort) + "/directory";
  o.challenge = acme::ChallengeType::kDns01;
  o.wildcardDomain = "example.net";
  o.issuerCaFile = (dir / "roots.pem").string();
  std::ofstream(dir / "roots.pem", std::ios::app).flush();
  o.retryAfterFailure = std::chrono::seconds(3600);
  o.deferOrder = std::move(defer);
  o.deferRecheck = std::chrono::milliseconds(10);
  return CertManager::open(io.get_executor(), o).value();
}

TEST(CertManager, Dns01TakesAPeersWildcardOnlyIfItIsTheDomainsAndNewer) {
  boost::asio::io_context io;
  test::TempDir dir;
  auto m = manager(io, dir.path());
  EXPECT_EQ(m->wildcardNotAfter(), 0u);
  EXPECT_FALSE(m->wildcardPem());
  const Pem apexMissing = makeCert("DNS:*.example.net", 90);
  EXPECT_FALSE(m->installShared(apexMissing.chain, apexMissing.key, "peer"));
  const Pem other = makeCert("DNS:*.example.org,DNS:example.org", 90);
  EXPECT_FALSE(m->installShared(other.chain, other.key, "peer"));
  const Pem good = makeCert(kBoth, 90);
  trust(dir.path(), good);
  EXPECT_FALSE(m->installShared(good.chain, other.key, "peer")) << "not the leaf's key";
  EXPECT_FALSE(m->certificate("dep-a.example.net")) << "nothing taken so far";

  auto taken = m->installShared(good.chain, good.key, "peer");
  ASSERT_TRUE(taken) << taken.error().message();
  EXPECT_TRUE(*taken);
  EXPECT_EQ(m->choose("dep-a.example.net", false).kind, CertChoice::Kind::kUse);
  EXPECT_GT(m->wildcardNotAfter(), 0u);
  ASSERT_TRUE(m->wildcardPem());
  EXPECT_EQ(m->wildcardPem()->first, good.chain);
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "wildcard" / "example.net.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const Pem older = makeCert(kBoth, 30);
  trust(dir.path(), older);
  auto o = m->installShared(older.chain, older.key, "peer");
  ASSERT_TRUE(o);
  EXPECT_FALSE(*o) << "no rollback to an older certificate";
  EXPECT_EQ(m->wildcardPem()->first, good.chain);
  const Pem newer = makeCert(kBoth, 120);
  trust(dir.path(), newer);
  EXPECT_TRUE(m->installShared(newer.chain, newer.key, "peer").value());
  EXPECT_EQ(m->wildcardPem()->first, newer.chain);

  // A restart serves what a peer sent, without asking anyone.
  m->stop();
  auto again = manager(io, dir.path());
  EXPECT_EQ(again->wildcardPem()->first, newer.chain);
  again->stop();
  io.run_for(std::chrono::milliseconds(50));
}

// A peer's certificate for the right names, valid, with its key, but not from a CA we trust (a
// faulty peer, or one whose host was taken over): not taken, and not served. One expiring in a
// century would otherwise also block every renewal (no rollback keeps the latest expiry).
TEST(CertManager, Dns01RefusesAPeersCertificateNotFromATrustedCa) {
  boost::asio::io_context io;
  test::TempDir dir;
  auto m = manager(io, dir.path());
  trust(dir.path(), makeCert(kBoth, 90));  // the CA we trust: another one
  const Pem selfMade = makeCert(kBoth, 36500);
  auto r = m->installShared(selfMade.chain, selfMade.key, "peer");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("not issued by a trusted CA"), std::string::npos)
      << r.error().message();
  EXPECT_EQ(m->wildcardNotAfter(), 0u);
  EXPECT_FALSE(m->wildcardPem());
  m->stop();
  io.run_for(std::chrono::milliseconds(50));
}

TEST(CertManager, AMissingIssuerRootsFileIsAnErrorAtStart) {
  boost::asio::io_context io;
  test::TempDir dir;
  CertManagerOptions o;
  o.dir = dir.path();
  o.challenge = acme::ChallengeType::kDns01;
  o.wildcardDomain = "example.net";
  o.issuerCaFile = (dir.path() / "nope.pem").string();
  auto m = CertManager::open(io.get_executor(), o);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message().find("acme_issuer_ca"), std::string::npos);
}

TEST(CertManager, Dns01LeavesTheOrderToAPeerWhileToldTo) {
  boost::asio::io_context io;
  test::TempDir dir;
  std::optional<std::string> why = "peer gateway X orders it";
  // A CA that accepts the connection and never answers: an order, once placed, stays pending.
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto m = manager(
      io, dir.path(), [&why] { return why; }, silent.local_endpoint().port());
  m->start();
  for (int i = 0; i < 5; ++i) io.run_for(std::chrono::milliseconds(20));  // several rechecks
  EXPECT_EQ(m->choose("dep-a.example.net", false).kind, CertChoice::Kind::kRefuse)
      << "no order in progress";
  why.reset();  // the peer died: this gateway orders now
  for (int i = 0; i < 100 && m->choose("dep-a.example.net", false).kind != CertChoice::Kind::kWait;
       ++i) {
    io.run_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(m->choose("dep-a.example.net", false).kind, CertChoice::Kind::kWait);
  m->stop();
  io.run_for(std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace pc::gateway
