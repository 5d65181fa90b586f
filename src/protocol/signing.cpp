#include "protocol/signing.hpp"

#include <boost/json.hpp>

#include "protocol/error.hpp"
#include "protocol/json_detail.hpp"

namespace pc::protocol {
namespace {

Error notARequest(const Message& m) {
  return fail(Errc::kNotARequest,
              std::string(messageTypeName(typeOf(m))) + " is not a signed request type");
}

// Built from the decoded struct, not from the received text: the signature then covers exactly
// the values the provider acts on, and any field the struct does not carry was already refused
// by the strict decoder.
std::string payloadOf(const Message& m) {
  std::string out(kSigningDomain);
  out += messageTypeName(typeOf(m));
  out += '\n';
  out += detail::canonicalize(boost::json::value(detail::toObject(m, false)));
  return out;
}

}  // namespace

Result<std::string> signingPayload(const Message& m) {
  if (requestHeader(m) == nullptr) return notARequest(m);
  return payloadOf(m);
}

Result<void> sign(Message& m, const crypto::Identity& identity) {
  RequestHeader* h = requestHeader(m);
  if (h == nullptr) return notARequest(m);
  h->requesterId = identity.peerId().toBase58();
  h->signature.clear();
  auto checked = detail::fromObject(typeOf(m), detail::toObject(m, false), false);
  if (!checked) return checked.error().context("refusing to sign an invalid request");
  auto sig = identity.sign(asBytes(payloadOf(m)));
  if (!sig) return sig.error();
  h->signature = toHex(*sig);
  return {};
}

Result<void> verify(const Message& m, const crypto::PeerId& expected) {
  const RequestHeader* h = requestHeader(m);
  if (h == nullptr) return notARequest(m);
  const std::string name(messageTypeName(typeOf(m)));
  // The key comes from the expected (authenticated) peer, never from the message alone: a
  // message naming a requester and carrying that requester's valid signature must still come
  // from that requester's connection.
  const std::string expectedText = expected.toBase58();
  if (h->requesterId != expectedText) {
    return fail(Errc::kRequesterMismatch, name + ": requester_id " + h->requesterId.substr(0, 64) +
                                              " is not the expected peer " + expectedText);
  }
  const auto key = expected.ed25519Key();
  if (!key) {
    return fail(Errc::kBadSignature,
                name + ": peer " + expectedText + " has no inline Ed25519 key to verify with");
  }
  auto sig = fromHex(h->signature);
  if (!sig || sig->size() != crypto::ed25519::kSignatureSize) {
    return fail(Errc::kBadSignature, name + ": signature is not 64 bytes of hex");
  }
  if (!crypto::ed25519::verify(*key, asBytes(payloadOf(m)), *sig)) {
    return fail(Errc::kBadSignature, name + ": signature does not verify for requester " +
                                         expectedText +
                                         " (altered in transit, or signed for another message)");
  }
  return {};
}

}  // namespace pc::protocol
