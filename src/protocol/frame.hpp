#pragma once
/// The Peer Compute frame: 1 byte message type, 4-byte big-endian body length, JSON body.
///
/// Pure codec: `FrameDecoder` never touches a socket. Unknown types and bodies over the limit
/// are rejected from the 5-byte header alone, before any of the body is buffered.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.hpp"

namespace pc::protocol {

/// Message type byte. Values are wire constants: never renumber, only add.
enum class MessageType : std::uint8_t {
  kDeployRequest = 0x01,
  kDeployProgress = 0x02,
  kDeployResponse = 0x03,
  kStopRequest = 0x10,
  kStopResponse = 0x11,
  kStatusRequest = 0x20,
  kStatusResponse = 0x21,
  kLogsRequest = 0x30,
  kLogEntry = 0x31,
  kLogsEnd = 0x32,
  kRegisterRoute = 0x40,
  kRouteRegistered = 0x41,
  kUnregisterRoute = 0x42,
  kHeartbeat = 0x43,
  kError = 0x7f,
};

/// The type for a wire byte, nullopt for an unknown one.
std::optional<MessageType> messageTypeFromByte(std::uint8_t b);
/// The message type's name as used in errors and the signing domain ("deploy_request").
std::string_view messageTypeName(MessageType t);

inline constexpr std::size_t kFrameHeaderSize = 5;
/// Default body limit: far above any real message (a full status list is a few KiB).
inline constexpr std::size_t kDefaultMaxFrameBody = std::size_t{1} << 20;
/// No decoder may be configured above this: it bounds what one stream can make us buffer.
inline constexpr std::size_t kHardMaxFrameBody = std::size_t{10} << 20;
static_assert(kDefaultMaxFrameBody <= kHardMaxFrameBody);
static_assert(kHardMaxFrameBody <= 0xffffffffU, "the length must fit the 4-byte field");

struct Frame {
  MessageType type = MessageType::kError;
  std::string body;  ///< JSON text (not validated by the frame layer)

  friend bool operator==(const Frame&, const Frame&) = default;
};

/// Encodes a frame. Bodies over kHardMaxFrameBody are a caller bug: Errc::kTooLarge.
Result<Bytes> encodeFrame(MessageType type, std::string_view body);

class FrameDecoder {
 public:
  /// A decoder accepting bodies up to `maxBody` bytes. Errc::kInvalidArgument when `maxBody`
  /// is 0 or above kHardMaxFrameBody.
  static Result<FrameDecoder> create(std::size_t maxBody = kDefaultMaxFrameBody);
  FrameDecoder() = default;  ///< the default limit

  /// Appends `bytes` and returns the next complete frame, nullopt when more input is needed.
  /// When a frame is returned, further frames may already be buffered: call `next()` until it
  /// yields nullopt before feeding more. Errors (Errc::kUnknownType, Errc::kTooLarge) are
  /// final: the stream is unusable and every later call returns the same error.
  Result<std::optional<Frame>> feed(BytesView bytes);
  /// The next buffered frame, without new input.
  Result<std::optional<Frame>> next();

  /// True when bytes of an incomplete frame are buffered (a stream ending here was cut).
  [[nodiscard]] bool hasPartial() const { return offset_ < buffer_.size(); }
  [[nodiscard]] std::size_t maxBody() const { return maxBody_; }

 private:
  explicit FrameDecoder(std::size_t maxBody) : maxBody_(maxBody) {}
  std::size_t maxBody_ = kDefaultMaxFrameBody;
  std::string buffer_;
  std::size_t offset_ = 0;
  std::optional<Error> failed_;
};

}  // namespace pc::protocol
