// Fuzz target: the engine response path — HTTP/1.1 header, chunked / length / EOF bodies, then
// the body through both stream decoders (newline-delimited JSON and multiplexed log frames).
// The first byte picks a chunk size; decoding must not depend on how the bytes were split.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/http_response.hpp"
#include "runtime/log_frame.hpp"

namespace {
struct Out {
  bool ok = true;
  bool done = false;
  unsigned status = 0;
  std::string body;
};
Out run(std::string_view in, std::size_t step) {
  pc::runtime::HttpResponseDecoder d;
  Out o;
  for (std::size_t pos = 0; pos < in.size() && o.ok; pos += step) {
    o.ok = d.feed(in.substr(pos, step), o.body).has_value();
  }
  if (o.ok) o.ok = d.feedEof(o.body).has_value();
  o.done = d.done();
  o.status = d.status();
  return o;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 64;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const Out whole = run(in, in.size() + 1);
  const Out split = run(in, step);
  if (whole.ok != split.ok) __builtin_trap();
  if (whole.ok && (whole.body != split.body || whole.status != split.status)) __builtin_trap();

  pc::runtime::JsonLineSplitter lines;
  std::vector<std::string> msgs;
  if (lines.feed(whole.body, msgs)) lines.finish(msgs);
  for (const auto& m : msgs) {
    if (m.size() > pc::runtime::kMaxJsonMessage || m.find('\n') != std::string::npos)
      __builtin_trap();
  }
  pc::runtime::LogFrameDecoder frames;
  frames.feed(whole.body);
  for (int i = 0; i < 10000; ++i) {
    auto f = frames.next();
    if (!f || !*f) break;
  }
  return 0;
}
