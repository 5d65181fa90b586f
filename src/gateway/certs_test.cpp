#include "gateway/certs.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

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

}  // namespace
}  // namespace pc::gateway
