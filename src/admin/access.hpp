#pragma once
/// Who may use the admin listener. Pure (no sockets), so every rule has a unit test.
///
///   1. A client that presents the admin token (`Authorization: Bearer <token>`) is served from
///      any address: the token is compared in constant time (SHA-256 of both sides, then a
///      constant-time compare of the digests, so neither the content nor the length leaks).
///   2. Otherwise only loopback clients (127.0.0.0/8, ::1, and ::ffff:127.0.0.0/104) are served:
///      the metrics and the dashboard show deployment ids, providers and refused clients, which
///      are the operator's business, not the network's.
///   3. A loopback client without the token must name the listener by address or `localhost` in
///      its Host header: a web page the operator visits cannot rebind its own name to 127.0.0.1
///      and read the admin pages from the operator's browser (DNS rebinding).
/// A refusal is a 403 that says which rule refused it, and the listener logs it.
#include <boost/asio/ip/address.hpp>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "crypto/hash.hpp"

namespace pc::admin {

/// A token shorter than this is refused at start (guessable).
inline constexpr std::size_t kMinTokenBytes = 16;
/// The token file is read whole; a bigger file is not a token file.
inline constexpr std::size_t kMaxTokenFileBytes = 4096;

/// The admin token, kept as its SHA-256 digest only.
class AdminToken {
 public:
  /// Reads the token from `path`: a regular file of this user (no symbolic link) that group and
  /// others can neither read nor write (0600), holding one token of at least kMinTokenBytes
  /// visible ASCII characters (a trailing newline is ignored). Errors say what to fix (the chmod,
  /// the length).
  static Result<AdminToken> load(const std::filesystem::path& path);
  /// The token from its text (checked as load() checks a file's content).
  static Result<AdminToken> fromText(std::string_view token);
  /// True when `presented` is the token. Constant time in the content of both.
  [[nodiscard]] bool matches(std::string_view presented) const;

 private:
  explicit AdminToken(const crypto::Sha256Digest& d) : digest_(d) {}
  crypto::Sha256Digest digest_;
};

/// What the listener decided for one request.
enum class Verdict {
  kAllowed,
  kNotLoopback,  ///< not loopback, and no token is configured
  kBadToken,     ///< not loopback, and the token is missing or wrong
  kBadHost,      ///< loopback without the token, but the Host header names something else
};

/// One request as the access rules see it.
struct AccessRequest {
  boost::asio::ip::address remote;
  std::string_view authorization;  ///< the Authorization header ("" when absent)
  std::string_view host;           ///< the Host header ("" when absent)
};

/// The rules above. `token` is null when none is configured.
Verdict decideAccess(const AccessRequest& r, const AdminToken* token);
/// The sentence of a refusal's 403 body and log line.
std::string_view explain(Verdict v);

/// 127.0.0.0/8, ::1, or an IPv4-mapped loopback address.
bool isLoopback(const boost::asio::ip::address& a);
/// A Host header that names an address: an IPv4 literal, a bracketed IPv6 literal or
/// `localhost`, each with an optional port. (Absent is allowed: HTTP/1.0 clients send none.)
bool isAddressHost(std::string_view host);
/// The token of an `Authorization: Bearer <token>` header; "" for any other form.
std::string_view bearerToken(std::string_view authorization);

}  // namespace pc::admin
