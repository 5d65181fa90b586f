#pragma once
#include "core/error.hpp"

namespace pc::crypto {

/// Errors of the crypto module.
enum class Errc {
  kBadKey = 1,         ///< key bytes of the wrong size or not a valid key
  kBadSignature,       ///< a signature that does not verify
  kDecryptFailed,      ///< AEAD authentication failed (tampered or wrong key)
  kWeakSharedSecret,   ///< X25519 produced the all-zero secret (small-order point)
  kOpenSsl,            ///< OpenSSL reported an internal failure
  kBadKeyFile,         ///< the identity key file is malformed
  kUnsafeKeyFile,      ///< the identity key file is readable by group/others
  kBadPeerId,          ///< text or bytes that are not a valid PeerId
  kUnsupportedKeyType  ///< a key type other than Ed25519
};

const boost::system::error_category& cryptoCategory();
inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), cryptoCategory()};
}
inline Error fail(Errc e, std::string message) {
  return Error(make_error_code(e), std::move(message));
}

}  // namespace pc::crypto

template <>
struct boost::system::is_error_code_enum<pc::crypto::Errc> : std::true_type {};
