#pragma once
/// Peer Compute messages (DESIGN.md "Peer Compute protocols") and their strict JSON encoding.
///
/// Wire conventions:
///  - Each frame body is one JSON object; the frame's type byte says which message it is (the
///    body has no "type" field). Field names are snake_case; see each struct for its fields.
///  - Numbers are integers only, within ±(2^53 - 1) (see jcs.hpp); times are unix milliseconds
///    (UTC, integer), sizes are bytes, CPU is millicores (1000 = one core).
///  - Optional fields are omitted when absent; `null` is rejected, as are duplicate fields,
///    wrong types and out-of-range values. Errors name message and field.
///  - Unknown fields are refused in everything a peer asks of us (requests, heartbeats): a
///    field we do not understand might carry a meaning the sender relies on, signed and never
///    enforced. Answers read by the asker (`kTolerant`: progress, responses, status entries,
///    log entries, errors, RouteRegistered) skip fields they do not know, so a newer provider
///    may add an informational field (a URL list, a counter) without breaking older clients.
///  - Requests (deploy, stop, status, logs, register/unregister route) carry the RequestHeader
///    fields and are signed (signing.hpp).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/bytes.hpp"
#include "core/utf8.hpp"
#include "crypto/peer_id.hpp"
#include "protocol/deployment_id.hpp"
#include "protocol/frame.hpp"

namespace pc::protocol {

// ---- limits (validation bounds; all named so that callers and tests can refer to them) ----
inline constexpr std::size_t kRequestIdMinBytes = 16;
inline constexpr std::size_t kRequestIdMaxBytes = 32;
inline constexpr std::size_t kMaxImageRefLength = 512;
inline constexpr std::int64_t kMaxCpuMillicores = 1'000'000;
inline constexpr std::int64_t kMinMemoryBytes = std::int64_t{4} << 20;  ///< 4 MiB
inline constexpr std::int64_t kMaxMemoryBytes = std::int64_t{1} << 40;  ///< 1 TiB
inline constexpr std::size_t kMaxEnvVars = 128;
inline constexpr std::size_t kMaxEnvKeyLength = 256;
inline constexpr std::size_t kMaxEnvTotalBytes = 32 * 1024;  ///< sum of key and value lengths
inline constexpr std::size_t kMaxCommandArgs = 64;
inline constexpr std::size_t kMaxCommandBytes = 32 * 1024;  ///< sum of argument lengths
inline constexpr std::int64_t kMinTimeoutSeconds = 1;
inline constexpr std::int64_t kMaxTimeoutSeconds = 24 * 3600;
inline constexpr std::size_t kMaxUrlLength = 2048;
/// Public URLs of one deployment (one per gateway domain: a provider serves through at most
/// this many gateways).
inline constexpr std::size_t kMaxUrls = 8;
inline constexpr std::size_t kMaxErrorTextLength = 4096;
inline constexpr std::size_t kMaxErrorCodeLength = 64;
inline constexpr std::size_t kMaxLogLineBytes = 256 * 1024;
inline constexpr std::int64_t kMaxLogTail = 100'000;
inline constexpr std::size_t kMaxStatusEntries = 1024;
/// A failure reason in a status entry: short, so that a full StatusResponse (kMaxStatusEntries
/// entries) stays within the default frame size.
inline constexpr std::size_t kMaxStatusErrorLength = 256;
static_assert(kMaxEnvVars * 2 <= kMaxEnvTotalBytes, "every env entry needs at least 2 bytes");
static_assert(kMaxLogLineBytes * 2 < kDefaultMaxFrameBody, "an escaped log line fits a frame");
static_assert(kMaxUrls * kMaxUrlLength * 6 < kDefaultMaxFrameBody,
              "a deploy response with every URL escaped fits a frame");
static_assert((kMaxEnvTotalBytes + kMaxCommandBytes) * 6 + kMaxImageRefLength * 6 <
                  kDefaultMaxFrameBody,
              "a maximal deploy request fits a frame even with every byte escaped");

/// Fields every request carries.
struct RequestHeader {
  /// `request_id`: 16 to 32 random bytes as lower-case hex (32 to 64 characters).
  std::string requestId;
  /// `requester_id`: the requester's PeerId in its base58 text form (`12D3KooW…`), exactly as
  /// crypto::PeerId::toBase58() writes it (one form, so the signed bytes are unambiguous).
  std::string requesterId;
  /// `timestamp`: unix milliseconds (UTC) when the request was made.
  std::int64_t timestampMs = 0;
  /// `signature`: Ed25519 signature, 128 lower-case hex characters (signing.hpp).
  std::string signature;
  friend bool operator==(const RequestHeader&, const RequestHeader&) = default;
};

enum class DeploymentState {
  kPending,
  kPulling,
  kStarting,
  kRunning,
  kStopping,
  kStopped,
  kFailed
};
/// "pending", "pulling", "starting", "running", "stopping", "stopped", "failed".
std::string_view toString(DeploymentState s);
std::optional<DeploymentState> deploymentStateFromString(std::string_view s);

/// What a deployment's container may open (the provider's egress policy narrows it further).
enum class DeployNetwork { kInternet, kNone };
std::string_view toString(DeployNetwork n);
std::optional<DeployNetwork> deployNetworkFromString(std::string_view s);
/// How a deploy gets its image, as `docker run --pull` does: `missing` uses the provider's copy
/// when it has one and pulls otherwise, `always` pulls, `never` uses the provider's copy only.
enum class PullPolicy { kMissing, kAlways, kNever };
/// "missing", "always", "never".
std::string_view toString(PullPolicy p);
std::optional<PullPolicy> pullPolicyFromString(std::string_view s);

/// Where a deploy's image came from: the provider's own copy (nothing pulled), or its registry.
enum class ImageSource { kLocal, kRegistry };
/// "local", "registry".
std::string_view toString(ImageSource s);
std::optional<ImageSource> imageSourceFromString(std::string_view s);

/// DeployRequest: request fields + `image` (string, ≤ kMaxImageRefLength, no control chars),
/// `cpu_millicores` (1..kMaxCpuMillicores), `memory_bytes` (kMinMemoryBytes..kMaxMemoryBytes),
/// `expose_port` (optional, 1..65535), `env` (object of string values, keys
/// [A-Za-z_][A-Za-z0-9_]*, ≤ kMaxEnvVars entries, ≤ kMaxEnvTotalBytes, no NUL in values),
/// `timeout_seconds` (kMinTimeoutSeconds..kMaxTimeoutSeconds; deadline for pull + start),
/// `command` (optional array of strings replacing the image's CMD, 1..kMaxCommandArgs entries,
/// ≤ kMaxCommandBytes in all, valid UTF-8 without NUL; omitted when empty), `network` (optional,
/// "internet" | "none": what the container may open; the provider's egress policy applies
/// either way and a request can only narrow it; absent is "internet"), `pull` (optional:
/// "missing" | "always" | "never"; absent means "missing", what clients before the field asked
/// for). Whatever `pull` says, the provider checks the reference against its allowlist first.
struct DeployRequest {
  static constexpr MessageType kType = MessageType::kDeployRequest;
  RequestHeader header;
  std::string image;
  std::int64_t cpuMillicores = 0;
  std::int64_t memoryBytes = 0;
  std::optional<std::uint16_t> exposePort;
  std::map<std::string, std::string> env;
  std::int64_t timeoutSeconds = 300;
  std::vector<std::string> command;
  std::optional<DeployNetwork> network;
  std::optional<PullPolicy> pull;
  friend bool operator==(const DeployRequest&, const DeployRequest&) = default;
};

enum class DeployPhase { kPulling, kStarting };

/// DeployProgress: `deployment_id`, `phase` ("pulling" | "starting"); while pulling, optional
/// `percent` (0..100), `bytes_done`, `bytes_total` (≥ 0; absent when unknown). "starting"
/// carries none of the three. Optional `image_source` ("local" | "registry", either phase): the
/// provider used its own copy of the image, or pulled it. A provider sends it only in answer to
/// a request that named `pull` (a client older than both fields refuses unknown ones).
struct DeployProgress {
  static constexpr bool kTolerant = true;  ///< an answer: unknown fields are skipped
  static constexpr MessageType kType = MessageType::kDeployProgress;
  std::string deploymentId;
  DeployPhase phase = DeployPhase::kPulling;
  std::optional<std::int64_t> percent;
  std::optional<std::int64_t> bytesDone;
  std::optional<std::int64_t> bytesTotal;
  std::optional<ImageSource> imageSource;
  friend bool operator==(const DeployProgress&, const DeployProgress&) = default;
};

/// DeployResponse: `deployment_id`, `state`, optional `url` (≤ kMaxUrlLength), optional `urls`
/// (see below), optional `error` (human sentence, ≤ kMaxErrorTextLength; set when state is
/// "failed").
///
/// `urls`: every public URL, when the provider's gateways answered different ones (gateways of
/// different domains): 2 to kMaxUrls distinct URLs, the first equal to `url`. Absent (empty)
/// otherwise, so a deployment with one URL travels exactly as before and an older peerctl
/// reads it; a peerctl older than kTolerant answers refuses a message that carries `urls`.
struct DeployResponse {
  static constexpr bool kTolerant = true;  ///< an answer: unknown fields are skipped
  static constexpr MessageType kType = MessageType::kDeployResponse;
  std::string deploymentId;
  DeploymentState state = DeploymentState::kPending;
  std::optional<std::string> url;
  std::optional<std::string> error;
  std::vector<std::string> urls;  ///< on the wire after `url` (the table sets the order)
  friend bool operator==(const DeployResponse&, const DeployResponse&) = default;
};

/// StopRequest: request fields + `deployment_id`, `force` (bool: kill instead of graceful stop).
struct StopRequest {
  static constexpr MessageType kType = MessageType::kStopRequest;
  RequestHeader header;
  std::string deploymentId;
  bool force = false;
  friend bool operator==(const StopRequest&, const StopRequest&) = default;
};

/// StopResponse: `deployment_id`, `state`.
struct StopResponse {
  static constexpr bool kTolerant = true;  ///< an answer: unknown fields are skipped
  static constexpr MessageType kType = MessageType::kStopResponse;
  std::string deploymentId;
  DeploymentState state = DeploymentState::kStopped;
  friend bool operator==(const StopResponse&, const StopResponse&) = default;
};

/// StatusRequest: request fields + optional `deployment_id` (absent: all of the requester's).
struct StatusRequest {
  static constexpr MessageType kType = MessageType::kStatusRequest;
  RequestHeader header;
  std::optional<std::string> deploymentId;
  friend bool operator==(const StatusRequest&, const StatusRequest&) = default;
};

/// One StatusResponse entry: `deployment_id`, `image`, `state`, optional `started_at` (unix
/// ms), optional `url`, optional `urls` (as in DeployResponse), optional `cpu_usage_millicores`
/// (current use, 1000 = one core busy; absent when not running), optional `memory_bytes` (current
/// use), `memory_limit` (bytes), optional `net_rx_bytes` / `net_tx_bytes` (received and sent
/// since the container started; absent when not running), optional `stats_at` (unix ms: when
/// the provider took the CPU, memory and network sample, which it caches for a few seconds, so
/// a client computes rates between two samples by their own times), optional `exit_code`
/// (−2^31..2^31−1, for stopped/failed containers), optional `error` (why it failed,
/// ≤ kMaxStatusErrorLength bytes of UTF-8; see truncateUtf8()).
struct DeploymentStatus {
  static constexpr bool kTolerant = true;  ///< an answer: unknown fields are skipped
  std::string deploymentId;
  std::string image;
  DeploymentState state = DeploymentState::kPending;
  std::optional<std::int64_t> startedAtMs;
  std::optional<std::string> url;
  std::optional<std::int64_t> cpuUsageMillicores;
  std::optional<std::int64_t> memoryBytes;
  std::int64_t memoryLimit = 0;
  std::optional<std::int64_t> netRxBytes;
  std::optional<std::int64_t> netTxBytes;
  std::optional<std::int64_t> statsAtMs;
  std::optional<std::int64_t> exitCode;
  std::optional<std::string> error;
  std::vector<std::string> urls;  ///< on the wire after `url` (the table sets the order)
  friend bool operator==(const DeploymentStatus&, const DeploymentStatus&) = default;
};

/// StatusResponse: `deployments` (array of DeploymentStatus, ≤ kMaxStatusEntries).
struct StatusResponse {
  static constexpr bool kTolerant = true;  ///< an answer: unknown fields are skipped
  static constexpr MessageType kType = MessageType::kStatusResponse;
  std::vector<DeploymentStatus> deployments;
  friend bool operator==(const StatusResponse&, const StatusResponse&) = default;
};

/// LogsRequest: request fields + `deployment_id`, `follow` (bool), optional `tail` (last N
/// lines, 0..kMaxLogTail; absent = all), optional `since` (unix ms).
struct LogsRequest {
  static constexpr MessageType kType = MessageType::kLogsRequest;
  RequestHeader header;
  std::string deploymentId;
  bool follow = false;
  std::optional<std::int64_t> tail;
  std::optional<std::int64_t> sinceMs;
  friend bool operator==(const LogsRequest&, const LogsRequest&) = default;
};

enum class LogStream { kStdout, kStderr };

/// LogEntry: `stream` ("stdout" | "stderr"), `timestamp` (unix ms), `line` (≤ kMaxLogLineBytes;
/// valid UTF-8 — the sender replaces invalid bytes, see sanitizeUtf8()).
struct LogEntry {
  static constexpr bool kTolerant = true;  ///< an answer: unknown fields are skipped
  static constexpr MessageType kType = MessageType::kLogEntry;
  LogStream stream = LogStream::kStdout;
  std::int64_t timestampMs = 0;
  std::string line;
  friend bool operator==(const LogEntry&, const LogEntry&) = default;
};

/// LogsEnd: optional `reason` (≤ kMaxErrorTextLength). Ends a logs stream.
struct LogsEnd {
  static constexpr bool kTolerant = true;  ///< an answer: unknown fields are skipped
  static constexpr MessageType kType = MessageType::kLogsEnd;
  std::optional<std::string> reason;
  friend bool operator==(const LogsEnd&, const LogsEnd&) = default;
};

/// Error: `code` ([a-z0-9_]{1,64}, machine-readable, e.g. "bad_signature"), `message` (human
/// sentence: what happened and what to do, ≤ kMaxErrorTextLength).
struct ErrorMessage {
  static constexpr bool kTolerant = true;  ///< an answer: unknown fields are skipped
  static constexpr MessageType kType = MessageType::kError;
  std::string code;
  std::string message;
  friend bool operator==(const ErrorMessage&, const ErrorMessage&) = default;
};

/// RegisterRoute (tunnel, provider → gateway): request fields + `deployment_id` + `id_salt`
/// (32 lower-case hex characters): the deployment id must equal deploymentIdFor(the provider's
/// PeerId, salt), which proves the registering provider minted it (see deploymentIdFor).
/// Optional `on_behalf_of`: the PeerId (base58) of the developer who deployed it, so the gateway
/// can hold each developer to a share of what routes cost it (certificate orders) across every
/// provider they use. The provider vouches for it; a gateway without it counts the provider only.
struct RegisterRoute {
  static constexpr MessageType kType = MessageType::kRegisterRoute;
  RequestHeader header;
  std::string deploymentId;
  std::string idSalt;
  std::optional<std::string> onBehalfOf;
  friend bool operator==(const RegisterRoute&, const RegisterRoute&) = default;
};

/// RouteRegistered (gateway → provider): `deployment_id`, `url`.
struct RouteRegistered {
  static constexpr bool kTolerant = true;  ///< an answer: unknown fields are skipped
  static constexpr MessageType kType = MessageType::kRouteRegistered;
  std::string deploymentId;
  std::string url;
  friend bool operator==(const RouteRegistered&, const RouteRegistered&) = default;
};

/// UnregisterRoute (tunnel, provider → gateway): request fields + `deployment_id`.
struct UnregisterRoute {
  static constexpr MessageType kType = MessageType::kUnregisterRoute;
  RequestHeader header;
  std::string deploymentId;
  friend bool operator==(const UnregisterRoute&, const UnregisterRoute&) = default;
};

/// Heartbeat (tunnel, both ways): `timestamp` (unix ms).
struct Heartbeat {
  static constexpr MessageType kType = MessageType::kHeartbeat;
  std::int64_t timestampMs = 0;
  friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
};

using Message =
    std::variant<DeployRequest, DeployProgress, DeployResponse, StopRequest, StopResponse,
                 StatusRequest, StatusResponse, LogsRequest, LogEntry, LogsEnd, ErrorMessage,
                 RegisterRoute, RouteRegistered, UnregisterRoute, Heartbeat>;

MessageType typeOf(const Message& m);
/// True for the signed request types.
bool isRequest(MessageType t);
/// The request header of a request, nullptr for other messages.
const RequestHeader* requestHeader(const Message& m);
RequestHeader* requestHeader(Message& m);

/// The JSON body of `m`. Does not validate (see validate()); strings that are not valid UTF-8
/// produce a body the peer will reject.
std::string toJson(const Message& m);
/// Parses and validates a body of type `t`. Errors: kBadJson, kUnknownField, kMissingField,
/// kWrongType, kOutOfRange, kBadFormat — each message names the message type and field.
Result<Message> fromJson(MessageType t, std::string_view body);
/// fromJson for a known type.
template <class T>
Result<T> fromJsonAs(std::string_view body) {
  auto m = fromJson(T::kType, body);
  if (!m) return m.error();
  return std::get<T>(std::move(*m));
}
/// Checks `m` against the rules fromJson enforces (a sender calls it before sending).
Result<void> validate(const Message& m);

/// A complete frame for `m`.
Result<Bytes> encodeMessage(const Message& m);
/// The message in a decoded frame.
Result<Message> decodeMessage(const Frame& f);

/// Unix milliseconds now (system clock, UTC).
std::int64_t unixMillisNow();
/// A fresh request id: 16 random bytes, lower-case hex.
std::string newRequestId();
/// A fresh header (random request id, timestamp `nowMs`); requester and signature are filled
/// by sign().
RequestHeader newRequestHeader(std::int64_t nowMs);
/// `s` with every invalid UTF-8 sequence replaced by U+FFFD (log lines from containers); the
/// same as utf8::sanitize().
inline std::string sanitizeUtf8(std::string_view s) { return utf8::sanitize(s); }
/// `s` as valid UTF-8 of at most `maxBytes` bytes, cut at a character boundary ("…" marks a
/// cut); the same as utf8::truncate().
inline std::string truncateUtf8(std::string_view s, std::size_t maxBytes) {
  return utf8::truncate(s, maxBytes);
}

}  // namespace pc::protocol
