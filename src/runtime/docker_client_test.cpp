// The engine transport's own words for what the shared HTTP exchange reports: limits, the error
// body cut, a stream that ends at its deadline, a request that is never sent. A one-connection
// fake engine on a unix socket answers with scripted bytes.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "runtime/docker_client.hpp"
#include "runtime/error.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

namespace pc::runtime::docker {
namespace {

namespace asio = boost::asio;
using asio::local::stream_protocol;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

/// Accepts connections, reads each request head and answers `reply`; keeps the connection open
/// afterwards when `hang`.
class OneReplyEngine {
 public:
  OneReplyEngine(std::string reply, bool hang)
      : path_((dir_.path() / "docker.sock").string()),
        reply_(std::move(reply)),
        hang_(hang),
        acceptor_(io, stream_protocol::endpoint(path_)) {
    asio::co_spawn(io, accept(), asio::detached);
  }
  EngineClient client() const {
    DockerOptions o;
    o.socketPath = path_;
    o.requestTimeout = 5s;
    return EngineClient(o);
  }
  /// One buffered GET of `target`.
  Result<Buffered> get(const std::string& target) {
    auto c = client();
    const std::string what = "a test request";
    return test::run(io, c.call(Verb::get, target, EngineClient::kNoBody, what), 20s);
  }

  asio::io_context io;
  bool sawRequest = false;

 private:
  asio::awaitable<void> accept() {
    while (true) {
      auto [ec, sock] = co_await acceptor_.async_accept(kTuple);
      if (ec) co_return;
      std::string head;
      auto [rec, n] =
          co_await asio::async_read_until(sock, asio::dynamic_buffer(head), "\r\n\r\n", kTuple);
      (void)n;
      if (rec) continue;
      sawRequest = true;
      co_await asio::async_write(sock, asio::buffer(reply_), kTuple);
      if (hang_) {
        open_.push_back(std::move(sock));
      }
    }
  }
  test::TempDir dir_;
  std::string path_;
  std::string reply_;
  bool hang_;
  stream_protocol::acceptor acceptor_;
  std::vector<stream_protocol::socket> open_;
};

TEST(EngineClient, AHeaderOverTheLimitIsTooLarge) {
  OneReplyEngine fe("HTTP/1.1 200 OK\r\nX-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n", false);
  auto r = fe.get("/_ping");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kTooLarge)) << r.error().message();
}

TEST(EngineClient, GarbageIsAProtocolErrorNamingTheSocket) {
  OneReplyEngine fe("SSH-2.0-OpenSSH\r\n\r\n", false);
  auto r = fe.get("/_ping");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kProtocolError));
  EXPECT_NE(r.error().message().find("docker.sock really a Docker engine"), std::string::npos)
      << r.error().message();
}

TEST(EngineClient, AnErrorBodyIsKeptUpTo64KiB) {
  const std::string body(100 * 1024, 'e');
  OneReplyEngine fe(
      "HTTP/1.1 500 Oops\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
      false);
  auto r = fe.get("/containers/x/json");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->outcome.status, 500U);
  EXPECT_EQ(r->outcome.errorBody.size(), 64U * 1024);
  EXPECT_EQ(r->body, "");
}

TEST(EngineClient, AStreamEndsAtItsDeadlineOnlyWhenAsked) {
  const std::string reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nevent\n\r\n";
  for (const bool deadlineEnds : {true, false}) {
    OneReplyEngine fe(reply, true);
    auto c = fe.client();
    std::string got;
    const BodyFn onBody = [&](std::string_view b) -> Result<bool> {
      got.append(b);
      return true;
    };
    const std::string target = "/events";
    const std::string what = "following events";
    const auto deadline = c.deadlineIn(1s);
    auto r = test::run(
        fe.io,
        c.exchange(Verb::get, target, EngineClient::kNoBody, deadline, onBody, deadlineEnds, what),
        20s);
    EXPECT_EQ(got, "event\n");
    if (deadlineEnds) {
      ASSERT_TRUE(r) << r.error().message();
      EXPECT_TRUE(r->endedByDeadline);
      EXPECT_EQ(r->status, 200U);
    } else {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error(), make_error_code(Errc::kTimeout));
    }
  }
}

TEST(EngineClient, ARequestThatWouldSplitIsNotSent) {
  OneReplyEngine fe("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false);
  auto r = fe.get("/images/a\r\nX-Injected: 1/json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kInvalidSpec)) << r.error().message();
  EXPECT_FALSE(fe.sawRequest);
}

}  // namespace
}  // namespace pc::runtime::docker
