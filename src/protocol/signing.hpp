#pragma once
/// Request signatures: Ed25519 over a domain-separated RFC 8785 canonical encoding.
///
/// Signed bytes = "peercompute/v1/" + messageTypeName(type) + "\n" + JCS(body without its
/// `signature` member). The prefix binds the signature to one message type and protocol
/// version, so a signature made for one request type can never be replayed as another, and
/// JCS makes the bytes independent of member order and whitespace on the wire.
#include <concepts>
#include <string>

#include "crypto/identity.hpp"
#include "protocol/messages.hpp"

namespace pc::protocol {

inline constexpr std::string_view kSigningDomain = "peercompute/v1/";

/// The bytes a request's signature covers. Errc::kNotARequest for non-request messages.
Result<std::string> signingPayload(const Message& m);

/// Sets the request's `requester_id` to `identity`'s PeerId and its `signature`. The message is
/// validated first (errors name the field). Errc::kNotARequest for non-request messages.
Result<void> sign(Message& m, const crypto::Identity& identity);

/// Verifies a request signed by `expected`: `requester_id` must name `expected`
/// (Errc::kRequesterMismatch) and the signature must verify under the Ed25519 key inlined in
/// that PeerId (Errc::kBadSignature). Errc::kNotARequest for non-request messages.
Result<void> verify(const Message& m, const crypto::PeerId& expected);

template <class T>
concept SignedRequest = requires(T t) {
  { t.header } -> std::same_as<RequestHeader&>;
};

/// sign() for a concrete request type.
template <SignedRequest T>
Result<void> sign(T& request, const crypto::Identity& identity) {
  Message m(std::move(request));
  auto r = sign(m, identity);
  request = std::get<T>(std::move(m));
  return r;
}

/// verify() for a concrete request type.
template <SignedRequest T>
Result<void> verify(const T& request, const crypto::PeerId& expected) {
  return verify(Message(request), expected);
}

}  // namespace pc::protocol
