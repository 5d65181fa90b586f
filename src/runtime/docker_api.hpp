#pragma once
/// Pure pieces of the Docker Engine API client: version negotiation, response parsing, pull
/// progress and engine-error wording (the request bodies, with the security profile, are in
/// docker_spec.hpp). No I/O, so every
/// piece is unit-tested without an engine; the JSON library stays inside docker_api.cpp.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/docker_spec.hpp"
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

/// `Config.Volumes` of GET /images/{name}/json.
Result<std::vector<std::string>> parseImageVolumes(std::string_view json);
/// `Id` and `Size` of GET /images/{name}/json. Errors: `kProtocolError`.
Result<ImageInfo> parseImageInfo(std::string_view json);
/// GET /containers/{id}/json.
Result<ContainerInfo> parseInspect(std::string_view json);
/// GET /containers/json.
Result<std::vector<ContainerInfo>> parseList(std::string_view json);
/// GET /containers/{id}/stats?stream=false.
Result<Stats> parseStats(std::string_view json);
/// One message of GET /events; `nullopt` for events that are not about a container.
Result<std::optional<Event>> parseEvent(std::string_view json);
/// One message of POST /images/create, in the engine's words.
struct PullMessage {
  std::string status;  ///< "Downloading", "Download complete", "Pull complete", "Already exists", …
  std::string layer;  ///< layer id, empty for whole-image messages
  std::uint64_t current = 0;
  std::uint64_t total = 0;
};
/// Errors: `kPullFailed` for an in-stream error message.
Result<PullMessage> parsePullMessage(std::string_view json);

/// Turns the engine's pull messages into numeric per-layer progress: a layer's size is the last
/// total the engine gave for it (any step), its bytes done move with "Downloading" and jump to
/// the size when it is complete or already present (extraction figures are not download bytes).
class PullTracker {
 public:
  /// The layer's progress after `m`; `nullopt` for messages about no layer.
  std::optional<PullProgress> update(const PullMessage& m);

 private:
  struct Layer {
    std::uint64_t current = 0;
    std::uint64_t total = 0;
  };
  std::map<std::string, Layer> layers_;
};
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
