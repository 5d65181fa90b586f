#pragma once
/// The "container" of the in-process node tests: a small HTTP/1.1 server on 127.0.0.1.
///   GET /          → kBackendBody
///   GET /bytes/N   → N bytes of patternByte (Content-Length), so a client can hash them too
///   POST /sha256   → the hex SHA-256 of the body (Content-Length or chunked)
///   GET /headers   → the request head as received
///   GET /chunked   → a chunked answer with a chunk extension
///   GET /ws (Upgrade: websocket) → 101, then a raw echo
/// anything else   → 404. Keep-alive unless the request says `Connection: close`.
#include <cstdint>
#include <memory>
#include <string_view>

#include "net/tcp.hpp"

namespace pc::test {

inline constexpr std::string_view kBackendBody = "served by the deployment";

/// The byte at offset i of GET /bytes/N.
inline std::uint8_t patternByte(std::uint64_t i) {
  return static_cast<std::uint8_t>((i * 131 + 7) & 0xff);
}

/// Listens on an ephemeral loopback port and serves until the acceptor is closed.
std::shared_ptr<net::tcp::acceptor> startHttpBackend(const net::asio::any_io_executor& ex);

}  // namespace pc::test
