#include "runtime/runtime.hpp"

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

}  // namespace pc::runtime
