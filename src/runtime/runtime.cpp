#include "runtime/runtime.hpp"

#include "runtime/error.hpp"

namespace pc::runtime {

const char* toString(ContainerState s) {
  switch (s) {
    case ContainerState::kCreated:
      return "created";
    case ContainerState::kRunning:
      return "running";
    case ContainerState::kPaused:
      return "paused";
    case ContainerState::kRestarting:
      return "restarting";
    case ContainerState::kRemoving:
      return "removing";
    case ContainerState::kExited:
      return "exited";
    case ContainerState::kDead:
      return "dead";
    case ContainerState::kUnknown:
      break;
  }
  return "unknown";
}

boost::asio::awaitable<Result<std::optional<ImageInfo>>> Runtime::inspectImage(std::string image) {
  co_return fail(Errc::kEngineError,
                 "this container runtime does not report images (" + image + ")");
}

boost::asio::awaitable<Result<void>> Runtime::removeImage(std::string image) {
  co_return fail(Errc::kEngineError,
                 "this container runtime does not remove images (" + image + ")");
}

}  // namespace pc::runtime
