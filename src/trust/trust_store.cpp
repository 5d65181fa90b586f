#include "trust/trust_store.hpp"

#include "core/time.hpp"

#include <boost/json.hpp>
#include <ctime>

#include "core/fs.hpp"

namespace pc::trust {
namespace json = boost::json;

namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pc.trust"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kCorrupt:
        return "trust file is corrupt";
      case Errc::kDuplicateId:
        return "peer is already trusted";
      case Errc::kDuplicateName:
        return "name is already in use";
      case Errc::kBadName:
        return "invalid peer name";
      case Errc::kUnknownPeer:
        return "no such trusted peer";
      case Errc::kTooMany:
        return "trust list limit reached";
      case Errc::kUnsupportedPeer:
        return "unsupported peer id";
    }
    return "unknown trust error";
  }
};

Error err(Errc e, std::string message) { return Error(make_error_code(e), std::move(message)); }
}  // namespace

const boost::system::error_category& trustCategory() {
  static const Category c;
  return c;
}

std::string nowRfc3339() { return time::formatRfc3339(std::chrono::system_clock::now()); }

Result<void> validateName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return err(Errc::kBadName,
               "peer name must be 1 to " + std::to_string(kMaxNameLength) + " characters");
  }
  if (!std::isalnum(static_cast<unsigned char>(name.front()))) {
    return err(Errc::kBadName,
               "peer name '" + std::string(name) + "' must start with a letter or digit");
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return err(Errc::kBadName, "peer name '" + std::string(name) +
                                     "' may contain only letters, digits, '.', '_' and '-'");
    }
  }
  if (crypto::PeerId::parse(name)) {
    return err(Errc::kBadName,
               "peer name '" + std::string(name) + "' looks like a peer id; choose another");
  }
  return {};
}

const TrustedPeer* TrustStore::find(const crypto::PeerId& id) const {
  for (const auto& p : peers_) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const TrustedPeer* TrustStore::findByName(std::string_view name) const {
  for (const auto& p : peers_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

Result<const TrustedPeer*> TrustStore::resolve(std::string_view idOrName) const {
  if (const auto* p = findByName(idOrName)) return p;
  if (auto id = crypto::PeerId::parse(idOrName)) {
    if (const auto* p = find(*id)) return p;
  }
  return err(Errc::kUnknownPeer, "no trusted peer has the id or name '" + std::string(idOrName) +
                                     "' (see `peerctl peers list`)");
}

Result<void> TrustStore::add(TrustedPeer peer) {
  if (!peer.id.ed25519Key()) {
    // Only Ed25519 identities can complete our handshake; trusting another kind would be a
    // silent no-op that the operator believes is in effect.
    return err(Errc::kUnsupportedPeer,
               "peer id " + peer.id.toBase58() + " is not an Ed25519 identity");
  }
  if (auto r = validateName(peer.name); !r) return r;
  if (const auto* existing = find(peer.id)) {
    return err(Errc::kDuplicateId,
               "peer " + peer.id.toBase58() + " is already trusted as '" + existing->name + "'");
  }
  if (findByName(peer.name) != nullptr) {
    return err(Errc::kDuplicateName,
               "the name '" + peer.name + "' is already used by another peer");
  }
  if (peers_.size() >= kMaxPeers) {
    return err(Errc::kTooMany,
               "the trust list already holds " + std::to_string(kMaxPeers) + " peers");
  }
  if (peer.addrs.size() > kMaxAddrsPerPeer) {
    return err(Errc::kTooMany,
               "at most " + std::to_string(kMaxAddrsPerPeer) + " addresses per peer");
  }
  for (const auto& a : peer.addrs) {
    if (auto pid = a.peerId(); pid && *pid != peer.id) {
      return err(Errc::kUnsupportedPeer, "address " + a.toString() + " names a different peer id");
    }
  }
  peers_.push_back(std::move(peer));
  return {};
}

Result<TrustedPeer> TrustStore::remove(std::string_view idOrName) {
  auto p = resolve(idOrName);
  if (!p) return p.error();
  const auto it = peers_.begin() + (*p - peers_.data());
  TrustedPeer removed = std::move(*it);
  peers_.erase(it);
  return removed;
}

std::string TrustStore::toJson() const {
  json::array peers;
  for (const auto& p : peers_) {
    json::array addrs;
    for (const auto& a : p.addrs) addrs.emplace_back(a.toString());
    peers.emplace_back(json::object{{"peer_id", p.id.toBase58()},
                                    {"name", p.name},
                                    {"addrs", std::move(addrs)},
                                    {"added_at", p.addedAt}});
  }
  json::object root{{"version", 1}, {"peers", std::move(peers)}};
  return json::serialize(root) + "\n";
}

Result<TrustStore> TrustStore::fromJson(std::string_view text) {
  auto corrupt = [](const std::string& why) { return err(Errc::kCorrupt, why); };
  json::parse_options opts;
  opts.max_depth = 8;
  boost::system::error_code ec;
  json::value root = json::parse(text, ec, {}, opts);
  if (ec) return corrupt("invalid JSON: " + ec.message());
  const auto* obj = root.if_object();
  if (obj == nullptr) return corrupt("top level is not an object");
  const auto* version = obj->if_contains("version");
  if (version == nullptr || !version->is_int64() || version->as_int64() != 1) {
    return corrupt("missing or unsupported \"version\" (expected 1)");
  }
  const auto* peers = obj->if_contains("peers");
  if (peers == nullptr || !peers->is_array()) return corrupt("\"peers\" is not an array");
  TrustStore store;
  std::size_t index = 0;
  for (const auto& v : peers->as_array()) {
    const auto where = "peer #" + std::to_string(index++) + ": ";
    const auto* p = v.if_object();
    if (p == nullptr) return corrupt(where + "not an object");
    const auto* id = p->if_contains("peer_id");
    const auto* name = p->if_contains("name");
    const auto* addrs = p->if_contains("addrs");
    const auto* added = p->if_contains("added_at");
    if (id == nullptr || !id->is_string() || name == nullptr || !name->is_string() ||
        (addrs != nullptr && !addrs->is_array()) || (added != nullptr && !added->is_string())) {
      return corrupt(where + "fields peer_id and name must be strings, addrs an array");
    }
    auto pid = crypto::PeerId::parse(id->as_string());
    if (!pid) return corrupt(where + pid.error().message());
    TrustedPeer peer{*pid,
                     std::string(name->as_string()),
                     {},
                     added != nullptr ? std::string(added->as_string()) : std::string()};
    if (addrs != nullptr) {
      for (const auto& a : addrs->as_array()) {
        if (!a.is_string()) return corrupt(where + "address is not a string");
        auto ma = net::Multiaddr::parse(a.as_string());
        if (!ma) return corrupt(where + ma.error().message());
        peer.addrs.push_back(std::move(*ma));
      }
    }
    if (auto r = store.add(std::move(peer)); !r) return corrupt(where + r.error().message());
  }
  return store;
}

Result<TrustStore> TrustStore::load(const std::filesystem::path& path) {
  auto text = fs::readStateFile(path, kMaxFileSize);
  if (!text) {
    if (text.error() == make_error_code(pc::Errc::kNotFound)) return TrustStore{};
    return text.error().context("cannot read trust list");
  }
  auto store = fromJson(*text);
  if (!store) {
    return Error(
        store.error().code(),
        "trust list " + path.string() + " is corrupt (" + store.error().message() +
            "); fix or restore it, or move it aside and re-add peers with `peerctl peers add`");
  }
  return store;
}

Result<TrustStore> TrustStore::modify(const std::filesystem::path& path,
                                      const std::function<Result<void>(TrustStore&)>& change) {
  if (path.has_parent_path()) {
    if (auto r = fs::ensurePrivateDir(path.parent_path()); !r) return r.error();
  }
  auto lock = fs::FileLock::exclusive(path.string() + ".lock");
  if (!lock) return lock.error();
  auto store = load(path);
  if (!store) return store.error();
  if (auto r = change(*store); !r) return r.error();
  if (auto r = fs::writeFileAtomic(path, store->toJson(), 0600); !r) {
    return r.error().context("cannot save trust list");
  }
  return store;
}

}  // namespace pc::trust

#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace pc::trust {

Result<TrustGate> TrustGate::open(std::filesystem::path path) {
  TrustGate g(std::move(path));
  auto s = TrustStore::load(g.path_);
  if (!s) return s.error();
  g.store_ = std::move(*s);
  g.refresh();
  return g;
}

void TrustGate::refresh() {
  struct stat st {};
  std::int64_t changed = 0, size = 0;
  if (::stat(path_.c_str(), &st) == 0) {
    // ctime, not mtime: a chmod or chown (a file becoming writable by others) counts as a change.
    changed = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
    size = static_cast<std::int64_t>(st.st_size);
  }
  if (changed == ctimeNs_ && size == size_) return;
  ctimeNs_ = changed;  // a bad file is reported once per change, not on every check
  size_ = size;
  auto s = TrustStore::load(path_);
  if (!s) {
    spdlog::error("keeping the previous trust list ({} peers): {}", store_.peers().size(),
                  s.error().message());
    return;  // retried on the next change
  }
  if (s->peers().size() != store_.peers().size()) {
    spdlog::info("trust list reloaded: {} peers", s->peers().size());
  }
  store_ = std::move(*s);
  ++generation_;
}

bool TrustGate::isTrusted(const crypto::PeerId& id) {
  refresh();
  return store_.isTrusted(id);
}

const TrustStore& TrustGate::store() {
  refresh();
  return store_;
}

}  // namespace pc::trust
