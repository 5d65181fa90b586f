#pragma once
/// Module-private: the value codecs of the message field tables (messages.cpp). A codec reads
/// one JSON member strictly — its kind, length, range and format, each error naming
/// "<message>.<field>" — and writes the member back as the JSON value the reader accepts. Only
/// the protocol module's .cpp files include this (Boost.JSON stays out of public headers).
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error.hpp"

namespace pc::protocol::detail {

/// A request signature in text: 64 bytes (Ed25519) as lower-case hex.
inline constexpr std::size_t kSignatureHexLength = 128;

/// Where a value sits, for error messages: "<context>.<key>". The context names the message
/// ("deploy_request") or an array element ("status_response.deployments[2]").
struct Where {
  std::string_view context;
  std::string_view key;
  [[nodiscard]] std::string str() const;
};

/// `s` in quotes for an error message: at most 40 bytes, control characters shown as '?'.
std::string quoted(std::string_view s);
/// "a string", "an integer"… for `v`'s JSON kind.
const char* kindName(const boost::json::value& v);
/// Errc::kWrongType: "<where>: expected <expected>, got <kind>" (suggesting omission for null).
Error wrongType(const std::string& where, const boost::json::value& v, std::string_view expected);

/// A format rule run after a Text's generic checks; returns the error naming `where`.
using TextRule = Result<void> (*)(const Where& where, std::string_view value);

/// A string: at most `maxLen` bytes, not empty unless `allowEmpty`, valid UTF-8, then `rule`.
struct Text {
  std::size_t maxLen = 0;
  bool allowEmpty = false;
  TextRule rule = nullptr;
  [[nodiscard]] Result<std::string> read(const Where& w, const boost::json::value& v) const;
  [[nodiscard]] boost::json::value write(const std::string& s) const {
    return boost::json::value(s);
  }
};

/// Reads an integer in [min, max] (Errc::kWrongType, kOutOfRange).
Result<std::int64_t> readInteger(const Where& w, const boost::json::value& v, std::int64_t min,
                                 std::int64_t max);

/// An integer in [min, max], stored as `T`.
template <class T = std::int64_t>
struct Int {
  std::int64_t min = 0;
  std::int64_t max = 0;
  [[nodiscard]] Result<T> read(const Where& w, const boost::json::value& v) const {
    auto n = readInteger(w, v, min, max);
    if (!n) {
      return n.error();
    }
    return static_cast<T>(*n);
  }
  [[nodiscard]] boost::json::value write(T n) const { return boost::json::value(std::int64_t{n}); }
};

/// A JSON boolean.
struct Bool {
  [[nodiscard]] Result<bool> read(const Where& w, const boost::json::value& v) const;
  [[nodiscard]] boost::json::value write(bool b) const { return boost::json::value(b); }
};

/// One of a fixed set of names (at most `maxLen` bytes), stored as the enum `E`. `refusal`
/// follows the quoted value in the error ("is not one of stdout, stderr").
template <class E>
struct Choice {
  std::size_t maxLen = 0;
  std::optional<E> (*parse)(std::string_view) = nullptr;
  std::string_view (*name)(E) = nullptr;
  std::string_view refusal;
  [[nodiscard]] Result<E> read(const Where& w, const boost::json::value& v) const {
    auto s = Text{maxLen}.read(w, v);
    if (!s) {
      return s.error();
    }
    const auto e = parse(*s);
    if (!e) {
      return fail(Errc::kBadFormat, w.str() + ": " + quoted(*s) + " " + std::string(refusal));
    }
    return *e;
  }
  [[nodiscard]] boost::json::value write(E e) const { return boost::json::value(name(e)); }
};

/// The deploy request's `env`: an object of string values with env-var names as keys, at most
/// kMaxEnvVars entries and kMaxEnvTotalBytes of keys and values, no NUL in a value.
struct Env {
  [[nodiscard]] Result<std::map<std::string, std::string>> read(const Where& w,
                                                                const boost::json::value& v) const;
  [[nodiscard]] boost::json::value write(const std::map<std::string, std::string>& env) const;
};

/// The deploy request's `command`: 1..kMaxCommandArgs strings, kMaxCommandBytes in all, no NUL.
/// An empty command is written as an absent member, and an absent member reads as empty.
struct Command {
  static constexpr bool kAbsentWhenEmpty = true;
  [[nodiscard]] Result<std::vector<std::string>> read(const Where& w,
                                                      const boost::json::value& v) const;
  [[nodiscard]] boost::json::value write(const std::vector<std::string>& args) const;
};

/// `urls`: 2..kMaxUrls distinct URLs of urlForm. Written as an absent member when empty, and
/// an absent member reads as empty: one URL travels in `url` alone (one form per meaning).
struct UrlList {
  static constexpr bool kAbsentWhenEmpty = true;
  [[nodiscard]] Result<std::vector<std::string>> read(const Where& w,
                                                      const boost::json::value& v) const;
  [[nodiscard]] boost::json::value write(const std::vector<std::string>& urls) const;
};

/// The rule tying `urls` to `url`: empty, or `url` set and equal to its first entry.
bool urlsAgree(const std::optional<std::string>& url, const std::vector<std::string>& urls);

// ---- format rules of Text fields (each names the field and says what the form must be) ----

/// 16 to 32 bytes as lower-case hex.
Result<void> requestIdForm(const Where& w, std::string_view s);
/// A PeerId in its base58 text form, with an inline Ed25519 key.
Result<void> requesterIdForm(const Where& w, std::string_view s);
/// kSignatureHexLength lower-case hex characters.
Result<void> signatureForm(const Where& w, std::string_view s);
/// Characters of the image reference grammar only.
Result<void> imageForm(const Where& w, std::string_view s);
/// isDeploymentId().
Result<void> deploymentIdForm(const Where& w, std::string_view s);
/// An http(s) URL without spaces or control characters.
Result<void> urlForm(const Where& w, std::string_view s);
/// [a-z0-9_] only.
Result<void> errorCodeForm(const Where& w, std::string_view s);
/// kDeploymentSaltBytes as lower-case hex.
Result<void> saltForm(const Where& w, std::string_view s);

}  // namespace pc::protocol::detail
