#include "runtime/log_frame.hpp"

#include "runtime/error.hpp"

namespace pc::runtime {

Result<std::optional<LogFrame>> LogFrameDecoder::next() {
  const std::size_t avail = buffer_.size() - offset_;
  if (avail < kLogFrameHeaderSize) {
    return std::optional<LogFrame>{};
  }
  const auto* h = reinterpret_cast<const unsigned char*>(buffer_.data() + offset_);
  const unsigned streamByte = h[0];
  // Unknown stream ids and non-zero padding are rejected rather than guessed at: they mean the
  // body is not a multiplexed stream (e.g. a TTY container's raw output) and parsing on would
  // misattribute bytes between stdout and stderr.
  if (streamByte == 0 || streamByte > 3 || h[1] != 0 || h[2] != 0 || h[3] != 0) {
    return fail(Errc::kProtocolError,
                "the engine's log stream is not in the multiplexed frame format (header byte " +
                    std::to_string(streamByte) + "); was the container created with a TTY?");
  }
  const std::size_t size = (std::size_t{h[4]} << 24) | (std::size_t{h[5]} << 16) |
                           (std::size_t{h[6]} << 8) | std::size_t{h[7]};
  if (size > kMaxLogFramePayload) {
    return fail(Errc::kTooLarge, "a log frame of " + std::to_string(size) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(kMaxLogFramePayload));
  }
  if (avail < kLogFrameHeaderSize + size) {
    return std::optional<LogFrame>{};
  }
  std::string payload = buffer_.substr(offset_ + kLogFrameHeaderSize, size);
  offset_ += kLogFrameHeaderSize + size;
  // Compact once the consumed prefix dominates, so a long stream does not grow the buffer.
  if (offset_ > 64 * 1024 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  if (streamByte == 3) {
    return fail(Errc::kEngineError, "the engine reported an error in the log stream: " + payload);
  }
  return std::optional<LogFrame>{LogFrame{static_cast<LogStream>(streamByte), std::move(payload)}};
}

std::string encodeLogFrame(std::uint8_t stream, std::string_view payload) {
  std::string out(kLogFrameHeaderSize, '\0');
  out[0] = static_cast<char>(stream);
  const auto n = static_cast<std::uint32_t>(payload.size());
  out[4] = static_cast<char>((n >> 24) & 0xff);
  out[5] = static_cast<char>((n >> 16) & 0xff);
  out[6] = static_cast<char>((n >> 8) & 0xff);
  out[7] = static_cast<char>(n & 0xff);
  out.append(payload);
  return out;
}

}  // namespace pc::runtime
