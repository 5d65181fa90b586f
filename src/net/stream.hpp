#pragma once
/// A reliable, ordered byte stream: a TCP socket, a Noise-secured connection or a yamux stream.
/// multistream-select and every protocol handler are written against this interface.
#include <span>

#include "core/bytes.hpp"
#include "net/asio.hpp"

namespace pc::net {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  /// Reads between 1 and buf.size() bytes; 0 means the remote closed its write side (EOF).
  /// Errors: kClosed, kReset, kTimeout, or the layer's own. Cancel-safe: a cancelled read
  /// consumes nothing, and a later read continues where the stream was.
  virtual Task<std::size_t> readSome(std::span<std::uint8_t> buf) = 0;
  /// Writes all of `data`. Only one write may be in flight per stream. Not cancel-safe: a
  /// cancelled write may have sent part of `data`, so the stream must be reset afterwards.
  virtual Task<void> write(BytesView data) = 0;
  /// Half-closes: no more writes; the remote reads EOF. Cancel-safe.
  virtual Task<void> closeWrite() = 0;
  /// Abruptly ends the stream in both directions.
  virtual void reset() = 0;
  /// Frees buffers an idle stream does not need (called when the owner goes idle).
  virtual void releaseBuffers() {}
  /// Waits until a readSome() would not block (data, EOF or an error is pending), without
  /// holding a buffer: lets a relay keep no memory for an idle connection. Streams that cannot
  /// tell return at once (the following readSome then waits). Cancel-safe.
  virtual Task<void> waitReadable() { co_return Result<void>{}; }
};

/// The helpers below read or write a message in several steps: cancelling one leaves the stream
/// inside a message, so they are cancel-safe only by resetting the stream afterwards.

/// Reads exactly buf.size() bytes. An EOF before that is kClosed ("stream ended early").
Task<void> readExact(ByteStream& s, std::span<std::uint8_t> buf);
/// Reads an unsigned varint, byte by byte (never past it). Errors: as readExact, kProtocolError.
Task<std::uint64_t> readVarint(ByteStream& s);
/// Reads a varint-length-prefixed message of at most `maxSize` bytes. Errors: kTooLarge.
Task<Bytes> readLengthPrefixed(ByteStream& s, std::size_t maxSize);
/// Writes `msg` with a varint length prefix in one write.
Task<void> writeLengthPrefixed(ByteStream& s, BytesView msg);
/// Reads until EOF, up to `maxSize` bytes (more is kTooLarge).
Task<Bytes> readToEnd(ByteStream& s, std::size_t maxSize);

}  // namespace pc::net
