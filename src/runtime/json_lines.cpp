#include "runtime/json_lines.hpp"

#include "runtime/error.hpp"

namespace pc::runtime {

Result<void> JsonLineSplitter::feed(std::string_view bytes, std::vector<std::string>& out) {
  std::size_t start = 0;
  while (start < bytes.size()) {
    const auto nl = bytes.find('\n', start);
    const auto piece = bytes.substr(start, nl == std::string_view::npos ? nl : nl - start);
    // A stream that never sends a newline must not grow this buffer without bound.
    if (pending_.size() + piece.size() > kMaxJsonMessage) {
      pending_.clear();
      return fail(Errc::kTooLarge, "a streamed JSON message from the engine exceeds " +
                                       std::to_string(kMaxJsonMessage) + " bytes");
    }
    pending_.append(piece);
    if (nl == std::string_view::npos) {
      break;
    }
    if (pending_.find_first_not_of(" \t\r") != std::string::npos) {
      out.push_back(pending_);
    }
    pending_.clear();
    start = nl + 1;
  }
  return {};
}

void JsonLineSplitter::finish(std::vector<std::string>& out) {
  if (pending_.find_first_not_of(" \t\r") != std::string::npos) {
    out.push_back(pending_);
  }
  pending_.clear();
}

}  // namespace pc::runtime
