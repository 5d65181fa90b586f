// DockerRuntime: the container lifecycle over the Engine API (ping, pull, create and start with
// the deployment network, start again, stop, remove). The transport is docker_client.cpp, the
// observation calls (logs, stats, list, events) docker_observe.cpp; request bodies and response
// parsing are pure functions in docker_spec.cpp and docker_api.cpp.
#include "runtime/docker.hpp"

#include <cstdlib>
#include <functional>

#include "runtime/docker_api.hpp"
#include "runtime/docker_client.hpp"
#include "runtime/error.hpp"
#include "runtime/json_lines.hpp"

namespace pc::runtime {

using boost::asio::awaitable;
using docker::ok;
using docker::Verb;

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

namespace docker {

awaitable<Result<void>> EngineClient::removeNetwork(const std::string& deploymentId) {
  auto pre = co_await prefix();
  if (!pre) co_return pre.error();
  const std::string name = docker::objectName(deploymentId);
  const std::string target = *pre + "/networks/" + name;
  const std::string what = "removing a network";
  auto r = co_await call(Verb::delete_, target, kNoBody, what);
  if (!r) co_return r.error();
  if (!ok(r->outcome.status) && r->outcome.status != 404) {
    co_return engineError(r->outcome, "removing network " + name, Errc::kEngineError, "");
  }
  co_return Result<void>{};
}

awaitable<Result<void>> EngineClient::forceRemove(const std::string& id) {
  auto pre = co_await prefix();
  if (!pre) co_return pre.error();
  const std::string target = *pre + "/containers/" + id + "?force=1&v=1";
  const std::string what = "removing a container";
  auto r = co_await call(Verb::delete_, target, kNoBody, what);
  if (!r) co_return r.error();
  if (!ok(r->outcome.status)) {
    co_return engineError(r->outcome, "removing container " + id, Errc::kNoSuchContainer,
                          "it is already gone");
  }
  co_return Result<void>{};
}

/// Creates the deployment network, or adopts one we created earlier for the same deployment
/// (left by a crash between network and container creation). Returns whether it is new.
awaitable<Result<bool>> EngineClient::ensureNetwork(const ContainerSpec& spec) {
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
    auto r = co_await call(Verb::post, target, body, what);
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
    auto n = co_await call(Verb::get, inspectTarget, kNoBody, inspectWhat);
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

}  // namespace docker

DockerRuntime::DockerRuntime(DockerOptions options)
    : engine_(std::make_unique<docker::EngineClient>(std::move(options))) {}
DockerRuntime::~DockerRuntime() = default;

awaitable<Result<EngineInfo>> DockerRuntime::ping() {
  auto& im = *engine_;
  im.api.store(0);  // renegotiate: the engine may have been upgraded since
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target = *pre + "/version";
  const std::string what = "answering the version query";
  auto r = co_await im.call(Verb::get, target, docker::EngineClient::kNoBody, what);
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
  auto& im = *engine_;
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
  // The engine's progress words become numbers here, so callers never parse them.
  auto tracker = std::make_shared<docker::PullTracker>();
  auto handle = [progress, failure, tracker](std::vector<std::string>& msgs) -> bool {
    for (const auto& m : msgs) {
      auto p = docker::parsePullMessage(m);
      if (!p) {
        *failure = p.error();
        return false;
      }
      if (auto layer = tracker->update(*p); layer && progress) progress(*layer);
    }
    msgs.clear();
    return true;
  };
  const docker::BodyFn onBody = [splitter, handle](std::string_view b) -> Result<bool> {
    std::vector<std::string> msgs;
    if (auto r = splitter->feed(b, msgs); !r) return r.error();
    return handle(msgs);
  };
  const std::string what = "pulling " + ref->toString();
  const auto deadline = im.deadlineIn(im.options.pullTimeout);
  auto r = co_await im.exchange(Verb::post, target, docker::EngineClient::kNoBody, deadline, onBody,
                                false, what);
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
  auto& im = *engine_;
  auto ref = docker::validateSpec(spec);
  if (!ref) co_return ref.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string name = docker::objectName(spec.deploymentId);
  const std::string image = ref->toString();

  const std::string imgTarget = *pre + "/images/" + image + "/json";
  const std::string imgWhat = "inspecting the image";
  auto img = co_await im.call(Verb::get, imgTarget, docker::EngineClient::kNoBody, imgWhat);
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
  auto created = co_await im.call(Verb::post, createTarget, createBody, createWhat);
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
  auto startedReply =
      co_await im.call(Verb::post, startTarget, docker::EngineClient::kNoBody, startWhat);
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
  auto& im = *engine_;
  auto before = co_await im.owned(id);  // only containers carrying our labels
  if (!before) co_return before.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target = *pre + "/containers/" + id + "/start";
  const std::string what = "starting the container again";
  auto r = co_await im.call(Verb::post, target, docker::EngineClient::kNoBody, what);
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
  auto& im = *engine_;
  auto info = co_await im.owned(id);
  if (!info) co_return info.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target =
      *pre + "/containers/" + id + "/stop?t=" + std::to_string(grace.count());
  const std::string what = "stopping the container";
  // The engine waits `grace` before SIGKILL, so the deadline covers it plus a normal request.
  const auto deadline = im.deadlineIn(grace + im.options.requestTimeout);
  auto r = co_await im.call(Verb::post, target, docker::EngineClient::kNoBody, what, deadline);
  if (!r) co_return r.error();
  if (ok(r->outcome.status) || r->outcome.status == 304) co_return Result<void>{};
  co_return im.engineError(r->outcome, "stopping container " + id, Errc::kNoSuchContainer,
                           "it is already gone");
}

awaitable<Result<void>> DockerRuntime::remove(std::string id) {
  auto& im = *engine_;
  auto info = co_await im.owned(id);
  if (!info) co_return info.error();
  if (auto r = co_await im.forceRemove(id); !r) co_return r.error();
  if (!info->deploymentId.empty()) {
    if (auto r = co_await im.removeNetwork(info->deploymentId); !r) co_return r.error();
  }
  co_return Result<void>{};
}

awaitable<Result<ContainerInfo>> DockerRuntime::inspect(std::string id) {
  auto r = co_await engine_->owned(id);
  co_return r;
}

awaitable<Result<std::optional<ImageInfo>>> DockerRuntime::inspectImage(std::string image) {
  auto& im = *engine_;
  auto ref = ImageRef::parse(image);
  if (!ref) co_return ref.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target = *pre + "/images/" + ref->toString() + "/json";
  const std::string what = "inspecting an image";
  auto r = co_await im.call(Verb::get, target, docker::EngineClient::kNoBody, what);
  if (!r) co_return r.error();
  if (r->outcome.status == 404) co_return std::optional<ImageInfo>{};
  if (!ok(r->outcome.status)) {
    co_return im.engineError(r->outcome, "inspecting image " + ref->toString(),
                             Errc::kImageNotFound, "");
  }
  auto info = docker::parseImageInfo(r->body);
  if (!info) co_return info.error();
  co_return std::optional<ImageInfo>(std::move(*info));
}

awaitable<Result<void>> DockerRuntime::removeImage(std::string image) {
  auto& im = *engine_;
  auto ref = ImageRef::parse(image);
  if (!ref) co_return ref.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target = *pre + "/images/" + ref->toString();
  const std::string what = "removing an image";
  auto r = co_await im.call(Verb::delete_, target, docker::EngineClient::kNoBody, what);
  if (!r) co_return r.error();
  if (!ok(r->outcome.status)) {
    co_return im.engineError(r->outcome, "removing image " + ref->toString(), Errc::kImageNotFound,
                             "it is not on this host");
  }
  co_return Result<void>{};
}

}  // namespace pc::runtime
