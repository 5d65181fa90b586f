// DockerRuntime's observation calls: logs (multiplexed frames), stats, the list of our
// containers and the event stream. Lifecycle calls are in docker.cpp.
#include <chrono>
#include <memory>

#include "runtime/docker.hpp"
#include "runtime/docker_api.hpp"
#include "runtime/docker_client.hpp"
#include "runtime/error.hpp"
#include "runtime/json_lines.hpp"
#include "runtime/log_frame.hpp"

namespace pc::runtime {

using boost::asio::awaitable;
using docker::BodyFn;
using docker::ok;
using docker::Verb;

namespace {

/// The engine's `since` text ("<seconds>.<9 digits>"). Errors: kInvalidSpec for a time before
/// 1970 (a value the engine cannot take, and whose negative remainder used to be padded with a
/// size_t that wrapped: a throw inside the coroutine).
Result<std::string> nanosSince(SystemTime t) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  if (ns < 0) {
    return fail(Errc::kInvalidSpec, "since is before 1970-01-01T00:00:00Z: give a later time");
  }
  const auto sec = ns / 1'000'000'000;
  auto frac = std::to_string(ns % 1'000'000'000);
  frac.insert(0, 9 - frac.size(), '0');
  return std::to_string(sec) + "." + frac;
}

}  // namespace

awaitable<Result<void>> DockerRuntime::logs(std::string id, LogOptions options, LogSink sink) {
  auto& im = *engine_;
  std::string since;
  if (options.since) {
    auto text = nanosSince(*options.since);
    if (!text) co_return text.error();
    since = "&since=" + *text;
  }
  auto info = co_await im.owned(id);
  if (!info) co_return info.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  std::string target = *pre + "/containers/" + id + "/logs?timestamps=1";
  target += options.stdoutStream ? "&stdout=1" : "&stdout=0";
  target += options.stderrStream ? "&stderr=1" : "&stderr=0";
  target += options.follow ? "&follow=1" : "&follow=0";
  target += "&tail=" + (options.tail ? std::to_string(*options.tail) : std::string("all"));
  target += since;
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
  auto r = co_await im.exchange(Verb::get, target, docker::EngineClient::kNoBody, deadline, onBody,
                                options.follow, what);
  if (!r) co_return r.error();
  if (!ok(r->status)) {
    co_return im.engineError(*r, "logs of " + id, Errc::kNoSuchContainer, "it was removed");
  }
  co_return Result<void>{};
}

awaitable<Result<Stats>> DockerRuntime::stats(std::string id) {
  auto& im = *engine_;
  auto info = co_await im.owned(id);
  if (!info) co_return info.error();
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target = *pre + "/containers/" + id + "/stats?stream=false";
  const std::string what = "reading stats";
  auto r = co_await im.call(Verb::get, target, docker::EngineClient::kNoBody, what);
  if (!r) co_return r.error();
  if (!ok(r->outcome.status)) {
    co_return im.engineError(r->outcome, "stats of " + id, Errc::kNoSuchContainer,
                             "it was removed");
  }
  co_return docker::parseStats(r->body);
}

awaitable<Result<std::vector<ContainerInfo>>> DockerRuntime::listOwned() {
  auto& im = *engine_;
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  const std::string target =
      *pre + "/containers/json?all=1&filters=" + docker::urlEncode(docker::ownedFilter());
  const std::string what = "listing containers";
  auto r = co_await im.call(Verb::get, target, docker::EngineClient::kNoBody, what);
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
  auto& im = *engine_;
  auto pre = co_await im.prefix();
  if (!pre) co_return pre.error();
  std::string target = *pre + "/events?filters=" + docker::urlEncode(docker::eventsFilter());
  if (options.since) {
    auto since = nanosSince(*options.since);
    if (!since) co_return since.error();
    target += "&since=" + *since;
  }
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
  auto r = co_await im.exchange(Verb::get, target, docker::EngineClient::kNoBody, deadline, onBody,
                                true, what);
  if (!r) co_return r.error();
  if (!ok(r->status)) co_return im.engineError(*r, "events", Errc::kEngineError, "");
  co_return Result<void>{};
}

}  // namespace pc::runtime
