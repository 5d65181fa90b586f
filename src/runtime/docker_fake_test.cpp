// Protocol edge cases of DockerRuntime against a scripted fake engine on a unix socket: version
// negotiation, chunked and streamed bodies split anywhere, in-stream errors, deadlines, clean-up
// after partial failures, and refusal to touch containers that are not ours.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <optional>

#include "runtime/docker.hpp"
#include "runtime/error.hpp"
#include "runtime/log_frame.hpp"
#include "support/temp_dir.hpp"

namespace pc::runtime {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::local::stream_protocol;
using namespace std::chrono_literals;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
const std::string kHang = "<hang>";

struct Seen {
  std::string method;
  std::string target;  // without the /vX.Y prefix
  std::string version;
  std::string body;
};

std::string reply(int status, const std::string& body, const std::string& api = "1.41") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nApi-Version: " + api +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

std::string chunked(const std::vector<std::string>& chunks, bool end = true) {
  std::string out = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const auto& c : chunks) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%zx", c.size());
    out += std::string(hex) + "\r\n" + c + "\r\n";
  }
  if (end) out += "0\r\n\r\n";
  return out;
}

const std::string kOurs = R"({"Id":"abc123","Name":"/pc-dep","Config":{"Labels":{
  "peercompute.managed":"true","peercompute.deployment-id":"dep"}},"State":{"Status":"running"},
  "NetworkSettings":{"Ports":{"8080/tcp":[{"HostIp":"127.0.0.1","HostPort":"49160"}]}}})";

class FakeEngine {
 public:
  using Script = std::function<std::string(const Seen&)>;

  FakeEngine() : acceptor_(io) {
    path_ = (dir_.path() / "docker.sock").string();
    acceptor_.open();
    acceptor_.bind(stream_protocol::endpoint(path_));
    acceptor_.listen();
    asio::co_spawn(io, acceptLoop(), asio::detached);
  }

  DockerOptions options() const {
    DockerOptions o;
    o.socketPath = path_;
    o.requestTimeout = 2s;
    return o;
  }

  template <class T>
  T run(asio::awaitable<T> op) {
    std::optional<T> out;
    asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T v) {
      if (e) std::rethrow_exception(e);
      out.emplace(std::move(v));
      io.stop();
    });
    io.restart();
    io.run_for(20s);
    if (!out) throw std::runtime_error("operation did not finish");
    return std::move(*out);
  }

  bool saw(std::string_view method, std::string_view targetPrefix) const {
    for (const auto& s : seen) {
      if (s.method == method && s.target.starts_with(targetPrefix)) return true;
    }
    return false;
  }

  asio::io_context io;
  Script script;
  std::vector<Seen> seen;
  std::string api = "1.41";

 private:
  asio::awaitable<void> acceptLoop() {
    while (true) {
      auto [ec, sock] = co_await acceptor_.async_accept(kTuple);
      if (ec) co_return;
      asio::co_spawn(io, serve(std::move(sock)), asio::detached);
    }
  }

  asio::awaitable<void> serve(stream_protocol::socket sock) {
    boost::beast::flat_buffer buf;
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(sock, buf, req, kTuple);
    if (ec) co_return;
    Seen s{std::string(req.method_string()), std::string(req.target()), "", req.body()};
    if (s.target.starts_with("/v")) {
      const auto slash = s.target.find('/', 1);
      s.version = s.target.substr(2, slash - 2);
      s.target = s.target.substr(slash);
    }
    seen.push_back(s);
    std::string out;
    if (s.target == "/_ping") {
      out = "HTTP/1.1 200 OK\r\nApi-Version: " + api + "\r\nContent-Length: 2\r\n\r\nOK";
    } else if (s.target == "/version") {
      out = reply(200, R"({"Version":"20.10.24","ApiVersion":")" + api + R"(","Os":"linux"})");
    } else {
      out = script ? script(s) : reply(500, R"({"message":"unscripted"})");
    }
    // A response ending in kHang is written without its marker and the connection stays open
    // (a silent engine, or a stream that has nothing more to say yet).
    const bool hang = out.ends_with(kHang);
    if (hang) out.resize(out.size() - kHang.size());
    co_await asio::async_write(sock, asio::buffer(out), kTuple);
    if (hang) {
      hanging_.push_back(std::move(sock));
      co_return;
    }
    boost::system::error_code ignored;
    sock.shutdown(stream_protocol::socket::shutdown_both, ignored);
  }

  test::TempDir dir_;
  std::string path_;
  stream_protocol::acceptor acceptor_;
  std::vector<stream_protocol::socket> hanging_;
};

ContainerSpec spec() {
  ContainerSpec s;
  s.deploymentId = "dep";
  s.requesterId = "peer1";
  s.image = "busybox";
  s.exposedPort = 8080;
  return s;
}

TEST(DockerFake, NegotiatesTheApiVersion) {
  for (auto [engine, want] : {std::pair{"1.41", "1.41"}, {"1.44", "1.44"}, {"1.51", "1.47"}}) {
    FakeEngine fe;
    fe.api = engine;
    fe.script = [](const Seen&) { return reply(200, "[]"); };
    DockerRuntime rt(fe.options());
    auto info = fe.run(rt.ping());
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info->apiVersion, want);
    EXPECT_EQ(info->engineApiVersion, engine);
    ASSERT_TRUE(fe.run(rt.listOwned()));
    EXPECT_EQ(fe.seen.back().version, want);
    EXPECT_NE(fe.seen.back().target.find("peercompute.managed%3Dtrue"), std::string::npos);
  }
}

TEST(DockerFake, RefusesAnEngineThatIsTooOld) {
  FakeEngine fe;
  fe.api = "1.38";
  DockerRuntime rt(fe.options());
  auto r = fe.run(rt.listOwned());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kUnsupportedApi));
  EXPECT_NE(r.error().message().find("upgrade the engine"), std::string::npos);
}

TEST(DockerFake, UnreachableDaemonSaysWhatToDo) {
  DockerOptions o;
  o.socketPath = "/nonexistent/dir/docker.sock";
  DockerRuntime rt(o);
  asio::io_context io;
  std::optional<Result<EngineInfo>> out;
  asio::co_spawn(io, rt.ping(), [&](std::exception_ptr, Result<EngineInfo> r) { out = r; });
  io.run_for(10s);
  ASSERT_TRUE(out);
  ASSERT_FALSE(*out);
  EXPECT_EQ(out->error(), make_error_code(Errc::kDaemonUnreachable));
  EXPECT_NE(out->error().message().find("/nonexistent/dir/docker.sock"), std::string::npos);
  EXPECT_NE(out->error().message().find("DOCKER_HOST"), std::string::npos);
}

TEST(DockerFake, CreateAndStartHappyPath) {
  FakeEngine fe;
  fe.script = [](const Seen& s) {
    if (s.target.starts_with("/images/docker.io/library/busybox:latest/json")) {
      return reply(200, R"({"Config":{"Volumes":{"/data":{}}}})");
    }
    if (s.target == "/networks/create") return reply(201, R"({"Id":"net1"})");
    if (s.target.starts_with("/containers/create?name=pc-dep"))
      return reply(201, R"({"Id":"abc123"})");
    if (s.target == "/containers/abc123/start") return reply(204, "");
    if (s.target == "/containers/abc123/json") return reply(200, kOurs);
    return reply(500, R"({"message":"unexpected"})");
  };
  DockerRuntime rt(fe.options());
  auto r = fe.run(rt.createAndStart(spec()));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->id, "abc123");
  EXPECT_EQ(r->hostPort.value_or(0), 49160);
  std::string createBody;
  for (const auto& s : fe.seen) {
    if (s.target.starts_with("/containers/create")) createBody = s.body;
  }
  EXPECT_NE(createBody.find(R"("CapDrop":["ALL"])"), std::string::npos);
  EXPECT_NE(createBody.find(R"("/data":"rw,noexec,nosuid,nodev,mode=1777,size=)"),
            std::string::npos);
  EXPECT_NE(createBody.find(R"("HostIp":"127.0.0.1")"), std::string::npos);
}

TEST(DockerFake, MissingImageIsReportedBeforeAnythingIsCreated) {
  FakeEngine fe;
  fe.script = [](const Seen&) {
    return reply(404, R"({"message":"No such image: busybox:latest"})");
  };
  DockerRuntime rt(fe.options());
  auto r = fe.run(rt.createAndStart(spec()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kImageNotFound));
  EXPECT_NE(r.error().message().find("pull it first"), std::string::npos);
  EXPECT_FALSE(fe.saw("POST", "/networks/create"));
}

TEST(DockerFake, FailedCreateRemovesTheNetwork) {
  FakeEngine fe;
  fe.script = [](const Seen& s) {
    if (s.target.starts_with("/images/")) return reply(200, "{}");
    if (s.target == "/networks/create") return reply(201, R"({"Id":"net1"})");
    if (s.target.starts_with("/containers/create")) {
      return reply(409,
                   R"({"message":"Conflict. The container name \"/pc-dep\" is already in use"})");
    }
    return reply(204, "");
  };
  DockerRuntime rt(fe.options());
  auto r = fe.run(rt.createAndStart(spec()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kConflict));
  EXPECT_NE(r.error().message().find("already in use"), std::string::npos);
  EXPECT_TRUE(fe.saw("DELETE", "/networks/pc-dep"));
}

TEST(DockerFake, FailedStartRemovesContainerAndNetwork) {
  FakeEngine fe;
  fe.script = [](const Seen& s) {
    if (s.target.starts_with("/images/")) return reply(200, "{}");
    if (s.target == "/networks/create") return reply(201, R"({"Id":"net1"})");
    if (s.target.starts_with("/containers/create")) return reply(201, R"({"Id":"abc123"})");
    if (s.target == "/containers/abc123/start") {
      return reply(500, R"({"message":"OCI runtime create failed: unknown runtime runsc"})");
    }
    return reply(204, "");
  };
  DockerRuntime rt(fe.options());
  auto r = fe.run(rt.createAndStart(spec()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kEngineError));
  EXPECT_NE(r.error().message().find("unknown runtime runsc"), std::string::npos);
  EXPECT_TRUE(fe.saw("DELETE", "/containers/abc123?force=1"));
  EXPECT_TRUE(fe.saw("DELETE", "/networks/pc-dep"));
}

TEST(DockerFake, AdoptsOwnLeftoverNetworkButNotAForeignOne) {
  for (bool ours : {true, false}) {
    FakeEngine fe;
    fe.script = [ours](const Seen& s) {
      if (s.target.starts_with("/images/")) return reply(200, "{}");
      if (s.target == "/networks/create") return reply(409, R"({"message":"network exists"})");
      if (s.target == "/networks/pc-dep") {
        return reply(
            200,
            ours ? R"({"Labels":{"peercompute.managed":"true","peercompute.deployment-id":"dep"}})"
                 : R"({"Labels":{}})");
      }
      if (s.target.starts_with("/containers/create")) return reply(201, R"({"Id":"abc123"})");
      if (s.target == "/containers/abc123/start") return reply(204, "");
      return reply(200, kOurs);
    };
    DockerRuntime rt(fe.options());
    auto r = fe.run(rt.createAndStart(spec()));
    EXPECT_EQ(r.has_value(), ours) << (r ? "" : r.error().message());
    if (!ours) {
      EXPECT_EQ(r.error(), make_error_code(Errc::kConflict));
    }
  }
}

TEST(DockerFake, LogsDemultiplexAcrossArbitraryChunks) {
  const std::string wire = encodeLogFrame(1, "2024-05-01T10:00:00.000000001Z out one\n") +
                           encodeLogFrame(2, "2024-05-01T10:00:00.000000002Z err one\n") +
                           encodeLogFrame(1, "2024-05-01T10:00:00.000000003Z out two\n");
  for (std::size_t cut : {1U, 3U, 8U, 13U, 50U}) {
    std::vector<std::string> chunks;
    for (std::size_t i = 0; i < wire.size(); i += cut) chunks.push_back(wire.substr(i, cut));
    FakeEngine fe;
    fe.script = [&](const Seen& s) {
      if (s.target == "/containers/abc123/json") return reply(200, kOurs);
      return chunked(chunks);
    };
    DockerRuntime rt(fe.options());
    std::vector<LogEntry> got;
    auto r = fe.run(rt.logs("abc123", {}, [&](const LogEntry& e) {
      got.push_back(e);
      return true;
    }));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(got.size(), 3U) << cut;
    EXPECT_EQ(got[0].text, "out one");
    EXPECT_EQ(got[1].text, "err one");
    EXPECT_EQ(got[1].stream, LogStream::kStderr);
    EXPECT_EQ(got[2].stream, LogStream::kStdout);
    EXPECT_TRUE(got[2].time);
    EXPECT_NE(fe.seen.back().target.find("timestamps=1"), std::string::npos);
  }
}

// Issue 14 item 9: a `since` that is not a time the engine can take is a clear error before any
// request (a negative one used to make the query text throw inside the coroutine).
TEST(DockerFake, LogsSinceBefore1970IsRefused) {
  FakeEngine fe;
  fe.script = [](const Seen& s) {
    if (s.target == "/containers/abc123/json") return reply(200, kOurs);
    return chunked({});
  };
  DockerRuntime rt(fe.options());
  LogOptions opts;
  opts.since = SystemTime(std::chrono::nanoseconds(-1'500'000'000));
  auto r = fe.run(rt.logs("abc123", opts, [](const LogEntry&) { return true; }));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kInvalidSpec));
  EXPECT_NE(r.error().message().find("since"), std::string::npos);
  EXPECT_TRUE(fe.seen.empty());
  // A valid one goes out as seconds and nanoseconds.
  opts.since = SystemTime(std::chrono::nanoseconds(1'700'000'000'000'000'007));
  ASSERT_TRUE(fe.run(rt.logs("abc123", opts, [](const LogEntry&) { return true; })));
  EXPECT_NE(fe.seen.back().target.find("&since=1700000000.000000007"), std::string::npos)
      << fe.seen.back().target;
}

TEST(DockerFake, InspectAndRemoveImage) {
  FakeEngine fe;
  fe.script = [](const Seen& s) {
    if (s.method == "GET" && s.target == "/images/127.0.0.1:5055/a/b:1/json") {
      return reply(200, R"({"Id":"sha256:1","Size":1234})");
    }
    if (s.method == "DELETE" && s.target == "/images/127.0.0.1:5055/a/b:1") {
      return reply(409, R"({"message":"image is being used by running container 0123"})");
    }
    return reply(404, R"({"message":"No such image"})");
  };
  DockerRuntime rt(fe.options());
  auto present = fe.run(rt.inspectImage("127.0.0.1:5055/a/b:1"));
  ASSERT_TRUE(present) << present.error().message();
  ASSERT_TRUE(*present);
  EXPECT_EQ((*present)->sizeBytes, 1234U);
  auto absent = fe.run(rt.inspectImage("127.0.0.1:5055/a/c:1"));
  ASSERT_TRUE(absent) << absent.error().message();
  EXPECT_FALSE(*absent);
  EXPECT_EQ(fe.run(rt.removeImage("127.0.0.1:5055/a/b:1")).error(),
            make_error_code(Errc::kConflict));
  EXPECT_EQ(fe.run(rt.removeImage("127.0.0.1:5055/a/c:1")).error(),
            make_error_code(Errc::kImageNotFound));
}

TEST(DockerFake, TtyStyleLogsAreAClearError) {
  FakeEngine fe;
  fe.script = [](const Seen& s) {
    if (s.target == "/containers/abc123/json") return reply(200, kOurs);
    return chunked({"plain text output\n"});
  };
  DockerRuntime rt(fe.options());
  auto r = fe.run(rt.logs("abc123", {}, [](const LogEntry&) { return true; }));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kProtocolError));
}

TEST(DockerFake, PullReportsProgressThenTheInStreamError) {
  FakeEngine fe;
  fe.script = [](const Seen&) {
    return chunked(
        {R"({"status":"Pulling from library/busybox","id":"latest"})"
         "\n"
         R"({"status":"Downloading","progressDetail":{"current":5,"total":10},"id":"l1"})",
         "\n"
         R"({"errorDetail":{"message":"unauthorized: authentication required"},)",
         R"("error":"unauthorized: authentication required"})"
         "\n"});
  };
  DockerRuntime rt(fe.options());
  std::vector<PullProgress> progress;
  auto r = fe.run(rt.pull("busybox", [&](const PullProgress& p) { progress.push_back(p); }));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kPullFailed));
  EXPECT_NE(r.error().message().find("authentication required"), std::string::npos);
  EXPECT_NE(r.error().message().find("docker.io/library/busybox:latest"), std::string::npos);
  ASSERT_EQ(progress.size(), 2U);
  EXPECT_EQ(progress[1].current, 5U);
  EXPECT_EQ(fe.seen.back().target,
            "/images/create?fromImage=docker.io%2Flibrary%2Fbusybox&tag=latest");
}

TEST(DockerFake, PullByDigestPullsTheDigest) {
  FakeEngine fe;
  fe.script = [](const Seen&) { return chunked({R"({"status":"Status: Image is up to date"})"}); };
  DockerRuntime rt(fe.options());
  const std::string digest = "sha256:" + std::string(64, 'b');
  ASSERT_TRUE(fe.run(rt.pull("busybox:1.36@" + digest, nullptr)));
  EXPECT_NE(fe.seen.back().target.find("&tag=sha256%3A" + std::string(64, 'b')), std::string::npos);
}

TEST(DockerFake, EventsEndNormallyAtTheirWindow) {
  FakeEngine fe;
  fe.script = [](const Seen&) {
    // Header and one event, then nothing: the stream stays open like a real engine's.
    return chunked(
               {R"({"Type":"container","Action":"die","Actor":{"ID":"abc123","Attributes":{"exitCode":"1"}},"timeNano":1})"
                "\n"},
               false) +
           kHang;
  };
  DockerRuntime rt(fe.options());
  std::vector<Event> got;
  auto r = fe.run(rt.events({std::nullopt, 1s}, [&](const Event& e) {
    got.push_back(e);
    return true;
  }));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].kind, EventKind::kDie);
  EXPECT_EQ(got[0].exitCode.value_or(0), 1);
}

TEST(DockerFake, SilentEngineHitsTheRequestDeadline) {
  FakeEngine fe;
  fe.script = [](const Seen&) { return kHang; };
  DockerRuntime rt(fe.options());
  auto r = fe.run(rt.inspect("abc123"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kTimeout));
}

TEST(DockerFake, GarbageAndTruncatedResponsesAreProtocolErrors) {
  for (std::string out : {std::string("NOT HTTP AT ALL\r\n\r\n"),
                          std::string("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Id\":"),
                          chunked({"{\"Id\":"}, false) + "5\r\nab"}) {
    FakeEngine fe;
    fe.script = [&](const Seen&) { return out; };
    DockerRuntime rt(fe.options());
    auto r = fe.run(rt.inspect("abc123"));
    ASSERT_FALSE(r) << out;
    EXPECT_EQ(r.error(), make_error_code(Errc::kProtocolError)) << r.error().message();
  }
}

TEST(DockerFake, ForeignContainersAndBadIdsAreNeverTouched) {
  FakeEngine fe;
  fe.script = [](const Seen& s) {
    if (s.target == "/containers/db/json") {
      return reply(
          200,
          R"({"Id":"db","Config":{"Labels":{"app":"postgres"}},"State":{"Status":"running"}})");
    }
    return reply(204, "");
  };
  DockerRuntime rt(fe.options());
  auto r = fe.run(rt.stop("db", 1s));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kNoSuchContainer));
  EXPECT_FALSE(fe.saw("POST", "/containers/db/stop"));
  auto rm = fe.run(rt.remove("db"));
  ASSERT_FALSE(rm);
  EXPECT_FALSE(fe.saw("DELETE", "/containers/db"));
  const auto before = fe.seen.size();
  for (std::string bad : {"../../images/busybox", "a/b", "x?force=1", ""}) {
    auto b = fe.run(rt.remove(bad));
    ASSERT_FALSE(b) << bad;
    EXPECT_EQ(b.error(), make_error_code(Errc::kNoSuchContainer));
  }
  EXPECT_EQ(fe.seen.size(), before);  // none of them reached the engine
}

TEST(DockerFake, StopUsesGraceAndAcceptsAlreadyStopped) {
  FakeEngine fe;
  fe.script = [](const Seen& s) {
    if (s.target == "/containers/abc123/json") return reply(200, kOurs);
    return reply(304, "");
  };
  DockerRuntime rt(fe.options());
  ASSERT_TRUE(fe.run(rt.stop("abc123", 7s)));
  EXPECT_TRUE(fe.saw("POST", "/containers/abc123/stop?t=7"));
}

TEST(DockerFake, NoSuchContainerIsNamed) {
  FakeEngine fe;
  fe.script = [](const Seen&) { return reply(404, R"({"message":"No such container: zzz"})"); };
  DockerRuntime rt(fe.options());
  auto r = fe.run(rt.stats("zzz"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kNoSuchContainer));
  EXPECT_NE(r.error().message().find("No such container: zzz"), std::string::npos);
}

}  // namespace
}  // namespace pc::runtime
