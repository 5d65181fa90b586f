#pragma once
/// Noise_XX_25519_ChaChaPoly_SHA256 with the libp2p handshake payload (specs/noise), sans-IO:
/// callers move the 2-byte-length-framed messages; this class only computes.
///
///   -> e
///   <- e, ee, s, es, payload(responder identity)
///   -> s, se, payload(initiator identity)
///
/// The payload binds the libp2p identity to the Noise static key: an Ed25519 signature over
/// "noise-libp2p-static-key:" ‖ static key. Without it a man in the middle could complete the
/// Noise handshake with its own static key and claim any PeerId.
#include <optional>
#include <vector>

#include "core/bytes.hpp"
#include "crypto/aead.hpp"
#include "crypto/identity.hpp"
#include "crypto/x25519.hpp"

namespace pc::net::noise {

inline constexpr std::string_view kProtocolId = "/noise";
inline constexpr std::string_view kProtocolName = "Noise_XX_25519_ChaChaPoly_SHA256";
inline constexpr std::string_view kSignaturePrefix = "noise-libp2p-static-key:";
/// A Noise message (handshake or transport), without its 2-byte length prefix.
inline constexpr std::size_t kMaxMessageSize = 65535;
inline constexpr std::size_t kTagSize = crypto::ChaChaPoly::kTagSize;
inline constexpr std::size_t kMaxPlaintext = kMaxMessageSize - kTagSize;
/// The handshake payload we accept: keys, signature and a few extensions fit easily; a larger
/// one is an attempt to make us parse and hold junk.
inline constexpr std::size_t kMaxPayloadSize = 8192;
static_assert(kMaxPayloadSize + 32 + 48 + kTagSize < kMaxMessageSize);

/// NoiseHandshakePayload { identity_key=1, identity_sig=2, extensions=4 }.
struct Payload {
  Bytes identityKey;  ///< protobuf PublicKey
  Bytes identitySig;
  std::vector<std::string> streamMuxers;  ///< NoiseExtensions.stream_muxers (field 2)
};
Bytes encodePayload(const Payload& p);
/// Strict decoder: unknown top-level fields and extension fields are skipped (forward
/// compatibility, as the spec asks), repeated singular fields and truncation are errors.
Result<Payload> decodePayload(BytesView in);

/// One direction of the transport: a key and a 64-bit nonce counter.
class CipherState {
 public:
  CipherState() = default;
  explicit CipherState(crypto::ChaChaPoly aead) : aead_(std::move(aead)) {}
  bool hasKey() const { return aead_.has_value(); }
  std::uint64_t nonce() const { return nonce_; }

  /// Encrypts `plaintext` (≤ kMaxPlaintext) into `out` (room for plaintext + 16); may alias.
  /// Errors: kLimit when the nonce space is exhausted — reusing a nonce would break both
  /// confidentiality and integrity, so the connection must end instead.
  Result<void> encrypt(BytesView ad, BytesView plaintext, std::uint8_t* out);
  Result<void> decrypt(BytesView ad, BytesView ciphertext, std::uint8_t* out);

 private:
  void nonceBytes(std::uint8_t out[12]) const;
  std::optional<crypto::ChaChaPoly> aead_;
  std::uint64_t nonce_ = 0;
};

struct TransportKeys {
  CipherState send;
  CipherState recv;
};

/// Keys a host prepares once, or ahead of time, so that they stay off a handshake's critical
/// path. Every member is optional: what is missing is made during the handshake.
struct PreparedKeys {
  /// The host's reused Noise static key (libp2p allows it: the identity signature binds whichever
  /// key is used).
  const crypto::x25519::KeyPair* staticKey = nullptr;
  /// The identity's signature over staticKey (see signStaticKey): constant, so signed once.
  BytesView staticKeySignature;
  /// A fresh ephemeral key made while the host was waiting on the network. Used once.
  std::optional<crypto::x25519::KeyPair> ephemeral;
};

/// The libp2p handshake signature: `identity` over "noise-libp2p-static-key:" ‖ the static key.
Result<Bytes> signStaticKey(const crypto::Identity& identity, const crypto::x25519::KeyPair& key);

class Handshake {
 public:
  /// `identity` signs the payload; the Noise static key is fresh per handshake (libp2p allows it,
  /// and it keeps no long-lived DH secret around).
  /// `staticKey` is the Noise static key; without one a fresh key is made for this handshake.
  /// A host reuses one (libp2p allows it: the identity signature binds whichever key is used),
  /// which takes a key generation off every handshake's critical path.
  static Result<Handshake> create(bool initiator, const crypto::Identity& identity,
                                  std::vector<std::string> offeredMuxers = {},
                                  const crypto::x25519::KeyPair* staticKey = nullptr);
  /// Same with keys prepared by the caller (a host).
  static Result<Handshake> create(bool initiator, const crypto::Identity& identity,
                                  std::vector<std::string> offeredMuxers, PreparedKeys keys);

  bool isInitiator() const { return initiator_; }
  /// Which message comes next: 0, 1, 2 → handshake; 3 → complete.
  int step() const { return step_; }
  bool complete() const { return step_ == 3; }
  /// True when the next step is ours to write.
  bool ourTurn() const { return (step_ % 2 == 0) == initiator_; }

  /// Produces the next handshake message (without length prefix).
  Result<Bytes> writeMessage();
  /// Consumes the peer's next handshake message. When it carries the peer's payload, the
  /// signature is verified and remotePeer() becomes available.
  /// Errors: kHandshakeFailed (bad size, decryption, key, or signature).
  Result<void> readMessage(BytesView message);

  /// The remote's authenticated PeerId (after its payload was read).
  const std::optional<crypto::PeerId>& remotePeer() const { return remotePeer_; }
  const std::vector<std::string>& remoteMuxers() const { return remoteMuxers_; }
  /// After complete(): the transport keys, in the right direction for this side.
  Result<TransportKeys> split();

 private:
  Handshake(bool initiator, const crypto::Identity& identity, crypto::x25519::KeyPair s,
            crypto::x25519::KeyPair e);
  void mixHash(BytesView data);
  Result<void> mixKey(BytesView ikm);
  Result<void> encryptAndHash(BytesView plaintext, Bytes& out);
  Result<Bytes> decryptAndHash(BytesView ciphertext);
  Bytes ourPayload() const;
  Result<void> checkRemotePayload(BytesView payload);

  bool initiator_;
  const crypto::Identity* identity_;
  std::vector<std::string> offeredMuxers_;
  crypto::x25519::KeyPair s_;
  crypto::x25519::KeyPair e_;
  Bytes staticSig_;  ///< prepared signature over s_ (empty: signed when the payload is built)
  crypto::x25519::PublicKey re_{};
  crypto::x25519::PublicKey rs_{};
  std::array<std::uint8_t, 32> ck_{};
  std::array<std::uint8_t, 32> h_{};
  CipherState cs_;
  int step_ = 0;
  std::optional<crypto::PeerId> remotePeer_;
  std::vector<std::string> remoteMuxers_;
};

}  // namespace pc::net::noise
