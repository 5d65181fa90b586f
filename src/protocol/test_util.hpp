#pragma once
// Shared test fixtures for the protocol tests.
#include "crypto/identity.hpp"
#include "protocol/messages.hpp"

namespace pc::protocol::test {

inline crypto::Identity seedIdentity(std::uint8_t start = 0) {
  Bytes s(32);
  for (std::size_t i = 0; i < 32; ++i) s[i] = static_cast<std::uint8_t>(start + i);
  return crypto::Identity::fromSeed(s).value();
}

inline constexpr std::int64_t kNow = 1'700'000'000'000;
inline constexpr std::string_view kSeedPeer =
    "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB";
inline constexpr std::string_view kZeroSignature =
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000";

inline RequestHeader header(std::string requestId = "000102030405060708090a0b0c0d0e0f") {
  return RequestHeader{std::move(requestId), std::string(kSeedPeer), kNow,
                       std::string(kZeroSignature)};
}

inline DeployRequest deployRequest() {
  DeployRequest d;
  d.header = header();
  d.image = "ghcr.io/acme/web:1.2@sha256:" + std::string(64, 'a');
  d.cpuMillicores = 500;
  d.memoryBytes = 256LL << 20;
  d.exposePort = 8080;
  d.env = {{"GREETING", "hello \"world\"\n"}, {"_X1", ""}};
  d.timeoutSeconds = 300;
  return d;
}

}  // namespace pc::protocol::test
