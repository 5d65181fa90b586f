#pragma once
/// The security profile as Docker Engine API request bodies: checks on every ContainerSpec field,
/// object names, the deployment network and the container create body. Pure (no I/O), unit-tested
/// in docker_api_test.cpp; the JSON library stays inside docker_spec.cpp.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/image_ref.hpp"
#include "runtime/runtime.hpp"

namespace pc::runtime::docker {

struct ProfileOptions {
  std::string ociRuntime;  ///< "" = the engine's default (runc); e.g. "runsc" for gVisor
};

/// Under gVisor (runsc) the host's pids limit also counts the sandbox's own threads (the Sentry
/// and, on the ptrace platform, a host thread per guest thread): with only the deployment's
/// limit the sandbox dies (exit 2) as soon as the guest forks a little. The limit the engine
/// gets is the deployment's plus this allowance; the memory limit still bounds a fork bomb.
inline constexpr std::uint32_t kGvisorSandboxPids = 512;

/// Bounds on spec fields (they end up in engine requests and labels).
inline constexpr std::size_t kMaxEnvVars = 128;
inline constexpr std::size_t kMaxEnvBytes = 64 * 1024;
inline constexpr std::size_t kMaxCommandArgs = 256;
inline constexpr std::size_t kMaxCommandBytes = 64 * 1024;
inline constexpr std::uint32_t kMaxPidsLimit = 4096;
inline constexpr std::uint64_t kMinTmpfsBytes = 1ULL << 20;
inline constexpr std::uint64_t kMaxTmpfsBytes = 1ULL << 30;

/// Checks every spec field. Errors: `kInvalidSpec` naming the field; `kBadReference`.
Result<ImageRef> validateSpec(const ContainerSpec& spec);

/// "pc-<deployment id>": the container's name and its network's name.
std::string objectName(std::string_view deploymentId);

/// True for a container id or name that is safe to put in a URL path: [A-Za-z0-9][A-Za-z0-9_.-]*
/// up to 128 characters. Stops path traversal ("../../images/x/json") through an id.
bool validObjectId(std::string_view id);

/// POST /networks/create body for the deployment's own bridge network; with `subnet` (CIDR) the
/// network gets that subnet instead of one from the engine's default address pools.
std::string buildNetworkBody(const ContainerSpec& spec, const std::string& subnet = {});

/// Subnet number `index` of size /`prefix` inside `pool` ("10.213.0.0/16", 28, 3 →
/// "10.213.0.48/28"), cycling through the pool. Errors: kInvalidSpec for a pool that is not an
/// IPv4 CIDR holding at least one such subnet.
Result<std::string> poolSubnet(std::string_view pool, unsigned prefix, std::uint64_t index);

/// POST /containers/create body: the spec under the full security profile. `imageVolumes` are
/// the VOLUME paths the image declares; each gets a size-limited tmpfs so the engine does not
/// create an anonymous volume on the host's disk for it.
std::string buildCreateBody(const ContainerSpec& spec, const ImageRef& image,
                            const std::vector<std::string>& imageVolumes,
                            const ProfileOptions& options);

}  // namespace pc::runtime::docker
