#pragma once
/// Errors of the Peer Compute protocol module (frames, messages, signing, request checks).
#include "core/error.hpp"

namespace pc::protocol {

/// Errors of the protocol module. Every `Error` carries a sentence naming the message type and
/// field at fault; the code says which kind of failure it was.
enum class Errc {
  kUnknownType = 1,    ///< a frame's message type byte is not one we know
  kTooLarge,           ///< a frame body over the decoder's limit
  kBadJson,            ///< not JSON, a duplicate key, a non-integer or out-of-range number
  kUnknownField,       ///< a field the message type does not define
  kMissingField,       ///< a required field is absent
  kWrongType,          ///< a field of the wrong JSON type (null included)
  kOutOfRange,         ///< a number, length or count outside its documented bounds
  kBadFormat,          ///< a string of the wrong form (ids, env keys, peer ids, hex)
  kNotARequest,        ///< signing / checking a message that is not a signed request
  kBadSignature,       ///< a request signature that does not verify
  kRequesterMismatch,  ///< requester_id is not the connection's authenticated peer
  kClockSkew,          ///< the request timestamp is too far from the local clock
  kReplay,             ///< the request_id was seen before
  kReplayCacheFull,    ///< the replay cache reached its hard cap (fails closed)
  kStorage,            ///< the persistent replay cache failed (SQLite)
  kInvalidArgument,    ///< a local configuration value is invalid (e.g. a decoder limit)
  kReplayQuota         ///< this requester holds its whole share of the replay cache
};

const boost::system::error_category& protocolCategory();
inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), protocolCategory()};
}
inline Error fail(Errc e, std::string message) {
  return Error(make_error_code(e), std::move(message));
}

}  // namespace pc::protocol

template <>
struct boost::system::is_error_code_enum<pc::protocol::Errc> : std::true_type {};
