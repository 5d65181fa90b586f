#pragma once
#include "core/invariant.hpp"
/// Module-private: random bytes for ids.
#include <openssl/rand.h>

#include <cstdlib>

#include "core/bytes.hpp"

namespace pc::protocol::detail {

/// `n` bytes from the CSPRNG. Ids must be unpredictable (request ids are replay-cache keys,
/// deployment ids appear in public URLs), so a CSPRNG failure is fatal rather than answered
/// with a weaker id.
inline Bytes randomBytes(std::size_t n) {
  Bytes b(n);
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    bug("the CSPRNG (RAND_bytes) failed");
  }
  return b;
}

}  // namespace pc::protocol::detail
