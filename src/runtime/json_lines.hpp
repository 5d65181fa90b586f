#pragma once
/// Splitting the engine's streamed bodies of newline-delimited JSON (events, pull progress)
/// into messages. Pure; never parses the JSON itself.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace pc::runtime {

/// Largest JSON message in a streamed body (one event, one pull progress line).
inline constexpr std::size_t kMaxJsonMessage = 1U << 20;

class JsonLineSplitter {
 public:
  /// Appends bytes and moves every complete message into `out`. Empty lines are skipped.
  /// Errors: `kTooLarge` for a message over `kMaxJsonMessage` (final).
  Result<void> feed(std::string_view bytes, std::vector<std::string>& out);
  /// The stream ended: a last message without a trailing newline is returned too.
  void finish(std::vector<std::string>& out);

 private:
  std::string pending_;
};

}  // namespace pc::runtime
