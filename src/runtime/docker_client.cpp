// The Docker Engine API transport: one HTTP exchange per connection over the unix socket, API
// version negotiation, engine-error wording and the "is it ours" check. Every Asio/Beast call of
// the module is in this file.
#include "runtime/docker_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>

#include "runtime/docker_api.hpp"
#include "runtime/error.hpp"
#include "runtime/http_response.hpp"

namespace pc::runtime::docker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
/// Largest non-streamed response body we buffer (inspect, list, stats documents).
constexpr std::size_t kMaxBufferedBody = 16U << 20;
/// Largest error body kept for the message.
constexpr std::size_t kMaxErrorBody = 64U << 10;
static_assert(kMaxErrorBody < kMaxBufferedBody);

}  // namespace

Error EngineClient::unreachable(const boost::system::error_code& ec) const {
  std::string hint = "is dockerd running? start it, or set DOCKER_HOST=unix:///path/to/docker.sock";
  if (ec == asio::error::access_denied) {
    hint = "run as root or add this user to the docker group";
  }
  return fail(Errc::kDaemonUnreachable, "cannot connect to the Docker engine at " +
                                            options.socketPath + " (" + ec.message() + "); " +
                                            hint);
}

Error EngineClient::timedOut(std::string_view what) const {
  return fail(Errc::kTimeout, "the Docker engine did not finish " + std::string(what) +
                                  " in time; it may be overloaded — check `dockerd` and retry");
}

/// One HTTP exchange on a fresh connection. 2xx bodies go to `onBody` as they arrive; other
/// bodies are kept in `Outcome::errorBody`. With `deadlineEnds`, reaching the deadline after a
/// 2xx header ends the stream normally (follow logs, events).
awaitable<Result<Outcome>> EngineClient::exchange(Verb method, const std::string& target,
                                                  const std::string& body,
                                                  Clock::time_point deadline, const BodyFn& onBody,
                                                  bool deadlineEnds, const std::string& what) {
  auto executor = co_await asio::this_coro::executor;
  beast::basic_stream<asio::local::stream_protocol> stream(executor);
  stream.expires_at(deadline);
  const asio::local::stream_protocol::endpoint endpoint(options.socketPath);
  auto [cec] = co_await stream.async_connect(endpoint, kUseTuple);
  if (cec == beast::error::timeout) co_return timedOut(what);
  if (cec) co_return unreachable(cec);

  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "docker");
  req.set(http::field::user_agent, "peercompute");
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  auto [wec, written] = co_await http::async_write(stream, req, kUseTuple);
  (void)written;
  if (wec == beast::error::timeout) co_return timedOut(what);
  if (wec) co_return unreachable(wec);

  HttpResponseDecoder decoder;
  Outcome out;
  std::string chunk;
  std::array<char, 16 * 1024> buf{};
  bool eof = false;
  while (!decoder.done()) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(buf), kUseTuple);
    chunk.clear();
    if (rec == asio::error::eof) {
      if (auto r = decoder.feedEof(chunk); !r) co_return r.error();
      eof = true;
    } else if (rec == beast::error::timeout) {
      if (deadlineEnds && decoder.headerDone() && ok(decoder.status())) {
        out.status = decoder.status();
        out.endedByDeadline = true;
        co_return out;
      }
      co_return timedOut(what);
    } else if (rec) {
      co_return fail(Errc::kDaemonUnreachable, "the connection to the Docker engine failed while " +
                                                   what + " (" + rec.message() +
                                                   "); check that dockerd is still running");
    } else if (auto r = decoder.feed(std::string_view(buf.data(), n), chunk); !r) {
      co_return r.error();
    }
    if (decoder.headerDone() && out.status == 0) {
      out.status = decoder.status();
      out.apiVersion = decoder.header("Api-Version");
    }
    if (!chunk.empty()) {
      if (ok(out.status) && onBody) {
        auto more = onBody(chunk);
        if (!more) co_return more.error();
        if (!*more) co_return out;  // the consumer is done: closing the socket ends the stream
      } else if (!ok(out.status)) {
        const std::size_t room = kMaxErrorBody - std::min(kMaxErrorBody, out.errorBody.size());
        out.errorBody.append(chunk, 0, room);
      }
    }
    if (eof) break;
  }
  co_return out;
}

/// A buffered request: the 2xx body is returned whole (up to kMaxBufferedBody).
awaitable<Result<Buffered>> EngineClient::call(Verb method, const std::string& target,
                                               const std::string& body, const std::string& what,
                                               Clock::time_point deadline) {
  auto full = std::make_shared<std::string>();
  const BodyFn collect = [full](std::string_view b) -> Result<bool> {
    if (full->size() + b.size() > kMaxBufferedBody) {
      return fail(Errc::kTooLarge, "a response from the Docker engine exceeds " +
                                       std::to_string(kMaxBufferedBody) + " bytes");
    }
    full->append(b);
    return true;
  };
  auto r = co_await exchange(method, target, body, deadline, collect, false, what);
  if (!r) co_return r.error();
  co_return Buffered{std::move(*r), std::move(*full)};
}

awaitable<Result<Buffered>> EngineClient::call(Verb method, const std::string& target,
                                               const std::string& body, const std::string& what) {
  const auto deadline = deadlineIn(options.requestTimeout);
  co_return co_await call(method, target, body, what, deadline);
}

Error EngineClient::engineError(const Outcome& o, std::string_view what, Errc notFound,
                                std::string_view notFoundHint) const {
  const std::string msg = docker::engineMessage(o.errorBody);
  if (o.status == 404) {
    return fail(notFound, std::string(what) + ": " + msg + "; " + std::string(notFoundHint));
  }
  if (o.status == 409) return fail(Errc::kConflict, std::string(what) + ": " + msg);
  if (o.status == 400) {
    if (msg.find("client version") != std::string::npos) {
      return fail(Errc::kUnsupportedApi,
                  std::string(what) + ": " + msg + "; the engine refused our API version");
    }
    return fail(Errc::kEngineError,
                std::string(what) + ": the engine rejected the request: " + msg);
  }
  return fail(Errc::kEngineError, std::string(what) + ": the engine failed (HTTP " +
                                      std::to_string(o.status) + "): " + msg);
}

/// Negotiates once (GET /_ping → Api-Version) and returns the "/v1.xx" path prefix.
awaitable<Result<std::string>> EngineClient::prefix() {
  if (const int packed = api.load(); packed != 0) {
    co_return "/v" + docker::ApiVersion{packed / 1000, packed % 1000}.toString();
  }
  const std::string target = "/_ping";
  const std::string what = "answering a ping";
  auto r = co_await call(http::verb::get, target, kNoBody, what);
  if (!r) co_return r.error();
  if (!ok(r->outcome.status)) co_return engineError(r->outcome, "ping", Errc::kEngineError, "");
  if (!r->outcome.apiVersion) {
    co_return fail(Errc::kProtocolError,
                   "the engine's /_ping answer has no Api-Version header; is " +
                       options.socketPath + " a Docker engine?");
  }
  auto v = docker::negotiate(*r->outcome.apiVersion);
  if (!v) co_return v.error();
  api.store(v->major * 1000 + v->minor);
  co_return "/v" + v->toString();
}

/// Inspects `id` and refuses containers that are not ours: a caller must not be able to act on
/// the host's other containers (stop a database, read its logs) by guessing an id.
awaitable<Result<ContainerInfo>> EngineClient::owned(const std::string& id) {
  if (!docker::validObjectId(id)) {
    co_return fail(Errc::kNoSuchContainer,
                   "\"" + id.substr(0, 64) + "\" is not a valid container id");
  }
  auto pre = co_await prefix();
  if (!pre) co_return pre.error();
  const std::string target = *pre + "/containers/" + id + "/json";
  const std::string what = "inspecting a container";
  auto r = co_await call(http::verb::get, target, kNoBody, what);
  if (!r) co_return r.error();
  if (!ok(r->outcome.status)) {
    co_return engineError(r->outcome, "container " + id, Errc::kNoSuchContainer,
                          "it may have been removed; list deployments to see what runs");
  }
  auto info = docker::parseInspect(r->body);
  if (!info) co_return info.error();
  if (!info->managed) {
    co_return fail(Errc::kNoSuchContainer,
                   "container " + id + " is not managed by Peer Compute; refusing to touch it");
  }
  co_return info;
}

}  // namespace pc::runtime::docker
