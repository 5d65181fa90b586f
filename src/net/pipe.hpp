#pragma once
/// Copies bytes both ways between two byte streams (a proxied TCP connection and a yamux stream)
/// until both directions have ended. An EOF on one side becomes a half-close (closeWrite) on the
/// other, so request/response protocols that rely on half-close keep working; an error on either
/// side resets both. Memory: one buffer per direction, dropped when idle.
#include <chrono>
#include <memory>

#include "net/stream.hpp"

namespace pc::net {

struct PipeStats {
  std::uint64_t aToB = 0;
  std::uint64_t bToA = 0;
  bool idleTimeout = false;
};

/// Runs until both directions end, an error resets both, or nothing moved in either direction
/// for `idle` (then both are reset). The two copies are tasks of the call: they never outlive
/// it. Cancel-safe: a cancelled pipe resets both streams and ends both copies.
asio::awaitable<PipeStats> pipeBoth(std::shared_ptr<ByteStream> a, std::shared_ptr<ByteStream> b,
                                    std::chrono::milliseconds idle);

/// Bytes per read of one direction.
inline constexpr std::size_t kPipeChunk = 64 * 1024;

}  // namespace pc::net
