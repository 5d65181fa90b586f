// Fuzz target: the HTTP/1.1 response decoder — header, chunked / length / EOF bodies — under the
// default limits and under small ones. The first byte picks a chunk size and the limits;
// decoding must not depend on how the bytes were split, and no body may exceed its limit.
#include <cstdint>
#include <string>

#include "http/response_decoder.hpp"

namespace {
struct Out {
  bool ok = true;
  bool done = false;
  unsigned status = 0;
  std::string body;
};
Out run(std::string_view in, std::size_t step, const pc::http::ResponseLimits& limits) {
  pc::http::ResponseDecoder d(limits);
  Out o;
  for (std::size_t pos = 0; pos < in.size() && o.ok; pos += step) {
    o.ok = d.feed(in.substr(pos, step), o.body).has_value();
  }
  if (o.ok) {
    o.ok = d.feedEof(o.body).has_value();
  }
  o.done = d.done();
  o.status = d.status();
  return o;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::size_t step = 1 + data[0] % 64;
  pc::http::ResponseLimits limits;
  if ((data[0] & 0x80) != 0) {
    limits = pc::http::ResponseLimits{256, 1024};
  }
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const Out whole = run(in, in.size() + 1, limits);
  const Out split = run(in, step, limits);
  if (whole.ok != split.ok) {
    __builtin_trap();
  }
  if (whole.ok && (whole.body != split.body || whole.status != split.status)) {
    __builtin_trap();
  }
  if (limits.maxBody && whole.body.size() > *limits.maxBody) {
    __builtin_trap();
  }
  return 0;
}
