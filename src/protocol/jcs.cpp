// Strict JSON parsing and RFC 8785 canonicalisation (integer subset).
#include <algorithm>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <set>
#include <vector>

#include "core/utf8.hpp"
#include "protocol/error.hpp"
#include "protocol/jcs.hpp"
#include "protocol/json_detail.hpp"

namespace pc::protocol {
namespace json = boost::json;

namespace detail {
namespace {

// A validating pass over the text. Boost.JSON's tree keeps only one of two duplicate keys, so
// duplicates are found here, on the token stream: a signed message with two values for one
// field could otherwise be read differently by the signer's and the verifier's parsers.
class StrictHandler {
 public:
  // Names required by basic_parser. The frame limit already bounds the input; these only
  // keep a hostile document from describing more than the input could hold.
  static constexpr std::size_t max_object_size = std::size_t{1} << 20;
  static constexpr std::size_t max_array_size = std::size_t{1} << 20;
  static constexpr std::size_t max_key_size = std::size_t{1} << 24;
  static constexpr std::size_t max_string_size = std::size_t{1} << 24;

  std::string problem;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    keys_.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code& ec) {
    key_.append(s.data(), s.size());
    const bool fresh = keys_.back().insert(key_).second;
    if (!fresh) problem = "duplicate member name \"" + key_.substr(0, 64) + "\"";
    key_.clear();
    return ok(fresh, ec);
  }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t v, json::string_view, boost::system::error_code& ec) {
    const bool good = v >= -kMaxSafeInteger && v <= kMaxSafeInteger;
    if (!good) problem = "integer " + std::to_string(v) + " is outside ±(2^53 - 1)";
    return ok(good, ec);
  }
  bool on_uint64(std::uint64_t v, json::string_view, boost::system::error_code& ec) {
    problem = "integer " + std::to_string(v) + " is outside ±(2^53 - 1)";
    return ok(false, ec);
  }
  bool on_double(double, json::string_view text, boost::system::error_code& ec) {
    problem = "number " + std::string(text.substr(0, 40)) +
              " is not a plain integer (fractions and exponents are not used by this protocol)";
    return ok(false, ec);
  }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

 private:
  static bool ok(bool good, boost::system::error_code& ec) {
    if (!good) ec = make_error_code(Errc::kBadJson);
    return good;
  }
  std::vector<std::set<std::string>> keys_;
  std::string key_;
};

json::parse_options strictOptions() {
  json::parse_options opt;
  opt.max_depth = kMaxJsonDepth;
  opt.allow_comments = false;
  opt.allow_trailing_commas = false;
  opt.allow_invalid_utf8 = false;
  return opt;
}

// Text already passed parseStrict (or was built from validated messages), so it is valid UTF-8;
// utf8::decode maps anything else to U+FFFD, which keeps the ordering total.
std::u16string toUtf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const char32_t cp = utf8::decode(s, i);
    if (cp >= 0x10000 && cp <= 0x10ffff) {
      const char32_t v = cp - 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (v >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (v & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(cp > 0xffff ? 0xfffd : cp));
    }
  }
  return out;
}

// RFC 8785 §3.2.2.2: the ES6 JSON.stringify escaping. Only '"', '\\' and C0 controls are
// escaped (five of them in their short form, the rest as lower-case \u00xx); everything else,
// including DEL and U+2028/2029, is emitted as its UTF-8 bytes.
void appendString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void appendCanonical(std::string& out, const json::value& v);

void appendArray(std::string& out, const json::array& arr) {
  out.push_back('[');
  bool first = true;
  for (const auto& e : arr) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    appendCanonical(out, e);
  }
  out.push_back(']');
}

void appendObject(std::string& out, const json::object& obj) {
  std::vector<std::pair<std::u16string, const json::key_value_pair*>> members;
  members.reserve(obj.size());
  for (const auto& kv : obj) {
    members.emplace_back(toUtf16(std::string_view(kv.key())), &kv);
  }
  // RFC 8785 §3.2.3: order by UTF-16 code units, which differs from UTF-8 byte order for
  // characters above U+FFFF versus U+E000..U+FFFF.
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out.push_back('{');
  bool first = true;
  for (const auto& [unused, kv] : members) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    appendString(out, std::string_view(kv->key()));
    out.push_back(':');
    appendCanonical(out, kv->value());
  }
  out.push_back('}');
}

void appendCanonical(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      return;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      return;
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      return;
    case json::kind::double_:
      // Outside the documented precondition; integral values still print exactly.
      out += std::to_string(static_cast<std::int64_t>(v.get_double()));
      return;
    case json::kind::string:
      appendString(out, std::string_view(v.get_string()));
      return;
    case json::kind::array:
      appendArray(out, v.get_array());
      return;
    case json::kind::object:
      appendObject(out, v.get_object());
      return;
  }
}

}  // namespace

Result<json::value> parseStrict(std::string_view text) {
  const auto opt = strictOptions();
  json::basic_parser<StrictHandler> p(opt);
  boost::system::error_code ec;
  const std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (ec || n != text.size()) {
    std::string why = p.handler().problem;
    if (why.empty()) why = ec ? ec.message() : "extra data after the JSON value";
    return fail(Errc::kBadJson, "invalid JSON: " + why);
  }
  auto v = json::parse(json::string_view(text.data(), text.size()), ec, json::storage_ptr(), opt);
  if (ec) return fail(Errc::kBadJson, "invalid JSON: " + ec.message());
  return v;
}

std::string canonicalize(const json::value& v) {
  std::string out;
  appendCanonical(out, v);
  return out;
}

}  // namespace detail

Result<std::string> canonicalizeJson(std::string_view text) {
  auto v = detail::parseStrict(text);
  if (!v) return v.error();
  return detail::canonicalize(*v);
}

}  // namespace pc::protocol
