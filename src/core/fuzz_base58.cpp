// Fuzz target: base58, base32, base64url and multibase decoders; whatever decodes must re-encode
// identically.
#include "core/base32.hpp"
#include "core/base58.hpp"
#include "core/base64url.hpp"
#include "core/multibase.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto b = pc::base58::decode(text); b && pc::base58::encode(*b) != text) __builtin_trap();
  if (auto b = pc::base32::decode(text); b && pc::base32::encode(*b) != text) __builtin_trap();
  if (auto b = pc::base64url::decode(text); b && pc::base64url::encode(*b) != text) {
    __builtin_trap();
  }
  (void)pc::multibase::decode(text);
  // Encoding arbitrary bytes must decode back.
  pc::BytesView bytes(data, size);
  if (pc::base64url::decode(pc::base64url::encode(bytes)).value() !=
      pc::Bytes(bytes.begin(), bytes.end())) {
    __builtin_trap();
  }
  if (size <= 512 && pc::base58::decode(pc::base58::encode(bytes)).value() !=
                         pc::Bytes(bytes.begin(), bytes.end())) {
    __builtin_trap();
  }
  return 0;
}
