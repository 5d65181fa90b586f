// The Docker Engine API transport: one HTTP exchange per connection over the unix socket (the
// shared http::exchange), API version negotiation, engine-error wording and the "is it ours"
// check. Every Asio/Beast call of the module is in this file.
#include "runtime/docker_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/error.hpp>

#include "http/error.hpp"
#include "http/exchange.hpp"
#include "runtime/docker_api.hpp"
#include "runtime/error.hpp"
#include "runtime/json_lines.hpp"

namespace pc::runtime::docker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = pc::http;
using asio::awaitable;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
/// Largest status line + headers accepted from the engine.
constexpr std::size_t kMaxEngineHeader = 64 * 1024;
/// Largest non-streamed response body we buffer (inspect, list, stats documents).
constexpr std::size_t kMaxBufferedBody = 16U << 20;
/// Largest error body kept for the message.
constexpr std::size_t kMaxErrorBody = 64U << 10;
static_assert(kMaxErrorBody < kMaxBufferedBody);
static_assert(kMaxJsonMessage > kMaxEngineHeader);

/// A request to the engine: it ignores Host, but HTTP/1.1 requires one.
http::Request engineRequest(Verb method, const std::string& target, const std::string& body) {
  http::Request req;
  req.method = method;
  req.target = target;
  req.fields = {{"Host", "docker"}, {"User-Agent", "peercompute"}};
  if (!body.empty()) {
    req.fields.emplace_back("Content-Type", "application/json");
    req.body = body;
  }
  return req;
}

/// The http module's errors in the runtime's words: an answer over a limit stays kTooLarge,
/// anything else that is not HTTP is kProtocolError, a request we refused to send is
/// kInvalidSpec. Errors of the body consumer are already the runtime's and pass through.
Error inEngineWords(const Error& e, const std::string& socketPath, const std::string& what) {
  if (e.code().category() != http::httpCategory()) {
    return e;
  }
  if (e == http::Errc::kTooLarge) {
    return fail(Errc::kTooLarge, "the Docker engine's answer while " + what + ": " + e.message());
  }
  if (e == http::Errc::kInvalidRequest) {
    return fail(Errc::kInvalidSpec, "not sent to the Docker engine (" + what + "): " + e.message());
  }
  return fail(Errc::kProtocolError, "invalid HTTP from the Docker engine while " + what + ": " +
                                        e.message() + "; is " + socketPath +
                                        " really a Docker engine?");
}

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
  // The deadline covers connect, write and every read: basic_stream reports beast timeout.
  beast::basic_stream<asio::local::stream_protocol> stream(executor);
  stream.expires_at(deadline);
  const asio::local::stream_protocol::endpoint endpoint(options.socketPath);
  auto [cec] = co_await stream.async_connect(endpoint, kUseTuple);
  if (cec == beast::error::timeout) {
    co_return timedOut(what);
  }
  if (cec) {
    co_return unreachable(cec);
  }
  const auto req = engineRequest(method, target, body);
  Outcome out;
  const http::BodyFn deliver = [&](const http::ResponseDecoder& response,
                                   std::string_view chunk) -> Result<bool> {
    if (ok(response.status())) {
      return onBody ? onBody(chunk) : Result<bool>(true);
    }
    const std::size_t room = kMaxErrorBody - std::min(kMaxErrorBody, out.errorBody.size());
    out.errorBody.append(chunk.substr(0, room));
    return true;
  };
  const http::ResponseLimits limits{kMaxEngineHeader, std::nullopt};
  auto x = co_await http::exchange(stream, req, limits, deliver);
  if (!x) {
    co_return inEngineWords(x.error(), options.socketPath, what);
  }
  out.status = x->response.status();
  out.apiVersion = x->response.header("Api-Version");
  const auto& sec = x->streamError;
  if (x->failedAt == http::Step::kWrite) {
    co_return sec == beast::error::timeout ? timedOut(what) : unreachable(sec);
  }
  if (x->failedAt == http::Step::kRead) {
    if (sec != beast::error::timeout) {
      co_return fail(Errc::kDaemonUnreachable, "the connection to the Docker engine failed while " +
                                                   what + " (" + sec.message() +
                                                   "); check that dockerd is still running");
    }
    if (!deadlineEnds || !ok(out.status)) {
      co_return timedOut(what);
    }
    out.endedByDeadline = true;
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
  auto r = co_await call(Verb::get, target, kNoBody, what);
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
  auto r = co_await call(Verb::get, target, kNoBody, what);
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
