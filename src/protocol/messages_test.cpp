#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "crypto/identity.hpp"
#include "protocol/error.hpp"
#include "protocol/messages.hpp"
#include "protocol/test_util.hpp"

namespace pc::protocol {
namespace {
using test::deployRequest;
using test::header;

Message roundTrip(const Message& m) {
  auto wire = encodeMessage(m).value();
  FrameDecoder d;
  auto f = d.feed(wire).value();
  EXPECT_TRUE(f);
  auto back = decodeMessage(*f);
  EXPECT_TRUE(back) << back.error().message();
  return back ? *back : Message{};
}

// Replaces or inserts a raw member in a body (for malformed-input tests).
std::string withMember(const Message& m, std::string_view key, std::string_view rawValue) {
  std::string body = toJson(m);
  const std::string needle = "\"" + std::string(key) + "\":";
  auto pos = body.find(needle);
  if (pos == std::string::npos) {
    return "{" + needle + std::string(rawValue) + "," + body.substr(1);
  }
  const auto start = pos + needle.size();
  // The member value ends at the next top-level ',' or '}' (test bodies have no nesting there).
  std::size_t end = start;
  int depth = 0;
  bool inStr = false;
  for (; end < body.size(); ++end) {
    const char c = body[end];
    if (inStr) {
      if (c == '\\')
        ++end;
      else if (c == '"')
        inStr = false;
      continue;
    }
    if (c == '"')
      inStr = true;
    else if (c == '{' || c == '[')
      ++depth;
    else if ((c == '}' || c == ']') && depth > 0)
      --depth;
    else if ((c == ',' || c == '}') && depth == 0)
      break;
  }
  return body.substr(0, start) + std::string(rawValue) + body.substr(end);
}

Error decodeError(MessageType t, const std::string& body) {
  auto r = fromJson(t, body);
  EXPECT_FALSE(r) << body;
  return r ? Error() : r.error();
}

void expectRejected(const Message& m, std::string_view key, std::string_view raw, Errc code,
                    std::string_view mention) {
  const auto body = withMember(m, key, raw);
  auto e = decodeError(typeOf(m), body);
  EXPECT_EQ(e, code) << body << " -> " << e.message();
  EXPECT_NE(e.message().find(mention), std::string::npos) << e.message();
}

TEST(Messages, DeployRequestWireFormat) {
  const auto d = deployRequest();
  const std::string body = toJson(d);
  for (auto field :
       {"\"request_id\":\"000102030405060708090a0b0c0d0e0f\"", "\"requester_id\":\"12D3KooW",
        "\"timestamp\":1700000000000", "\"cpu_millicores\":500", "\"memory_bytes\":268435456",
        "\"expose_port\":8080", "\"timeout_seconds\":300", "\"env\":{", "\"signature\":\"0000"}) {
    EXPECT_NE(body.find(field), std::string::npos) << field << " in " << body;
  }
  EXPECT_EQ(roundTrip(d), Message(d));
}

TEST(Messages, DeployCommandIsBounded) {
  auto d = deployRequest();
  d.command = {"sh", "-c", "echo hi"};
  EXPECT_EQ(roundTrip(d), Message(d));
  EXPECT_NE(toJson(d).find("\"command\":[\"sh\",\"-c\",\"echo hi\"]"), std::string::npos);
  expectRejected(deployRequest(), "command", "[]", Errc::kOutOfRange, "command");
  expectRejected(deployRequest(), "command", "[1]", Errc::kWrongType, "command[0]");
  expectRejected(deployRequest(), "command", "\"sh\"", Errc::kWrongType, "command");
  expectRejected(deployRequest(), "command", "[\"a\\u0000b\"]", Errc::kBadFormat, "NUL");
  std::string many = "[";
  for (std::size_t i = 0; i <= kMaxCommandArgs; ++i) many += (i ? ",\"x\"" : "\"x\"");
  many += "]";
  expectRejected(deployRequest(), "command", many, Errc::kOutOfRange, "command");
}

// `urls` appears only when the gateways answered different URLs: absent, the answer is the
// bytes an older peerctl reads; present, it holds 2..kMaxUrls distinct URLs led by `url`.
TEST(Messages, UrlsListEveryUrlLedByUrl) {
  DeployResponse r{
      "dep-abcdefghijklmnop", DeploymentState::kRunning, "https://a.example/", std::nullopt, {}};
  EXPECT_EQ(toJson(r).find("urls"), std::string::npos);
  r.urls = {"https://a.example/", "https://b.example/"};
  EXPECT_EQ(roundTrip(r), Message(r));
  EXPECT_NE(toJson(r).find(R"("url":"https://a.example/","urls":["https://a.example/",)"),
            std::string::npos)
      << toJson(r);
  DeploymentStatus st;
  st.deploymentId = "dep-abcdefghijklmnop";
  st.image = "x";
  st.url = "https://a.example/";
  st.urls = r.urls;
  EXPECT_EQ(roundTrip(StatusResponse{{st}}), Message(StatusResponse{{st}}));

  const Message m = r;
  expectRejected(m, "urls", R"(["https://a.example/"])", Errc::kOutOfRange, "urls");
  expectRejected(m, "urls", "[]", Errc::kOutOfRange, "urls");
  expectRejected(m, "urls", R"("https://a.example/")", Errc::kWrongType, "urls");
  expectRejected(m, "urls", R"(["https://a.example/","ftp://b"])", Errc::kBadFormat, "urls[1]");
  expectRejected(m, "urls", R"(["https://a.example/","https://a.example/"])", Errc::kBadFormat,
                 "twice");
  expectRejected(m, "urls", R"(["https://b.example/","https://a.example/"])", Errc::kBadFormat,
                 "urls must begin with url");
  std::string many = "[";
  for (std::size_t i = 0; i <= kMaxUrls; ++i) {
    many += (i ? ",\"" : "\"") + std::string("https://") + std::to_string(i) + ".example/\"";
  }
  many += "]";
  expectRejected(m, "urls", many, Errc::kOutOfRange, "urls");
  DeployResponse noUrl = r;
  noUrl.url.reset();
  EXPECT_FALSE(validate(noUrl));
}

// `pull` is optional: a request without it (every client before the field) means "missing";
// an unknown policy is refused, naming the field and the values it may take.
TEST(Messages, DeployPullPolicy) {
  auto d = deployRequest();
  EXPECT_EQ(toJson(d).find("\"pull\""), std::string::npos);
  auto old = fromJson(MessageType::kDeployRequest, toJson(d)).value();
  EXPECT_FALSE(std::get<DeployRequest>(old).pull);
  for (auto p : {PullPolicy::kMissing, PullPolicy::kAlways, PullPolicy::kNever}) {
    d.pull = p;
    EXPECT_EQ(roundTrip(d), Message(d));
    EXPECT_NE(toJson(d).find("\"pull\":\"" + std::string(toString(p)) + "\""), std::string::npos);
  }
  expectRejected(
      d, "pull", "\"sometimes\"", Errc::kBadFormat,
      "deploy_request.pull: \"sometimes\" is not a pull policy (missing, always, never)");
  expectRejected(d, "pull", "\"Always\"", Errc::kBadFormat, "pull");
  expectRejected(d, "pull", "true", Errc::kWrongType, "pull");
  expectRejected(d, "pull", "null", Errc::kWrongType, "pull");
  DeployProgress p{"dep-abcdefghijklmnop", DeployPhase::kPulling, std::nullopt,
                   std::nullopt,           std::nullopt,          ImageSource::kLocal};
  EXPECT_EQ(roundTrip(p), Message(p));
  expectRejected(p, "image_source", "\"disk\"", Errc::kBadFormat, "image_source");
}

TEST(Messages, DeploymentIdsAreBoundToTheirProvider) {
  const auto a = crypto::PeerId::parse(test::kSeedPeer).value();
  const auto salt = newDeploymentSalt();
  const auto id = deploymentIdFor(a, salt).value();
  EXPECT_TRUE(isDeploymentId(id)) << id;
  EXPECT_EQ(deploymentIdFor(a, salt).value(), id);  // deterministic
  EXPECT_NE(deploymentIdFor(a, newDeploymentSalt()).value(), id);
  const auto b = crypto::Identity::generate().value().peerId();
  EXPECT_NE(deploymentIdFor(b, salt).value(), id);  // another provider gets another id
  EXPECT_FALSE(deploymentIdFor(a, "XYZ"));
  EXPECT_FALSE(deploymentIdFor(a, salt.substr(2)));
}

TEST(Messages, TruncateUtf8CutsAtACharacterBoundary) {
  EXPECT_EQ(truncateUtf8("short", 256), "short");
  const std::string longText(100, 'x');
  const std::string mixed = "ab" + std::string("\xe2\x82\xac") + "cd";  // "ab€cd", 7 bytes
  EXPECT_EQ(truncateUtf8(mixed, 7), mixed);
  // 6 bytes: room for 3 before the 3-byte ellipsis; "ab" + half a euro sign is not allowed.
  EXPECT_EQ(truncateUtf8(mixed, 6), "ab\xe2\x80\xa6");
  EXPECT_LE(truncateUtf8(longText, 10).size(), 10u);
  EXPECT_EQ(truncateUtf8("bad \xff byte", 256), "bad \xef\xbf\xbd byte");  // sanitised as well
  // A status entry refuses a longer error than the limit.
  StatusResponse r;
  DeploymentStatus e;
  e.deploymentId = "dep-abcdefghijklmnop";
  e.image = "nginx:1";
  e.state = DeploymentState::kFailed;
  e.error = std::string(kMaxStatusErrorLength + 1, 'e');
  r.deployments.push_back(e);
  EXPECT_FALSE(fromJson(MessageType::kStatusResponse, toJson(r)).has_value());
}

TEST(Messages, EveryTypeRoundTrips) {
  const std::string dep = "dep-abcdefghijklmnop";
  StatusRequest all{header(), std::nullopt};
  StatusRequest one{header(), dep};
  DeploymentStatus st{dep,
                      "nginx:1",
                      DeploymentState::kRunning,
                      test::kNow,
                      "https://" + dep + ".example.net",
                      250,
                      1 << 20,
                      64 << 20,
                      123456,
                      7890,
                      test::kNow,
                      std::nullopt,
                      std::nullopt,
                      {}};
  DeploymentStatus failed{dep,
                          "nginx:1",
                          DeploymentState::kFailed,
                          std::nullopt,
                          std::nullopt,
                          std::nullopt,
                          std::nullopt,
                          64 << 20,
                          std::nullopt,
                          std::nullopt,
                          std::nullopt,
                          137,
                          "the container was killed: out of memory (limit 64 MiB)",
                          {}};
  const std::vector<Message> all_msgs = {
      deployRequest(),
      DeployProgress{dep, DeployPhase::kPulling, 42, 1000, 2000, std::nullopt},
      DeployProgress{dep, DeployPhase::kPulling, std::nullopt, 5, std::nullopt,
                     ImageSource::kRegistry},
      DeployProgress{dep, DeployPhase::kStarting, std::nullopt, std::nullopt, std::nullopt,
                     std::nullopt},
      DeployResponse{dep, DeploymentState::kRunning, "https://x.example", std::nullopt, {}},
      DeployResponse{dep, DeploymentState::kFailed, std::nullopt, "image pull failed: 404", {}},
      DeployResponse{dep,
                     DeploymentState::kRunning,
                     "https://x.example",
                     std::nullopt,
                     {"https://x.example", "http://y.example:8080/"}},
      StopRequest{header(), dep, true},
      StopResponse{dep, DeploymentState::kStopped},
      all,
      one,
      StatusResponse{{st, failed}},
      StatusResponse{},
      LogsRequest{header(), dep, true, 100, test::kNow - 60000},
      LogsRequest{header(), dep, false, std::nullopt, std::nullopt},
      LogEntry{LogStream::kStderr, test::kNow, "caf\xc3\xa9 \"quoted\" \\ \t"},
      LogEntry{LogStream::kStdout, 0, ""},
      LogsEnd{},
      LogsEnd{"container exited"},
      ErrorMessage{"bad_signature", "the signature does not verify"},
      RegisterRoute{header(), dep, "00112233445566778899aabbccddeeff", std::nullopt},
      RegisterRoute{header(), dep, "00112233445566778899aabbccddeeff", header().requesterId},
      RouteRegistered{dep, "https://" + dep + ".example.net"},
      UnregisterRoute{header(), dep},
      Heartbeat{test::kNow},
  };
  for (const auto& m : all_msgs) {
    EXPECT_TRUE(validate(m)) << toJson(m) << ": " << validate(m).error().message();
    EXPECT_EQ(roundTrip(m), m) << toJson(m);
  }
}

// What a peer asks of us refuses fields it does not know; the answers we read skip them, so a
// newer provider can add an informational field without breaking an older peerctl.
TEST(Messages, AnswersSkipUnknownFieldsRequestsRefuseThem) {
  const std::string status =
      R"({"deployments":[{"deployment_id":"dep-abcdefghijklmnop","image":"x","state":"running",)"
      R"("memory_limit":1,"gpu_seconds":12}],"next_page":"later"})";
  auto r = fromJson(MessageType::kStatusResponse, status);
  ASSERT_TRUE(r) << r.error().message();
  const auto& st = std::get<StatusResponse>(*r);
  ASSERT_EQ(st.deployments.size(), 1U);
  EXPECT_EQ(st.deployments[0].image, "x");
  // A known field is still checked.
  EXPECT_FALSE(fromJson(MessageType::kStatusResponse,
                        R"({"deployments":[{"deployment_id":"dep-abcdefghijklmnop","image":"x",)"
                        R"("state":"running","memory_limit":-1,"gpu_seconds":12}]})"));
  EXPECT_TRUE(fromJson(MessageType::kDeployResponse,
                       R"({"deployment_id":"dep-abcdefghijklmnop","state":"running","x":[1]})"));
  EXPECT_EQ(decodeError(MessageType::kHeartbeat, R"({"timestamp":1,"x":1})"), Errc::kUnknownField);
  expectRejected(StopRequest{}, "surprise", "1", Errc::kUnknownField, "surprise");
}

TEST(Messages, StrictValidationNamesTheField) {
  const Message d = deployRequest();
  expectRejected(d, "surprise", "1", Errc::kUnknownField, "deploy_request.surprise");
  expectRejected(d, "cpu_millicores", "0", Errc::kOutOfRange, "deploy_request.cpu_millicores");
  expectRejected(d, "cpu_millicores", "\"500\"", Errc::kWrongType, "cpu_millicores");
  expectRejected(d, "cpu_millicores", "0.5", Errc::kBadJson, "0.5");
  expectRejected(d, "memory_bytes", "4194303", Errc::kOutOfRange, "memory_bytes");
  expectRejected(d, "expose_port", "0", Errc::kOutOfRange, "expose_port");
  expectRejected(d, "expose_port", "65536", Errc::kOutOfRange, "expose_port");
  expectRejected(d, "expose_port", "null", Errc::kWrongType, "omit optional fields");
  expectRejected(d, "timeout_seconds", "0", Errc::kOutOfRange, "timeout_seconds");
  expectRejected(d, "network", "\"host\"", Errc::kBadFormat, "internet, none");
  expectRejected(d, "network", "null", Errc::kWrongType, "network");
  expectRejected(d, "image", "\"\"", Errc::kOutOfRange, "image");
  expectRejected(d, "image", "\"" + std::string(kMaxImageRefLength + 1, 'a') + "\"",
                 Errc::kOutOfRange, "image");
  expectRejected(d, "image", "\"nginx latest\"", Errc::kBadFormat, "image");
  expectRejected(d, "env", "{\"1BAD\":\"x\"}", Errc::kBadFormat, "env");
  expectRejected(d, "env", "{\"A-B\":\"x\"}", Errc::kBadFormat, "env");
  expectRejected(d, "env", "{\"A\":1}", Errc::kWrongType, "env");
  expectRejected(d, "env", "{\"A\":\"x\\u0000y\"}", Errc::kBadFormat, "NUL");
  expectRejected(d, "env", "[]", Errc::kWrongType, "env");
  expectRejected(d, "request_id", "\"00\"", Errc::kBadFormat, "request_id");
  expectRejected(d, "request_id", "\"000102030405060708090A0B0C0D0E0F\"", Errc::kBadFormat,
                 "request_id");
  expectRejected(d, "requester_id", "\"alice\"", Errc::kBadFormat, "requester_id");
  expectRejected(d, "timestamp", "-1", Errc::kOutOfRange, "timestamp");
  expectRejected(d, "signature", "\"abcd\"", Errc::kBadFormat, "signature");
  expectRejected(d, "cpu_millicores", "1, \"cpu_millicores\": 2", Errc::kBadJson, "duplicate");

  const Message stop = StopRequest{header(), "dep-abcdefghijklmnop", false};
  expectRejected(stop, "deployment_id", "\"dep-ABCDEFGHIJKLMNOP\"", Errc::kBadFormat,
                 "deployment_id");
  expectRejected(stop, "deployment_id", "\"dep-abc\"", Errc::kBadFormat, "deployment_id");
  expectRejected(stop, "deployment_id", "\"dep-abcdefghijklmno1\"", Errc::kBadFormat,
                 "deployment_id");
  expectRejected(stop, "force", "1", Errc::kWrongType, "force");

  const Message prog =
      DeployProgress{"dep-abcdefghijklmnop", DeployPhase::kPulling, 5, 1, 2, std::nullopt};
  expectRejected(prog, "percent", "101", Errc::kOutOfRange, "percent");
  expectRejected(prog, "phase", "\"done\"", Errc::kBadFormat, "phase");
  const Message entry = LogEntry{LogStream::kStdout, 1, "x"};
  expectRejected(entry, "stream", "\"stdin\"", Errc::kBadFormat, "stream");
  const Message err = ErrorMessage{"x", "y"};
  expectRejected(err, "code", "\"Bad Code\"", Errc::kBadFormat, "code");
  const Message resp = DeployResponse{
      "dep-abcdefghijklmnop", DeploymentState::kRunning, std::nullopt, std::nullopt, {}};
  expectRejected(resp, "url", "\"javascript:alert(1)\"", Errc::kBadFormat, "url");
  expectRejected(resp, "state", "\"exploded\"", Errc::kBadFormat, "state");

  auto missing = decodeError(MessageType::kStopRequest, "{}");
  EXPECT_EQ(missing, Errc::kMissingField);
  EXPECT_NE(missing.message().find("stop_request.request_id"), std::string::npos);
  EXPECT_EQ(decodeError(MessageType::kStopRequest, "[]"), Errc::kWrongType);
  EXPECT_EQ(decodeError(MessageType::kStopRequest, "{"), Errc::kBadJson);
}

TEST(Messages, RequesterIdMustBeBase58Form) {
  auto d = deployRequest();
  d.header.requesterId = test::seedIdentity().peerId().toCid();
  auto r = validate(d);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kBadFormat);
  EXPECT_NE(r.error().message().find("base58"), std::string::npos);
}

TEST(Messages, EnvLimits) {
  auto d = deployRequest();
  d.env.clear();
  for (std::size_t i = 0; i <= kMaxEnvVars; ++i) d.env["V" + std::to_string(i)] = "x";
  auto r = validate(d);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kOutOfRange);
  d.env.clear();
  d.env["BIG"] = std::string(kMaxEnvTotalBytes, 'x');
  r = validate(d);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kOutOfRange);
  d.env["BIG"] = std::string(kMaxEnvTotalBytes - 3, 'x');
  EXPECT_TRUE(validate(d));
}

TEST(Messages, LocallyBuiltInvalidUtf8IsCaught) {
  LogEntry e{LogStream::kStdout, 1, "bad \xff byte"};
  auto r = validate(e);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kBadFormat);
  e.line = sanitizeUtf8(e.line);
  EXPECT_EQ(e.line, "bad \xef\xbf\xbd byte");
  EXPECT_TRUE(validate(e));
  EXPECT_EQ(sanitizeUtf8("\xc0\xaf\xed\xa0\x80ok"),
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdok");
}

TEST(Messages, Ids) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto id = newDeploymentId();
    EXPECT_TRUE(isDeploymentId(id)) << id;
    seen.insert(id);
    auto rid = newRequestId();
    EXPECT_EQ(rid.size(), 32U);
  }
  EXPECT_EQ(seen.size(), 100U);
  EXPECT_FALSE(isDeploymentId("dep-abcdefghijklmno"));
  EXPECT_FALSE(isDeploymentId("dep-abcdefghijklmnopq"));
  EXPECT_FALSE(isDeploymentId("dop-abcdefghijklmnop"));
  EXPECT_FALSE(isDeploymentId("dep-abcdefghijklmno8"));
}

// ---- properties ----

rc::Gen<std::string> genDepId() {
  return rc::gen::map(rc::gen::container<std::string>(
                          kDeploymentIdRandomChars,
                          rc::gen::elementOf(std::string("abcdefghijklmnopqrstuvwxyz234567"))),
                      [](std::string s) { return "dep-" + s; });
}

rc::Gen<std::string> genText(std::size_t max) {
  // Any Unicode-ish text: printable ASCII, controls, quotes, backslashes, multi-byte chars.
  return rc::gen::map(
      rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(std::vector<std::string>{
          "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x7f", "\xc3\xa9",
          "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe2\x80\xa8"})),
      [max](const std::vector<std::string>& parts) {
        std::string s;
        for (const auto& p : parts) {
          if (s.size() + p.size() > max) break;
          s += p;
        }
        return s;
      });
}

rc::Gen<RequestHeader> genHeader() {
  return rc::gen::build<RequestHeader>(
      rc::gen::set(&RequestHeader::requestId,
                   rc::gen::map(rc::gen::container<std::vector<std::uint8_t>>(
                                    16, rc::gen::arbitrary<std::uint8_t>()),
                                [](const std::vector<std::uint8_t>& b) { return toHex(b); })),
      rc::gen::set(&RequestHeader::requesterId, rc::gen::just(std::string(test::kSeedPeer))),
      rc::gen::set(&RequestHeader::timestampMs, rc::gen::inRange<std::int64_t>(0, 1LL << 50)),
      rc::gen::set(&RequestHeader::signature, rc::gen::just(std::string(test::kZeroSignature))));
}

RC_GTEST_PROP(MessagesProp, DeployRequestRoundTrip, ()) {
  DeployRequest d;
  d.header = *genHeader();
  d.image = *rc::gen::nonEmpty(
      rc::gen::container<std::string>(rc::gen::elementOf(std::string("abcxyz0189._-/:@"))));
  if (d.image.size() > kMaxImageRefLength) d.image.resize(kMaxImageRefLength);
  d.cpuMillicores = *rc::gen::inRange<std::int64_t>(1, kMaxCpuMillicores + 1);
  d.memoryBytes = *rc::gen::inRange<std::int64_t>(kMinMemoryBytes, kMaxMemoryBytes + 1);
  if (*rc::gen::arbitrary<bool>()) {
    d.exposePort = *rc::gen::inRange<std::uint16_t>(1, 65535);
  }
  if (*rc::gen::arbitrary<bool>()) {
    d.network = *rc::gen::element(DeployNetwork::kInternet, DeployNetwork::kNone);
  }
  const auto n = *rc::gen::inRange<std::size_t>(0, 10);
  for (std::size_t i = 0; i < n; ++i) {
    auto v = *genText(100);
    v.erase(std::remove(v.begin(), v.end(), '\0'), v.end());
    d.env["K_" + std::to_string(i)] = v;
  }
  d.timeoutSeconds = *rc::gen::inRange<std::int64_t>(kMinTimeoutSeconds, kMaxTimeoutSeconds + 1);
  const auto args = *rc::gen::inRange<std::size_t>(0, 5);
  for (std::size_t i = 0; i < args; ++i) {
    auto a = *genText(50);
    a.erase(std::remove(a.begin(), a.end(), '\0'), a.end());
    d.command.push_back(a);
  }
  if (*rc::gen::arbitrary<bool>()) {
    d.pull = *rc::gen::elementOf(
        std::vector<PullPolicy>{PullPolicy::kMissing, PullPolicy::kAlways, PullPolicy::kNever});
  }
  auto back = fromJson(MessageType::kDeployRequest, toJson(d));
  RC_ASSERT(back.has_value());
  RC_ASSERT(std::get<DeployRequest>(*back) == d);
}

RC_GTEST_PROP(MessagesProp, StatusAndLogsRoundTrip, ()) {
  StatusResponse s;
  const auto n = *rc::gen::inRange<std::size_t>(0, 5);
  for (std::size_t i = 0; i < n; ++i) {
    DeploymentStatus e;
    e.deploymentId = *genDepId();
    e.image = "img:" + std::to_string(i);
    e.state = *rc::gen::elementOf(std::vector<DeploymentState>{
        DeploymentState::kPending, DeploymentState::kRunning, DeploymentState::kFailed});
    if (*rc::gen::arbitrary<bool>()) e.startedAtMs = *rc::gen::inRange<std::int64_t>(0, 1LL << 52);
    if (*rc::gen::arbitrary<bool>())
      e.cpuUsageMillicores = *rc::gen::inRange<std::int64_t>(0, 64000);
    if (*rc::gen::arbitrary<bool>()) e.exitCode = *rc::gen::arbitrary<std::int32_t>();
    if (*rc::gen::arbitrary<bool>()) {
      e.error =
          truncateUtf8("failed: " + *rc::gen::arbitrary<std::string>(), kMaxStatusErrorLength);
    }
    e.memoryLimit = *rc::gen::inRange<std::int64_t>(0, 1LL << 40);
    s.deployments.push_back(e);
  }
  auto back = fromJson(MessageType::kStatusResponse, toJson(s));
  RC_ASSERT(back.has_value());
  RC_ASSERT(std::get<StatusResponse>(*back) == s);

  LogEntry e{*rc::gen::elementOf(std::vector<LogStream>{LogStream::kStdout, LogStream::kStderr}),
             *rc::gen::inRange<std::int64_t>(0, 1LL << 52), *genText(1000)};
  auto eb = fromJson(MessageType::kLogEntry, toJson(e));
  RC_ASSERT(eb.has_value());
  RC_ASSERT(std::get<LogEntry>(*eb) == e);
}

RC_GTEST_PROP(MessagesProp, ArbitraryBodiesNeverCrash,
              (std::uint8_t type, const std::string& body)) {
  auto t = messageTypeFromByte(type);
  if (!t) return;
  auto m = fromJson(*t, body);
  if (m) RC_ASSERT(fromJson(*t, toJson(*m)).value() == *m);
}

RC_GTEST_PROP(MessagesProp, MutatedValidBodiesNeverCrash, (std::size_t pos, std::uint8_t byte)) {
  std::string body = toJson(deployRequest());
  body[pos % body.size()] = static_cast<char>(byte);
  auto m = fromJson(MessageType::kDeployRequest, body);
  if (m) RC_ASSERT(fromJson(MessageType::kDeployRequest, toJson(*m)).value() == *m);
}

}  // namespace
}  // namespace pc::protocol
