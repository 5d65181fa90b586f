// Fuzz target: the engine's newline-delimited JSON streams split into messages. The first byte
// picks a chunk size; messages must not depend on how the bytes were split, never hold a newline
// and never exceed kMaxJsonMessage.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/json_lines.hpp"

namespace {
std::vector<std::string> run(std::string_view in, std::size_t step, bool& ok) {
  pc::runtime::JsonLineSplitter lines;
  std::vector<std::string> msgs;
  ok = true;
  for (std::size_t pos = 0; pos < in.size() && ok; pos += step) {
    ok = lines.feed(in.substr(pos, step), msgs).has_value();
  }
  if (ok) {
    lines.finish(msgs);
  }
  return msgs;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::size_t step = 1 + data[0] % 64;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  bool wholeOk = false;
  bool splitOk = false;
  const auto whole = run(in, in.size() + 1, wholeOk);
  const auto split = run(in, step, splitOk);
  if (wholeOk != splitOk || (wholeOk && whole != split)) {
    __builtin_trap();
  }
  for (const auto& m : whole) {
    if (m.size() > pc::runtime::kMaxJsonMessage || m.find('\n') != std::string::npos) {
      __builtin_trap();
    }
  }
  return 0;
}
