#pragma once
/// The Docker Engine API transport of DockerRuntime (internal to the runtime module): one HTTP
/// exchange per connection over the engine's unix socket, API version negotiation, the wording of
/// engine errors, and the check that a container is ours before anything acts on it.
///
/// Thread-safety: usable concurrently from coroutines on any executors (each exchange has its own
/// connection; the negotiated version is atomic). Cancellation: cancelling an exchange closes its
/// connection, which is safe for this process (an engine-side action may still complete).
///
/// GCC 12 mis-handles non-trivially-destructible temporaries inside a co_await expression (double
/// destruction). The coroutines here therefore take `const&` parameters, and callers pass named
/// locals only: never build a string, std::function or aggregate inside `co_await f(...)`.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/docker.hpp"
#include "runtime/error.hpp"

namespace pc::runtime::docker {

using Clock = std::chrono::steady_clock;
using Verb = boost::beast::http::verb;

/// Body consumer for 2xx responses: false stops the stream (not an error).
using BodyFn = std::function<Result<bool>(std::string_view)>;

/// How one exchange ended.
struct Outcome {
  unsigned status = 0;
  std::string errorBody;  ///< body of a non-2xx response (cut at 64 KiB)
  std::optional<std::string> apiVersion;
  bool endedByDeadline = false;
};

/// A buffered exchange: the outcome and the whole 2xx body.
struct Buffered {
  Outcome outcome;
  std::string body;
};

inline bool ok(unsigned status) { return status >= 200 && status < 300; }

class EngineClient {
 public:
  explicit EngineClient(DockerOptions o) : options(std::move(o)) {}

  DockerOptions options;
  /// Negotiated version packed as major*1000+minor; 0 = not negotiated yet (store 0 to negotiate
  /// again). Atomic so concurrent first calls race harmlessly (both negotiate the same value).
  std::atomic<int> api{0};
  inline static const std::string kNoBody;

  [[nodiscard]] Clock::time_point deadlineIn(std::chrono::seconds s) const {
    return Clock::now() + s;
  }

  /// One HTTP exchange on a fresh connection. 2xx bodies go to `onBody` as they arrive; other
  /// bodies are kept in `Outcome::errorBody`. With `deadlineEnds`, reaching the deadline after a
  /// 2xx header ends the stream normally (follow logs, events). Errors: kDaemonUnreachable,
  /// kTimeout, kProtocolError, and what `onBody` returns.
  boost::asio::awaitable<Result<Outcome>> exchange(Verb method, const std::string& target,
                                                   const std::string& body,
                                                   Clock::time_point deadline, const BodyFn& onBody,
                                                   bool deadlineEnds, const std::string& what);
  /// A buffered exchange (the 2xx body whole, up to 16 MiB: beyond, kTooLarge), by `deadline`
  /// or within the options' request timeout.
  boost::asio::awaitable<Result<Buffered>> call(Verb method, const std::string& target,
                                                const std::string& body, const std::string& what,
                                                Clock::time_point deadline);
  boost::asio::awaitable<Result<Buffered>> call(Verb method, const std::string& target,
                                                const std::string& body, const std::string& what);

  /// The error for a non-2xx outcome: 404 → `notFound` with the hint, 409 → kConflict, an API
  /// version refusal → kUnsupportedApi, anything else kEngineError; the engine's words are kept.
  [[nodiscard]] Error engineError(const Outcome& o, std::string_view what, Errc notFound,
                                  std::string_view notFoundHint) const;

  /// Negotiates once (GET /_ping → Api-Version) and returns the "/v1.xx" path prefix.
  boost::asio::awaitable<Result<std::string>> prefix();

  /// Inspects `id` and refuses containers that are not ours: a caller must not be able to act on
  /// the host's other containers (stop a database, read its logs) by guessing an id.
  /// Errors: kNoSuchContainer (also for a container that is not ours), the transport's.
  boost::asio::awaitable<Result<ContainerInfo>> owned(const std::string& id);

  // The deployment network and forced removal (defined in docker.cpp, with the lifecycle).

  /// Removes the deployment's network; a missing one is success.
  boost::asio::awaitable<Result<void>> removeNetwork(const std::string& deploymentId);
  /// Removes a container (killing it) and its anonymous volumes. Errors: kNoSuchContainer.
  boost::asio::awaitable<Result<void>> forceRemove(const std::string& id);
  /// Creates the deployment network, or adopts one we created earlier for the same deployment
  /// (left by a crash between network and container creation). Returns whether it is new.
  boost::asio::awaitable<Result<bool>> ensureNetwork(const ContainerSpec& spec);

 private:
  static constexpr std::uint64_t kSubnetAttempts = 64;
  [[nodiscard]] Error unreachable(const boost::system::error_code& ec) const;
  [[nodiscard]] Error timedOut(std::string_view what) const;
};

}  // namespace pc::runtime::docker
