#pragma once
/// Image references, parsed by the distribution reference grammar with Docker Hub normalisation.
///
///   reference        := name [ ":" tag ] [ "@" digest ]
///   name             := [domain "/"] remote-name          (at most 255 characters, normalised)
///   domain           := host [":" port]                   host: domain-name | IPv4 | "[" IPv6 "]"
///   domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
///   remote-name      := path-component ("/" path-component)*
///   path-component   := [a-z0-9]+ (separator [a-z0-9]+)*   separator: "_" "." "__" "-"+
///   tag              := [\w][\w.-]{0,127}
///   digest           := "sha256:" 64 lower-hex | "sha512:" 128 lower-hex
///
/// Normalisation follows Docker: the first component is a registry only when it contains "." or
/// ":", is "localhost", or has an upper-case letter; otherwise the registry is `docker.io`, and a
/// single-component Docker Hub path gets `library/`. `index.docker.io` becomes `docker.io`. A
/// reference with neither tag nor digest gets the tag `latest`.
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace pc::runtime {

/// Longest input accepted before any parsing (a name, a tag and a sha512 digest fit well within).
inline constexpr std::size_t kMaxReferenceLength = 512;
/// The grammar's NameTotalLengthMax (domain "/" path).
inline constexpr std::size_t kMaxNameLength = 255;
inline constexpr std::size_t kMaxTagLength = 128;
static_assert(kMaxNameLength + 1 + kMaxTagLength < kMaxReferenceLength);

struct ImageRef {
  std::string domain;  ///< registry host[:port], e.g. "docker.io", "127.0.0.1:5055"
  std::string path;    ///< repository path, e.g. "library/busybox"
  std::string tag;     ///< "" when only a digest was given
  std::string digest;  ///< "sha256:<hex>" or ""

  /// Parses and normalises `text`. Errors: `Errc::kBadReference` naming the offending part.
  static Result<ImageRef> parse(std::string_view text);

  /// "domain/path".
  [[nodiscard]] std::string name() const { return domain + "/" + path; }
  /// Canonical form "domain/path[:tag][@digest]"; `parse(toString())` gives back the same value.
  [[nodiscard]] std::string toString() const;

  friend bool operator==(const ImageRef&, const ImageRef&) = default;
};

}  // namespace pc::runtime
