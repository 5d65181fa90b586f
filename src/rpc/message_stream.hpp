#pragma once
/// Peer Compute messages over a byte stream (a yamux stream in practice): one frame per
/// message (protocol/frame.hpp), decoded strictly, with explicit size limits and deadlines.
#include <chrono>
#include <optional>

#include "net/stream.hpp"
#include "protocol/messages.hpp"

namespace pc::rpc {

/// Deadline for a peer to send its request once a stream is open (stops idle-stream hoarding).
inline constexpr std::chrono::seconds kRequestReadTimeout{30};

/// Reads messages from `stream`, one frame at a time.
class MessageReader {
 public:
  explicit MessageReader(net::ByteStream& stream,
                         std::size_t maxBody = protocol::kDefaultMaxFrameBody);

  /// The next message; nullopt when the stream ends cleanly between frames. Errors: the
  /// stream's (kClosed, kReset, ...), protocol::Errc::kTooLarge / kUnknownType from the frame
  /// header, the message decoder's validation errors, and net::Errc::kClosed for a stream that
  /// ends inside a frame. Cancelling is safe only if the stream is then abandoned.
  net::Task<std::optional<protocol::Message>> next();

 private:
  net::ByteStream& stream_;
  protocol::FrameDecoder decoder_;
  Bytes buf_;
};

/// Validates and writes `m` as one frame. Errors: validation errors (a local bug), the stream's.
net::Task<void> writeMessage(net::ByteStream& stream, const protocol::Message& m);

/// Writes an Error message (best effort: a failed write is ignored, the stream is ending).
/// The views are copied before the first suspension. (Callers: never pass a temporary
/// std::string — GCC 12 destroys temporaries of a co_await expression twice.)
net::asio::awaitable<void> writeError(net::ByteStream& stream, std::string_view code,
                                      std::string_view message);

}  // namespace pc::rpc
