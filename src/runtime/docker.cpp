// DockerRuntime: the Engine API over a unix socket. All Asio/Beast code of the module is here;
// request bodies and response parsing are pure functions in docker_api.cpp.
#include "runtime/docker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <functional>

#include "runtime/docker_api.hpp"
#include "runtime/error.hpp"
#include "runtime/http_response.hpp"
#include "runtime/log_frame.hpp"

namespace pc::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
/// Largest non-streamed response body we buffer (inspect, list, stats documents).
constexpr std::size_t kMaxBufferedBody = 16U << 20;
/// Largest error body kept for the message.
constexpr std::size_t kMaxErrorBody = 64U << 10;
static_assert(kMaxErrorBody < kMaxBufferedBody);

/// Body consumer for 2xx responses: false stops the stream (not an error).
using BodyFn = std::function<Result<bool>(std::string_view)>;

struct Outcome {
  unsigned status = 0;
  std::string errorBody;  // body of a non-2xx response
  std::optional<std::string> apiVersion;
  bool endedByDeadline = false;
};

bool ok(unsigned status) { return status >= 200 && status < 300; }

std::string nanosSince(SystemTime t) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  const auto sec = ns / 1'000'000'000;
  auto frac = std::to_string(ns % 1'000'000'000);
  frac.insert(0, 9 - frac.size(), '0');
  return std::to_string(sec) + "." + frac;
}

}  // namespace

Result<DockerOptions> DockerOptions::fromEnvironment() {
  DockerOptions o;
  if (const char* host = std::getenv("DOCKER_HOST"); host && *host) {
    std::string_view h(host);
    if (!h.starts_with("unix://") || h.size() <= 7) {
      return fail(Errc::kInvalidSpec, "DOCKER_HOST=" + std::string(h) +
                                          " is not supported: only unix:///path/to/docker.sock "
                                          "engines can be used; unset DOCKER_HOST or point it at "
                                          "the local socket");
    }
    o.socketPath = std::string(h.substr(7));
  }
  return o;
}

struct DockerRuntime::Impl {
  explicit Impl(DockerOptions o) : options(std::move(o)) {}
  DockerOptions options;
  // Negotiated version packed as major*1000+minor; 0 = not negotiated yet. Atomic so concurrent
  // first calls race harmlessly (both negotiate the same value).
  std::atomic<int> api{0};

  Clock::time_point deadlineIn(std::chrono::seconds s) const { return Clock::now() + s; }

  Error unreachable(const boost::system::error_code& ec) const {
    std::string hint =
        "is dockerd running? start it, or set DOCKER_HOST=unix:///path/to/docker.sock";
    if (ec == asio::error::access_denied) {
      hint = "run as root or add this user to the docker group";
    }
    return fail(Errc::kDaemonUnreachable, "cannot connect to the Docker engine at " +
                                              options.socketPath + " (" + ec.message() + "); " +
                                              hint);
  }

  Error timedOut(std::string_view what) const {
    return fail(Errc::kTimeout, "the Docker engine did not finish " + std::string(what) +
                                    " in time; it may be overloaded — check `dockerd` and retry");
  }

  /// One HTTP exchange on a fresh connection. 2xx bodies go to `onBody` as they arrive; other
  /// bodies are kept in `Outcome::errorBody`. With `deadlineEnds`, reaching the deadline after a
  /// 2xx header ends the stream normally (follow logs, events).
  awaitable<Result<Outcome>> exchange(http::verb method, std::string target, std::string body,
                                      Clock::time_point deadline, BodyFn onBody, bool deadlineEnds,
                                      std::string_view what) {
    auto executor = co_await asio::this_coro::executor;
    beast::basic_stream<asio::local::stream_protocol> stream(executor);
    stream.expires_at(deadline);
    auto [cec] = co_await stream.async_connect(
        asio::local::stream_protocol::endpoint(options.socketPath), kUseTuple);
    if (cec == beast::error::timeout) co_return timedOut(what);
    if (cec) co_return unreachable(cec);

    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "docker");
    req.set(http::field::user_agent, "peercompute");
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = std::move(body);
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
        co_return fail(Errc::kDaemonUnreachable,
                       "the connection to the Docker engine failed while " + std::string(what) +
                           " (" + rec.message() + "); check that dockerd is still running");
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
          out.errorBody.append(
              chunk.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, out.errorBody.size())));
        }
      }
      if (eof) break;
    }
    co_return out;
  }

  /// A buffered request: the 2xx body is returned whole (up to kMaxBufferedBody).
  awaitable<Result<std::pair<Outcome, std::string>>> call(
      http::verb method, std::string target, std::string body, std::string_view what,
      std::optional<Clock::time_point> deadline = {}) {
    auto full = std::make_shared<std::string>();
    BodyFn collect = [full](std::string_view b) -> Result<bool> {
      if (full->size() + b.size() > kMaxBufferedBody) {
        return fail(Errc::kTooLarge, "a response from the Docker engine exceeds " +
                                         std::to_string(kMaxBufferedBody) + " bytes");
      }
      full->append(b);
      return true;
    };
    auto r = co_await exchange(method, std::move(target), std::move(body),
                               deadline.value_or(deadlineIn(options.requestTimeout)), collect,
                               false, what);
    if (!r) co_return r.error();
    co_return std::pair<Outcome, std::string>{std::move(*r), std::move(*full)};
  }

  Error engineError(const Outcome& o, std::string_view what, Errc notFound,
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

  awaitable<Result<docker::ApiVersion>> ensureApi() {
    if (const int packed = api.load(); packed != 0) {
      co_return docker::ApiVersion{packed / 1000, packed % 1000};
    }
    auto r = co_await call(http::verb::get, "/_ping", {}, "the ping");
    if (!r) co_return r.error();
    auto& [o, body] = *r;
    if (!ok(o.status)) co_return engineError(o, "ping", Errc::kEngineError, "");
    if (!o.apiVersion) {
      co_return fail(Errc::kProtocolError,
                     "the engine's /_ping answer has no Api-Version header; is " +
                         options.socketPath + " a Docker engine?");
    }
    auto v = docker::negotiate(*o.apiVersion);
    if (!v) co_return v.error();
    api.store(v->major * 1000 + v->minor);
    co_return *v;
  }

  awaitable<Result<std::string>> versioned(std::string path) {
    auto v = co_await ensureApi();
    if (!v) co_return v.error();
    co_return "/v" + v->toString() + path;
  }

  /// Inspects `id` and refuses containers that are not ours: a caller must not be able to act on
  /// the host's other containers (stop a database, read its logs) by guessing an id.
  awaitable<Result<ContainerInfo>> owned(const std::string& id) {
    if (!docker::validObjectId(id)) {
      co_return fail(Errc::kNoSuchContainer,
                     "\"" + id.substr(0, 64) + "\" is not a valid container id");
    }
    auto target = co_await versioned("/containers/" + id + "/json");
    if (!target) co_return target.error();
    auto r = co_await call(http::verb::get, *target, {}, "inspecting a container");
    if (!r) co_return r.error();
    auto& [o, body] = *r;
    if (!ok(o.status)) {
      co_return engineError(o, "container " + id, Errc::kNoSuchContainer,
                            "it may have been removed; list deployments to see what runs");
    }
    auto info = docker::parseInspect(body);
    if (!info) co_return info.error();
    if (!info->managed) {
      co_return fail(Errc::kNoSuchContainer,
                     "container " + id + " is not managed by Peer Compute; refusing to touch it");
    }
    co_return info;
  }

  awaitable<Result<void>> removeNetwork(const std::string& deploymentId) {
    auto target = co_await versioned("/networks/" + docker::objectName(deploymentId));
    if (!target) co_return target.error();
    auto r = co_await call(http::verb::delete_, *target, {}, "removing a network");
    if (!r) co_return r.error();
    if (!ok(r->first.status) && r->first.status != 404) {
      co_return engineError(r->first, "removing network " + docker::objectName(deploymentId),
                            Errc::kEngineError, "");
    }
    co_return Result<void>{};
  }

  awaitable<Result<void>> forceRemove(const std::string& id) {
    auto target = co_await versioned("/containers/" + id + "?force=1&v=1");
    if (!target) co_return target.error();
    auto r = co_await call(http::verb::delete_, *target, {}, "removing a container");
    if (!r) co_return r.error();
    if (!ok(r->first.status)) {
      co_return engineError(r->first, "removing container " + id, Errc::kNoSuchContainer,
                            "it is already gone");
    }
    co_return Result<void>{};
  }

  /// Creates the deployment network, or adopts one we created earlier for the same deployment
  /// (left by a crash between network and container creation). Returns whether it is new.
  awaitable<Result<bool>> ensureNetwork(const ContainerSpec& spec) {
    auto target = co_await versioned("/networks/create");
    if (!target) co_return target.error();
    auto r = co_await call(http::verb::post, *target, docker::buildNetworkBody(spec),
                           "creating the deployment network");
    if (!r) co_return r.error();
    if (ok(r->first.status)) co_return true;
    if (r->first.status == 409) {
      auto ins = co_await versioned("/networks/" + docker::objectName(spec.deploymentId));
      if (!ins) co_return ins.error();
      auto n = co_await call(http::verb::get, *ins, {}, "inspecting the deployment network");
      if (!n) co_return n.error();
      if (ok(n->first.status)) {
        auto dep = docker::parseNetworkDeployment(n->second);
        if (dep && *dep == spec.deploymentId) co_return false;
      }
      co_return fail(Errc::kConflict, "a network named " + docker::objectName(spec.deploymentId) +
                                          " already exists and is not this deployment's; remove "
                                          "it or use another deployment id");
    }
    co_return engineError(r->first, "creating network " + docker::objectName(spec.deploymentId),
                          Errc::kEngineError, "");
  }
};

DockerRuntime::DockerRuntime(DockerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
DockerRuntime::~DockerRuntime() = default;

awaitable<Result<EngineInfo>> DockerRuntime::ping() {
  auto& im = *impl_;
  im.api.store(0);  // renegotiate: the engine may have been upgraded since
  auto v = co_await im.ensureApi();
  if (!v) co_return v.error();
  auto r =
      co_await im.call(http::verb::get, "/v" + v->toString() + "/version", {}, "the version query");
  if (!r) co_return r.error();
  if (!ok(r->first.status)) co_return im.engineError(r->first, "version", Errc::kEngineError, "");
  EngineInfo info;
  info.apiVersion = v->toString();
  auto parsed = docker::parseVersion(r->second);
  if (!parsed) co_return parsed.error();
  info.engineVersion = parsed->engineVersion;
  info.engineApiVersion = parsed->engineApiVersion;
  info.os = parsed->os;
  co_return info;
}

awaitable<Result<void>> DockerRuntime::pull(std::string image, PullProgressFn progress) {
  auto& im = *impl_;
  auto ref = ImageRef::parse(image);
  if (!ref) co_return ref.error();
  // A digest pins the content; when both are given the digest is what is pulled.
  const std::string tag = ref->digest.empty() ? ref->tag : ref->digest;
  auto target = co_await im.versioned("/images/create?fromImage=" + docker::urlEncode(ref->name()) +
                                      "&tag=" + docker::urlEncode(tag));
  if (!target) co_return target.error();
  auto splitter = std::make_shared<JsonLineSplitter>();
  auto failure = std::make_shared<std::optional<Error>>();
  auto handle = [progress, failure](std::vector<std::string>& msgs) -> bool {
    for (const auto& m : msgs) {
      auto p = docker::parsePullMessage(m);
      if (!p) {
        *failure = p.error();
        return false;
      }
      if (progress) progress(*p);
    }
    msgs.clear();
    return true;
  };
  BodyFn onBody = [splitter, failure, handle](std::string_view b) -> Result<bool> {
    std::vector<std::string> msgs;
    if (auto r = splitter->feed(b, msgs); !r) return r.error();
    return handle(msgs);
  };
  auto r = co_await im.exchange(http::verb::post, std::move(*target), {},
                                im.deadlineIn(im.options.pullTimeout), onBody, false,
                                "pulling " + ref->toString());
  if (!r) co_return r.error();
  if (!ok(r->status)) {
    co_return im.engineError(*r, "pulling " + ref->toString(), Errc::kImageNotFound,
                             "check the repository and tag (and that the registry is reachable "
                             "from this provider)");
  }
  if (!*failure) {
    std::vector<std::string> rest;
    splitter->finish(rest);
    handle(rest);
  }
  if (*failure) co_return failure->value().context("pulling " + ref->toString());
  co_return Result<void>{};
}

awaitable<Result<Started>> DockerRuntime::createAndStart(ContainerSpec spec) {
  auto& im = *impl_;
  auto ref = docker::validateSpec(spec);
  if (!ref) co_return ref.error();
  const std::string name = docker::objectName(spec.deploymentId);

  auto imgTarget = co_await im.versioned("/images/" + ref->toString() + "/json");
  if (!imgTarget) co_return imgTarget.error();
  auto img = co_await im.call(http::verb::get, *imgTarget, {}, "inspecting the image");
  if (!img) co_return img.error();
  if (!ok(img->first.status)) {
    co_return im.engineError(img->first, "image " + ref->toString(), Errc::kImageNotFound,
                             "it is not on this provider: pull it first");
  }
  auto volumes = docker::parseImageVolumes(img->second);
  if (!volumes) co_return volumes.error();

  auto net = co_await im.ensureNetwork(spec);
  if (!net) co_return net.error();
  const bool newNetwork = *net;
  auto cleanupNetwork = [&]() -> awaitable<void> {
    if (newNetwork) (void)co_await im.removeNetwork(spec.deploymentId);
  };

  auto createTarget = co_await im.versioned("/containers/create?name=" + name);
  if (!createTarget) co_return createTarget.error();
  auto created = co_await im.call(
      http::verb::post, *createTarget,
      docker::buildCreateBody(spec, *ref, *volumes, docker::ProfileOptions{im.options.ociRuntime}),
      "creating the container");
  if (!created) {
    co_await cleanupNetwork();
    co_return created.error();
  }
  if (!ok(created->first.status)) {
    co_await cleanupNetwork();
    co_return im.engineError(created->first, "creating container " + name, Errc::kImageNotFound,
                             "pull the image first");
  }
  auto id = docker::parseId(created->second);
  if (!id) {
    co_await cleanupNetwork();
    co_return id.error();
  }

  auto startTarget = co_await im.versioned("/containers/" + *id + "/start");
  if (!startTarget) co_return startTarget.error();
  auto started = co_await im.call(http::verb::post, *startTarget, {}, "starting the container");
  if (!started || (!ok(started->first.status) && started->first.status != 304)) {
    Error e = started ? im.engineError(started->first, "starting container " + name,
                                       Errc::kNoSuchContainer, "it was removed while starting")
                      : started.error();
    // Leave nothing behind: a half-made deployment would hold its name and network.
    (void)co_await im.forceRemove(*id);
    co_await cleanupNetwork();
    co_return e;
  }

  // The ephemeral host port is only known once the container runs.
  Started out{*id, std::nullopt};
  if (spec.exposedPort) {
    auto info = co_await im.owned(*id);
    if (!info) co_return info.error();
    out.hostPort = info->hostPort;
  }
  co_return out;
}

awaitable<Result<void>> DockerRuntime::stop(std::string id, std::chrono::seconds grace) {
  auto& im = *impl_;
  auto info = co_await im.owned(id);
  if (!info) co_return info.error();
  auto target =
      co_await im.versioned("/containers/" + id + "/stop?t=" + std::to_string(grace.count()));
  if (!target) co_return target.error();
  // The engine waits `grace` before SIGKILL, so the deadline covers it plus a normal request.
  auto r = co_await im.call(http::verb::post, *target, {}, "stopping the container",
                            im.deadlineIn(grace + im.options.requestTimeout));
  if (!r) co_return r.error();
  if (ok(r->first.status) || r->first.status == 304) co_return Result<void>{};
  co_return im.engineError(r->first, "stopping container " + id, Errc::kNoSuchContainer,
                           "it is already gone");
}

awaitable<Result<void>> DockerRuntime::remove(std::string id) {
  auto& im = *impl_;
  auto info = co_await im.owned(id);
  if (!info) co_return info.error();
  if (auto r = co_await im.forceRemove(id); !r) co_return r.error();
  if (!info->deploymentId.empty()) {
    if (auto r = co_await im.removeNetwork(info->deploymentId); !r) co_return r.error();
  }
  co_return Result<void>{};
}

awaitable<Result<ContainerInfo>> DockerRuntime::inspect(std::string id) {
  co_return co_await impl_->owned(id);
}

awaitable<Result<void>> DockerRuntime::logs(std::string id, LogOptions options, LogSink sink) {
  auto& im = *impl_;
  auto info = co_await im.owned(id);
  if (!info) co_return info.error();
  std::string query = "/containers/" + id + "/logs?timestamps=1";
  query += options.stdoutStream ? "&stdout=1" : "&stdout=0";
  query += options.stderrStream ? "&stderr=1" : "&stderr=0";
  query += options.follow ? "&follow=1" : "&follow=0";
  query += "&tail=" + (options.tail ? std::to_string(*options.tail) : std::string("all"));
  if (options.since) query += "&since=" + nanosSince(*options.since);
  auto target = co_await im.versioned(query);
  if (!target) co_return target.error();
  auto decoder = std::make_shared<LogFrameDecoder>();
  BodyFn onBody = [decoder, sink](std::string_view b) -> Result<bool> {
    decoder->feed(b);
    while (true) {
      auto f = decoder->next();
      if (!f) return f.error();
      if (!*f) return true;
      if (!sink(docker::toLogEntry((*f)->stream, (*f)->payload))) return false;
    }
  };
  auto r = co_await im.exchange(http::verb::get, std::move(*target), {},
                                im.deadlineIn(options.maxDuration), onBody, options.follow,
                                "reading logs");
  if (!r) co_return r.error();
  if (!ok(r->status)) {
    co_return im.engineError(*r, "logs of " + id, Errc::kNoSuchContainer, "it was removed");
  }
  co_return Result<void>{};
}

awaitable<Result<Stats>> DockerRuntime::stats(std::string id) {
  auto& im = *impl_;
  auto info = co_await im.owned(id);
  if (!info) co_return info.error();
  auto target = co_await im.versioned("/containers/" + id + "/stats?stream=false");
  if (!target) co_return target.error();
  auto r = co_await im.call(http::verb::get, *target, {}, "reading stats");
  if (!r) co_return r.error();
  if (!ok(r->first.status)) {
    co_return im.engineError(r->first, "stats of " + id, Errc::kNoSuchContainer, "it was removed");
  }
  co_return docker::parseStats(r->second);
}

awaitable<Result<std::vector<ContainerInfo>>> DockerRuntime::listOwned() {
  auto& im = *impl_;
  auto target = co_await im.versioned("/containers/json?all=1&filters=" +
                                      docker::urlEncode(docker::ownedFilter()));
  if (!target) co_return target.error();
  auto r = co_await im.call(http::verb::get, *target, {}, "listing containers");
  if (!r) co_return r.error();
  if (!ok(r->first.status)) {
    co_return im.engineError(r->first, "listing containers", Errc::kEngineError, "");
  }
  auto list = docker::parseList(r->second);
  if (!list) co_return list.error();
  // The engine filtered by label already; filter again so a wrong filter can never hand us a
  // container that is not ours.
  std::erase_if(*list, [](const ContainerInfo& c) { return !c.managed; });
  co_return list;
}

awaitable<Result<void>> DockerRuntime::events(EventOptions options, EventSink sink) {
  auto& im = *impl_;
  std::string query = "/events?filters=" + docker::urlEncode(docker::eventsFilter());
  if (options.since) query += "&since=" + nanosSince(*options.since);
  auto target = co_await im.versioned(query);
  if (!target) co_return target.error();
  auto splitter = std::make_shared<JsonLineSplitter>();
  BodyFn onBody = [splitter, sink](std::string_view b) -> Result<bool> {
    std::vector<std::string> msgs;
    if (auto r = splitter->feed(b, msgs); !r) return r.error();
    for (const auto& m : msgs) {
      auto e = docker::parseEvent(m);
      if (!e) return e.error();
      if (*e && !sink(**e)) return false;
    }
    return true;
  };
  auto r = co_await im.exchange(http::verb::get, std::move(*target), {},
                                im.deadlineIn(options.window), onBody, true, "watching events");
  if (!r) co_return r.error();
  if (!ok(r->status)) co_return im.engineError(*r, "events", Errc::kEngineError, "");
  co_return Result<void>{};
}

awaitable<Result<void>> DockerRuntime::removeImage(std::string image) {
  auto& im = *impl_;
  auto ref = ImageRef::parse(image);
  if (!ref) co_return ref.error();
  auto target = co_await im.versioned("/images/" + ref->toString());
  if (!target) co_return target.error();
  auto r = co_await im.call(http::verb::delete_, *target, {}, "removing an image");
  if (!r) co_return r.error();
  if (!ok(r->first.status)) {
    co_return im.engineError(r->first, "removing image " + ref->toString(), Errc::kImageNotFound,
                             "it is not on this host");
  }
  co_return Result<void>{};
}

}  // namespace pc::runtime
