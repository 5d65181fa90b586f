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

  // GCC 12 mis-handles non-trivially-destructible temporaries inside a co_await expression
  // (double destruction). Coroutines here therefore take `const&` parameters, and callers pass
  // named locals only: never build a string, std::function or aggregate inside `co_await f(...)`.

  /// One HTTP exchange on a fresh connection. 2xx bodies go to `onBody` as they arrive; other
  /// bodies are kept in `Outcome::errorBody`. With `deadlineEnds`, reaching the deadline after a
  /// 2xx header ends the stream normally (follow logs, events).
  awaitable<Result<Outcome>> exchange(http::verb method, const std::string& target,
                                      const std::string& body, Clock::time_point deadline,
                                      const BodyFn& onBody, bool deadlineEnds,
                                      const std::string& what) {
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
        co_return fail(Errc::kDaemonUnreachable,
                       "the connection to the Docker engine failed while " + what + " (" +
                           rec.message() + "); check that dockerd is still running");
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

  struct Buffered {
    Outcome outcome;
    std::string body;
  };

  /// A buffered request: the 2xx body is returned whole (up to kMaxBufferedBody).
  awaitable<Result<Buffered>> call(http::verb method, const std::string& target,
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
  awaitable<Result<Buffered>> call(http::verb method, const std::string& target,
                                   const std::string& body, const std::string& what) {
    const auto deadline = deadlineIn(options.requestTimeout);
    co_return co_await call(method, target, body, what, deadline);
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

  /// Negotiates once (GET /_ping → Api-Version) and returns the "/v1.xx" path prefix.
  awaitable<Result<std::string>> prefix() {
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
  awaitable<Result<ContainerInfo>> owned(const std::string& id) {
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

  awaitable<Result<void>> removeNetwork(const std::string& deploymentId) {
    auto pre = co_await prefix();
    if (!pre) co_return pre.error();
    const std::string name = docker::objectName(deploymentId);
    const std::string target = *pre + "/networks/" + name;
    const std::string what = "removing a network";
    auto r = co_await call(http::verb::delete_, target, kNoBody, what);
    if (!r) co_return r.error();
    if (!ok(r->outcome.status) && r->outcome.status != 404) {
      co_return engineError(r->outcome, "removing network " + name, Errc::kEngineError, "");
    }
    co_return Result<void>{};
  }

  awaitable<Result<void>> forceRemove(const std::string& id) {
    auto pre = co_await prefix();
    if (!pre) co_return pre.error();
    const std::string target = *pre + "/containers/" + id + "?force=1&v=1";
    const std::string what = "removing a container";
    auto r = co_await call(http::verb::delete_, target, kNoBody, what);
    if (!r) co_return r.error();
    if (!ok(r->outcome.status)) {
      co_return engineError(r->outcome, "removing container " + id, Errc::kNoSuchContainer,
                            "it is already gone");
    }
    co_return Result<void>{};
  }

  /// Creates the deployment network, or adopts one we created earlier for the same deployment
  /// (left by a crash between network and container creation). Returns whether it is new.
  awaitable<Result<bool>> ensureNetwork(const ContainerSpec& spec) {
    auto pre = co_await prefix();
    if (!pre) co_return pre.error();
    const std::string name = docker::objectName(spec.deploymentId);
    const std::string target = *pre + "/networks/create";
    const std::string what = "creating the deployment network";
    // With a network_pool each deployment network gets a /28 of it, starting at a slot derived
    // from the deployment id and moving on while the engine says a slot overlaps another
    // network. Without one the engine picks from its default pools, which hold about 30
    // networks on a default dockerd.
    const bool pooled = !options.networkPool.empty();
    const std::uint64_t first = std::hash<std::string>{}(spec.deploymentId);
    std::optional<Outcome> refused;
    for (std::uint64_t attempt = 0; attempt < (pooled ? kSubnetAttempts : 1); ++attempt) {
      std::string subnet;
      if (pooled) {
        auto sn = docker::poolSubnet(options.networkPool, 28, first + attempt);
        if (!sn) co_return sn.error();
        subnet = *sn;
      }
      const std::string body = docker::buildNetworkBody(spec, subnet);
      auto r = co_await call(http::verb::post, target, body, what);
      if (!r) co_return r.error();
      if (ok(r->outcome.status)) co_return true;
      if (r->outcome.status == 409) break;
      refused = r->outcome;
      if (!pooled ||
          docker::engineMessage(r->outcome.errorBody).find("overlap") == std::string::npos) {
        break;
      }
    }
    if (refused) {
      const std::string msg = docker::engineMessage(refused->errorBody);
      if (msg.find("overlap") != std::string::npos) {
        const std::string hint =
            pooled ? "network_pool " + options.networkPool +
                         " has no free /28 near this deployment's slot: widen it"
                   : "the container engine has no free address pool for another deployment "
                     "network (a default dockerd has about 30): set network_pool in the "
                     "provider's config (e.g. \"10.213.0.0/16\"), or give the engine more "
                     "default-address-pools";
        co_return fail(Errc::kEngineError, "creating network " + name + ": " + msg + "; " + hint);
      }
      co_return engineError(*refused, "creating network " + name, Errc::kEngineError, "");
    }
    {
      const std::string inspectTarget = *pre + "/networks/" + name;
      const std::string inspectWhat = "inspecting the deployment network";
      auto n = co_await call(http::verb::get, inspectTarget, kNoBody, inspectWhat);
      if (!n) co_return n.error();
      if (ok(n->outcome.status)) {
        auto dep = docker::parseNetworkDeployment(n->body);
        if (dep && *dep == spec.deploymentId) co_return false;
      }
      co_return fail(Errc::kConflict, "a network named " + name +
                                          " already exists and is not this deployment's; remove "
                                          "it or use another deployment id");
    }
  }
  static constexpr std::uint64_t kSubnetAttempts = 64;

  inline static const std::string kNoBody;
};

DockerRuntime::DockerRuntime(DockerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
DockerRuntime::~DockerRuntime() = default;

awaitable<Result<EngineInfo>> DockerRuntime::ping() {
  auto& im = *impl_;
  im.api.store(0);  // renegotiate: the engine may have been upgraded since
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target = *pre + "/version";
  const std::string what = "answering the version query";
  auto r = co_await im.call(http::verb::get, target, Impl::kNoBody, what);
  if (!r) co_return r.error();
  if (!ok(r->outcome.status)) {
    co_return im.engineError(r->outcome, "version", Errc::kEngineError, "");
  }
  auto parsed = docker::parseVersion(r->body);
  if (!parsed) co_return parsed.error();
  EngineInfo info;
  info.apiVersion = pre->substr(2);
  info.engineVersion = parsed->engineVersion;
  info.engineApiVersion = parsed->engineApiVersion;
  info.os = parsed->os;
  co_return info;
}

awaitable<Result<void>> DockerRuntime::pull(std::string image, PullProgressFn progress) {
  auto& im = *impl_;
  auto ref = ImageRef::parse(image);
  if (!ref) co_return ref.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  // A digest pins the content; when both are given the digest is what is pulled.
  const std::string tag = ref->digest.empty() ? ref->tag : ref->digest;
  const std::string target = *pre + "/images/create?fromImage=" + docker::urlEncode(ref->name()) +
                             "&tag=" + docker::urlEncode(tag);
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
  const BodyFn onBody = [splitter, handle](std::string_view b) -> Result<bool> {
    std::vector<std::string> msgs;
    if (auto r = splitter->feed(b, msgs); !r) return r.error();
    return handle(msgs);
  };
  const std::string what = "pulling " + ref->toString();
  const auto deadline = im.deadlineIn(im.options.pullTimeout);
  auto r =
      co_await im.exchange(http::verb::post, target, Impl::kNoBody, deadline, onBody, false, what);
  if (!r) co_return r.error();
  if (!ok(r->status)) {
    co_return im.engineError(*r, what, Errc::kImageNotFound,
                             "check the repository and tag (and that the registry is reachable "
                             "from this provider)");
  }
  if (!*failure) {
    std::vector<std::string> rest;
    splitter->finish(rest);
    handle(rest);
  }
  if (*failure) co_return failure->value().context(what);
  co_return Result<void>{};
}

awaitable<Result<Started>> DockerRuntime::createAndStart(ContainerSpec spec) {
  auto& im = *impl_;
  auto ref = docker::validateSpec(spec);
  if (!ref) co_return ref.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string name = docker::objectName(spec.deploymentId);
  const std::string image = ref->toString();

  const std::string imgTarget = *pre + "/images/" + image + "/json";
  const std::string imgWhat = "inspecting the image";
  auto img = co_await im.call(http::verb::get, imgTarget, Impl::kNoBody, imgWhat);
  if (!img) co_return img.error();
  if (!ok(img->outcome.status)) {
    co_return im.engineError(img->outcome, "image " + image, Errc::kImageNotFound,
                             "it is not on this provider: pull it first");
  }
  auto volumes = docker::parseImageVolumes(img->body);
  if (!volumes) co_return volumes.error();

  auto net = co_await im.ensureNetwork(spec);
  if (!net) co_return net.error();
  const bool newNetwork = *net;

  docker::ProfileOptions profile;
  profile.ociRuntime = im.options.ociRuntime;
  const std::string createBody = docker::buildCreateBody(spec, *ref, *volumes, profile);
  const std::string createTarget = *pre + "/containers/create?name=" + name;
  const std::string createWhat = "creating the container";
  auto created = co_await im.call(http::verb::post, createTarget, createBody, createWhat);
  std::optional<Error> createError;
  std::string id;
  if (!created) {
    createError = created.error();
  } else if (!ok(created->outcome.status)) {
    createError = im.engineError(created->outcome, "creating container " + name,
                                 Errc::kImageNotFound, "pull the image first");
  } else if (auto parsed = docker::parseId(created->body); !parsed) {
    createError = parsed.error();
  } else {
    id = *parsed;
  }
  if (createError) {
    // Leave nothing behind: a network we made for a container that never came is removed.
    if (newNetwork) (void)co_await im.removeNetwork(spec.deploymentId);
    co_return *createError;
  }

  const std::string startTarget = *pre + "/containers/" + id + "/start";
  const std::string startWhat = "starting the container";
  auto startedReply = co_await im.call(http::verb::post, startTarget, Impl::kNoBody, startWhat);
  if (!startedReply || (!ok(startedReply->outcome.status) && startedReply->outcome.status != 304)) {
    Error e = startedReply ? im.engineError(startedReply->outcome, "starting container " + name,
                                            Errc::kNoSuchContainer, "it was removed while starting")
                           : startedReply.error();
    // Leave nothing behind: a half-made deployment would hold its name and network.
    (void)co_await im.forceRemove(id);
    if (newNetwork) (void)co_await im.removeNetwork(spec.deploymentId);
    co_return e;
  }

  // The ephemeral host port is only known once the container runs.
  Started out;
  out.id = id;
  if (spec.exposedPort) {
    auto info = co_await im.owned(id);
    if (!info) co_return info.error();
    out.hostPort = info->hostPort;
    out.address = info->address;
  }
  co_return out;
}

awaitable<Result<Started>> DockerRuntime::start(std::string id) {
  auto& im = *impl_;
  auto before = co_await im.owned(id);  // only containers carrying our labels
  if (!before) co_return before.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target = *pre + "/containers/" + id + "/start";
  const std::string what = "starting the container again";
  auto r = co_await im.call(http::verb::post, target, Impl::kNoBody, what);
  if (!r) co_return r.error();
  if (!ok(r->outcome.status) && r->outcome.status != 304) {
    co_return im.engineError(r->outcome, "starting container " + id, Errc::kNoSuchContainer,
                             "it is gone");
  }
  // The ephemeral host port (and the address) may differ from the last run.
  auto info = co_await im.owned(id);
  if (!info) co_return info.error();
  co_return Started{id, info->hostPort, info->address};
}

awaitable<Result<void>> DockerRuntime::stop(std::string id, std::chrono::seconds grace) {
  auto& im = *impl_;
  auto info = co_await im.owned(id);
  if (!info) co_return info.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target =
      *pre + "/containers/" + id + "/stop?t=" + std::to_string(grace.count());
  const std::string what = "stopping the container";
  // The engine waits `grace` before SIGKILL, so the deadline covers it plus a normal request.
  const auto deadline = im.deadlineIn(grace + im.options.requestTimeout);
  auto r = co_await im.call(http::verb::post, target, Impl::kNoBody, what, deadline);
  if (!r) co_return r.error();
  if (ok(r->outcome.status) || r->outcome.status == 304) co_return Result<void>{};
  co_return im.engineError(r->outcome, "stopping container " + id, Errc::kNoSuchContainer,
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
  auto r = co_await impl_->owned(id);
  co_return r;
}

awaitable<Result<void>> DockerRuntime::logs(std::string id, LogOptions options, LogSink sink) {
  auto& im = *impl_;
  auto info = co_await im.owned(id);
  if (!info) co_return info.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  std::string target = *pre + "/containers/" + id + "/logs?timestamps=1";
  target += options.stdoutStream ? "&stdout=1" : "&stdout=0";
  target += options.stderrStream ? "&stderr=1" : "&stderr=0";
  target += options.follow ? "&follow=1" : "&follow=0";
  target += "&tail=" + (options.tail ? std::to_string(*options.tail) : std::string("all"));
  if (options.since) target += "&since=" + nanosSince(*options.since);
  auto decoder = std::make_shared<LogFrameDecoder>();
  const BodyFn onBody = [decoder, sink](std::string_view b) -> Result<bool> {
    decoder->feed(b);
    while (true) {
      auto f = decoder->next();
      if (!f) return f.error();
      if (!*f) return true;
      if (!sink(docker::toLogEntry((*f)->stream, (*f)->payload))) return false;
    }
  };
  const std::string what = "reading logs";
  const auto deadline = im.deadlineIn(options.maxDuration);
  auto r = co_await im.exchange(http::verb::get, target, Impl::kNoBody, deadline, onBody,
                                options.follow, what);
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
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target = *pre + "/containers/" + id + "/stats?stream=false";
  const std::string what = "reading stats";
  auto r = co_await im.call(http::verb::get, target, Impl::kNoBody, what);
  if (!r) co_return r.error();
  if (!ok(r->outcome.status)) {
    co_return im.engineError(r->outcome, "stats of " + id, Errc::kNoSuchContainer,
                             "it was removed");
  }
  co_return docker::parseStats(r->body);
}

awaitable<Result<std::vector<ContainerInfo>>> DockerRuntime::listOwned() {
  auto& im = *impl_;
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target =
      *pre + "/containers/json?all=1&filters=" + docker::urlEncode(docker::ownedFilter());
  const std::string what = "listing containers";
  auto r = co_await im.call(http::verb::get, target, Impl::kNoBody, what);
  if (!r) co_return r.error();
  if (!ok(r->outcome.status)) {
    co_return im.engineError(r->outcome, what, Errc::kEngineError, "");
  }
  auto list = docker::parseList(r->body);
  if (!list) co_return list.error();
  // The engine filtered by label already; filter again so a wrong filter can never hand us a
  // container that is not ours.
  std::erase_if(*list, [](const ContainerInfo& c) { return !c.managed; });
  co_return list;
}

awaitable<Result<void>> DockerRuntime::events(EventOptions options, EventSink sink) {
  auto& im = *impl_;
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  std::string target = *pre + "/events?filters=" + docker::urlEncode(docker::eventsFilter());
  if (options.since) target += "&since=" + nanosSince(*options.since);
  auto splitter = std::make_shared<JsonLineSplitter>();
  const BodyFn onBody = [splitter, sink](std::string_view b) -> Result<bool> {
    std::vector<std::string> msgs;
    if (auto r = splitter->feed(b, msgs); !r) return r.error();
    for (const auto& m : msgs) {
      auto e = docker::parseEvent(m);
      if (!e) return e.error();
      if (*e && !sink(**e)) return false;
    }
    return true;
  };
  const std::string what = "watching events";
  const auto deadline = im.deadlineIn(options.window);
  auto r =
      co_await im.exchange(http::verb::get, target, Impl::kNoBody, deadline, onBody, true, what);
  if (!r) co_return r.error();
  if (!ok(r->status)) co_return im.engineError(*r, "events", Errc::kEngineError, "");
  co_return Result<void>{};
}

awaitable<Result<void>> DockerRuntime::removeImage(std::string image) {
  auto& im = *impl_;
  auto ref = ImageRef::parse(image);
  if (!ref) co_return ref.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target = *pre + "/images/" + ref->toString();
  const std::string what = "removing an image";
  auto r = co_await im.call(http::verb::delete_, target, Impl::kNoBody, what);
  if (!r) co_return r.error();
  if (!ok(r->outcome.status)) {
    co_return im.engineError(r->outcome, "removing image " + ref->toString(), Errc::kImageNotFound,
                             "it is not on this host");
  }
  co_return Result<void>{};
}

}  // namespace pc::runtime
