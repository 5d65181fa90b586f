// The exact bytes each message encodes to. The field tables give the member order on the wire,
// so reordering a table would change these bytes; peers of older versions, and every signature
// made over the canonical form, depend on them. The expected texts were produced by the
// encoder before the field tables replaced it.
#include <gtest/gtest.h>

#include "protocol/messages.hpp"
#include "protocol/signing.hpp"
#include "protocol/test_util.hpp"

namespace pc::protocol {
namespace {

constexpr std::string_view kDep = "dep-abcdefghijklmnop";

const std::string kHeaderJson =
    R"("request_id":"000102030405060708090a0b0c0d0e0f",)"
    R"("requester_id":"12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB",)"
    R"("timestamp":1700000000000,"signature":")" +
    std::string(test::kZeroSignature) + "\"";

void expectWire(const Message& m, const std::string& wire) {
  EXPECT_EQ(toJson(m), wire);
  auto back = fromJson(typeOf(m), wire);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, m);
}

TEST(WireFormat, DeployRequest) {
  DeployRequest d;
  d.header = test::header();
  d.image = "nginx:1.25";
  d.cpuMillicores = 500;
  d.memoryBytes = 268435456;
  d.timeoutSeconds = 60;
  d.command = {"sh", "-c", "echo \"hi\" \xc3\xa9"};
  expectWire(d, "{" + kHeaderJson +
                    R"(,"image":"nginx:1.25","cpu_millicores":500,"memory_bytes":268435456,)"
                    R"("env":{},"timeout_seconds":60,"command":["sh","-c","echo \"hi\" )"
                    "\xc3\xa9\"]}");
  d.command.clear();
  d.exposePort = 8080;
  d.env = {{"_X", "\xc3\xa9\n"}, {"A", "b"}};
  expectWire(d, "{" + kHeaderJson +
                    R"(,"image":"nginx:1.25","cpu_millicores":500,"memory_bytes":268435456,)"
                    R"("expose_port":8080,"env":{"A":"b","_X":")"
                    "\xc3\xa9\\n"
                    R"("},"timeout_seconds":60})");
  d.env.clear();
  d.exposePort.reset();
  d.pull = PullPolicy::kNever;
  expectWire(d, "{" + kHeaderJson +
                    R"(,"image":"nginx:1.25","cpu_millicores":500,"memory_bytes":268435456,)"
                    R"("env":{},"timeout_seconds":60,"pull":"never"})");
}

TEST(WireFormat, SigningPayloadIsCanonical) {
  LogsRequest r{test::header(), std::string(kDep), true, 100, 1699999000000};
  expectWire(r, "{" + kHeaderJson +
                    R"(,"deployment_id":"dep-abcdefghijklmnop","follow":true,"tail":100,)"
                    R"("since":1699999000000})");
  EXPECT_EQ(signingPayload(r).value(),
            "peercompute/v1/logs_request\n"
            R"({"deployment_id":"dep-abcdefghijklmnop","follow":true,)"
            R"("request_id":"000102030405060708090a0b0c0d0e0f",)"
            R"("requester_id":"12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB",)"
            R"("since":1699999000000,"tail":100,"timestamp":1700000000000})");
}

TEST(WireFormat, Responses) {
  expectWire(DeployProgress{std::string(kDep), DeployPhase::kPulling, 42, 1000, 2000, std::nullopt},
             R"({"deployment_id":"dep-abcdefghijklmnop","phase":"pulling","percent":42,)"
             R"("bytes_done":1000,"bytes_total":2000})");
  expectWire(DeployProgress{std::string(kDep), DeployPhase::kStarting, std::nullopt, std::nullopt,
                            std::nullopt, ImageSource::kLocal},
             R"({"deployment_id":"dep-abcdefghijklmnop","phase":"starting",)"
             R"("image_source":"local"})");
  expectWire(DeployResponse{std::string(kDep),
                            DeploymentState::kRunning,
                            "https://dep-abcdefghijklmnop.example.net",
                            std::nullopt,
                            {}},
             R"({"deployment_id":"dep-abcdefghijklmnop","state":"running",)"
             R"("url":"https://dep-abcdefghijklmnop.example.net"})");
  const DeployResponse two{std::string(kDep),
                           DeploymentState::kRunning,
                           "https://a.example/",
                           std::nullopt,
                           {"https://a.example/", "https://b.example/"}};
  expectWire(two,
             R"({"deployment_id":"dep-abcdefghijklmnop","state":"running",)"
             R"("url":"https://a.example/","urls":["https://a.example/","https://b.example/"]})");
  StatusResponse s;
  s.deployments.push_back({std::string(kDep),
                           "nginx:1",
                           DeploymentState::kRunning,
                           1700000000000,
                           std::nullopt,
                           250,
                           1048576,
                           67108864,
                           2048,
                           1024,
                           1700000001000,
                           std::nullopt,
                           std::nullopt,
                           {}});
  s.deployments.push_back({std::string(kDep),
                           "x",
                           DeploymentState::kFailed,
                           std::nullopt,
                           std::nullopt,
                           std::nullopt,
                           std::nullopt,
                           0,
                           std::nullopt,
                           std::nullopt,
                           std::nullopt,
                           -1,
                           "pull failed: manifest unknown \xe2\x80\xa6",
                           {}});
  expectWire(s, R"({"deployments":[{"deployment_id":"dep-abcdefghijklmnop","image":"nginx:1",)"
                R"("state":"running","started_at":1700000000000,"cpu_usage_millicores":250,)"
                R"("memory_bytes":1048576,"memory_limit":67108864,"net_rx_bytes":2048,)"
                R"("net_tx_bytes":1024,"stats_at":1700000001000},)"
                R"({"deployment_id":"dep-abcdefghijklmnop","image":"x","state":"failed",)"
                R"("memory_limit":0,"exit_code":-1,"error":"pull failed: manifest unknown )"
                "\xe2\x80\xa6\"}]}");
  expectWire(LogEntry{LogStream::kStderr, 1700000000000, "caf\xc3\xa9 \"q\" \\ \t"},
             R"({"stream":"stderr","timestamp":1700000000000,"line":"caf)"
             "\xc3\xa9"
             R"( \"q\" \\ \t"})");
  expectWire(ErrorMessage{"bad_signature", "the signature does not verify"},
             R"({"code":"bad_signature","message":"the signature does not verify"})");
}

}  // namespace
}  // namespace pc::protocol
