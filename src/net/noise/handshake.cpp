#include "net/noise/handshake.hpp"

#include <deque>
#include <mutex>
#include <unordered_set>

#include "core/protobuf.hpp"
#include "crypto/hash.hpp"
#include "net/error.hpp"

namespace pc::net::noise {
namespace {
constexpr std::size_t kDhLen = 32;
constexpr std::size_t kSealedKeyLen = kDhLen + kTagSize;

Error handshakeError(std::string message) {
  return fail(Errc::kHandshakeFailed, "noise: " + std::move(message));
}
}  // namespace

Bytes encodePayload(const Payload& p) {
  Bytes out;
  protobuf::writeBytesField(out, 1, p.identityKey);
  protobuf::writeBytesField(out, 2, p.identitySig);
  if (!p.streamMuxers.empty()) {
    Bytes ext;
    for (const auto& m : p.streamMuxers) protobuf::writeBytesField(ext, 2, asBytes(m));
    protobuf::writeBytesField(out, 4, ext);
  }
  return out;
}

Result<Payload> decodePayload(BytesView in) {
  if (in.size() > kMaxPayloadSize) return handshakeError("handshake payload too large");
  Payload p;
  bool haveKey = false, haveSig = false, haveExt = false;
  protobuf::Reader r(in);
  for (;;) {
    auto f = r.next();
    if (!f) return handshakeError("handshake payload: " + f.error().message());
    if (!*f) break;
    const auto& field = **f;
    const bool bytes = field.type == protobuf::WireType::kLengthDelimited;
    if (field.number == 1 && bytes && !haveKey) {
      p.identityKey.assign(field.bytes.begin(), field.bytes.end());
      haveKey = true;
    } else if (field.number == 2 && bytes && !haveSig) {
      p.identitySig.assign(field.bytes.begin(), field.bytes.end());
      haveSig = true;
    } else if (field.number == 4 && bytes && !haveExt) {
      haveExt = true;
      protobuf::Reader ext(field.bytes);
      for (;;) {
        auto e = ext.next();
        if (!e) return handshakeError("handshake extensions: " + e.error().message());
        if (!*e) break;
        if ((*e)->number == 2 && (*e)->type == protobuf::WireType::kLengthDelimited) {
          if (p.streamMuxers.size() >= 16) return handshakeError("too many stream muxers offered");
          p.streamMuxers.emplace_back(asString((*e)->bytes));
        }
        // Other extensions (e.g. webtransport_certhashes) are parsed and ignored.
      }
    } else if (field.number <= 4) {
      return handshakeError("handshake payload field " + std::to_string(field.number) +
                            " is repeated or has the wrong type");
    }
    // Unknown fields > 4 are ignored for forward compatibility.
  }
  if (!haveKey || !haveSig)
    return handshakeError("handshake payload lacks identity key or signature");
  return p;
}

void CipherState::nonceBytes(std::uint8_t out[12]) const {
  // Noise ChaChaPoly nonce: 32 bits of zeros followed by the little-endian 64-bit counter.
  for (int i = 0; i < 4; ++i) out[i] = 0;
  for (int i = 0; i < 8; ++i) out[4 + i] = static_cast<std::uint8_t>(nonce_ >> (8 * i));
}

Result<void> CipherState::encrypt(BytesView ad, BytesView plaintext, std::uint8_t* out) {
  // 2^64-1 is reserved by the Noise spec; stopping there means a nonce is never reused.
  if (nonce_ == UINT64_MAX) return fail(Errc::kLimit, "noise: nonce space exhausted; reconnect");
  std::uint8_t n[12];
  nonceBytes(n);
  if (auto r = aead_->seal(BytesView(n, 12), ad, plaintext, out); !r) return r.error();
  ++nonce_;
  return {};
}

Result<void> CipherState::decrypt(BytesView ad, BytesView ciphertext, std::uint8_t* out) {
  if (nonce_ == UINT64_MAX) return fail(Errc::kLimit, "noise: nonce space exhausted; reconnect");
  std::uint8_t n[12];
  nonceBytes(n);
  if (auto r = aead_->open(BytesView(n, 12), ad, ciphertext, out); !r) {
    return fail(Errc::kHandshakeFailed, "noise: decryption failed (corrupted or forged frame)");
  }
  ++nonce_;
  return {};
}

namespace {

/// Signatures that verified, by (identity key, static key, signature). A peer that reconnects
/// with the same keys (hosts reuse their static key) costs no second Ed25519 verification, the
/// most expensive step of a handshake. Verification is a pure function of exactly these bytes,
/// so the memo accepts nothing a fresh check would refuse; failures are never remembered.
/// Bounded (oldest forgotten first) and shared by every host of the process.
constexpr std::size_t kMaxVerifiedMemo = 512;
std::mutex gMemoMutex;
std::unordered_set<std::string> gMemo;
std::deque<std::string> gMemoOrder;

bool verifiedBefore(const std::string& key) {
  const std::lock_guard lock(gMemoMutex);
  return gMemo.contains(key);
}

void rememberVerified(std::string key) {
  const std::lock_guard lock(gMemoMutex);
  if (!gMemo.insert(key).second) return;
  gMemoOrder.push_back(std::move(key));
  if (gMemoOrder.size() > kMaxVerifiedMemo) {
    gMemo.erase(gMemoOrder.front());
    gMemoOrder.pop_front();
  }
}

}  // namespace

Handshake::Handshake(bool initiator, const crypto::Identity& identity, crypto::x25519::KeyPair s,
                     crypto::x25519::KeyPair e)
    : initiator_(initiator), identity_(&identity), s_(std::move(s)), e_(std::move(e)) {
  static_assert(kProtocolName.size() == 32, "name is exactly HASHLEN: h = name, no hashing");
  std::copy(kProtocolName.begin(), kProtocolName.end(), h_.begin());
  ck_ = h_;
  mixHash({});  // empty prologue
}

Result<Bytes> signStaticKey(const crypto::Identity& identity, const crypto::x25519::KeyPair& key) {
  Bytes toSign = toBytes(kSignaturePrefix);
  append(toSign, key.publicKey());
  auto sig = identity.sign(toSign);
  if (!sig) return sig.error();
  return Bytes(sig->begin(), sig->end());
}

Result<Handshake> Handshake::create(bool initiator, const crypto::Identity& identity,
                                    std::vector<std::string> offeredMuxers,
                                    const crypto::x25519::KeyPair* staticKey) {
  PreparedKeys keys;
  keys.staticKey = staticKey;
  return create(initiator, identity, std::move(offeredMuxers), std::move(keys));
}

Result<Handshake> Handshake::create(bool initiator, const crypto::Identity& identity,
                                    std::vector<std::string> offeredMuxers, PreparedKeys keys) {
  auto s = keys.staticKey != nullptr ? Result<crypto::x25519::KeyPair>(*keys.staticKey)
                                     : crypto::x25519::KeyPair::generate();
  if (!s) return s.error();
  auto e = keys.ephemeral ? Result<crypto::x25519::KeyPair>(std::move(*keys.ephemeral))
                          : crypto::x25519::KeyPair::generate();
  if (!e) return e.error();
  Handshake hs(initiator, identity, std::move(*s), std::move(*e));
  hs.offeredMuxers_ = std::move(offeredMuxers);
  if (keys.staticKey != nullptr) {
    hs.staticSig_.assign(keys.staticKeySignature.begin(), keys.staticKeySignature.end());
  }
  return hs;
}

void Handshake::mixHash(BytesView data) {
  crypto::Sha256 sha;
  sha.update(h_);
  sha.update(data);
  h_ = sha.finish();
}

Result<void> Handshake::mixKey(BytesView ikm) {
  auto out = crypto::hkdfSha256(ck_, ikm, {}, 64);
  if (!out) return out.error();
  std::copy(out->begin(), out->begin() + 32, ck_.begin());
  auto aead = crypto::ChaChaPoly::create(BytesView(*out).subspan(32, 32));
  crypto::secureWipe(out->data(), out->size());
  if (!aead) return aead.error();
  cs_ = CipherState(std::move(*aead));
  return {};
}

Result<void> Handshake::encryptAndHash(BytesView plaintext, Bytes& out) {
  const auto start = out.size();
  if (!cs_.hasKey()) {
    append(out, plaintext);
  } else {
    out.resize(start + plaintext.size() + kTagSize);
    std::copy(plaintext.begin(), plaintext.end(), out.begin() + static_cast<std::ptrdiff_t>(start));
    if (auto r =
            cs_.encrypt(h_, BytesView(out.data() + start, plaintext.size()), out.data() + start);
        !r) {
      return r.error();
    }
  }
  mixHash(BytesView(out).subspan(start));
  return {};
}

Result<Bytes> Handshake::decryptAndHash(BytesView ciphertext) {
  Bytes plain;
  if (!cs_.hasKey()) {
    plain.assign(ciphertext.begin(), ciphertext.end());
  } else {
    if (ciphertext.size() < kTagSize) return handshakeError("handshake message too short");
    plain.resize(ciphertext.size() - kTagSize);
    if (auto r = cs_.decrypt(h_, ciphertext, plain.data()); !r) {
      return handshakeError("handshake message failed authentication");
    }
  }
  mixHash(ciphertext);
  return plain;
}

Bytes Handshake::ourPayload() const {
  Bytes sig = staticSig_;
  if (sig.empty()) {
    auto made = signStaticKey(*identity_, s_);
    if (made) sig = std::move(*made);
  }
  Payload p{crypto::encodePublicKey(identity_->publicKey()), std::move(sig), offeredMuxers_};
  return encodePayload(p);
}

Result<void> Handshake::checkRemotePayload(BytesView bytes) {
  auto p = decodePayload(bytes);
  if (!p) return p.error();
  auto key = crypto::decodePublicKey(p->identityKey);
  if (!key) return handshakeError("remote identity key: " + key.error().message());
  // The signature proves that the holder of the identity key chose this Noise static key; it
  // stops an active attacker from pairing its own static key with someone else's identity.
  Bytes signedData = toBytes(kSignaturePrefix);
  append(signedData, rs_);
  std::string memoKey(asString(p->identityKey));
  memoKey += asString(rs_);
  memoKey += asString(p->identitySig);
  if (!verifiedBefore(memoKey)) {
    if (!crypto::ed25519::verify(*key, signedData, p->identitySig)) {
      return handshakeError("remote identity signature over the static key does not verify");
    }
    rememberVerified(std::move(memoKey));
  }
  remotePeer_ = crypto::PeerId::fromPublicKey(*key);
  remoteMuxers_ = std::move(p->streamMuxers);
  return {};
}

Result<Bytes> Handshake::writeMessage() {
  if (complete() || !ourTurn()) return handshakeError("not our turn to write");
  Bytes msg;
  if (step_ == 0) {  // -> e
    append(msg, e_.publicKey());
    mixHash(e_.publicKey());
    if (auto r = encryptAndHash({}, msg); !r) return r.error();
  } else if (step_ == 1) {  // <- e, ee, s, es
    append(msg, e_.publicKey());
    mixHash(e_.publicKey());
    auto ee = e_.dh(re_);
    if (!ee) return handshakeError(ee.error().message());
    if (auto r = mixKey(ee->view()); !r) return r.error();
    if (auto r = encryptAndHash(s_.publicKey(), msg); !r) return r.error();
    auto es = s_.dh(re_);
    if (!es) return handshakeError(es.error().message());
    if (auto r = mixKey(es->view()); !r) return r.error();
    if (auto r = encryptAndHash(ourPayload(), msg); !r) return r.error();
  } else {  // -> s, se
    if (auto r = encryptAndHash(s_.publicKey(), msg); !r) return r.error();
    auto se = s_.dh(re_);
    if (!se) return handshakeError(se.error().message());
    if (auto r = mixKey(se->view()); !r) return r.error();
    if (auto r = encryptAndHash(ourPayload(), msg); !r) return r.error();
  }
  ++step_;
  return msg;
}

Result<void> Handshake::readMessage(BytesView msg) {
  if (complete() || ourTurn()) return handshakeError("unexpected handshake message");
  if (msg.size() > kMaxMessageSize) return handshakeError("handshake message too large");
  if (step_ == 0) {  // -> e
    if (msg.size() < kDhLen) return handshakeError("first handshake message too short");
    std::copy(msg.begin(), msg.begin() + kDhLen, re_.begin());
    mixHash(re_);
    auto payload = decryptAndHash(msg.subspan(kDhLen));
    if (!payload) return payload.error();
    // The first message's payload is unauthenticated and unused; refusing a non-empty one stops
    // an unauthenticated peer from making us hold data.
    if (!payload->empty()) return handshakeError("first handshake message carries a payload");
  } else if (step_ == 1) {  // <- e, ee, s, es
    if (msg.size() < kDhLen + kSealedKeyLen + kTagSize) {
      return handshakeError("second handshake message too short");
    }
    std::copy(msg.begin(), msg.begin() + kDhLen, re_.begin());
    mixHash(re_);
    auto ee = e_.dh(re_);
    if (!ee) return handshakeError(ee.error().message());
    if (auto r = mixKey(ee->view()); !r) return r.error();
    auto rs = decryptAndHash(msg.subspan(kDhLen, kSealedKeyLen));
    if (!rs) return rs.error();
    std::copy(rs->begin(), rs->end(), rs_.begin());
    auto es = e_.dh(rs_);
    if (!es) return handshakeError(es.error().message());
    if (auto r = mixKey(es->view()); !r) return r.error();
    auto payload = decryptAndHash(msg.subspan(kDhLen + kSealedKeyLen));
    if (!payload) return payload.error();
    if (auto r = checkRemotePayload(*payload); !r) return r.error();
  } else {  // -> s, se
    if (msg.size() < kSealedKeyLen + kTagSize)
      return handshakeError("third handshake message too short");
    auto rs = decryptAndHash(msg.first(kSealedKeyLen));
    if (!rs) return rs.error();
    std::copy(rs->begin(), rs->end(), rs_.begin());
    auto se = e_.dh(rs_);
    if (!se) return handshakeError(se.error().message());
    if (auto r = mixKey(se->view()); !r) return r.error();
    auto payload = decryptAndHash(msg.subspan(kSealedKeyLen));
    if (!payload) return payload.error();
    if (auto r = checkRemotePayload(*payload); !r) return r.error();
  }
  ++step_;
  return {};
}

Result<TransportKeys> Handshake::split() {
  if (!complete()) return handshakeError("split before the handshake completed");
  auto out = crypto::hkdfSha256(ck_, {}, {}, 64);
  if (!out) return out.error();
  auto k1 = crypto::ChaChaPoly::create(BytesView(*out).first(32));
  auto k2 = crypto::ChaChaPoly::create(BytesView(*out).subspan(32, 32));
  crypto::secureWipe(out->data(), out->size());
  if (!k1 || !k2) return handshakeError("cannot create transport ciphers");
  if (initiator_) return TransportKeys{CipherState(std::move(*k1)), CipherState(std::move(*k2))};
  return TransportKeys{CipherState(std::move(*k2)), CipherState(std::move(*k1))};
}

}  // namespace pc::net::noise
