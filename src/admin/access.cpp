#include "admin/access.hpp"

#include <sys/stat.h>

#include "core/ascii.hpp"
#include "core/fs.hpp"

namespace pc::admin {

namespace {

Error tokenError(std::string why) {
  return Error(make_error_code(boost::system::errc::invalid_argument), std::move(why));
}

std::string_view trimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

crypto::Sha256Digest digestOf(std::string_view s) {
  return crypto::sha256(BytesView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

}  // namespace

Result<AdminToken> AdminToken::fromText(std::string_view token) {
  token = trimSpace(token);
  if (token.size() < kMinTokenBytes) {
    return tokenError("the admin token is shorter than " + std::to_string(kMinTokenBytes) +
                      " characters (make one with: openssl rand -hex 32)");
  }
  for (const char c : token) {
    if (c <= ' ' || c > '~') {
      return tokenError(
          "the admin token holds a character other than visible ASCII (one token, one line)");
    }
  }
  return AdminToken(digestOf(token));
}

Result<AdminToken> AdminToken::load(const std::filesystem::path& path) {
  // readStateFile refuses symbolic links and files others own or may write; a token must not
  // be readable by them either (anyone who reads it is an admin).
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return tokenError("cannot read the admin token file " + path.string() +
                      " (admin_token_file): it does not exist");
  }
  if ((st.st_mode & 077) != 0) {
    return tokenError("the admin token file " + path.string() +
                      " may be read by group or others; fix it with: chmod 600 " + path.string());
  }
  auto text = fs::readStateFile(path, kMaxTokenFileBytes);
  if (!text) {
    return text.error().context("admin_token_file");
  }
  auto token = fromText(*text);
  if (!token) {
    return token.error().context(path.string());
  }
  return token;
}

bool AdminToken::matches(std::string_view presented) const {
  // Digests have one length whatever was sent: the compare leaks neither content nor length.
  const auto d = digestOf(presented);
  return constantTimeEqual(BytesView(d.data(), d.size()), BytesView(digest_.data(), d.size()));
}

bool isLoopback(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return a.to_v6().to_v4().is_loopback();
  }
  return a.is_loopback();
}

bool isAddressHost(std::string_view host) {
  if (host.empty()) {
    return true;
  }
  std::string_view name = host;
  if (name.front() == '[') {
    const auto close = name.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    const std::string_view rest = name.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return false;
    }
    name = name.substr(1, close - 1);
    boost::system::error_code ec;
    const auto a = boost::asio::ip::make_address_v6(std::string(name), ec);
    return !ec && !a.is_unspecified();
  }
  if (const auto colon = name.find(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  if (lowerAscii(name) == "localhost") {
    return true;
  }
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address_v4(std::string(name), ec);
  return !ec;
}

std::string_view bearerToken(std::string_view authorization) {
  authorization = trimSpace(authorization);
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      lowerAscii(authorization.substr(0, kScheme.size())) != kScheme) {
    return {};
  }
  return trimSpace(authorization.substr(kScheme.size()));
}

Verdict decideAccess(const AccessRequest& r, const AdminToken* token) {
  const std::string_view presented = bearerToken(r.authorization);
  if (token != nullptr && !presented.empty() && token->matches(presented)) {
    return Verdict::kAllowed;
  }
  if (!isLoopback(r.remote)) {
    return token != nullptr ? Verdict::kBadToken : Verdict::kNotLoopback;
  }
  // DNS rebinding: a page from evil.example whose name now resolves to 127.0.0.1 reaches us
  // with Host: evil.example; the operator's own tools name an address or localhost.
  if (!isAddressHost(r.host)) {
    return Verdict::kBadHost;
  }
  return Verdict::kAllowed;
}

std::string_view explain(Verdict v) {
  switch (v) {
    case Verdict::kAllowed:
      return "allowed";
    case Verdict::kNotLoopback:
      return "the admin listener serves loopback clients only (configure admin_token_file to "
             "serve others with a token)";
    case Verdict::kBadToken:
      return "a client that is not on loopback must send Authorization: Bearer <admin token>";
    case Verdict::kBadHost:
      return "the Host header must name the listener by address or localhost (DNS rebinding "
             "guard)";
  }
  return "refused";
}

}  // namespace pc::admin
