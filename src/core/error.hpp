#pragma once
/// Error values shared by every module.
///
/// Anything a peer, a user or the environment can cause is returned as an `Error`, never thrown.
/// An `Error` is a `boost::system::error_code` (what kind of failure, comparable, categorised per
/// module) plus a human sentence (what happened and what to do), which callers extend with
/// context on the way up.
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace pc {

class Error {
 public:
  Error() = default;
  Error(boost::system::error_code code, std::string message)
      : code_(code), message_(std::move(message)) {}
  explicit Error(boost::system::error_code code) : code_(code) {}

  [[nodiscard]] const boost::system::error_code& code() const { return code_; }
  /// The full human-readable message ("context: detail").
  [[nodiscard]] std::string message() const {
    return message_.empty() ? code_.message() : message_;
  }
  /// A copy whose message is prefixed with `context` ("context: message").
  [[nodiscard]] Error context(std::string_view context) const {
    return Error(code_, std::string(context) + ": " + message());
  }

  friend bool operator==(const Error& e, const boost::system::error_code& c) {
    return e.code_ == c;
  }

 private:
  boost::system::error_code code_;
  std::string message_;
};

/// Thrown only by `Result::value()` on an error (a bug or an apps/ start-up path).
class ErrorException : public std::runtime_error {
 public:
  explicit ErrorException(Error e) : std::runtime_error(e.message()), error_(std::move(e)) {}
  [[nodiscard]] const Error& error() const { return error_; }

 private:
  Error error_;
};

[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

/// Errors of the core module (codecs and file helpers).
enum class Errc {
  kTruncated = 1,   ///< input ended in the middle of a value
  kOverlong,        ///< a varint longer than the 9-byte maximum
  kNonMinimal,      ///< a varint with redundant trailing zero groups
  kBadCharacter,    ///< a character outside the codec's alphabet
  kBadPadding,      ///< non-zero trailing bits or padding where none is allowed
  kUnknownCode,     ///< an unknown multibase / multihash / protobuf code
  kTooLarge,        ///< a length over the named limit
  kBadLength,       ///< a length that does not match the declared one
  kMalformed,       ///< structurally invalid input
  kIo,              ///< a file or system call failed
  kPermissions,     ///< a file's mode is unsafe
  kNotFound,        ///< a file or entry does not exist
  kAlreadyExists,   ///< refusing to overwrite something that exists
  kInvalidArgument  ///< a user-supplied value is invalid
};

const boost::system::error_category& coreCategory();
inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), coreCategory()};
}

/// Builds an error of the core category with a message.
inline Error fail(Errc e, std::string message) {
  return Error(make_error_code(e), std::move(message));
}

}  // namespace pc

template <>
struct boost::system::is_error_code_enum<pc::Errc> : std::true_type {};
