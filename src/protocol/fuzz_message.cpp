// Fuzz target: the strict JSON / message decoder and JCS. First byte picks the message type,
// the rest is the body. Accepted messages must re-encode to an equal message, and canonical
// JSON must be a fixed point.
#include "protocol/jcs.hpp"
#include "protocol/messages.hpp"
#include "protocol/signing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (auto c = pc::protocol::canonicalizeJson(body)) {
    auto again = pc::protocol::canonicalizeJson(*c);
    if (!again || *again != *c) __builtin_trap();  // JCS must be idempotent
  }
  const auto type = pc::protocol::messageTypeFromByte(data[0]);
  if (!type) return 0;
  auto m = pc::protocol::fromJson(*type, body);
  if (!m) return 0;
  if (!pc::protocol::validate(*m)) __builtin_trap();  // decoded implies valid
  auto back = pc::protocol::fromJson(*type, pc::protocol::toJson(*m));
  if (!back || !(*back == *m)) __builtin_trap();  // two readings of one message
  if (pc::protocol::isRequest(*type) && !pc::protocol::signingPayload(*m)) __builtin_trap();
  return 0;
}
