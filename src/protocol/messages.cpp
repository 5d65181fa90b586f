// Message structs <-> strict JSON through one field table per message. `fields(visitor, m)`
// names each member once — its JSON key and its codec (field_codecs.hpp), in wire order — and
// the same table drives three visitors: the Reader (strict decoding, the first error wins), the
// Writer (encoding; members in table order, so the bytes on the wire follow the table) and the
// KeyList (the member names a message may carry; anything else is refused).
#include "protocol/messages.hpp"

#include <boost/json.hpp>
#include <type_traits>
#include <utility>

#include "core/time.hpp"
#include "protocol/error.hpp"
#include "protocol/field_codecs.hpp"
#include "protocol/field_table.hpp"
#include "protocol/json_detail.hpp"
#include "protocol/random_detail.hpp"

namespace pc::protocol {
namespace json = boost::json;

std::string_view toString(DeployNetwork n) {
  return n == DeployNetwork::kNone ? "none" : "internet";
}

std::optional<DeployNetwork> deployNetworkFromString(std::string_view s) {
  if (s == "internet") return DeployNetwork::kInternet;
  if (s == "none") return DeployNetwork::kNone;
  return std::nullopt;
}

namespace {

// ---- names of the enums on the wire ----

std::string_view phaseName(DeployPhase p) {
  return p == DeployPhase::kPulling ? "pulling" : "starting";
}

std::optional<DeployPhase> phaseFromName(std::string_view s) {
  if (s == "pulling") {
    return DeployPhase::kPulling;
  }
  if (s == "starting") {
    return DeployPhase::kStarting;
  }
  return std::nullopt;
}

std::string_view streamName(LogStream s) { return s == LogStream::kStdout ? "stdout" : "stderr"; }

std::optional<LogStream> streamFromName(std::string_view s) {
  if (s == "stdout") {
    return LogStream::kStdout;
  }
  if (s == "stderr") {
    return LogStream::kStderr;
  }
  return std::nullopt;
}

}  // namespace

// The tables live in namespace detail, where the field-table templates find them (ADL).
namespace detail {

// ---- the field tables ----

constexpr Int<> kNonNegative{0, kMaxSafeInteger};  // times (unix ms), byte counts
constexpr Text kDeploymentId{64, false, &deploymentIdForm};
constexpr Text kUrl{kMaxUrlLength, false, &urlForm};
constexpr Text kErrorText{kMaxErrorTextLength};
constexpr Choice<DeploymentState> kState{
    32, &deploymentStateFromString, &toString,
    "is not a deployment state (pending, pulling, starting, running, stopping, stopped, failed)"};
constexpr Choice<DeployPhase> kPhase{16, &phaseFromName, &phaseName,
                                     "is not one of pulling, starting"};
constexpr Choice<DeployNetwork> kNetwork{16, &deployNetworkFromString, &toString,
                                         "is not one of internet, none"};
constexpr Choice<LogStream> kStream{16, &streamFromName, &streamName,
                                    "is not one of stdout, stderr"};
constexpr Choice<PullPolicy> kPull{16, &pullPolicyFromString, &toString,
                                   "is not a pull policy (missing, always, never)"};
constexpr Choice<ImageSource> kImageSource{16, &imageSourceFromString, &toString,
                                           "is not one of local, registry"};

template <class V>
void fields(V& v, Member<V, RequestHeader>& h) {
  v.field("request_id", h.requestId, Text{kRequestIdMaxBytes * 2, false, &requestIdForm});
  v.field("requester_id", h.requesterId,
          Text{crypto::PeerId::kMaxTextLength, false, &requesterIdForm});
  v.field("timestamp", h.timestampMs, kNonNegative);
  v.signature("signature", h.signature, Text{kSignatureHexLength, false, &signatureForm});
}

template <class V>
void fields(V& v, Member<V, DeployRequest>& m) {
  fields(v, m.header);
  v.field("image", m.image, Text{kMaxImageRefLength, false, &imageForm});
  v.field("cpu_millicores", m.cpuMillicores, Int<>{1, kMaxCpuMillicores});
  v.field("memory_bytes", m.memoryBytes, Int<>{kMinMemoryBytes, kMaxMemoryBytes});
  v.field("expose_port", m.exposePort, Int<std::uint16_t>{1, 65535});
  v.field("env", m.env, Env{});
  v.field("timeout_seconds", m.timeoutSeconds, Int<>{kMinTimeoutSeconds, kMaxTimeoutSeconds});
  v.field("command", m.command, Command{});
  v.field("network", m.network, kNetwork);
  v.field("pull", m.pull, kPull);
}

template <class V>
void fields(V& v, Member<V, DeployProgress>& m) {
  v.field("deployment_id", m.deploymentId, kDeploymentId);
  v.field("phase", m.phase, kPhase);
  v.field("percent", m.percent, Int<>{0, 100});
  v.field("bytes_done", m.bytesDone, kNonNegative);
  v.field("bytes_total", m.bytesTotal, kNonNegative);
  v.field("image_source", m.imageSource, kImageSource);
  v.rule(m.phase == DeployPhase::kPulling || !(m.percent || m.bytesDone || m.bytesTotal),
         Errc::kUnknownField, "percent and bytes fields belong to the pulling phase only");
}

template <class V>
void fields(V& v, Member<V, DeployResponse>& m) {
  v.field("deployment_id", m.deploymentId, kDeploymentId);
  v.field("state", m.state, kState);
  v.field("url", m.url, kUrl);
  v.field("urls", m.urls, UrlList{});
  v.field("error", m.error, kErrorText);
  v.rule(urlsAgree(m.url, m.urls), Errc::kBadFormat, "urls must begin with url");
}

template <class V>
void fields(V& v, Member<V, StopRequest>& m) {
  fields(v, m.header);
  v.field("deployment_id", m.deploymentId, kDeploymentId);
  v.field("force", m.force, Bool{});
}

template <class V>
void fields(V& v, Member<V, StopResponse>& m) {
  v.field("deployment_id", m.deploymentId, kDeploymentId);
  v.field("state", m.state, kState);
}

template <class V>
void fields(V& v, Member<V, StatusRequest>& m) {
  fields(v, m.header);
  v.field("deployment_id", m.deploymentId, kDeploymentId);
}

template <class V>
void fields(V& v, Member<V, DeploymentStatus>& m) {
  v.field("deployment_id", m.deploymentId, kDeploymentId);
  v.field("image", m.image, Text{kMaxImageRefLength});
  v.field("state", m.state, kState);
  v.field("started_at", m.startedAtMs, kNonNegative);
  v.field("url", m.url, kUrl);
  v.field("urls", m.urls, UrlList{});
  v.field("cpu_usage_millicores", m.cpuUsageMillicores, kNonNegative);
  v.field("memory_bytes", m.memoryBytes, kNonNegative);
  v.field("memory_limit", m.memoryLimit, kNonNegative);
  v.field("net_rx_bytes", m.netRxBytes, kNonNegative);
  v.field("net_tx_bytes", m.netTxBytes, kNonNegative);
  v.field("stats_at", m.statsAtMs, kNonNegative);
  v.field("exit_code", m.exitCode, Int<>{-(std::int64_t{1} << 31), (std::int64_t{1} << 31) - 1});
  v.field("error", m.error, Text{kMaxStatusErrorLength});
  v.rule(urlsAgree(m.url, m.urls), Errc::kBadFormat, "urls must begin with url");
}

template <class V>
void fields(V& v, Member<V, StatusResponse>& m) {
  v.field("deployments", m.deployments, ObjectList<DeploymentStatus>{kMaxStatusEntries});
}

template <class V>
void fields(V& v, Member<V, LogsRequest>& m) {
  fields(v, m.header);
  v.field("deployment_id", m.deploymentId, kDeploymentId);
  v.field("follow", m.follow, Bool{});
  v.field("tail", m.tail, Int<>{0, kMaxLogTail});
  v.field("since", m.sinceMs, kNonNegative);
}

template <class V>
void fields(V& v, Member<V, LogEntry>& m) {
  v.field("stream", m.stream, kStream);
  v.field("timestamp", m.timestampMs, kNonNegative);
  v.field("line", m.line, Text{kMaxLogLineBytes, true});
}

template <class V>
void fields(V& v, Member<V, LogsEnd>& m) {
  v.field("reason", m.reason, kErrorText);
}

template <class V>
void fields(V& v, Member<V, ErrorMessage>& m) {
  v.field("code", m.code, Text{kMaxErrorCodeLength, false, &errorCodeForm});
  v.field("message", m.message, kErrorText);
}

template <class V>
void fields(V& v, Member<V, RegisterRoute>& m) {
  fields(v, m.header);
  v.field("deployment_id", m.deploymentId, kDeploymentId);
  v.field("id_salt", m.idSalt, Text{kDeploymentSaltBytes * 2, false, &saltForm});
  v.field("on_behalf_of", m.onBehalfOf,
          Text{crypto::PeerId::kMaxTextLength, false, &requesterIdForm});
}

template <class V>
void fields(V& v, Member<V, RouteRegistered>& m) {
  v.field("deployment_id", m.deploymentId, kDeploymentId);
  v.field("url", m.url, kUrl);
}

template <class V>
void fields(V& v, Member<V, UnregisterRoute>& m) {
  fields(v, m.header);
  v.field("deployment_id", m.deploymentId, kDeploymentId);
}

template <class V>
void fields(V& v, Member<V, Heartbeat>& m) {
  v.field("timestamp", m.timestampMs, kNonNegative);
}

}  // namespace detail

namespace {

template <class T>
Result<Message> readMessage(const json::object& o, bool requireSignature) {
  auto m = detail::readObject<T>(o, messageTypeName(T::kType), requireSignature);
  if (!m) {
    return m.error();
  }
  return Message(std::move(*m));
}

// The alternative of Message whose kType is `t`, read through its table (so a type added to
// Message is decodable without another list to extend).
template <std::size_t... I>
Result<Message> readAlternative(MessageType t, const json::object& o, bool requireSignature,
                                std::index_sequence<I...> /*alternatives*/) {
  Result<Message> out =
      fail(Errc::kUnknownType, "unknown message type " + std::to_string(static_cast<unsigned>(t)));
  const auto tryOne = [&]<class T>(std::type_identity<T>) {
    if (T::kType != t) {
      return false;
    }
    out = readMessage<T>(o, requireSignature);
    return true;
  };
  static_cast<void>((tryOne(std::type_identity<std::variant_alternative_t<I, Message>>{}) || ...));
  return out;
}

}  // namespace

std::string_view toString(DeploymentState s) {
  switch (s) {
    case DeploymentState::kPending:
      return "pending";
    case DeploymentState::kPulling:
      return "pulling";
    case DeploymentState::kStarting:
      return "starting";
    case DeploymentState::kRunning:
      return "running";
    case DeploymentState::kStopping:
      return "stopping";
    case DeploymentState::kStopped:
      return "stopped";
    case DeploymentState::kFailed:
      return "failed";
  }
  return "unknown";
}

std::optional<DeploymentState> deploymentStateFromString(std::string_view s) {
  for (auto st : {DeploymentState::kPending, DeploymentState::kPulling, DeploymentState::kStarting,
                  DeploymentState::kRunning, DeploymentState::kStopping, DeploymentState::kStopped,
                  DeploymentState::kFailed}) {
    if (toString(st) == s) {
      return st;
    }
  }
  return std::nullopt;
}

std::string_view toString(PullPolicy p) {
  switch (p) {
    case PullPolicy::kMissing:
      return "missing";
    case PullPolicy::kAlways:
      return "always";
    case PullPolicy::kNever:
      return "never";
  }
  return "unknown";
}

std::optional<PullPolicy> pullPolicyFromString(std::string_view s) {
  for (auto p : {PullPolicy::kMissing, PullPolicy::kAlways, PullPolicy::kNever}) {
    if (toString(p) == s) {
      return p;
    }
  }
  return std::nullopt;
}

std::string_view toString(ImageSource s) { return s == ImageSource::kLocal ? "local" : "registry"; }

std::optional<ImageSource> imageSourceFromString(std::string_view s) {
  if (s == "local") {
    return ImageSource::kLocal;
  }
  if (s == "registry") {
    return ImageSource::kRegistry;
  }
  return std::nullopt;
}

MessageType typeOf(const Message& m) {
  return std::visit([](const auto& x) { return std::decay_t<decltype(x)>::kType; }, m);
}

bool isRequest(MessageType t) {
  switch (t) {
    case MessageType::kDeployRequest:
    case MessageType::kStopRequest:
    case MessageType::kStatusRequest:
    case MessageType::kLogsRequest:
    case MessageType::kRegisterRoute:
    case MessageType::kUnregisterRoute:
      return true;
    default:
      return false;
  }
}

const RequestHeader* requestHeader(const Message& m) {
  return std::visit(
      [](const auto& x) -> const RequestHeader* {
        if constexpr (requires { x.header; }) {
          return &x.header;
        } else {
          return nullptr;
        }
      },
      m);
}

RequestHeader* requestHeader(Message& m) {
  return const_cast<RequestHeader*>(requestHeader(std::as_const(m)));
}

namespace detail {

json::object toObject(const Message& m, bool withSignature) {
  return std::visit([&](const auto& x) { return detail::writeObject(x, withSignature); }, m);
}

Result<Message> fromObject(MessageType t, const json::object& o, bool requireSignature) {
  return readAlternative(t, o, requireSignature,
                         std::make_index_sequence<std::variant_size_v<Message>>{});
}

}  // namespace detail

std::string toJson(const Message& m) { return json::serialize(detail::toObject(m, true)); }

Result<Message> fromJson(MessageType t, std::string_view body) {
  auto v = detail::parseStrict(body);
  if (!v) {
    return v.error().context(messageTypeName(t));
  }
  if (!v->is_object()) {
    return fail(Errc::kWrongType,
                std::string(messageTypeName(t)) + ": the body must be a JSON object");
  }
  return detail::fromObject(t, v->get_object(), true);
}

Result<void> validate(const Message& m) {
  auto r = detail::fromObject(typeOf(m), detail::toObject(m, true), true);
  if (!r) {
    return r.error();
  }
  return {};
}

Result<Bytes> encodeMessage(const Message& m) { return encodeFrame(typeOf(m), toJson(m)); }

Result<Message> decodeMessage(const Frame& f) { return fromJson(f.type, f.body); }

std::int64_t unixMillisNow() { return time::unixMillisNow(); }

std::string newRequestId() { return toHex(detail::randomBytes(kRequestIdMinBytes)); }

RequestHeader newRequestHeader(std::int64_t nowMs) {
  RequestHeader h;
  h.requestId = newRequestId();
  h.timestampMs = nowMs;
  return h;
}

}  // namespace pc::protocol
