// The value codecs of the message field tables. Every check names "<message>.<field>" in its
// error so that a user (or the peer's operator) can see exactly what was refused.
#include "protocol/field_codecs.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/bytes.hpp"
#include "core/utf8.hpp"
#include "crypto/peer_id.hpp"
#include "protocol/deployment_id.hpp"
#include "protocol/messages.hpp"

namespace pc::protocol::detail {
namespace json = boost::json;

namespace {

bool isEnvKey(std::string_view k) {
  if (k.empty()) {
    return false;
  }
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(k.front())) {
    return false;
  }
  return std::all_of(k.begin(), k.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

bool hasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// One env entry: the key's form, the value's kind, UTF-8 and NUL.
Result<std::string_view> readEnvEntry(const std::string& where, std::string_view k,
                                      const json::value& v) {
  if (k.size() > kMaxEnvKeyLength || !isEnvKey(k)) {
    return fail(Errc::kBadFormat, where +
                                      ": variable names must match [A-Za-z_][A-Za-z0-9_]* "
                                      "and be at most " +
                                      std::to_string(kMaxEnvKeyLength) + " characters");
  }
  if (!v.is_string()) {
    return fail(Errc::kWrongType, where + ": expected a string value, got " + kindName(v));
  }
  const std::string_view val(v.get_string());
  if (!utf8::isValid(val)) {
    return fail(Errc::kBadFormat, where + ": value is not valid UTF-8");
  }
  // A NUL would truncate the variable inside the container runtime's C strings, so the
  // container would see something other than what was signed.
  if (val.find('\0') != std::string_view::npos) {
    return fail(Errc::kBadFormat, where + ": value contains a NUL character");
  }
  return val;
}

// One command argument: its kind, UTF-8 and NUL.
Result<std::string_view> readArgument(const std::string& where, const json::value& v) {
  if (!v.is_string()) {
    return fail(Errc::kWrongType, where + ": expected a string, got " + kindName(v));
  }
  const std::string_view a(v.get_string());
  if (!utf8::isValid(a)) {
    return fail(Errc::kBadFormat, where + ": not valid UTF-8");
  }
  // As for env values: a NUL would cut the argument short inside the runtime.
  if (a.find('\0') != std::string_view::npos) {
    return fail(Errc::kBadFormat, where + ": contains a NUL character");
  }
  return a;
}

}  // namespace

std::string Where::str() const {
  std::string out(context);
  out += '.';
  out += key;
  return out;
}

std::string quoted(std::string_view s) {
  constexpr std::size_t kShown = 40;
  std::string out = "\"";
  for (char c : s.substr(0, kShown)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out + (s.size() > kShown ? "…\"" : "\"");
}

const char* kindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

Error wrongType(const std::string& where, const json::value& v, std::string_view expected) {
  return fail(Errc::kWrongType, where + ": expected " + std::string(expected) + ", got " +
                                    kindName(v) +
                                    (v.is_null() ? " (omit optional fields instead)" : ""));
}

Result<std::string> Text::read(const Where& w, const json::value& v) const {
  if (!v.is_string()) {
    return wrongType(w.str(), v, "a string");
  }
  const std::string_view s(v.get_string());
  if (s.size() > maxLen) {
    return fail(Errc::kOutOfRange, w.str() + ": " + std::to_string(s.size()) +
                                       " bytes exceed the limit of " + std::to_string(maxLen));
  }
  if (s.empty() && !allowEmpty) {
    return fail(Errc::kOutOfRange, w.str() + ": must not be empty");
  }
  if (!utf8::isValid(s)) {
    return fail(Errc::kBadFormat, w.str() + ": not valid UTF-8");
  }
  if (rule != nullptr) {
    if (auto r = rule(w, s); !r) {
      return r.error();
    }
  }
  return std::string(s);
}

Result<std::int64_t> readInteger(const Where& w, const json::value& v, std::int64_t min,
                                 std::int64_t max) {
  if (!v.is_int64()) {
    // uint64 / double only arise from out-of-range or fractional numbers in a built value.
    if (v.is_number()) {
      return fail(Errc::kOutOfRange, w.str() + ": must be an integer from " + std::to_string(min) +
                                         " to " + std::to_string(max));
    }
    return wrongType(w.str(), v, "an integer");
  }
  const std::int64_t n = v.get_int64();
  if (n < min || n > max) {
    return fail(Errc::kOutOfRange, w.str() + ": " + std::to_string(n) +
                                       " is outside the allowed range " + std::to_string(min) +
                                       " to " + std::to_string(max));
  }
  return n;
}

Result<bool> Bool::read(const Where& w, const json::value& v) const {
  if (!v.is_bool()) {
    return wrongType(w.str(), v, "a boolean");
  }
  return v.get_bool();
}

Result<std::map<std::string, std::string>> Env::read(const Where& w, const json::value& v) const {
  if (!v.is_object()) {
    return wrongType(w.str(), v, "an object");
  }
  const auto& env = v.get_object();
  if (env.size() > kMaxEnvVars) {
    return fail(Errc::kOutOfRange, w.str() + ": " + std::to_string(env.size()) +
                                       " variables exceed the limit of " +
                                       std::to_string(kMaxEnvVars));
  }
  std::map<std::string, std::string> out;
  std::size_t total = 0;
  for (const auto& kv : env) {
    const std::string_view k(kv.key());
    auto val = readEnvEntry(w.str() + "[" + quoted(k) + "]", k, kv.value());
    if (!val) {
      return val.error();
    }
    total += k.size() + val->size();
    if (total > kMaxEnvTotalBytes) {
      return fail(Errc::kOutOfRange, w.str() + ": total size exceeds the limit of " +
                                         std::to_string(kMaxEnvTotalBytes) + " bytes");
    }
    out.emplace(std::string(k), std::string(*val));
  }
  return out;
}

json::value Env::write(const std::map<std::string, std::string>& env) const {
  json::object o;
  for (const auto& [k, v] : env) {
    o[k] = v;
  }
  return json::value(std::move(o));
}

Result<std::vector<std::string>> Command::read(const Where& w, const json::value& v) const {
  if (!v.is_array()) {
    return wrongType(w.str(), v, "an array of strings");
  }
  const auto& arr = v.get_array();
  if (arr.empty() || arr.size() > kMaxCommandArgs) {
    return fail(Errc::kOutOfRange, w.str() + ": needs 1 to " + std::to_string(kMaxCommandArgs) +
                                       " arguments, got " + std::to_string(arr.size()));
  }
  std::vector<std::string> out;
  std::size_t total = 0;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    auto a = readArgument(w.str() + "[" + std::to_string(i) + "]", arr[i]);
    if (!a) {
      return a.error();
    }
    total += a->size();
    if (total > kMaxCommandBytes) {
      return fail(Errc::kOutOfRange, w.str() + ": total size exceeds the limit of " +
                                         std::to_string(kMaxCommandBytes) + " bytes");
    }
    out.emplace_back(*a);
  }
  return out;
}

json::value Command::write(const std::vector<std::string>& args) const {
  json::array cmd;
  for (const auto& a : args) {
    cmd.emplace_back(a);
  }
  return json::value(std::move(cmd));
}

Result<std::vector<std::string>> UrlList::read(const Where& w, const json::value& v) const {
  if (!v.is_array()) {
    return wrongType(w.str(), v, "an array of strings");
  }
  const auto& arr = v.get_array();
  // One URL is `url` alone: a list of one would be a second spelling of the same answer.
  if (arr.size() < 2 || arr.size() > kMaxUrls) {
    return fail(Errc::kOutOfRange, w.str() + ": needs 2 to " + std::to_string(kMaxUrls) +
                                       " URLs, got " + std::to_string(arr.size()));
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string at = std::string(w.key) + "[" + std::to_string(i) + "]";
    auto u = Text{kMaxUrlLength, false, &urlForm}.read(Where{w.context, at}, arr[i]);
    if (!u) {
      return u.error();
    }
    if (std::find(out.begin(), out.end(), *u) != out.end()) {
      return fail(Errc::kBadFormat,
                  Where{w.context, at}.str() + ": " + quoted(*u) + " is listed twice");
    }
    out.push_back(std::move(*u));
  }
  return out;
}

json::value UrlList::write(const std::vector<std::string>& urls) const {
  json::array arr;
  for (const auto& u : urls) {
    arr.emplace_back(u);
  }
  return json::value(std::move(arr));
}

bool urlsAgree(const std::optional<std::string>& url, const std::vector<std::string>& urls) {
  return urls.empty() || (url && urls.front() == *url);
}

Result<void> requestIdForm(const Where& w, std::string_view s) {
  // One text form per id: lower-case hex of 16..32 bytes. Short ids would make accidental
  // collisions (and so false replay rejections) likely; case variants would let one request
  // appear under several keys.
  if (s.size() < kRequestIdMinBytes * 2 || s.size() % 2 != 0 || !isLowerHex(s)) {
    return fail(Errc::kBadFormat,
                w.str() + ": " + quoted(s) + " must be 32 to 64 lower-case hex characters");
  }
  return {};
}

Result<void> requesterIdForm(const Where& w, std::string_view s) {
  auto pid = crypto::PeerId::parse(s);
  if (!pid) {
    return fail(Errc::kBadFormat, w.str() + ": not a peer id (" + pid.error().message() + ")");
  }
  if (pid->toBase58() != s) {
    return fail(Errc::kBadFormat, w.str() + ": must be the base58 form (12D3KooW…) of the peer id");
  }
  if (!pid->ed25519Key()) {
    return fail(Errc::kBadFormat,
                w.str() + ": not an Ed25519 peer id (requests cannot be verified)");
  }
  return {};
}

Result<void> signatureForm(const Where& w, std::string_view s) {
  if (s.size() != kSignatureHexLength || !isLowerHex(s)) {
    return fail(Errc::kBadFormat, w.str() + ": must be 128 lower-case hex characters (Ed25519)");
  }
  return {};
}

Result<void> imageForm(const Where& w, std::string_view s) {
  // The reference grammar (docker/distribution) uses only these characters; the runtime parses
  // the reference fully, this only keeps odd bytes out of logs and audit records.
  const bool imageChars = std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '/' || c == ':' || c == '@';
  });
  if (!imageChars) {
    return fail(Errc::kBadFormat, w.str() + ": " + quoted(s) + " is not an image reference");
  }
  return {};
}

Result<void> deploymentIdForm(const Where& w, std::string_view s) {
  if (!isDeploymentId(s)) {
    return fail(Errc::kBadFormat, w.str() + ": " + quoted(s) +
                                      " is not a deployment id (dep- and 16 characters a-z, 2-7)");
  }
  return {};
}

Result<void> urlForm(const Where& w, std::string_view s) {
  const bool scheme = s.starts_with("https://") || s.starts_with("http://");
  if (!scheme || hasControl(s) || s.find(' ') != std::string_view::npos) {
    return fail(Errc::kBadFormat,
                w.str() + ": " + quoted(s) + " is not an http(s) URL without spaces");
  }
  return {};
}

Result<void> errorCodeForm(const Where& w, std::string_view s) {
  const bool codeChars = std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!codeChars) {
    return fail(Errc::kBadFormat, w.str() + ": " + quoted(s) + " must use only a-z, 0-9 and '_'");
  }
  return {};
}

Result<void> saltForm(const Where& w, std::string_view s) {
  if (s.size() != kDeploymentSaltBytes * 2 || !isLowerHex(s)) {
    return fail(Errc::kBadFormat, w.str() + ": must be " +
                                      std::to_string(kDeploymentSaltBytes * 2) +
                                      " lower-case hex characters");
  }
  return {};
}

}  // namespace pc::protocol::detail
