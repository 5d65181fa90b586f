#include "runtime/image_ref.hpp"

#include <algorithm>

#include "runtime/error.hpp"

namespace pc::runtime {
namespace {

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
constexpr std::string_view kOfficialRepoPrefix = "library/";

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isAlnum(char c) { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool isWord(char c) { return isAlnum(c) || c == '_'; }
bool isLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool isHex(char c) { return isLowerHex(c) || (c >= 'A' && c <= 'F'); }

Error bad(std::string_view text, std::string_view why) {
  return fail(Errc::kBadReference,
              "invalid image reference \"" + std::string(text.substr(0, 80)) +
                  (text.size() > 80 ? "…" : "") + "\": " + std::string(why) +
                  " (expected [registry/]repository[:tag][@sha256:digest], e.g. "
                  "docker.io/library/nginx:1.25)");
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool validDomainComponent(std::string_view c) {
  if (c.empty() || !isAlnum(c.front()) || !isAlnum(c.back())) return false;
  return std::all_of(c.begin(), c.end(), [](char ch) { return isAlnum(ch) || ch == '-'; });
}

bool validPort(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  unsigned v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v >= 1 && v <= 65535;
}

// domain := host [":" port]; host := domain-name | IPv4 | "[" IPv6 "]"
bool validDomain(std::string_view d) {
  std::string_view host = d;
  if (!d.empty() && d.front() == '[') {
    const auto close = d.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    const auto inner = d.substr(1, close - 1);
    if (!std::all_of(inner.begin(), inner.end(), [](char c) { return isHex(c) || c == ':'; })) {
      return false;
    }
    const auto rest = d.substr(close + 1);
    if (rest.empty()) return true;
    return rest.front() == ':' && validPort(rest.substr(1));
  }
  if (const auto colon = d.find(':'); colon != std::string_view::npos) {
    host = d.substr(0, colon);
    if (!validPort(d.substr(colon + 1))) return false;
  }
  if (host.empty()) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = host.find('.', start);
    if (!validDomainComponent(host.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*; separator := "_" | "." | "__" | "-"+
bool validPathComponent(std::string_view c) {
  if (c.empty() || !isLowerAlnum(c.front()) || !isLowerAlnum(c.back())) return false;
  for (std::size_t i = 0; i < c.size();) {
    if (isLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < c.size() && !isLowerAlnum(c[j])) ++j;
    const auto sep = c.substr(i, j - i);
    const bool ok = sep == "_" || sep == "." || sep == "__" ||
                    std::all_of(sep.begin(), sep.end(), [](char ch) { return ch == '-'; });
    if (!ok) return false;
    i = j;
  }
  return true;
}

bool validPath(std::string_view p) {
  std::size_t start = 0;
  while (true) {
    const auto slash = p.find('/', start);
    if (!validPathComponent(p.substr(start, slash - start))) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// tag := [\w][\w.-]{0,127}
bool validTag(std::string_view t) {
  if (t.empty() || t.size() > kMaxTagLength || !isWord(t.front())) return false;
  return std::all_of(t.begin(), t.end(), [](char c) { return isWord(c) || c == '.' || c == '-'; });
}

// Only registered algorithms with their exact lengths: an unknown algorithm or a short "digest"
// would not pin the content the requester signed for.
bool validDigest(std::string_view d) {
  const auto colon = d.find(':');
  if (colon == std::string_view::npos) return false;
  const auto alg = d.substr(0, colon);
  const auto hex = d.substr(colon + 1);
  std::size_t want = 0;
  if (alg == "sha256") {
    want = 64;
  } else if (alg == "sha512") {
    want = 128;
  } else {
    return false;
  }
  return hex.size() == want && std::all_of(hex.begin(), hex.end(), isLowerHex);
}

}  // namespace

Result<ImageRef> ImageRef::parse(std::string_view text) {
  if (text.empty()) return bad(text, "it is empty");
  if (text.size() > kMaxReferenceLength) return bad(text, "it is too long");
  // Reject control characters, whitespace and non-ASCII up front: they can never be valid and
  // must not reach log lines or the engine's URL query unescaped.
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return bad(text, "it contains whitespace, control or non-ASCII characters");
    }
  }
  ImageRef ref;
  std::string_view rest = text;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!validDigest(ref.digest)) {
      return bad(text, "the digest must be sha256:<64 lower-case hex> or sha512:<128 hex>");
    }
  }
  // A ':' after the last '/' starts the tag; one before it belongs to a registry port.
  const auto lastSlash = rest.rfind('/');
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos &&
      (lastSlash == std::string_view::npos || colon > lastSlash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!validTag(ref.tag)) {
      return bad(text, "the tag must be 1-128 of [A-Za-z0-9_.-] and not start with '.' or '-'");
    }
  }
  if (rest.empty()) return bad(text, "the repository name is empty");
  // An image id alone is refused (as Docker does): it would bypass the registry allowlist.
  if (rest.size() == 64 && std::all_of(rest.begin(), rest.end(), isLowerHex)) {
    return bad(text, "a 64-character hex image id is not a repository name");
  }

  // Docker's splitDockerDomain.
  const auto slash = rest.find('/');
  std::string_view first = slash == std::string_view::npos ? rest : rest.substr(0, slash);
  const bool firstIsDomain =
      slash != std::string_view::npos &&
      (first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
       std::any_of(first.begin(), first.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
  std::string_view remainder = rest;
  if (firstIsDomain) {
    ref.domain = std::string(first);
    remainder = rest.substr(slash + 1);
  } else {
    ref.domain = std::string(kDefaultDomain);
  }
  if (ref.domain == kLegacyDefaultDomain) ref.domain = std::string(kDefaultDomain);
  ref.path = std::string(remainder);
  if (ref.domain == kDefaultDomain && ref.path.find('/') == std::string::npos) {
    ref.path = std::string(kOfficialRepoPrefix) + ref.path;
  }

  if (!validDomain(ref.domain)) return bad(text, "the registry \"" + ref.domain + "\" is invalid");
  if (std::any_of(ref.path.begin(), ref.path.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return bad(text, "the repository name must be lower-case");
  }
  if (!validPath(ref.path)) {
    return bad(text,
               "each repository path component must be [a-z0-9] separated by '.', '_', '__' or "
               "'-'");
  }
  if (ref.domain.size() + 1 + ref.path.size() > kMaxNameLength) {
    return bad(text, "the repository name is longer than 255 characters");
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

std::string ImageRef::toString() const {
  std::string out = name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

}  // namespace pc::runtime
