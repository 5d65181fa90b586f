#include "crypto/identity.hpp"

#include <sys/stat.h>

#include <cstdio>

#include "core/fs.hpp"
#include "core/protobuf.hpp"

namespace pc::crypto {
namespace {
constexpr std::uint64_t kKeyTypeEd25519 = 1;

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
  return buf;
}
}  // namespace

Result<Identity> Identity::generate() {
  auto key = ed25519::PrivateKey::generate();
  if (!key) return key.error();
  return Identity(std::move(*key));
}

Result<Identity> Identity::fromSeed(BytesView seed) {
  auto key = ed25519::PrivateKey::fromSeed(seed);
  if (!key) return key.error();
  return Identity(std::move(*key));
}

Result<Identity> Identity::decodeKeyFile(BytesView bytes) {
  if (bytes.size() > kMaxKeyFileSize) {
    return fail(Errc::kBadKeyFile,
                "key file is larger than " + std::to_string(kMaxKeyFileSize) + " bytes");
  }
  auto proto = parseKeyProto(bytes, Errc::kBadKeyFile, "key file");
  if (!proto) return proto.error();
  const std::uint64_t type = proto->type;
  const BytesView data = proto->data;
  if (type != kKeyTypeEd25519) {
    return fail(Errc::kUnsupportedKeyType, "key file holds key type " + std::to_string(type) +
                                               "; only Ed25519 (1) is supported");
  }
  if (data.size() != 64 && data.size() != 32) {
    return fail(Errc::kBadKeyFile,
                "Ed25519 key data must be 64 or 32 bytes, got " + std::to_string(data.size()));
  }
  auto key = ed25519::PrivateKey::fromSeed(data.first(32));
  if (!key) return key.error();
  if (data.size() == 64 &&
      !std::equal(key->publicKey().begin(), key->publicKey().end(), data.begin() + 32)) {
    return fail(Errc::kBadKeyFile, "key file's public key does not match its private key");
  }
  return Identity(std::move(*key));
}

Bytes Identity::encodeKeyFile() const {
  Bytes data(key_.seed().data(), key_.seed().data() + ed25519::kSeedSize);
  append(data, key_.publicKey());
  Bytes out;
  protobuf::writeVarintField(out, 1, kKeyTypeEd25519);
  protobuf::writeBytesField(out, 2, data);
  secureWipe(data.data(), data.size());
  return out;
}

Result<Identity> Identity::load(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail(Errc::kBadKeyFile,
                "no identity at " + path.string() + "; create one with `peerctl init`");
  }
  if ((st.st_mode & 077) != 0) {
    return fail(Errc::kUnsafeKeyFile,
                "identity key " + path.string() + " is accessible by group/others (mode " +
                    octal(st.st_mode) + "); fix it with: chmod 600 " + path.string());
  }
  auto text = fs::readStateFile(path, kMaxKeyFileSize);
  if (!text) return text.error().context("cannot read identity");
  auto id = decodeKeyFile(asBytes(*text));
  secureWipe(text->data(), text->size());
  if (!id) return id.error().context(path.string());
  return id;
}

Result<void> Identity::save(const std::filesystem::path& path) const {
  if (path.has_parent_path()) {
    if (auto r = fs::ensurePrivateDir(path.parent_path()); !r) return r.error();
  }
  auto bytes = encodeKeyFile();
  auto r = fs::writeFileAtomic(path, asString(bytes), 0600);
  secureWipe(bytes.data(), bytes.size());
  return r;
}

Result<Identity> Identity::loadOrCreate(const std::filesystem::path& path, bool* created) {
  if (created != nullptr) *created = false;
  auto id = load(path);
  if (id || std::filesystem::exists(path)) return id;
  id = generate();
  if (!id) return id;
  if (auto r = id->save(path); !r) return r.error();
  if (created != nullptr) *created = true;
  return id;
}

}  // namespace pc::crypto
