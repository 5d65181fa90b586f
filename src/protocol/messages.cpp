// Message structs <-> strict JSON. Every check names "<message_type>.<field>" in its error so
// that a user (or the peer's operator) can see exactly what was refused.
#include "protocol/messages.hpp"

#include <boost/json.hpp>

#include "core/time.hpp"
#include "core/utf8.hpp"
#include "crypto/peer_id.hpp"
#include "protocol/error.hpp"
#include "protocol/json_detail.hpp"
#include "protocol/random_detail.hpp"

namespace pc::protocol {
namespace json = boost::json;

// Local propagation helpers (this file only): every field read is a Result.
#define PC_PROTO_ASSIGN(lhs, expr) \
  do {                             \
    auto pcProtoR = (expr);        \
    if (!pcProtoR) {               \
      return pcProtoR.error();     \
    }                              \
    (lhs) = std::move(*pcProtoR);  \
  } while (0)
#define PC_PROTO_CHECK(expr)   \
  do {                         \
    auto pcProtoR = (expr);    \
    if (!pcProtoR) {           \
      return pcProtoR.error(); \
    }                          \
  } while (0)

namespace {

constexpr std::size_t kSignatureHexLength = 128;

bool isEnvKey(std::string_view k) {
  if (k.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(k.front())) return false;
  return std::all_of(k.begin(), k.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

bool hasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

std::string quoted(std::string_view s) {
  constexpr std::size_t kShown = 40;
  std::string out = "\"";
  for (char c : s.substr(0, kShown)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out + (s.size() > kShown ? "…\"" : "\"");
}

const char* kindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

// Reads the members of one JSON object, naming "<context>.<field>" in every error.
class Fields {
 public:
  Fields(const json::object& o, std::string context) : o_(o), context_(std::move(context)) {}

  [[nodiscard]] std::string where(std::string_view key) const {
    return context_ + "." + std::string(key);
  }

  [[nodiscard]] bool has(std::string_view key) const { return o_.contains(key); }

  Result<const json::value*> required(std::string_view key, json::kind kind,
                                      const char* expected) const {
    const auto* v = o_.if_contains(key);
    if (v == nullptr) return fail(Errc::kMissingField, where(key) + ": required field is missing");
    if (v->kind() != kind) {
      return fail(Errc::kWrongType, where(key) + ": expected " + expected + ", got " +
                                        kindName(*v) +
                                        (v->is_null() ? " (omit optional fields instead)" : ""));
    }
    return v;
  }

  Result<std::string> str(std::string_view key, std::size_t maxLen, bool allowEmpty = false) const {
    const json::value* v = nullptr;
    PC_PROTO_ASSIGN(v, required(key, json::kind::string, "a string"));
    const std::string_view s(v->get_string());
    if (s.size() > maxLen) {
      return fail(Errc::kOutOfRange, where(key) + ": " + std::to_string(s.size()) +
                                         " bytes exceed the limit of " + std::to_string(maxLen));
    }
    if (s.empty() && !allowEmpty) {
      return fail(Errc::kOutOfRange, where(key) + ": must not be empty");
    }
    if (!utf8::isValid(s)) return fail(Errc::kBadFormat, where(key) + ": not valid UTF-8");
    return std::string(s);
  }

  Result<std::optional<std::string>> optStr(std::string_view key, std::size_t maxLen) const {
    if (!has(key)) return std::optional<std::string>{};
    std::string s;
    PC_PROTO_ASSIGN(s, str(key, maxLen));
    return std::optional<std::string>{std::move(s)};
  }

  Result<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) const {
    const auto* v = o_.if_contains(key);
    if (v == nullptr) return fail(Errc::kMissingField, where(key) + ": required field is missing");
    if (!v->is_int64()) {
      // uint64 / double only arise from out-of-range or fractional numbers in a built value.
      if (v->is_number()) {
        return fail(Errc::kOutOfRange, where(key) + ": must be an integer from " +
                                           std::to_string(min) + " to " + std::to_string(max));
      }
      return fail(Errc::kWrongType, where(key) + ": expected an integer, got " + kindName(*v) +
                                        (v->is_null() ? " (omit optional fields instead)" : ""));
    }
    const std::int64_t n = v->get_int64();
    if (n < min || n > max) {
      return fail(Errc::kOutOfRange, where(key) + ": " + std::to_string(n) +
                                         " is outside the allowed range " + std::to_string(min) +
                                         " to " + std::to_string(max));
    }
    return n;
  }

  Result<std::optional<std::int64_t>> optInteger(std::string_view key, std::int64_t min,
                                                 std::int64_t max) const {
    if (!has(key)) return std::optional<std::int64_t>{};
    std::int64_t n = 0;
    PC_PROTO_ASSIGN(n, integer(key, min, max));
    return std::optional<std::int64_t>{n};
  }

  Result<bool> boolean(std::string_view key) const {
    const json::value* v = nullptr;
    PC_PROTO_ASSIGN(v, required(key, json::kind::bool_, "a boolean"));
    return v->get_bool();
  }

  Result<std::string> deploymentId(std::string_view key) const {
    std::string s;
    PC_PROTO_ASSIGN(s, str(key, 64));
    if (!isDeploymentId(s)) {
      return fail(Errc::kBadFormat,
                  where(key) + ": " + quoted(s) +
                      " is not a deployment id (dep- and 16 characters a-z, 2-7)");
    }
    return s;
  }

  Result<std::optional<std::string>> optDeploymentId(std::string_view key) const {
    if (!has(key)) return std::optional<std::string>{};
    std::string s;
    PC_PROTO_ASSIGN(s, deploymentId(key));
    return std::optional<std::string>{std::move(s)};
  }

  Result<DeploymentState> state(std::string_view key) const {
    std::string s;
    PC_PROTO_ASSIGN(s, str(key, 32));
    auto st = deploymentStateFromString(s);
    if (!st) {
      return fail(Errc::kBadFormat,
                  where(key) + ": " + quoted(s) +
                      " is not a deployment state (pending, pulling, starting, running, "
                      "stopping, stopped, failed)");
    }
    return *st;
  }

  Result<std::optional<std::string>> optUrl(std::string_view key) const {
    std::optional<std::string> u;
    PC_PROTO_ASSIGN(u, optStr(key, kMaxUrlLength));
    if (u) PC_PROTO_CHECK(checkUrl(key, *u));
    return u;
  }

  Result<void> checkUrl(std::string_view key, std::string_view u) const {
    const bool scheme = u.starts_with("https://") || u.starts_with("http://");
    if (!scheme || hasControl(u) || u.find(' ') != std::string_view::npos) {
      return fail(Errc::kBadFormat,
                  where(key) + ": " + quoted(u) + " is not an http(s) URL without spaces");
    }
    return {};
  }

  [[nodiscard]] const std::string& context() const { return context_; }

 private:
  const json::object& o_;
  std::string context_;
};

// Unknown fields are refused rather than ignored: a field this version does not understand
// might carry meaning the sender relies on (and would be signed without being enforced).
// The allowed member names of a message: the header's (for requests) plus its own.
std::vector<std::string_view> names(bool request, std::initializer_list<std::string_view> own) {
  std::vector<std::string_view> out;
  if (request) out = {"request_id", "requester_id", "timestamp", "signature"};
  out.insert(out.end(), own.begin(), own.end());
  return out;
}

Result<void> onlyFields(const json::object& o, const Fields& f, bool request,
                        std::initializer_list<std::string_view> own) {
  const auto allowed = names(request, own);
  for (const auto& kv : o) {
    const std::string_view k(kv.key());
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      return fail(Errc::kUnknownField,
                  f.where(k.substr(0, 64)) + ": unknown field (is the peer a newer version?)");
    }
  }
  return {};
}

Result<RequestHeader> readHeader(const Fields& f, bool requireSignature) {
  RequestHeader h;
  PC_PROTO_ASSIGN(h.requestId, f.str("request_id", kRequestIdMaxBytes * 2));
  // One text form per id: lower-case hex of 16..32 bytes. Short ids would make accidental
  // collisions (and so false replay rejections) likely; case variants would let one request
  // appear under several keys.
  if (h.requestId.size() < kRequestIdMinBytes * 2 || h.requestId.size() % 2 != 0 ||
      !isLowerHex(h.requestId)) {
    return fail(Errc::kBadFormat, f.where("request_id") + ": " + quoted(h.requestId) +
                                      " must be 32 to 64 lower-case hex characters");
  }
  PC_PROTO_ASSIGN(h.requesterId, f.str("requester_id", crypto::PeerId::kMaxTextLength));
  auto pid = crypto::PeerId::parse(h.requesterId);
  if (!pid) {
    return fail(Errc::kBadFormat,
                f.where("requester_id") + ": not a peer id (" + pid.error().message() + ")");
  }
  if (pid->toBase58() != h.requesterId) {
    return fail(Errc::kBadFormat,
                f.where("requester_id") + ": must be the base58 form (12D3KooW…) of the peer id");
  }
  if (!pid->ed25519Key()) {
    return fail(Errc::kBadFormat,
                f.where("requester_id") + ": not an Ed25519 peer id (requests cannot be verified)");
  }
  PC_PROTO_ASSIGN(h.timestampMs, f.integer("timestamp", 0, detail::kMaxSafeInteger));
  if (requireSignature) {
    PC_PROTO_ASSIGN(h.signature, f.str("signature", kSignatureHexLength));
    if (h.signature.size() != kSignatureHexLength || !isLowerHex(h.signature)) {
      return fail(Errc::kBadFormat,
                  f.where("signature") + ": must be 128 lower-case hex characters (Ed25519)");
    }
  } else if (f.has("signature")) {
    return fail(Errc::kUnknownField, f.where("signature") + ": not expected in the signed form");
  }
  return h;
}

void writeHeader(json::object& o, const RequestHeader& h, bool withSignature) {
  o["request_id"] = h.requestId;
  o["requester_id"] = h.requesterId;
  o["timestamp"] = h.timestampMs;
  if (withSignature) o["signature"] = h.signature;
}

Result<std::map<std::string, std::string>> readEnv(const Fields& f) {
  const json::value* v = nullptr;
  PC_PROTO_ASSIGN(v, f.required("env", json::kind::object, "an object"));
  const auto& env = v->get_object();
  if (env.size() > kMaxEnvVars) {
    return fail(Errc::kOutOfRange, f.where("env") + ": " + std::to_string(env.size()) +
                                       " variables exceed the limit of " +
                                       std::to_string(kMaxEnvVars));
  }
  std::map<std::string, std::string> out;
  std::size_t total = 0;
  for (const auto& kv : env) {
    const std::string_view k(kv.key());
    const std::string where = f.where("env") + "[" + quoted(k) + "]";
    if (k.size() > kMaxEnvKeyLength || !isEnvKey(k)) {
      return fail(Errc::kBadFormat, where +
                                        ": variable names must match [A-Za-z_][A-Za-z0-9_]* "
                                        "and be at most " +
                                        std::to_string(kMaxEnvKeyLength) + " characters");
    }
    if (!kv.value().is_string()) {
      return fail(Errc::kWrongType,
                  where + ": expected a string value, got " + kindName(kv.value()));
    }
    const std::string_view val(kv.value().get_string());
    if (!utf8::isValid(val)) return fail(Errc::kBadFormat, where + ": value is not valid UTF-8");
    // A NUL would truncate the variable inside the container runtime's C strings, so the
    // container would see something other than what was signed.
    if (val.find('\0') != std::string_view::npos) {
      return fail(Errc::kBadFormat, where + ": value contains a NUL character");
    }
    total += k.size() + val.size();
    if (total > kMaxEnvTotalBytes) {
      return fail(Errc::kOutOfRange, f.where("env") + ": total size exceeds the limit of " +
                                         std::to_string(kMaxEnvTotalBytes) + " bytes");
    }
    out.emplace(std::string(k), std::string(val));
  }
  return out;
}

Result<std::vector<std::string>> readCommand(const Fields& f) {
  std::vector<std::string> out;
  if (!f.has("command")) return out;
  const json::value* v = nullptr;
  PC_PROTO_ASSIGN(v, f.required("command", json::kind::array, "an array of strings"));
  const auto& arr = v->get_array();
  if (arr.empty() || arr.size() > kMaxCommandArgs) {
    return fail(Errc::kOutOfRange, f.where("command") + ": needs 1 to " +
                                       std::to_string(kMaxCommandArgs) + " arguments, got " +
                                       std::to_string(arr.size()));
  }
  std::size_t total = 0;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string where = f.where("command") + "[" + std::to_string(i) + "]";
    if (!arr[i].is_string()) {
      return fail(Errc::kWrongType, where + ": expected a string, got " + kindName(arr[i]));
    }
    const std::string_view a(arr[i].get_string());
    if (!utf8::isValid(a)) return fail(Errc::kBadFormat, where + ": not valid UTF-8");
    // As for env values: a NUL would cut the argument short inside the runtime.
    if (a.find('\0') != std::string_view::npos) {
      return fail(Errc::kBadFormat, where + ": contains a NUL character");
    }
    total += a.size();
    if (total > kMaxCommandBytes) {
      return fail(Errc::kOutOfRange, f.where("command") + ": total size exceeds the limit of " +
                                         std::to_string(kMaxCommandBytes) + " bytes");
    }
    out.emplace_back(a);
  }
  return out;
}

std::string ctx(MessageType t) { return std::string(messageTypeName(t)); }

Result<DeployRequest> readDeploy(const json::object& o, bool sig) {
  Fields f(o, ctx(MessageType::kDeployRequest));
  PC_PROTO_CHECK(onlyFields(o, f, true,
                            {"image", "cpu_millicores", "memory_bytes", "expose_port", "env",
                             "timeout_seconds", "command"}));
  DeployRequest m;
  PC_PROTO_ASSIGN(m.header, readHeader(f, sig));
  PC_PROTO_ASSIGN(m.image, f.str("image", kMaxImageRefLength));
  // The reference grammar (docker/distribution) uses only these characters; the runtime parses
  // the reference fully, this only keeps odd bytes out of logs and audit records.
  const bool imageChars = std::all_of(m.image.begin(), m.image.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '/' || c == ':' || c == '@';
  });
  if (!imageChars) {
    return fail(Errc::kBadFormat,
                f.where("image") + ": " + quoted(m.image) + " is not an image reference");
  }
  PC_PROTO_ASSIGN(m.cpuMillicores, f.integer("cpu_millicores", 1, kMaxCpuMillicores));
  PC_PROTO_ASSIGN(m.memoryBytes, f.integer("memory_bytes", kMinMemoryBytes, kMaxMemoryBytes));
  std::optional<std::int64_t> port;
  PC_PROTO_ASSIGN(port, f.optInteger("expose_port", 1, 65535));
  if (port) m.exposePort = static_cast<std::uint16_t>(*port);
  PC_PROTO_ASSIGN(m.env, readEnv(f));
  PC_PROTO_ASSIGN(m.timeoutSeconds,
                  f.integer("timeout_seconds", kMinTimeoutSeconds, kMaxTimeoutSeconds));
  PC_PROTO_ASSIGN(m.command, readCommand(f));
  return m;
}

Result<DeployProgress> readProgress(const json::object& o) {
  Fields f(o, ctx(MessageType::kDeployProgress));
  PC_PROTO_CHECK(
      onlyFields(o, f, false, {"deployment_id", "phase", "percent", "bytes_done", "bytes_total"}));
  DeployProgress m;
  PC_PROTO_ASSIGN(m.deploymentId, f.deploymentId("deployment_id"));
  std::string phase;
  PC_PROTO_ASSIGN(phase, f.str("phase", 16));
  if (phase == "pulling") {
    m.phase = DeployPhase::kPulling;
  } else if (phase == "starting") {
    m.phase = DeployPhase::kStarting;
  } else {
    return fail(Errc::kBadFormat,
                f.where("phase") + ": " + quoted(phase) + " is not one of pulling, starting");
  }
  PC_PROTO_ASSIGN(m.percent, f.optInteger("percent", 0, 100));
  PC_PROTO_ASSIGN(m.bytesDone, f.optInteger("bytes_done", 0, detail::kMaxSafeInteger));
  PC_PROTO_ASSIGN(m.bytesTotal, f.optInteger("bytes_total", 0, detail::kMaxSafeInteger));
  if (m.phase == DeployPhase::kStarting && (m.percent || m.bytesDone || m.bytesTotal)) {
    return fail(Errc::kUnknownField,
                f.context() + ": percent and bytes fields belong to the pulling phase only");
  }
  return m;
}

Result<DeployResponse> readDeployResponse(const json::object& o) {
  Fields f(o, ctx(MessageType::kDeployResponse));
  PC_PROTO_CHECK(onlyFields(o, f, false, {"deployment_id", "state", "url", "error"}));
  DeployResponse m;
  PC_PROTO_ASSIGN(m.deploymentId, f.deploymentId("deployment_id"));
  PC_PROTO_ASSIGN(m.state, f.state("state"));
  PC_PROTO_ASSIGN(m.url, f.optUrl("url"));
  PC_PROTO_ASSIGN(m.error, f.optStr("error", kMaxErrorTextLength));
  return m;
}

Result<StopRequest> readStop(const json::object& o, bool sig) {
  Fields f(o, ctx(MessageType::kStopRequest));
  PC_PROTO_CHECK(onlyFields(o, f, true, {"deployment_id", "force"}));
  StopRequest m;
  PC_PROTO_ASSIGN(m.header, readHeader(f, sig));
  PC_PROTO_ASSIGN(m.deploymentId, f.deploymentId("deployment_id"));
  PC_PROTO_ASSIGN(m.force, f.boolean("force"));
  return m;
}

Result<StopResponse> readStopResponse(const json::object& o) {
  Fields f(o, ctx(MessageType::kStopResponse));
  PC_PROTO_CHECK(onlyFields(o, f, false, {"deployment_id", "state"}));
  StopResponse m;
  PC_PROTO_ASSIGN(m.deploymentId, f.deploymentId("deployment_id"));
  PC_PROTO_ASSIGN(m.state, f.state("state"));
  return m;
}

Result<StatusRequest> readStatus(const json::object& o, bool sig) {
  Fields f(o, ctx(MessageType::kStatusRequest));
  PC_PROTO_CHECK(onlyFields(o, f, true, {"deployment_id"}));
  StatusRequest m;
  PC_PROTO_ASSIGN(m.header, readHeader(f, sig));
  PC_PROTO_ASSIGN(m.deploymentId, f.optDeploymentId("deployment_id"));
  return m;
}

Result<DeploymentStatus> readStatusEntry(const json::object& o, std::string context) {
  Fields f(o, std::move(context));
  PC_PROTO_CHECK(
      onlyFields(o, f, false,
                 {"deployment_id", "image", "state", "started_at", "url", "cpu_usage_millicores",
                  "memory_bytes", "memory_limit", "exit_code", "error"}));
  DeploymentStatus m;
  PC_PROTO_ASSIGN(m.deploymentId, f.deploymentId("deployment_id"));
  PC_PROTO_ASSIGN(m.image, f.str("image", kMaxImageRefLength));
  PC_PROTO_ASSIGN(m.state, f.state("state"));
  PC_PROTO_ASSIGN(m.startedAtMs, f.optInteger("started_at", 0, detail::kMaxSafeInteger));
  PC_PROTO_ASSIGN(m.url, f.optUrl("url"));
  PC_PROTO_ASSIGN(m.cpuUsageMillicores,
                  f.optInteger("cpu_usage_millicores", 0, detail::kMaxSafeInteger));
  PC_PROTO_ASSIGN(m.memoryBytes, f.optInteger("memory_bytes", 0, detail::kMaxSafeInteger));
  PC_PROTO_ASSIGN(m.memoryLimit, f.integer("memory_limit", 0, detail::kMaxSafeInteger));
  PC_PROTO_ASSIGN(m.exitCode,
                  f.optInteger("exit_code", -(std::int64_t{1} << 31), (std::int64_t{1} << 31) - 1));
  PC_PROTO_ASSIGN(m.error, f.optStr("error", kMaxStatusErrorLength));
  return m;
}

Result<StatusResponse> readStatusResponse(const json::object& o) {
  Fields f(o, ctx(MessageType::kStatusResponse));
  PC_PROTO_CHECK(onlyFields(o, f, false, {"deployments"}));
  const json::value* v = nullptr;
  PC_PROTO_ASSIGN(v, f.required("deployments", json::kind::array, "an array"));
  const auto& arr = v->get_array();
  if (arr.size() > kMaxStatusEntries) {
    return fail(Errc::kOutOfRange, f.where("deployments") + ": " + std::to_string(arr.size()) +
                                       " entries exceed the limit of " +
                                       std::to_string(kMaxStatusEntries));
  }
  StatusResponse m;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string where = f.where("deployments") + "[" + std::to_string(i) + "]";
    if (!arr[i].is_object()) {
      return fail(Errc::kWrongType, where + ": expected an object, got " + kindName(arr[i]));
    }
    DeploymentStatus e;
    PC_PROTO_ASSIGN(e, readStatusEntry(arr[i].get_object(), where));
    m.deployments.push_back(std::move(e));
  }
  return m;
}

Result<LogsRequest> readLogs(const json::object& o, bool sig) {
  Fields f(o, ctx(MessageType::kLogsRequest));
  PC_PROTO_CHECK(onlyFields(o, f, true, {"deployment_id", "follow", "tail", "since"}));
  LogsRequest m;
  PC_PROTO_ASSIGN(m.header, readHeader(f, sig));
  PC_PROTO_ASSIGN(m.deploymentId, f.deploymentId("deployment_id"));
  PC_PROTO_ASSIGN(m.follow, f.boolean("follow"));
  PC_PROTO_ASSIGN(m.tail, f.optInteger("tail", 0, kMaxLogTail));
  PC_PROTO_ASSIGN(m.sinceMs, f.optInteger("since", 0, detail::kMaxSafeInteger));
  return m;
}

Result<LogEntry> readLogEntry(const json::object& o) {
  Fields f(o, ctx(MessageType::kLogEntry));
  PC_PROTO_CHECK(onlyFields(o, f, false, {"stream", "timestamp", "line"}));
  LogEntry m;
  std::string stream;
  PC_PROTO_ASSIGN(stream, f.str("stream", 16));
  if (stream == "stdout") {
    m.stream = LogStream::kStdout;
  } else if (stream == "stderr") {
    m.stream = LogStream::kStderr;
  } else {
    return fail(Errc::kBadFormat,
                f.where("stream") + ": " + quoted(stream) + " is not one of stdout, stderr");
  }
  PC_PROTO_ASSIGN(m.timestampMs, f.integer("timestamp", 0, detail::kMaxSafeInteger));
  PC_PROTO_ASSIGN(m.line, f.str("line", kMaxLogLineBytes, true));
  return m;
}

Result<LogsEnd> readLogsEnd(const json::object& o) {
  Fields f(o, ctx(MessageType::kLogsEnd));
  PC_PROTO_CHECK(onlyFields(o, f, false, {"reason"}));
  LogsEnd m;
  PC_PROTO_ASSIGN(m.reason, f.optStr("reason", kMaxErrorTextLength));
  return m;
}

Result<ErrorMessage> readError(const json::object& o) {
  Fields f(o, ctx(MessageType::kError));
  PC_PROTO_CHECK(onlyFields(o, f, false, {"code", "message"}));
  ErrorMessage m;
  PC_PROTO_ASSIGN(m.code, f.str("code", kMaxErrorCodeLength));
  const bool codeChars = std::all_of(m.code.begin(), m.code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!codeChars) {
    return fail(Errc::kBadFormat,
                f.where("code") + ": " + quoted(m.code) + " must use only a-z, 0-9 and '_'");
  }
  PC_PROTO_ASSIGN(m.message, f.str("message", kMaxErrorTextLength));
  return m;
}

Result<UnregisterRoute> readUnregister(const json::object& o, bool sig) {
  Fields f(o, ctx(MessageType::kUnregisterRoute));
  PC_PROTO_CHECK(onlyFields(o, f, true, {"deployment_id"}));
  UnregisterRoute m;
  PC_PROTO_ASSIGN(m.header, readHeader(f, sig));
  PC_PROTO_ASSIGN(m.deploymentId, f.deploymentId("deployment_id"));
  return m;
}

Result<RegisterRoute> readRegister(const json::object& o, bool sig) {
  Fields f(o, ctx(MessageType::kRegisterRoute));
  PC_PROTO_CHECK(onlyFields(o, f, true, {"deployment_id", "id_salt"}));
  RegisterRoute m;
  PC_PROTO_ASSIGN(m.header, readHeader(f, sig));
  PC_PROTO_ASSIGN(m.deploymentId, f.deploymentId("deployment_id"));
  PC_PROTO_ASSIGN(m.idSalt, f.str("id_salt", kDeploymentSaltBytes * 2));
  if (m.idSalt.size() != kDeploymentSaltBytes * 2 || !isLowerHex(m.idSalt)) {
    return fail(Errc::kBadFormat, f.where("id_salt") + ": must be " +
                                      std::to_string(kDeploymentSaltBytes * 2) +
                                      " lower-case hex characters");
  }
  return m;
}

Result<RouteRegistered> readRouteRegistered(const json::object& o) {
  Fields f(o, ctx(MessageType::kRouteRegistered));
  PC_PROTO_CHECK(onlyFields(o, f, false, {"deployment_id", "url"}));
  RouteRegistered m;
  PC_PROTO_ASSIGN(m.deploymentId, f.deploymentId("deployment_id"));
  PC_PROTO_ASSIGN(m.url, f.str("url", kMaxUrlLength));
  PC_PROTO_CHECK(f.checkUrl("url", m.url));
  return m;
}

Result<Heartbeat> readHeartbeat(const json::object& o) {
  Fields f(o, ctx(MessageType::kHeartbeat));
  PC_PROTO_CHECK(onlyFields(o, f, false, {"timestamp"}));
  Heartbeat m;
  PC_PROTO_ASSIGN(m.timestampMs, f.integer("timestamp", 0, detail::kMaxSafeInteger));
  return m;
}

template <class T>
Result<Message> wrap(Result<T> r) {
  if (!r) return r.error();
  return Message(std::move(*r));
}

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

void putOpt(json::object& o, std::string_view key, const std::optional<std::string>& v) {
  if (v) o[key] = *v;
}
void putOpt(json::object& o, std::string_view key, const std::optional<std::int64_t>& v) {
  if (v) o[key] = *v;
}

}  // namespace

#undef PC_PROTO_CHECK
#undef PC_PROTO_ASSIGN

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
    if (toString(st) == s) return st;
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
  json::object o;
  std::visit(Overloaded{
                 [&](const DeployRequest& x) {
                   writeHeader(o, x.header, withSignature);
                   o["image"] = x.image;
                   o["cpu_millicores"] = x.cpuMillicores;
                   o["memory_bytes"] = x.memoryBytes;
                   if (x.exposePort) o["expose_port"] = std::int64_t{*x.exposePort};
                   json::object env;
                   for (const auto& [k, v] : x.env) env[k] = v;
                   o["env"] = std::move(env);
                   o["timeout_seconds"] = x.timeoutSeconds;
                   if (!x.command.empty()) {
                     json::array cmd;
                     for (const auto& a : x.command) cmd.emplace_back(a);
                     o["command"] = std::move(cmd);
                   }
                 },
                 [&](const DeployProgress& x) {
                   o["deployment_id"] = x.deploymentId;
                   o["phase"] = x.phase == DeployPhase::kPulling ? "pulling" : "starting";
                   putOpt(o, "percent", x.percent);
                   putOpt(o, "bytes_done", x.bytesDone);
                   putOpt(o, "bytes_total", x.bytesTotal);
                 },
                 [&](const DeployResponse& x) {
                   o["deployment_id"] = x.deploymentId;
                   o["state"] = toString(x.state);
                   putOpt(o, "url", x.url);
                   putOpt(o, "error", x.error);
                 },
                 [&](const StopRequest& x) {
                   writeHeader(o, x.header, withSignature);
                   o["deployment_id"] = x.deploymentId;
                   o["force"] = x.force;
                 },
                 [&](const StopResponse& x) {
                   o["deployment_id"] = x.deploymentId;
                   o["state"] = toString(x.state);
                 },
                 [&](const StatusRequest& x) {
                   writeHeader(o, x.header, withSignature);
                   putOpt(o, "deployment_id", x.deploymentId);
                 },
                 [&](const StatusResponse& x) {
                   json::array arr;
                   for (const auto& d : x.deployments) {
                     json::object e;
                     e["deployment_id"] = d.deploymentId;
                     e["image"] = d.image;
                     e["state"] = toString(d.state);
                     putOpt(e, "started_at", d.startedAtMs);
                     putOpt(e, "url", d.url);
                     putOpt(e, "cpu_usage_millicores", d.cpuUsageMillicores);
                     putOpt(e, "memory_bytes", d.memoryBytes);
                     e["memory_limit"] = d.memoryLimit;
                     putOpt(e, "exit_code", d.exitCode);
                     putOpt(e, "error", d.error);
                     arr.emplace_back(std::move(e));
                   }
                   o["deployments"] = std::move(arr);
                 },
                 [&](const LogsRequest& x) {
                   writeHeader(o, x.header, withSignature);
                   o["deployment_id"] = x.deploymentId;
                   o["follow"] = x.follow;
                   putOpt(o, "tail", x.tail);
                   putOpt(o, "since", x.sinceMs);
                 },
                 [&](const LogEntry& x) {
                   o["stream"] = x.stream == LogStream::kStdout ? "stdout" : "stderr";
                   o["timestamp"] = x.timestampMs;
                   o["line"] = x.line;
                 },
                 [&](const LogsEnd& x) { putOpt(o, "reason", x.reason); },
                 [&](const ErrorMessage& x) {
                   o["code"] = x.code;
                   o["message"] = x.message;
                 },
                 [&](const RegisterRoute& x) {
                   writeHeader(o, x.header, withSignature);
                   o["deployment_id"] = x.deploymentId;
                   o["id_salt"] = x.idSalt;
                 },
                 [&](const RouteRegistered& x) {
                   o["deployment_id"] = x.deploymentId;
                   o["url"] = x.url;
                 },
                 [&](const UnregisterRoute& x) {
                   writeHeader(o, x.header, withSignature);
                   o["deployment_id"] = x.deploymentId;
                 },
                 [&](const Heartbeat& x) { o["timestamp"] = x.timestampMs; },
             },
             m);
  return o;
}

Result<Message> fromObject(MessageType t, const json::object& o, bool sig) {
  switch (t) {
    case MessageType::kDeployRequest:
      return wrap(readDeploy(o, sig));
    case MessageType::kDeployProgress:
      return wrap(readProgress(o));
    case MessageType::kDeployResponse:
      return wrap(readDeployResponse(o));
    case MessageType::kStopRequest:
      return wrap(readStop(o, sig));
    case MessageType::kStopResponse:
      return wrap(readStopResponse(o));
    case MessageType::kStatusRequest:
      return wrap(readStatus(o, sig));
    case MessageType::kStatusResponse:
      return wrap(readStatusResponse(o));
    case MessageType::kLogsRequest:
      return wrap(readLogs(o, sig));
    case MessageType::kLogEntry:
      return wrap(readLogEntry(o));
    case MessageType::kLogsEnd:
      return wrap(readLogsEnd(o));
    case MessageType::kError:
      return wrap(readError(o));
    case MessageType::kRegisterRoute:
      return wrap(readRegister(o, sig));
    case MessageType::kRouteRegistered:
      return wrap(readRouteRegistered(o));
    case MessageType::kUnregisterRoute:
      return wrap(readUnregister(o, sig));
    case MessageType::kHeartbeat:
      return wrap(readHeartbeat(o));
  }
  return fail(Errc::kUnknownType,
              "unknown message type " + std::to_string(static_cast<unsigned>(t)));
}

}  // namespace detail

std::string toJson(const Message& m) { return json::serialize(detail::toObject(m, true)); }

Result<Message> fromJson(MessageType t, std::string_view body) {
  auto v = detail::parseStrict(body);
  if (!v) return v.error().context(messageTypeName(t));
  if (!v->is_object()) {
    return fail(Errc::kWrongType,
                std::string(messageTypeName(t)) + ": the body must be a JSON object");
  }
  return detail::fromObject(t, v->get_object(), true);
}

Result<void> validate(const Message& m) {
  auto r = detail::fromObject(typeOf(m), detail::toObject(m, true), true);
  if (!r) return r.error();
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
