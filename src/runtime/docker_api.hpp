#pragma once
/// Pure pieces of the Docker Engine API client: version negotiation, request bodies (the
/// security profile lives here), response parsing and engine-error wording. No I/O, so every
/// piece is unit-tested without an engine; the JSON library stays inside docker_api.cpp.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/image_ref.hpp"
#include "runtime/runtime.hpp"

namespace pc::runtime::docker {

struct ApiVersion {
  int major = 1;
  int minor = 0;
  /// "1.41" → {1, 41}. Errors: `kProtocolError`.
  static Result<ApiVersion> parse(std::string_view text);
  [[nodiscard]] std::string toString() const;
  friend auto operator<=>(const ApiVersion&, const ApiVersion&) = default;
};

/// Oldest engine API we speak: Debian 12's engine 20.10. Every field the profile uses exists here.
inline constexpr ApiVersion kMinApi{1, 41};
/// Newest API whose semantics we have checked; a newer engine is spoken to at this version
/// (engines keep accepting older versions down to their own minimum, 1.44 for engine 29).
inline constexpr ApiVersion kMaxApi{1, 47};

/// Picks the version to speak given the engine's `Api-Version` header.
/// Errors: `kUnsupportedApi` (engine older than `kMinApi`), `kProtocolError`.
Result<ApiVersion> negotiate(std::string_view engineApiVersion);

struct ProfileOptions {
  std::string ociRuntime;  ///< "" = the engine's default (runc); e.g. "runsc" for gVisor
};

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

/// `Config.Volumes` of GET /images/{name}/json.
Result<std::vector<std::string>> parseImageVolumes(std::string_view json);
/// GET /containers/{id}/json.
Result<ContainerInfo> parseInspect(std::string_view json);
/// GET /containers/json.
Result<std::vector<ContainerInfo>> parseList(std::string_view json);
/// GET /containers/{id}/stats?stream=false.
Result<Stats> parseStats(std::string_view json);
/// One message of GET /events; `nullopt` for events that are not about a container.
Result<std::optional<Event>> parseEvent(std::string_view json);
/// One message of POST /images/create. Errors: `kPullFailed` for an in-stream error message.
Result<PullProgress> parsePullMessage(std::string_view json);
struct VersionInfo {
  std::string engineVersion;
  std::string engineApiVersion;
  std::string os;
};
/// GET /version.
Result<VersionInfo> parseVersion(std::string_view json);
/// The deployment id label of GET /networks/{name}; "" when the network is not ours.
Result<std::string> parseNetworkDeployment(std::string_view json);
/// `Id` of POST /containers/create (and networks/create).
Result<std::string> parseId(std::string_view json);

/// The engine's error text from an error body (`{"message": "..."}`), or the raw body cut short.
std::string engineMessage(std::string_view body);

/// RFC 3339 with optional fraction ("2024-05-01T10:00:00.123456789Z"); the zero time
/// "0001-01-01T00:00:00Z" gives `nullopt`. Errors: `kProtocolError`.
Result<std::optional<SystemTime>> parseTimestamp(std::string_view text);

/// Percent-encodes a query value.
std::string urlEncode(std::string_view value);

/// `filters` value selecting our containers: {"label":["peercompute.managed=true"]}.
std::string ownedFilter();
/// `filters` value for GET /events: our containers' lifecycle events.
std::string eventsFilter();

/// Splits a log payload that starts with an engine timestamp ("<RFC3339Nano> text").
LogEntry toLogEntry(LogStream stream, std::string_view payload);

}  // namespace pc::runtime::docker
