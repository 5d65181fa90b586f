#pragma once
/// The Docker engine's multiplexed stream format (logs and attach of a non-TTY container).
///
/// Each frame: 1 byte stream (1 stdout, 2 stderr, 3 engine error), 3 zero bytes, 4-byte
/// big-endian payload length, payload. Pure decoder: it never touches a socket.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace pc::runtime {

inline constexpr std::size_t kLogFrameHeaderSize = 8;
/// Largest payload accepted. The engine writes log lines in frames of at most 16 KiB (its log
/// drivers split longer lines), so 1 MiB leaves room while bounding what a broken peer can
/// make us buffer.
inline constexpr std::size_t kMaxLogFramePayload = 1U << 20;
static_assert(kMaxLogFramePayload >= 16 * 1024);

enum class LogStream : std::uint8_t { kStdout = 1, kStderr = 2 };

struct LogFrame {
  LogStream stream = LogStream::kStdout;
  std::string payload;
};

class LogFrameDecoder {
 public:
  /// Appends raw bytes from the engine. Never fails: limits are checked by `next()`.
  void feed(std::string_view bytes) { buffer_.append(bytes); }

  /// The next complete frame, `nullopt` when more bytes are needed. Errors
  /// (`Errc::kProtocolError` / `kTooLarge` / `kEngineError`) are final: the stream is unusable.
  Result<std::optional<LogFrame>> next();

  /// True when bytes of an incomplete frame are buffered (a stream that ends here was cut).
  [[nodiscard]] bool hasPartial() const { return offset_ < buffer_.size(); }

 private:
  std::string buffer_;
  std::size_t offset_ = 0;
};

/// Encodes one frame (tests and fuzz seeds).
std::string encodeLogFrame(std::uint8_t stream, std::string_view payload);

}  // namespace pc::runtime
