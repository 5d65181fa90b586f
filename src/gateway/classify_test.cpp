#include "gateway/classify.hpp"

#include <gtest/gtest.h>

#include "gateway/request_for_test.hpp"

#include <boost/asio/io_context.hpp>

#include "crypto/identity.hpp"
#include "net/yamux/session.hpp"
#include "support/memory_stream.hpp"

namespace pc::gateway {
namespace {

const std::string kDep = "dep-abcdefghijklmnop";

/// A request for `target` with Host `host` and extra header lines.
http::request_header<> request(std::string_view method, std::string_view target,
                               std::string_view host, std::string_view extra = "") {
  return parseRequest(std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: " +
                      std::string(host) + "\r\n" + std::string(extra) + "\r\n");
}

const crypto::PeerId& provider() {
  static const crypto::PeerId p = crypto::Identity::generate().value().peerId();
  return p;
}

/// A provider connection without a session (closed until one is set).
std::shared_ptr<net::Connection> tunnelConn() {
  return std::make_shared<net::Connection>(net::Connection{
      provider(), {}, {}, false, {}, {}, nullptr, std::nullopt, std::nullopt, false});
}

class Classify : public ::testing::Test {
 protected:
  Classify() {
    options.domain = "example.net";
    // A tunnel whose session is open (never started: nothing runs), and one that is gone.
    open->session = std::make_shared<net::yamux::Session>(test::memoryPipe(io.get_executor()).first,
                                                          io.get_executor(), false, "test");
    routes.put(kDep, tunnel::RouteEntry{provider(), open, "http://x/", ""});
  }

  Classified run(const http::request_header<>& req, std::string_view scheme = "http",
                 std::string_view sni = "") {
    return classify(req, Arrival{scheme, "203.0.113.7", sni}, options, routes, take);
  }
  static Errc why(const Classified& c) { return std::get<Refusal>(c).why; }

  boost::asio::io_context io;
  FrontOptions options;
  tunnel::RouteTable routes;
  std::shared_ptr<net::Connection> open = tunnelConn();
  std::vector<std::pair<RateScope, std::string>> taken;
  int clientWait = 0;
  int deploymentWait = 0;
  RateTake take = [this](RateScope scope, const std::string& key) {
    taken.emplace_back(scope, key);
    return scope == RateScope::kClient ? clientWait : deploymentWait;
  };
};

TEST_F(Classify, RoutesARequestForAServedDeployment) {
  const auto c = run(request("GET", "/x", kDep + ".Example.NET:8080"));
  ASSERT_TRUE(std::holds_alternative<Route>(c));
  EXPECT_EQ(std::get<Route>(c).deploymentId, kDep);
  EXPECT_EQ(std::get<Route>(c).tunnel, open);
  const std::vector<std::pair<RateScope, std::string>> expected{{RateScope::kClient, "203.0.113.7"},
                                                                {RateScope::kDeployment, kDep}};
  EXPECT_EQ(taken, expected);
}

TEST_F(Classify, RefusesSmugglingShapesFirstAndLogsThem) {
  // Built by hand: Beast's parser refuses some of these shapes itself already.
  auto req = request("POST", "/", kDep + ".example.net");
  req.set(http::field::content_length, "3");
  req.set(http::field::transfer_encoding, "chunked");
  auto c = run(req);
  EXPECT_EQ(why(c), Errc::kAmbiguousFraming);
  EXPECT_EQ(std::get<Refusal>(c).logLine,
            "Content-Length with Transfer-Encoding (smuggling shape)");
  req.erase(http::field::content_length);
  req.set(http::field::transfer_encoding, "gzip");
  c = run(req);
  EXPECT_EQ(std::get<Refusal>(c).logLine, "Transfer-Encoding other than chunked: gzip");
  EXPECT_EQ(why(c), Errc::kUnsupportedTransferEncoding);
  EXPECT_EQ(statusOf(why(c)), 501);
  EXPECT_EQ(run(request("GET", "http://evil/", kDep + ".example.net")).index(), 0U);
  EXPECT_EQ(why(run(request("GET", "http://evil/", kDep + ".example.net"))), Errc::kNotOriginForm);
  EXPECT_EQ(why(run(request("CONNECT", "/", kDep + ".example.net"))), Errc::kNotOriginForm);
  EXPECT_TRUE(std::holds_alternative<Route>(run(request("OPTIONS", "*", kDep + ".example.net"))));
  EXPECT_TRUE(taken.size() == 2);  // only the OPTIONS request reached the rate limits
}

TEST_F(Classify, RefusesLenientHttpShapes) {
  // Two Host headers: we would route by one, the deployment might read the other.
  auto c = run(parseRequest("GET / HTTP/1.1\r\nHost: " + kDep +
                            ".example.net\r\nHost: other.example.net\r\n\r\n"));
  EXPECT_EQ(why(c), Errc::kHostCount);
  EXPECT_EQ(statusOf(why(c)), 400);
  EXPECT_EQ(std::get<Refusal>(c).logLine, "more than one Host header");
  EXPECT_EQ(why(run(parseRequest("GET / HTTP/1.1\r\n\r\n"))), Errc::kHostCount);
  // HTTP/1.0 without Host is allowed by 1.0 (and then names no deployment).
  EXPECT_EQ(why(run(parseRequest("GET / HTTP/1.0\r\n\r\n"))), Errc::kUnknownHost);
  // HTTP/1.0 with Transfer-Encoding: faulty framing (RFC 9112 §6.1).
  auto req = parseRequest("POST / HTTP/1.0\r\nHost: " + kDep + ".example.net\r\n\r\n");
  req.set(http::field::transfer_encoding, "chunked");
  c = run(req);
  EXPECT_EQ(why(c), Errc::kTransferEncodingOnHttp10);
  EXPECT_EQ(statusOf(why(c)), 400);
  EXPECT_FALSE(std::get<Refusal>(c).logLine.empty());
  EXPECT_TRUE(taken.empty());
}

TEST_F(Classify, OverTlsTheHostMustBeTheServerNameAsked) {
  const std::string name = kDep + ".example.net";
  EXPECT_TRUE(std::holds_alternative<Route>(run(request("GET", "/", name), "https", name)));
  EXPECT_TRUE(std::holds_alternative<Route>(
      run(request("GET", "/", kDep + ".Example.NET.:8443"), "https", name)));
  EXPECT_TRUE(std::holds_alternative<Route>(run(request("GET", "/", name), "https", "")));
  const auto c = run(request("GET", "/", name), "https", "dep-bbbbbbbbbbbbbbbb.example.net");
  EXPECT_EQ(why(c), Errc::kMisdirected);
  EXPECT_EQ(statusOf(why(c)), 421);
  EXPECT_EQ(render(std::get<Refusal>(c)).rfind("HTTP/1.1 421 Misdirected Request\r\n", 0), 0U);
  // Plain HTTP has no server name to match.
  EXPECT_TRUE(std::holds_alternative<Route>(run(request("GET", "/", name), "http", "x")));
}

TEST_F(Classify, AnswersAcmeChallengesOnPlainHttpOnly) {
  options.acmeHttp01 = [](std::string_view token) -> std::optional<std::string> {
    if (token == "tok") {
      return std::string("tok.key");
    }
    return std::nullopt;
  };
  options.redirectHttpsPort = 443;  // the challenge is answered before any redirect
  const auto c = run(request("GET", "/.well-known/acme-challenge/tok", "any.host"));
  ASSERT_TRUE(std::holds_alternative<AcmeAnswer>(c));
  EXPECT_EQ(std::get<AcmeAnswer>(c).keyAuthorization, "tok.key");
  EXPECT_EQ(why(run(request("GET", "/.well-known/acme-challenge/no", "any.host"))),
            Errc::kNoAcmeChallenge);
  options.redirectHttpsPort = 0;
  EXPECT_TRUE(std::holds_alternative<Route>(
      run(request("GET", "/.well-known/acme-challenge/tok", kDep + ".example.net"), "https")));
}

TEST_F(Classify, RedirectsPlainHttpWhenTheFrontServesHttps) {
  options.redirectHttpsPort = 8443;
  auto c = run(request("GET", "/a?b", "site.example.net:80"));
  ASSERT_TRUE(std::holds_alternative<Redirect>(c));
  EXPECT_EQ(std::get<Redirect>(c).location, "https://site.example.net:8443/a?b");
  options.redirectHttpsPort = 443;
  EXPECT_EQ(std::get<Redirect>(run(request("GET", "/", "h"))).location, "https://h/");
  EXPECT_EQ(why(run(request("GET", "/", ""))), Errc::kBadHost);
  EXPECT_TRUE(
      std::holds_alternative<Route>(run(request("GET", "/", kDep + ".example.net"), "https")));
  EXPECT_TRUE(taken.size() == 2);
}

TEST_F(Classify, UnknownHostsAreRefusedBeforeTheRateLimitsWithTheHostEscaped) {
  const auto c = run(request("GET", "/", "<b>.example.org"));
  EXPECT_EQ(why(c), Errc::kUnknownHost);
  EXPECT_NE(std::get<Refusal>(c).text.find("Unknown host &lt;b&gt;.example.org"),
            std::string::npos);
  EXPECT_TRUE(taken.empty());
}

TEST_F(Classify, RateLimitsComeBeforeTheRouteLookup) {
  clientWait = 3;
  auto c = run(request("GET", "/", "dep-zzzzzzzzzzzzzzzz.example.net"));
  EXPECT_EQ(why(c), Errc::kClientRateLimited);
  EXPECT_EQ(std::get<Refusal>(c).retryAfter, 3);
  clientWait = 0;
  deploymentWait = 2;
  c = run(request("GET", "/", "dep-zzzzzzzzzzzzzzzz.example.net"));
  EXPECT_EQ(why(c), Errc::kDeploymentRateLimited);
  EXPECT_EQ(statusOf(why(c)), 429);
  deploymentWait = 0;
  EXPECT_EQ(why(run(request("GET", "/", "dep-zzzzzzzzzzzzzzzz.example.net"))), Errc::kNoRoute);
  EXPECT_EQ(taken.size(), 5U);
}

TEST_F(Classify, AClosedTunnelIsABadGateway) {
  routes.put(kDep, tunnel::RouteEntry{provider(), tunnelConn(), "http://x/", ""});
  const auto c = run(request("GET", "/", kDep + ".example.net"));
  EXPECT_EQ(why(c), Errc::kProviderOffline);
  EXPECT_EQ(statusOf(why(c)), 502);
}

TEST(Answer, RendersEveryAnswerAsACompleteClosingResponse) {
  const std::string r = render(Refusal{Errc::kClientRateLimited, "Slow down.", 3});
  const std::string body =
      "<!doctype html><title>429 Too Many Requests</title><h1>429 Too Many Requests</h1>"
      "<p>Slow down.</p>\n";
  EXPECT_EQ(r,
            "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Content-Length: " +
                std::to_string(body.size()) +
                "\r\nConnection: close\r\nCache-Control: no-store\r\nRetry-After: 3\r\n\r\n" +
                body);
  EXPECT_EQ(render(Redirect{"https://h/"}).rfind("HTTP/1.1 308 Permanent Redirect\r\n", 0), 0U);
  EXPECT_NE(render(Redirect{"https://h/"}).find("\r\nLocation: https://h/\r\n"), std::string::npos);
  EXPECT_EQ(render(AcmeAnswer{"k"}),
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1\r\n"
            "Connection: close\r\n\r\nk");
  EXPECT_EQ(render(Refusal{Errc::kHeaderTooLarge, "x"})
                .rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0),
            0U);
  EXPECT_EQ(statusOf(Errc::kTunnelBusy), 503);
  EXPECT_EQ(statusOf(Errc::kMalformedBody), 400);
  EXPECT_EQ(make_error_code(Errc::kNoRoute).message(), "no route to the deployment");
}

}  // namespace
}  // namespace pc::gateway
