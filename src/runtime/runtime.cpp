#include "runtime/runtime.hpp"

#include "runtime/error.hpp"

namespace pc::runtime {

std::string deploymentInterface(std::string_view deploymentId) {
  // FNV-1a, 64 bits, printed as 11 base32 characters (55 bits): two deployments on one host
  // sharing a bridge name would need a collision the engine then refuses ("same bridge name").
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : deploymentId) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string name = "pcd-";
  for (int i = 0; i < 11; ++i, h >>= 5) name.push_back(kAlphabet[h & 31U]);
  return name;
}

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
