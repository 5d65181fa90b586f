#pragma once
/// A node's long-term identity: an Ed25519 key and the PeerId derived from it, stored in the
/// libp2p protobuf `PrivateKey` encoding (Type=Ed25519, Data=seed ‖ public key).
#include <filesystem>

#include "crypto/ed25519.hpp"
#include "crypto/peer_id.hpp"

namespace pc::crypto {

class Identity {
 public:
  static constexpr std::size_t kMaxKeyFileSize = 4096;

  static Result<Identity> generate();
  static Result<Identity> fromSeed(BytesView seed);

  /// Parses a key file's bytes. Accepts Data of 64 bytes (seed ‖ public key, the libp2p form;
  /// the public half must match the seed, so a tampered file cannot claim another identity) or
  /// 32 bytes (seed only). Errors: kBadKeyFile, kUnsupportedKeyType.
  static Result<Identity> decodeKeyFile(BytesView bytes);
  /// The key file's bytes. The caller should wipe them (they hold the seed).
  Bytes encodeKeyFile() const;

  /// Loads `path`, refusing (kUnsafeKeyFile) a file that group or others can read or write: a
  /// key others can read is no longer an identity, and the user must fix it knowingly.
  static Result<Identity> load(const std::filesystem::path& path);
  /// Writes `path` atomically with mode 0600, inside a directory created 0700.
  Result<void> save(const std::filesystem::path& path) const;
  /// load(), or — only when no file exists at `path` — a new identity saved there (`*created`
  /// says which). A file that exists but cannot be used is an error, never silently replaced.
  static Result<Identity> loadOrCreate(const std::filesystem::path& path, bool* created = nullptr);

  const PeerId& peerId() const { return peerId_; }
  const ed25519::PrivateKey& key() const { return key_; }
  const ed25519::PublicKey& publicKey() const { return key_.publicKey(); }
  Result<ed25519::Signature> sign(BytesView message) const { return key_.sign(message); }

 private:
  explicit Identity(ed25519::PrivateKey key)
      : key_(std::move(key)), peerId_(PeerId::fromPublicKey(key_.publicKey())) {}
  ed25519::PrivateKey key_;
  PeerId peerId_;
};

}  // namespace pc::crypto
