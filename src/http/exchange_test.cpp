// The shared exchange over a real socket pair: the server side reads the request's bytes and
// answers with scripted bytes (split, cut short, silent).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/error.hpp>

#include <optional>

#include "http/error.hpp"
#include "http/exchange.hpp"

namespace pc::http {
namespace {

namespace asio = boost::asio;
using Socket = asio::local::stream_protocol::socket;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

/// The server half: reads `expectBytes` bytes of request, writes `pieces` one by one, then
/// closes (or keeps the socket open when `hang`).
asio::awaitable<void> serve(Socket& s, std::size_t expectBytes, std::string& seen,
                            std::vector<std::string> pieces, bool hang) {
  seen.assign(expectBytes, '\0');
  auto [rec, rn] = co_await asio::async_read(s, asio::buffer(seen), kTuple);
  (void)rn;
  if (rec) co_return;
  for (const auto& p : pieces) {
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer(p), kTuple);
    (void)wn;
    if (wec) co_return;
  }
  if (!hang) {
    boost::system::error_code ignored;
    s.shutdown(Socket::shutdown_send, ignored);
  }
}

struct Run {
  std::optional<Result<Exchanged>> result;
  std::string seen;  // the request bytes the server received
  std::string body;  // what the consumer was given
};

Request get(const std::string& target) {
  Request r;
  r.target = target;
  r.fields = {{"Host", "test"}};
  return r;
}

/// What the server answers and how the client bounds it.
struct Script {
  std::vector<std::string> pieces;  ///< written one by one
  bool hang = false;                ///< keep the connection open afterwards
  ResponseLimits limits;
  std::size_t stopAfter = SIZE_MAX;  ///< the consumer stops once it holds this many body bytes
  std::chrono::milliseconds deadline = 5s;
};

/// One exchange of `req` against a server playing `script`.
Run run(const Request& req, Script script) {
  asio::io_context io;
  Socket client(io);
  Socket server(io);
  asio::local::connect_pair(client, server);
  Run out;
  const auto wire = render(req);
  asio::co_spawn(io, serve(server, wire ? wire->size() : 0, out.seen, script.pieces, script.hang),
                 asio::detached);
  boost::beast::basic_stream<asio::local::stream_protocol> stream(std::move(client));
  stream.expires_after(script.deadline);
  const BodyFn collect = [&](const ResponseDecoder&, std::string_view b) -> Result<bool> {
    out.body.append(b);
    return out.body.size() < script.stopAfter;
  };
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        out.result.emplace(co_await exchange(stream, req, script.limits, collect));
        stream.close();
        server.close();
      },
      asio::detached);
  io.run_for(10s);
  return out;
}

TEST(Exchange, SendsTheRequestAndStreamsTheBody) {
  Request req = get("/things");
  req.method = Verb::post;
  req.body = "{\"a\":1}";
  const std::string reply =
      "HTTP/1.1 201 Created\r\nLocation: /things/1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i < reply.size(); i += 7) pieces.push_back(reply.substr(i, 7));
  Script sc;
  sc.pieces = pieces;
  sc.hang = true;
  auto r = run(req, sc);  // the response ends it, not a close
  ASSERT_TRUE(r.result);
  ASSERT_TRUE(*r.result) << r.result->error().message();
  const auto& x = **r.result;
  EXPECT_EQ(r.seen, render(req).value());
  EXPECT_EQ(x.failedAt, Step::kNone);
  EXPECT_FALSE(x.stopped);
  EXPECT_EQ(x.response.status(), 201U);
  EXPECT_EQ(x.response.header("location").value_or(""), "/things/1");
  EXPECT_EQ(r.body, "hello world");
}

TEST(Exchange, ABodyRunsToEof) {
  Script sc;
  sc.pieces = {"HTTP/1.1 200 OK\r\n\r\nuntil", " close"};
  auto r = run(get("/"), sc);
  ASSERT_TRUE(*r.result) << r.result->error().message();
  EXPECT_TRUE((*r.result)->response.done());
  EXPECT_EQ(r.body, "until close");
}

TEST(Exchange, TheConsumerCanStopAStream) {
  Script sc;
  sc.pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123", "4567"};
  sc.hang = true;
  sc.stopAfter = 3;
  auto r = run(get("/logs"), sc);
  ASSERT_TRUE(*r.result) << r.result->error().message();
  EXPECT_TRUE((*r.result)->stopped);
  EXPECT_EQ((*r.result)->failedAt, Step::kNone);
}

TEST(Exchange, ACutResponseIsTruncated) {
  for (const auto& pieces :
       {std::vector<std::string>{},
        std::vector<std::string>{"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"}}) {
    Script sc;
    sc.pieces = pieces;
    auto r = run(get("/"), sc);
    ASSERT_FALSE(*r.result);
    EXPECT_EQ(r.result->error(), make_error_code(Errc::kTruncated)) << r.result->error().message();
  }
}

TEST(Exchange, LimitsApply) {
  Script sc;
  sc.pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n"};
  sc.hang = true;
  sc.limits = ResponseLimits{kDefaultMaxHeader, 1000};
  auto r = run(get("/"), sc);
  ASSERT_FALSE(*r.result);
  EXPECT_EQ(r.result->error(), make_error_code(Errc::kTooLarge));
}

TEST(Exchange, ASilentServerEndsAtTheStreamsDeadline) {
  Script sc;
  sc.pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234"};
  sc.hang = true;
  sc.deadline = 1s;
  auto r = run(get("/"), sc);
  ASSERT_TRUE(*r.result) << r.result->error().message();
  const auto& x = **r.result;
  EXPECT_EQ(x.failedAt, Step::kRead);
  EXPECT_EQ(x.streamError, boost::beast::error::timeout);
  // What arrived before the deadline is usable (a streamed body that ends at its window).
  EXPECT_EQ(x.response.status(), 200U);
  EXPECT_EQ(r.body, "01234");
}

TEST(Exchange, TheAnswerToHeadHasNoBody) {
  Request req = get("/new-nonce");
  req.method = Verb::head;
  Script sc;
  sc.pieces = {"HTTP/1.1 200 OK\r\nReplay-Nonce: n1\r\nContent-Length: 50\r\n\r\n"};
  sc.hang = true;
  auto r = run(req, sc);
  ASSERT_TRUE(*r.result) << r.result->error().message();
  EXPECT_TRUE((*r.result)->response.done());
  EXPECT_EQ((*r.result)->response.header("Replay-Nonce").value_or(""), "n1");
}

TEST(Exchange, AnInvalidRequestSendsNothing) {
  auto r = run(get("/a\r\nX: y"), Script());
  ASSERT_FALSE(*r.result);
  EXPECT_EQ(r.result->error(), make_error_code(Errc::kInvalidRequest));
  EXPECT_EQ(r.seen, "");
}

}  // namespace
}  // namespace pc::http
