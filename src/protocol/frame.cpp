#include "protocol/frame.hpp"

#include "protocol/error.hpp"

namespace pc::protocol {

std::optional<MessageType> messageTypeFromByte(std::uint8_t b) {
  switch (static_cast<MessageType>(b)) {
    case MessageType::kDeployRequest:
    case MessageType::kDeployProgress:
    case MessageType::kDeployResponse:
    case MessageType::kStopRequest:
    case MessageType::kStopResponse:
    case MessageType::kStatusRequest:
    case MessageType::kStatusResponse:
    case MessageType::kLogsRequest:
    case MessageType::kLogEntry:
    case MessageType::kLogsEnd:
    case MessageType::kRegisterRoute:
    case MessageType::kRouteRegistered:
    case MessageType::kUnregisterRoute:
    case MessageType::kHeartbeat:
    case MessageType::kError:
      return static_cast<MessageType>(b);
  }
  return std::nullopt;
}

std::string_view messageTypeName(MessageType t) {
  switch (t) {
    case MessageType::kDeployRequest:
      return "deploy_request";
    case MessageType::kDeployProgress:
      return "deploy_progress";
    case MessageType::kDeployResponse:
      return "deploy_response";
    case MessageType::kStopRequest:
      return "stop_request";
    case MessageType::kStopResponse:
      return "stop_response";
    case MessageType::kStatusRequest:
      return "status_request";
    case MessageType::kStatusResponse:
      return "status_response";
    case MessageType::kLogsRequest:
      return "logs_request";
    case MessageType::kLogEntry:
      return "log_entry";
    case MessageType::kLogsEnd:
      return "logs_end";
    case MessageType::kRegisterRoute:
      return "register_route";
    case MessageType::kRouteRegistered:
      return "route_registered";
    case MessageType::kUnregisterRoute:
      return "unregister_route";
    case MessageType::kHeartbeat:
      return "heartbeat";
    case MessageType::kError:
      return "error";
  }
  return "unknown";
}

Result<Bytes> encodeFrame(MessageType type, std::string_view body) {
  if (body.size() > kHardMaxFrameBody) {
    return fail(Errc::kTooLarge, "a " + std::string(messageTypeName(type)) + " body of " +
                                     std::to_string(body.size()) +
                                     " bytes exceeds the hard limit of " +
                                     std::to_string(kHardMaxFrameBody));
  }
  Bytes out;
  out.reserve(kFrameHeaderSize + body.size());
  const auto n = static_cast<std::uint32_t>(body.size());
  out.push_back(static_cast<std::uint8_t>(type));
  out.push_back(static_cast<std::uint8_t>((n >> 24) & 0xff));
  out.push_back(static_cast<std::uint8_t>((n >> 16) & 0xff));
  out.push_back(static_cast<std::uint8_t>((n >> 8) & 0xff));
  out.push_back(static_cast<std::uint8_t>(n & 0xff));
  append(out, asBytes(body));
  return out;
}

Result<FrameDecoder> FrameDecoder::create(std::size_t maxBody) {
  if (maxBody == 0 || maxBody > kHardMaxFrameBody) {
    return fail(Errc::kInvalidArgument, "frame body limit must be 1 to " +
                                            std::to_string(kHardMaxFrameBody) + " bytes, not " +
                                            std::to_string(maxBody));
  }
  return FrameDecoder(maxBody);
}

Result<std::optional<Frame>> FrameDecoder::feed(BytesView bytes) {
  if (failed_) return *failed_;
  buffer_.append(asString(bytes));
  return next();
}

Result<std::optional<Frame>> FrameDecoder::next() {
  if (failed_) return *failed_;
  const std::size_t avail = buffer_.size() - offset_;
  if (avail < kFrameHeaderSize) return std::optional<Frame>{};
  const auto* h = reinterpret_cast<const unsigned char*>(buffer_.data() + offset_);
  // Both checks run on the header alone so that a peer cannot make us hold a body we would
  // refuse anyway (memory exhaustion with a huge announced length).
  const auto type = messageTypeFromByte(h[0]);
  const std::size_t size = (std::size_t{h[1]} << 24) | (std::size_t{h[2]} << 16) |
                           (std::size_t{h[3]} << 8) | std::size_t{h[4]};
  if (!type) {
    failed_ = fail(Errc::kUnknownType,
                   "unknown message type 0x" + toHex(BytesView(h, 1)) +
                       " in a frame header; the peer speaks another protocol version");
  } else if (size > maxBody_) {
    failed_ = fail(Errc::kTooLarge, "a " + std::string(messageTypeName(*type)) + " frame of " +
                                        std::to_string(size) + " bytes exceeds the limit of " +
                                        std::to_string(maxBody_) + " bytes");
  }
  if (failed_) {
    buffer_.clear();
    buffer_.shrink_to_fit();
    offset_ = 0;
    return *failed_;
  }
  if (avail < kFrameHeaderSize + size) {
    // No reservation from the announced length: memory follows bytes actually received.
    return std::optional<Frame>{};
  }
  Frame f{*type, buffer_.substr(offset_ + kFrameHeaderSize, size)};
  offset_ += kFrameHeaderSize + size;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ * 2 > buffer_.size()) {
    // Compact once the consumed prefix dominates, so a long stream does not grow the buffer.
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return std::optional<Frame>{std::move(f)};
}

}  // namespace pc::protocol
