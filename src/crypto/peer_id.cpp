#include "crypto/peer_id.hpp"

#include "core/base58.hpp"
#include "core/multibase.hpp"
#include "core/multihash.hpp"
#include "core/protobuf.hpp"
#include "core/varint.hpp"

namespace pc::crypto {
namespace {
constexpr std::uint64_t kKeyTypeEd25519 = 1;
constexpr std::uint64_t kKeyTypeMax = 3;  // RSA=0, Ed25519=1, Secp256k1=2, ECDSA=3
}  // namespace

Bytes encodePublicKey(const ed25519::PublicKey& key) {
  Bytes out;
  protobuf::writeVarintField(out, 1, kKeyTypeEd25519);
  protobuf::writeBytesField(out, 2, key);
  return out;
}

Result<KeyProto> parseKeyProto(BytesView in, Errc errc, std::string_view what) {
  protobuf::Reader reader(in);
  std::optional<std::uint64_t> type;
  std::optional<BytesView> data;
  for (;;) {
    auto f = reader.next();
    if (!f) {
      return fail(errc,
                  std::string(what) + " is not a libp2p key protobuf: " + f.error().message());
    }
    if (!*f) break;
    const auto& field = **f;
    if (field.number == 1 && field.type == protobuf::WireType::kVarint && !type) {
      type = field.varint;
    } else if (field.number == 2 && field.type == protobuf::WireType::kLengthDelimited && !data) {
      data = field.bytes;
    } else {
      return fail(errc, std::string(what) + " has an unexpected or repeated field " +
                            std::to_string(field.number));
    }
  }
  if (!type || !data) return fail(errc, std::string(what) + " lacks its key type or key data");
  return KeyProto{*type, *data};
}

Result<ed25519::PublicKey> decodePublicKey(BytesView in) {
  auto proto = parseKeyProto(in, Errc::kBadKey, "public key");
  if (!proto) return proto.error();
  const std::uint64_t type = proto->type;
  const BytesView data = proto->data;
  if (type != kKeyTypeEd25519) {
    return fail(Errc::kUnsupportedKeyType,
                type <= kKeyTypeMax
                    ? "only Ed25519 keys are supported (got key type " + std::to_string(type) + ")"
                    : "unknown key type " + std::to_string(type));
  }
  if (data.size() != ed25519::kPublicKeySize) {
    return fail(Errc::kBadKey, "Ed25519 public key must be 32 bytes");
  }
  ed25519::PublicKey key{};
  std::copy(data.begin(), data.end(), key.begin());
  return key;
}

PeerId PeerId::fromPublicKey(const ed25519::PublicKey& key) {
  return PeerId(multihash::encode(multihash::kIdentity, encodePublicKey(key)));
}

Result<PeerId> PeerId::fromBytes(BytesView bytes) {
  auto mh = multihash::parse(bytes);
  if (!mh) return Error(make_error_code(Errc::kBadPeerId), "peer id: " + mh.error().message());
  if (mh->code == multihash::kIdentity) {
    // An identity id must carry a key we can verify against; anything else could never
    // authenticate and is more likely an attack or a typo.
    auto key = decodePublicKey(mh->digest);
    if (!key) return Error(key.error().code(), "peer id: " + key.error().message());
  }
  return PeerId(Bytes(bytes.begin(), bytes.end()));
}

Result<PeerId> PeerId::parse(std::string_view text) {
  if (text.empty()) return fail(Errc::kBadPeerId, "peer id is empty");
  if (text.size() > kMaxTextLength) {
    return fail(Errc::kBadPeerId,
                "peer id is longer than " + std::to_string(kMaxTextLength) + " characters");
  }
  Result<Bytes> mh = Bytes{};
  if (text.front() == '1' || text.starts_with("Qm")) {
    mh = base58::decode(text);
    if (!mh)
      return Error(make_error_code(Errc::kBadPeerId),
                   "peer id '" + std::string(text) + "': " + mh.error().message());
  } else {
    auto cid = multibase::decode(text);
    if (!cid) {
      return Error(
          make_error_code(Errc::kBadPeerId),
          "peer id '" + std::string(text) +
              "' is neither base58 (12D3KooW…) nor a CIDv1 (bafz…): " + cid.error().message());
    }
    auto version = varint::decode(*cid);
    if (!version || version->value != 1) {
      return fail(Errc::kBadPeerId, "peer id '" + std::string(text) + "' is not a CIDv1");
    }
    auto rest = BytesView(*cid).subspan(version->size);
    auto codec = varint::decode(rest);
    if (!codec || codec->value != kLibp2pKeyCodec) {
      return fail(Errc::kBadPeerId,
                  "peer id '" + std::string(text) + "' is a CID but not of codec libp2p-key");
    }
    rest = rest.subspan(codec->size);
    mh = Bytes(rest.begin(), rest.end());
  }
  auto id = fromBytes(*mh);
  if (!id) return Error(id.error().code(), "'" + std::string(text) + "': " + id.error().message());
  return id;
}

std::string PeerId::toBase58() const { return base58::encode(bytes_); }

std::string PeerId::toCid() const {
  Bytes cid;
  varint::encode(1, cid);
  varint::encode(kLibp2pKeyCodec, cid);
  append(cid, bytes_);
  return multibase::encode(multibase::Base::kBase32Lower, cid);
}

std::optional<ed25519::PublicKey> PeerId::ed25519Key() const {
  auto mh = multihash::parse(bytes_);
  if (!mh || mh->code != multihash::kIdentity) return std::nullopt;
  auto key = decodePublicKey(mh->digest);
  if (!key) return std::nullopt;
  return *key;
}

}  // namespace pc::crypto
