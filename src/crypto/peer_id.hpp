#pragma once
/// libp2p PeerId (specs/peer-ids): the multihash of the protobuf-encoded public key, identity
/// multihash for Ed25519. Text forms: base58btc multihash (`12D3KooW…`) and CIDv1
/// (multibase base32, multicodec libp2p-key 0x72).
#include <compare>
#include <functional>
#include <optional>
#include <string>

#include "core/bytes.hpp"
#include "crypto/ed25519.hpp"

namespace pc::crypto {

/// The two fields shared by libp2p's `PublicKey` and `PrivateKey` protobufs. Strict: each field
/// exactly once with its wire type, nothing else (one key, one encoding). Errors use `errc` and
/// name `what` ("public key", "key file").
struct KeyProto {
  std::uint64_t type;
  BytesView data;  ///< points into the input
};
Result<KeyProto> parseKeyProto(BytesView protobuf, Errc errc, std::string_view what);

/// Protobuf `PublicKey{Type=Ed25519, Data=key}` as libp2p encodes it (deterministic).
Bytes encodePublicKey(const ed25519::PublicKey& key);
/// Parses a protobuf `PublicKey`. Errors: kUnsupportedKeyType for non-Ed25519 keys, kBadKey for
/// malformed, duplicate or unknown fields (one key, one encoding: no smuggled variants).
Result<ed25519::PublicKey> decodePublicKey(BytesView protobuf);

class PeerId {
 public:
  static constexpr std::uint64_t kLibp2pKeyCodec = 0x72;
  /// Longest text we parse; real ids are ≤ 62 characters. Stops oversized input early.
  static constexpr std::size_t kMaxTextLength = 128;

  static PeerId fromPublicKey(const ed25519::PublicKey& key);
  /// From multihash bytes. Identity multihashes must hold a valid Ed25519 PublicKey protobuf;
  /// sha2-256 multihashes (keys too big to inline) are accepted as opaque.
  static Result<PeerId> fromBytes(BytesView multihash);
  /// From either text form. Errors name what is wrong (alphabet, length, codec, key type).
  static Result<PeerId> parse(std::string_view text);

  const Bytes& bytes() const { return bytes_; }
  std::string toBase58() const;
  std::string toCid() const;
  /// The Ed25519 key inlined in the id, when it is an identity multihash of one.
  std::optional<ed25519::PublicKey> ed25519Key() const;

  friend bool operator==(const PeerId&, const PeerId&) = default;
  friend auto operator<=>(const PeerId& a, const PeerId& b) { return a.bytes_ <=> b.bytes_; }

 private:
  explicit PeerId(Bytes b) : bytes_(std::move(b)) {}
  Bytes bytes_;
};

}  // namespace pc::crypto

template <>
struct std::hash<pc::crypto::PeerId> {
  std::size_t operator()(const pc::crypto::PeerId& p) const noexcept {
    return std::hash<std::string_view>{}(pc::asString(p.bytes()));
  }
};
