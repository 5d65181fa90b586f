// Fuzz target: the engine's multiplexed log frame decoder. The first byte picks a chunk size so
// frames split at arbitrary points; decoding in chunks must give the same frames as all at once.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/log_frame.hpp"

namespace {
std::vector<pc::runtime::LogFrame> decode(std::string_view in, std::size_t step, bool& failed) {
  pc::runtime::LogFrameDecoder d;
  std::vector<pc::runtime::LogFrame> out;
  failed = false;
  for (std::size_t pos = 0; pos < in.size(); pos += step) {
    d.feed(in.substr(pos, step));
    while (true) {
      auto f = d.next();
      if (!f) {
        failed = true;
        return out;
      }
      if (!*f) break;
      out.push_back(std::move(**f));
    }
  }
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 31;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  bool failedWhole = false;
  bool failedSplit = false;
  auto whole = decode(in, in.size() + 1, failedWhole);
  auto split = decode(in, step, failedSplit);
  if (failedWhole != failedSplit || whole.size() != split.size()) __builtin_trap();
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (whole[i].payload != split[i].payload || whole[i].stream != split[i].stream)
      __builtin_trap();
  }
  return 0;
}
