#include "gateway/config.hpp"

#include <gtest/gtest.h>

namespace pc::gateway {
namespace {

TEST(GatewayConfig, DefaultsAreValid) {
  GatewayConfig c;
  EXPECT_TRUE(c.validate());
  EXPECT_EQ(c.httpPort, 8080);
  EXPECT_EQ(c.tls, "off");
  EXPECT_EQ(c.maxStreamsPerTunnel, 1024U);
  EXPECT_EQ(c.urlFor("dep-x"), "http://dep-x.localhost:8080/");
}

TEST(GatewayConfig, RelaySettings) {
  GatewayConfig c;
  EXPECT_EQ(c.relayCircuitDurationLimit.count(), 0);
  EXPECT_EQ(c.relayCircuitDataLimit, 0U);
  EXPECT_EQ(c.relayMaxConnectionsPerIp, 8U);
  auto r = applyToml(R"(
relay_max_reservations = 4
relay_reservation_ttl = "30m"
relay_max_circuits_per_reservation = 3
relay_max_circuits_per_source = 2
relay_new_circuits_per_second = 1.5
relay_circuit_duration_limit = "2h"
relay_circuit_data_limit = "1G"
relay_max_connections_per_ip = 0
)",
                     "gw.toml", c);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(c.validate());
  EXPECT_EQ(c.relayMaxReservations, 4U);
  EXPECT_EQ(c.relayReservationTtl.count(), 1800);
  EXPECT_EQ(c.relayMaxCircuitsPerReservation, 3U);
  EXPECT_EQ(c.relayMaxCircuitsPerSource, 2U);
  EXPECT_DOUBLE_EQ(c.relayNewCircuitsPerSecond, 1.5);
  EXPECT_EQ(c.relayCircuitDurationLimit.count(), 7200);
  EXPECT_EQ(c.relayCircuitDataLimit, 1ULL << 30);
  EXPECT_EQ(c.relayMaxConnectionsPerIp, 0U);
  c.relayReservationTtl = std::chrono::seconds(0);
  EXPECT_FALSE(c.validate());
}

TEST(GatewayConfig, DnsSettings) {
  GatewayConfig c;
  EXPECT_TRUE(c.dnsListen.empty());  // off unless given
  auto r = applyToml(R"(
domain = "example.org"
dns_listen = "[::]:53"
public_ip = ["192.0.2.1", "2001:db8::1"]
dns_ns = ["ns1.example.org", "ns2.example.net"]
dns_ttl = "30s"
dns_responses_per_second = 20
dns_response_burst = 40
dns_response_slip = 0
)",
                     "gw.toml", c);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(c.validate());
  EXPECT_EQ(c.publicIps.size(), 2U);
  EXPECT_EQ(c.dnsNs.size(), 2U);
  EXPECT_EQ(c.dnsTtl.count(), 30);
  EXPECT_DOUBLE_EQ(c.dnsResponsesPerSecond, 20);
  EXPECT_EQ(c.dnsResponseSlip, 0U);

  GatewayConfig noIp;
  noIp.dnsListen = "127.0.0.1:5353";
  auto v = noIp.validate();
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message().find("--public-ip"), std::string::npos);
  GatewayConfig badIp = noIp;
  badIp.publicIps = {"192.0.2.300"};
  EXPECT_FALSE(badIp.validate());
  GatewayConfig badListen = noIp;
  badListen.publicIps = {"192.0.2.3"};
  badListen.dnsListen = "localhost:53";
  EXPECT_FALSE(badListen.validate());
  GatewayConfig ipWithoutDns;
  ipWithoutDns.publicIps = {"192.0.2.3"};
  EXPECT_FALSE(ipWithoutDns.validate());
}

TEST(GatewayConfig, TomlOverridesKeyByKey) {
  GatewayConfig c;
  auto r = applyToml(R"(
domain = "pc.example"
bind = "127.0.0.1"
http_port = 80
https_port = 443
tunnel_listen = "/ip4/127.0.0.1/tcp/0"
tls = "acme"
acme_directory = "https://ca.example/dir"
acme_challenge = "tls-alpn-01"
acme_renew_before = "240h"
acme_max_orders_per_hour = 5
rate_per_ip = 2.5
burst_per_ip = 10
rate_per_host = 0
header_timeout = "3s"
idle_timeout = 30
max_streams_per_tunnel = 16
max_connections_per_ip = 0
)",
                     "gw.toml", c);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(c.domain, "pc.example");
  EXPECT_EQ(c.httpPort, 80);
  EXPECT_EQ(c.httpsPort, 443);
  EXPECT_EQ(c.acmeRenewBefore.count(), 240 * 3600);
  EXPECT_EQ(c.acmeMaxOrdersPerHour, 5U);
  EXPECT_DOUBLE_EQ(c.ratePerIp, 2.5);
  EXPECT_DOUBLE_EQ(c.burstPerIp, 10);
  EXPECT_DOUBLE_EQ(c.ratePerHost, 0);
  EXPECT_EQ(c.headerTimeout.count(), 3);
  EXPECT_EQ(c.idleTimeout.count(), 30);
  EXPECT_EQ(c.maxStreamsPerTunnel, 16U);
  EXPECT_EQ(c.maxConnectionsPerIp, 0U);
  EXPECT_TRUE(c.validate());
  EXPECT_EQ(c.urlFor("dep-x"), "https://dep-x.pc.example/");
}

TEST(GatewayConfig, ErrorsNameFileLineAndKey) {
  GatewayConfig c;
  auto r = applyToml("domain = \"x\"\nhttp_prot = 80\n", "gw.toml", c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("gw.toml:2: http_prot: unknown key"), std::string::npos)
      << r.error().message();
  r = applyToml("http_port = 70000\n", "gw.toml", c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("gw.toml:1: http_port:"), std::string::npos);
  r = applyToml("rate_per_ip = -1\n", "gw.toml", c);
  ASSERT_FALSE(r);
  r = applyToml("max_streams_per_tunnel = 0\n", "gw.toml", c);
  ASSERT_FALSE(r);
  r = applyToml("idle_timeout = \"forever\"\n", "gw.toml", c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("idle_timeout"), std::string::npos);
  r = applyToml("domain = [\n", "gw.toml", c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("gw.toml:"), std::string::npos);
}

TEST(GatewayConfig, ValidateRejectsNonsense) {
  GatewayConfig c;
  c.tls = "maybe";
  EXPECT_FALSE(c.validate());
  c = GatewayConfig{};
  c.tls = "static";
  c.httpsPort = 8443;
  EXPECT_FALSE(c.validate());  // no cert and key
  c = GatewayConfig{};
  c.domain = "a/b";
  EXPECT_FALSE(c.validate());
  c = GatewayConfig{};
  c.tls = "acme";
  c.httpsPort = 8443;
  c.acmeDirectory = "http://insecure/dir";
  EXPECT_FALSE(c.validate());
}

TEST(GatewayConfig, Dns01NeedsTheGatewaysDnsAndADomain) {
  GatewayConfig c;
  c.tls = "acme";
  c.httpsPort = 8443;
  c.acmeDirectory = "https://ca.example/dir";
  c.acmeChallenge = "dns-01";
  auto r = c.validate();  // neither dns_listen nor a domain
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("dns_listen"), std::string::npos);
  EXPECT_NE(r.error().message().find("--domain"), std::string::npos);
  c.dnsListen = "127.0.0.1:5353";
  c.publicIps = {"192.0.2.1"};
  EXPECT_FALSE(c.validate());  // the domain is still "localhost"
  c.domain = "pc.example.org";
  EXPECT_TRUE(c.validate()) << c.validate().error().message();
  c.dnsListen.clear();
  c.publicIps.clear();
  r = c.validate();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("dns_listen"), std::string::npos);
  c.acmeChallenge = "dns-02";
  r = c.validate();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("dns-01"), std::string::npos);
}

}  // namespace
}  // namespace pc::gateway
