#include "gateway/certs.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/fs.hpp"
#include "support/temp_dir.hpp"

namespace pc::gateway {
namespace {

/// A manager whose CA is unreachable: orders are counted when placed, then fail.
std::shared_ptr<CertManager> manager(boost::asio::io_context& io, const std::filesystem::path& dir,
                                     std::function<bool(const std::string&)> live) {
  CertManagerOptions o;
  o.dir = dir;
  o.acme.directoryUrl = "https://127.0.0.1:1/directory";
  o.maxOrdersPerHour = 20;
  o.maxConcurrentOrders = 100;
  o.mayIssue = std::move(live);
  // dep-<provider><requester>… : dep-ax… is provider a's, deployed by developer x.
  o.sharesOf = [](const std::string& host) {
    return std::vector<OrderShare>{{"provider " + host.substr(4, 1), 2, "per_provider"},
                                   {"requester " + host.substr(5, 1), 3, "per_requester"}};
  };
  return CertManager::open(io.get_executor(), o).value();
}

TEST(CertManager, EachProviderGetsAShareOfTheOrderBudget) {
  boost::asio::io_context io;
  test::TempDir dir;
  auto m = manager(io, dir.path(), [](const std::string&) { return true; });
  EXPECT_TRUE(m->ensure("dep-ax1.example.net"));
  EXPECT_TRUE(m->ensure("dep-ay2.example.net"));
  // Provider A has used its share: a third name of its is not ordered…
  EXPECT_FALSE(m->ensure("dep-az3.example.net"));
  // …while provider B still gets certificates.
  EXPECT_TRUE(m->ensure("dep-bz1.example.net"));
  m->stop();
  io.run_for(std::chrono::seconds(5));
}

TEST(CertManager, EachDeveloperGetsAShareAcrossProviders) {
  boost::asio::io_context io;
  test::TempDir dir;
  auto m = manager(io, dir.path(), [](const std::string&) { return true; });
  // Developer x deploys on providers a, b and c: each provider has room, x's share (3) does not.
  EXPECT_TRUE(m->ensure("dep-ax1.example.net"));
  EXPECT_TRUE(m->ensure("dep-bx2.example.net"));
  EXPECT_TRUE(m->ensure("dep-cx3.example.net"));
  EXPECT_FALSE(m->ensure("dep-dx4.example.net"));
  // Another developer on the same provider is served; and a refused order counted nothing.
  EXPECT_TRUE(m->ensure("dep-dy5.example.net"));
  EXPECT_TRUE(m->ensure("dep-dy6.example.net"));
  m->stop();
  io.run_for(std::chrono::seconds(5));
}

TEST(CertManager, NamesWithoutALiveRouteGetNoOrderAndNoCertificate) {
  boost::asio::io_context io;
  test::TempDir dir;
  auto m = manager(io, dir.path(), [](const std::string&) { return false; });
  EXPECT_FALSE(m->ensure("dep-a1.example.net"));
  const auto choice = m->choose("dep-a1.example.net", false);
  EXPECT_NE(choice.kind, CertChoice::Kind::kUse);
  EXPECT_NE(choice.kind, CertChoice::Kind::kWait);
  m->stop();
  io.run_for(std::chrono::seconds(1));
}

/// A self-signed certificate naming `sans` (e.g. "DNS:*.example.net,DNS:example.net") with its
/// key, stored where the wildcard manager looks for it.
void storeWildcard(const std::filesystem::path& dir, const std::string& domain,
                   const std::string& sans) {
  auto key = acme::EcKey::generate().value();
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 90L * 24 * 3600);
  X509_set_pubkey(x, key.native());
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, sans.c_str());
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(x, key.native(), EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  X509_free(x);
  ASSERT_TRUE(fs::ensurePrivateDir(dir / "wildcard"));
  ASSERT_TRUE(fs::writeFileAtomic(dir / "wildcard" / (domain + ".key"), key.toPem(), 0600));
  ASSERT_TRUE(fs::writeFileAtomic(dir / "wildcard" / (domain + ".crt"), pem, 0600));
}

std::shared_ptr<CertManager> wildcardManager(boost::asio::io_context& io,
                                             const std::filesystem::path& dir,
                                             std::uint16_t caPort = 1) {
  CertManagerOptions o;
  o.dir = dir;
  o.acme.directoryUrl = "https://127.0.0.1:" + std::to_string(caPort) + "/directory";
  o.challenge = acme::ChallengeType::kDns01;
  o.wildcardDomain = "example.net";
  o.retryAfterFailure = std::chrono::seconds(3600);
  // Per-host orders would consult these: in dns-01 mode nothing may.
  o.mayIssue = [](const std::string&) -> bool {
    ADD_FAILURE() << "per-host guard consulted";
    return true;
  };
  return CertManager::open(io.get_executor(), o).value();
}

TEST(CertManager, Dns01ServesOneStoredWildcardForTheApexAndEveryHost) {
  boost::asio::io_context io;
  test::TempDir dir;
  storeWildcard(dir.path(), "example.net", "DNS:*.example.net,DNS:example.net");
  auto m = wildcardManager(io, dir.path());
  const auto a = m->choose("dep-a.example.net", false);
  const auto b = m->choose("dep-b.example.net", false);
  const auto apex = m->choose("example.net", false);
  ASSERT_EQ(a.kind, CertChoice::Kind::kUse);
  ASSERT_EQ(b.kind, CertChoice::Kind::kUse);
  ASSERT_EQ(apex.kind, CertChoice::Kind::kUse);
  EXPECT_EQ(a.cert, b.cert);  // one certificate
  EXPECT_EQ(a.cert, apex.cert);
  EXPECT_EQ(m->certificate("dep-c.example.net"), a.cert);
  // Outside the wildcard: two labels deep, another domain, no SNI.
  EXPECT_EQ(m->choose("a.dep-a.example.net", false).kind, CertChoice::Kind::kRefuse);
  EXPECT_EQ(m->choose("dep-a.example.org", false).kind, CertChoice::Kind::kRefuse);
  EXPECT_EQ(m->choose("xexample.net", false).kind, CertChoice::Kind::kRefuse);
  EXPECT_EQ(m->choose("", false).kind, CertChoice::Kind::kRefuse);
  EXPECT_TRUE(m->ensure("dep-d.example.net"));       // covered: no order
  EXPECT_FALSE(m->renewIfDue("dep-d.example.net"));  // no per-host renewal either
  m->stop();
  io.run_for(std::chrono::milliseconds(100));
}

TEST(CertManager, Dns01IgnoresAStoredCertificateForOtherNamesAndOrdersOne) {
  boost::asio::io_context io;
  test::TempDir dir;
  storeWildcard(dir.path(), "example.net", "DNS:*.example.net");  // the apex is missing
  // A CA that accepts the connection and never answers: the order, once placed, stays pending
  // (one that failed at once could start and end between two looks).
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto m = wildcardManager(io, dir.path(), silent.local_endpoint().port());
  EXPECT_EQ(m->choose("dep-a.example.net", false).kind, CertChoice::Kind::kRefuse);
  m->start();
  for (int i = 0; i < 100 && m->choose("dep-a.example.net", false).kind != CertChoice::Kind::kWait;
       ++i) {
    io.run_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(m->choose("dep-a.example.net", false).kind, CertChoice::Kind::kWait)
      << "the wildcard is being ordered";
  m->stop();
  io.run_for(std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace pc::gateway
