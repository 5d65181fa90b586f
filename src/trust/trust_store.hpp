#pragma once
/// The explicit list of peers this node trusts (`trusted_peers.json` in the node's home).
///
/// Only peers on this list get past the connection gater, so the file is security-critical:
/// it is never silently replaced by an empty list (a corrupt file is an error), and every change
/// is a locked read-modify-write with an atomic replace, so concurrent `peerctl` runs neither
/// corrupt it nor lose each other's entries.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "crypto/peer_id.hpp"
#include "net/multiaddr.hpp"

namespace pc::trust {

enum class Errc {
  kCorrupt = 1,     ///< the file exists but cannot be parsed
  kDuplicateId,     ///< the peer id is already trusted
  kDuplicateName,   ///< the name is taken by another peer
  kBadName,         ///< the name is not a valid peer name
  kUnknownPeer,     ///< no trusted peer has this id or name
  kTooMany,         ///< over kMaxPeers or kMaxAddrsPerPeer
  kUnsupportedPeer  ///< a peer id we can never authenticate (not Ed25519)
};
const boost::system::error_category& trustCategory();
inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), trustCategory()};
}

inline constexpr std::size_t kMaxPeers = 10000;
inline constexpr std::size_t kMaxAddrsPerPeer = 32;
inline constexpr std::size_t kMaxNameLength = 64;
inline constexpr std::size_t kMaxFileSize = 8 * 1024 * 1024;
static_assert(kMaxPeers * (kMaxNameLength + 128) < kMaxFileSize);

struct TrustedPeer {
  crypto::PeerId id;
  std::string name;
  std::vector<net::Multiaddr> addrs;
  std::string addedAt;  ///< RFC 3339 UTC
};

/// Names are 1–64 characters of [A-Za-z0-9._-], start with a letter or digit, and must not
/// themselves parse as a peer id — otherwise `peers remove X` could mean two different peers.
Result<void> validateName(std::string_view name);

class TrustStore {
 public:
  static constexpr const char* kFileName = "trusted_peers.json";

  /// Loads the store at `path`. A missing file is an empty store; a corrupt one is kCorrupt with
  /// a message saying how to recover (the gater must never fall back to "trust nobody" or
  /// "trust everybody" silently).
  static Result<TrustStore> load(const std::filesystem::path& path);

  const std::vector<TrustedPeer>& peers() const { return peers_; }
  bool isTrusted(const crypto::PeerId& id) const { return find(id) != nullptr; }
  const TrustedPeer* find(const crypto::PeerId& id) const;
  const TrustedPeer* findByName(std::string_view name) const;
  /// A peer by id text (either form) or by name. Errors: kUnknownPeer.
  Result<const TrustedPeer*> resolve(std::string_view idOrName) const;

  /// Locks the file, re-reads it, applies `change`, validates and writes it atomically.
  /// If `change` or validation fails, the file is left byte-for-byte unchanged.
  static Result<TrustStore> modify(const std::filesystem::path& path,
                                   const std::function<Result<void>(TrustStore&)>& change);

  /// In-memory edits, used inside modify().
  Result<void> add(TrustedPeer peer);
  Result<TrustedPeer> remove(std::string_view idOrName);

  std::string toJson() const;
  static Result<TrustStore> fromJson(std::string_view text);

 private:
  std::vector<TrustedPeer> peers_;
};

/// The current UTC time as RFC 3339 (`2026-11-24T05:06:07Z`).
std::string nowRfc3339();

}  // namespace pc::trust

template <>
struct boost::system::is_error_code_enum<pc::trust::Errc> : std::true_type {};

namespace pc::trust {

/// The gater's view of the trust list: answers "is this peer trusted?" from a cached copy and
/// reloads it when the file changes (checked at most once per call, by ctime and size: a chmod
/// counts), so `peerctl peers add/remove` takes effect on a running daemon without a restart. If
/// the file becomes corrupt the last good list stays in force and the error is reported: neither
/// "trust nobody" (an outage) nor "trust everybody" (a breach) happens silently.
class TrustGate {
 public:
  /// Loads `path` now. Errors: the load error (a daemon should refuse to start on it).
  static Result<TrustGate> open(std::filesystem::path path);
  bool isTrusted(const crypto::PeerId& id);
  /// The current list (after a reload check).
  const TrustStore& store();
  /// The list as last loaded, without a reload check (no file system access: for hot paths
  /// whose owner calls store() periodically).
  [[nodiscard]] bool isTrustedAsLoaded(const crypto::PeerId& id) const {
    return store_.isTrusted(id);
  }
  /// Counts the lists loaded: changes whenever a new list takes effect.
  [[nodiscard]] std::uint64_t generation() const { return generation_; }

 private:
  explicit TrustGate(std::filesystem::path path) : path_(std::move(path)) {}
  void refresh();
  std::filesystem::path path_;
  TrustStore store_;
  std::int64_t ctimeNs_ = -1;
  std::int64_t size_ = -1;
  std::uint64_t generation_ = 0;
};

}  // namespace pc::trust
