#include "gateway/http_head.hpp"

#include <gtest/gtest.h>

#include "gateway/request_for_test.hpp"

namespace pc::gateway {
namespace {

TEST(HttpHead, UpstreamHeadDropsHopByHopAndRestatesFraming) {
  const auto req = parseRequest(
      "POST /up?x=1 HTTP/1.1\r\nHost: dep-abcdefghijklmnop.localhost\r\n"
      "Connection: keep-alive, X-Secret\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\n"
      "TE: trailers\r\nProxy-Authorization: Basic Zm9v\r\nX-Forwarded-For: 6.6.6.6\r\n"
      "Content-Length: 3\r\nAccept: */*\r\n\r\n");
  const std::string head =
      upstreamRequestHead(req, UpstreamFraming{11, false, 3, false},
                          Forwarding{"10.0.0.7", "https", "dep-abcdefghijklmnop.localhost", 443});
  EXPECT_EQ(head.rfind("POST /up?x=1 HTTP/1.1\r\n", 0), 0U);
  EXPECT_NE(head.find("Host: dep-abcdefghijklmnop.localhost\r\n"), std::string::npos);
  EXPECT_NE(head.find("Accept: */*\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-Forwarded-For: 10.0.0.7\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-Forwarded-Proto: https\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos);
  for (const char* gone : {"X-Secret", "Keep-Alive", "TE:", "Proxy-Authorization", "6.6.6.6"}) {
    EXPECT_EQ(head.find(gone), std::string::npos) << gone << " in\n" << head;
  }
  EXPECT_TRUE(head.ends_with("Connection: keep-alive\r\n\r\n"));
}

TEST(HttpHead, ClientForwardingFieldsNeverPassTheEdge) {
  // Every forwarding field a client may write, in any case and with '_' for '-' (CGI-style
  // servers read X_Real_IP as X-Real-IP): the deployment sees only the gateway's own.
  const auto req = parseRequest(
      "GET / HTTP/1.1\r\nHost: d.example.net:8443\r\nForwarded: for=6.6.6.6;proto=https\r\n"
      "X-Forwarded-Port: 1\r\nX-Forwarded-Prefix: /admin\r\nX-Forwarded-Ssl: on\r\n"
      "X-Real-IP: 6.6.6.6\r\nx_forwarded_for: 6.6.6.6\r\nX_Real_Ip: 6.6.6.6\r\n"
      "X-Forwarded-Host: evil\r\nX-Forwarded-Proto: https\r\nTrue-Client-IP: 6.6.6.6\r\n"
      "X-Client-IP: 6.6.6.6\r\nX-Forwarded-Server: evil\r\nX-Forwarded-Scheme: https\r\n\r\n");
  const std::string head = upstreamRequestHead(
      req, UpstreamFraming{}, Forwarding{"2001:db8::7", "http", "d.example.net:8443", 8443});
  for (const char* gone : {"6.6.6.6", "/admin", "Ssl", "evil", "_", "X-Forwarded-Port: 1\r"}) {
    EXPECT_EQ(head.find(gone), std::string::npos) << gone << " in\n" << head;
  }
  for (const char* set :
       {"X-Forwarded-For: 2001:db8::7\r\n", "X-Forwarded-Proto: http\r\n",
        "X-Forwarded-Host: d.example.net:8443\r\n", "X-Forwarded-Port: 8443\r\n",
        "X-Real-IP: 2001:db8::7\r\n",
        "Forwarded: for=\"[2001:db8::7]\";proto=http;host=\"d.example.net:8443\"\r\n"}) {
    EXPECT_NE(head.find(set), std::string::npos) << set << " not in\n" << head;
  }
  const std::string v4 = upstreamRequestHead(req, UpstreamFraming{},
                                             Forwarding{"10.1.2.3", "https", "d.example.net", 443});
  EXPECT_NE(v4.find("Forwarded: for=10.1.2.3;proto=https;host=d.example.net\r\n"),
            std::string::npos)
      << v4;
}

TEST(HttpHead, UpgradeKeepsItsHeaders) {
  const auto req = parseRequest(
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  const std::string head = upstreamRequestHead(req, UpstreamFraming{11, false, std::nullopt, true},
                                               Forwarding{"1.2.3.4", "http", "h", 80});
  EXPECT_NE(head.find("Connection: Upgrade\r\nUpgrade: websocket\r\n"), std::string::npos);
}

TEST(HttpHead, BareLineFeedsInResponseHeadsOnly) {
  Bytes b;
  const std::string raw = "HTTP/1.1 200 OK\nContent-Type: text/plain\n\nbody\nmore\n";
  b.assign(raw.begin(), raw.end());
  normalizeHeaderLineEnds(b, 1024);
  EXPECT_EQ(std::string(b.begin(), b.end()),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody\nmore\n");
  normalizeHeaderLineEnds(b, 1024);  // idempotent
  EXPECT_EQ(std::string(b.begin(), b.end()),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody\nmore\n");
  // Mixed line ends, a leading LF, and a limit that stops before the blank line.
  const std::string mixed = "\nA: 1\r\nB: 2\n\r\nbody\n";
  b.assign(mixed.begin(), mixed.end());
  normalizeHeaderLineEnds(b, 1024);
  EXPECT_EQ(std::string(b.begin(), b.end()), "\r\nA: 1\r\nB: 2\r\n\r\nbody\n");
  const std::string longer = "A: 1\nB: 2\n\n";
  b.assign(longer.begin(), longer.end());
  normalizeHeaderLineEnds(b, 7);
  EXPECT_EQ(std::string(b.begin(), b.end()), "A: 1\r\nB: 2\n\n");
}

/// The plan for a response head, as the relay makes it (request of HTTP `version`).
std::optional<ResponsePlan> plan(std::string_view text, unsigned version, bool keepAlive) {
  http::response_parser<http::empty_body> p;
  boost::system::error_code ec;
  p.put(boost::asio::buffer(text.data(), text.size()), ec);
  EXPECT_TRUE(p.is_header_done()) << ec.message();
  return planResponse(p, p.get().base(), version, keepAlive);
}

TEST(HttpHead, ResponsePlanRestatesFramingForTheClient) {
  auto p = plan("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\n", 11, true);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->head,
            "HTTP/1.1 200 OK\r\nX-A: b\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(p->keepAlive);
  EXPECT_TRUE(p->upstreamReusable);
  // Chunked for a 1.1 client; for a 1.0 client the body ends with the connection.
  p = plan("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 11, true);
  EXPECT_TRUE(p->chunked);
  p = plan("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 10, true);
  EXPECT_TRUE(p->closeDelimited);
  EXPECT_FALSE(p->keepAlive);
  EXPECT_EQ(p->head.rfind("HTTP/1.0 200 OK\r\n", 0), 0U);
  EXPECT_NE(p->head.find("Connection: close\r\n"), std::string::npos);
  // An upstream that closes after the response cannot carry the next request.
  p = plan("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", 11, true);
  EXPECT_FALSE(p->upstreamReusable);
  EXPECT_TRUE(p->keepAlive);
}

TEST(HttpHead, ResponsePlanForInterimAndSwitchingResponses) {
  auto p = plan("HTTP/1.1 100 Continue\r\n\r\n", 11, false);
  EXPECT_TRUE(p->informational);
  EXPECT_EQ(p->head, "HTTP/1.1 100 Continue\r\n\r\n");
  p = plan("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
           11, true);
  EXPECT_TRUE(p->switched);
  EXPECT_FALSE(p->informational);
  EXPECT_EQ(
      p->head,
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  EXPECT_FALSE(plan("HTTP/1.1 099 Odd\r\n\r\n", 11, true));
  EXPECT_FALSE(plan("HTTP/1.1 600 Odd\r\n\r\n", 11, true));
}

}  // namespace
}  // namespace pc::gateway
