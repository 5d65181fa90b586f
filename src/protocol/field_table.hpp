#pragma once
/// Module-private: the machinery behind the message field tables (messages.cpp). A table is a
/// function `fields(V& visitor, Member<V, T>& message)` in namespace detail that calls
/// `visitor.field(key, member, codec)` for each member in wire order (and `visitor.signature`,
/// `visitor.rule` where needed). The visitors here give it its three readings: Reader (strict
/// decoding), Writer (encoding) and KeyList (the names a message may carry).
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "protocol/error.hpp"
#include "protocol/field_codecs.hpp"

namespace pc::protocol::detail {
namespace json = boost::json;

// ---- the visitors ----

/// A member as a visitor sees it: mutable for the Reader, which fills a message, const for the
/// visitors that only look at one.
template <class V, class T>
using Member = std::conditional_t<V::kFillsMessage, T, const T>;

/// Reads the members of one JSON object into a message, naming "<context>.<key>" in every
/// error. After the first error it reads nothing more.
class Reader {
 public:
  static constexpr bool kFillsMessage = true;

  Reader(const json::object& o, std::string_view context, bool requireSignature)
      : o_(o), context_(context), requireSignature_(requireSignature) {}

  template <class T, class Codec>
  void field(std::string_view key, T& member, const Codec& codec) {
    if (error_) {
      return;
    }
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) {
      if constexpr (requires { Codec::kAbsentWhenEmpty; }) {
        member = T{};
      } else {
        error_ = fail(Errc::kMissingField, where(key) + ": required field is missing");
      }
      return;
    }
    store(key, *v, member, codec);
  }

  /// An optional member: absent stays nullopt (`null` is not absent: the codec refuses it).
  template <class T, class Codec>
  void field(std::string_view key, std::optional<T>& member, const Codec& codec) {
    const json::value* v = o_.if_contains(key);
    if (error_ || v == nullptr) {
      return;
    }
    T value{};
    if (store(key, *v, value, codec)) {
      member = std::move(value);
    }
  }

  /// The request signature: required in a sent request, refused in the to-be-signed form.
  void signature(std::string_view key, std::string& member, const Text& codec) {
    if (requireSignature_) {
      field(key, member, codec);
    } else if (!error_ && o_.contains(key)) {
      error_ = fail(Errc::kUnknownField, where(key) + ": not expected in the signed form");
    }
  }

  /// A rule across members, checked where the table states it.
  void rule(bool holds, Errc code, std::string_view what) {
    if (!error_ && !holds) {
      error_ = fail(code, std::string(context_) + ": " + std::string(what));
    }
  }

  [[nodiscard]] const std::optional<Error>& error() const { return error_; }

 private:
  [[nodiscard]] std::string where(std::string_view key) const { return Where{context_, key}.str(); }

  template <class T, class Codec>
  bool store(std::string_view key, const json::value& v, T& member, const Codec& codec) {
    auto r = codec.read(Where{context_, key}, v);
    if (!r) {
      error_ = r.error();
      return false;
    }
    member = std::move(*r);
    return true;
  }

  const json::object& o_;
  std::string_view context_;
  bool requireSignature_;
  std::optional<Error> error_;
};

/// Writes a message's members into a JSON object, in table order; absent optionals are omitted.
class Writer {
 public:
  static constexpr bool kFillsMessage = false;

  Writer(json::object& o, bool withSignature) : o_(o), withSignature_(withSignature) {}

  template <class T, class Codec>
  void field(std::string_view key, const T& member, const Codec& codec) {
    if constexpr (requires { Codec::kAbsentWhenEmpty; }) {
      if (member.empty()) {
        return;
      }
    }
    o_[key] = codec.write(member);
  }

  template <class T, class Codec>
  void field(std::string_view key, const std::optional<T>& member, const Codec& codec) {
    if (member) {
      o_[key] = codec.write(*member);
    }
  }

  void signature(std::string_view key, const std::string& member, const Text& codec) {
    if (withSignature_) {
      field(key, member, codec);
    }
  }

  void rule(bool /*holds*/, Errc /*code*/, std::string_view /*what*/) {}

 private:
  json::object& o_;
  bool withSignature_;
};

/// Collects the member names of a table.
class KeyList {
 public:
  static constexpr bool kFillsMessage = false;

  template <class T, class Codec>
  void field(std::string_view key, const T& /*member*/, const Codec& /*codec*/) {
    keys.push_back(key);
  }
  void signature(std::string_view key, const std::string& /*member*/, const Text& /*codec*/) {
    keys.push_back(key);
  }
  void rule(bool /*holds*/, Errc /*code*/, std::string_view /*what*/) {}

  std::vector<std::string_view> keys;
};

/// An array of nested objects, each read and written through its own table.
template <class T>
struct ObjectList {
  std::size_t maxEntries = 0;
  [[nodiscard]] Result<std::vector<T>> read(const Where& w, const json::value& v) const;
  [[nodiscard]] json::value write(const std::vector<T>& entries) const;
};

/// The member names of T's table (computed once per type).
template <class T>
const std::vector<std::string_view>& keysOf() {
  static const std::vector<std::string_view> keys = [] {
    KeyList list;
    const T scratch{};
    fields(list, scratch);
    return std::move(list.keys);
  }();
  return keys;
}

/// Errc::kUnknownField for the first member of `o` (in object order) that `known` lacks.
// Unknown fields are refused rather than ignored: a field this version does not understand
// might carry meaning the sender relies on (and would be signed without being enforced).
inline Result<void> onlyKnownKeys(const json::object& o, std::string_view context,
                                  const std::vector<std::string_view>& known) {
  for (const auto& kv : o) {
    const std::string_view k(kv.key());
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      return fail(Errc::kUnknownField, Where{context, k.substr(0, 64)}.str() +
                                           ": unknown field (is the peer a newer version?)");
    }
  }
  return {};
}

/// Reads a T from `o` through its table: unknown members first (refused unless T skips them),
/// then each member in table order; the first error (naming "<context>.<key>") wins. With
/// `requireSignature` false a request's `signature` must be absent (the to-be-signed form). Whether
/// T skips members it does not know (an answer, messages.hpp `kTolerant`) instead of refusing them.
template <class T>
constexpr bool kSkipsUnknownFields = requires {
  requires T::kTolerant;
};

template <class T>
Result<T> readObject(const json::object& o, std::string_view context, bool requireSignature) {
  if constexpr (!kSkipsUnknownFields<T>) {
    if (auto known = onlyKnownKeys(o, context, keysOf<T>()); !known) {
      return known.error();
    }
  }
  T m;
  Reader reader(o, context, requireSignature);
  fields(reader, m);
  if (reader.error()) {
    return *reader.error();
  }
  return m;
}

/// `m` as a JSON object, members in table order; a request's `signature` only when
/// `withSignature`.
template <class T>
json::object writeObject(const T& m, bool withSignature) {
  json::object o;
  Writer writer(o, withSignature);
  fields(writer, m);
  return o;
}

template <class T>
Result<std::vector<T>> ObjectList<T>::read(const Where& w, const json::value& v) const {
  if (!v.is_array()) {
    return wrongType(w.str(), v, "an array");
  }
  const auto& arr = v.get_array();
  if (arr.size() > maxEntries) {
    return fail(Errc::kOutOfRange, w.str() + ": " + std::to_string(arr.size()) +
                                       " entries exceed the limit of " +
                                       std::to_string(maxEntries));
  }
  std::vector<T> out;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string where = w.str() + "[" + std::to_string(i) + "]";
    if (!arr[i].is_object()) {
      return fail(Errc::kWrongType, where + ": expected an object, got " + kindName(arr[i]));
    }
    auto entry = readObject<T>(arr[i].get_object(), where, false);
    if (!entry) {
      return entry.error();
    }
    out.push_back(std::move(*entry));
  }
  return out;
}

template <class T>
json::value ObjectList<T>::write(const std::vector<T>& entries) const {
  json::array arr;
  for (const auto& e : entries) {
    arr.emplace_back(writeObject(e, false));
  }
  return json::value(std::move(arr));
}

}  // namespace pc::protocol::detail
