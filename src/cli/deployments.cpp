#include "cli/deployments.hpp"

#include <boost/json.hpp>

#include "core/fs.hpp"
#include "protocol/messages.hpp"
#include "trust/trust_store.hpp"

namespace pc::cli {
namespace {

constexpr std::size_t kMaxFileSize = 8 * 1024 * 1024;

Error corrupt(const std::filesystem::path& path, std::string_view why) {
  return fail(Errc::kMalformed,
              path.string() + " is corrupt (" + std::string(why) +
                  "); it only remembers which peer holds which deployment: move it aside and "
                  "pass --peer to status/logs/stop until it is rebuilt by new deploys");
}

std::string toJson(const std::vector<DeploymentRef>& entries) {
  boost::json::array arr;
  for (const auto& e : entries) {
    arr.emplace_back(boost::json::object{
        {"id", e.id}, {"peer_id", e.peerId}, {"image", e.image}, {"created_at", e.createdAt}});
  }
  return boost::json::serialize(boost::json::object{{"version", 1}, {"deployments", arr}}) + "\n";
}

}  // namespace

Result<DeploymentBook> DeploymentBook::load(const std::filesystem::path& path) {
  DeploymentBook book;
  if (!std::filesystem::exists(path)) return book;
  auto text = fs::readFile(path, kMaxFileSize);
  if (!text) return text.error();
  boost::system::error_code ec;
  auto v = boost::json::parse(*text, ec);
  if (ec || !v.is_object()) return corrupt(path, "not a JSON object");
  const auto& o = v.as_object();
  const auto* list = o.if_contains("deployments");
  if (list == nullptr || !list->is_array()) return corrupt(path, "no deployments array");
  for (const auto& e : list->as_array()) {
    const auto* eo = e.if_object();
    if (eo == nullptr) return corrupt(path, "an entry is not an object");
    DeploymentRef r;
    for (auto [key, out] : {std::pair{"id", &r.id}, std::pair{"peer_id", &r.peerId},
                            std::pair{"image", &r.image}, std::pair{"created_at", &r.createdAt}}) {
      const auto* f = eo->if_contains(key);
      if (f == nullptr || !f->is_string()) {
        return corrupt(path, std::string("an entry has no string '") + key + "'");
      }
      *out = std::string(f->as_string());
    }
    if (!protocol::isDeploymentId(r.id)) return corrupt(path, "bad deployment id '" + r.id + "'");
    book.entries_.push_back(std::move(r));
  }
  return book;
}

Result<void> DeploymentBook::remember(const std::filesystem::path& path, DeploymentRef ref) {
  if (auto r = fs::ensurePrivateDir(path.parent_path()); !r) return r;
  auto lock = fs::FileLock::exclusive(path.string() + ".lock");
  if (!lock) return lock.error();
  auto book = load(path);
  if (!book) return book.error();
  auto& es = book->entries_;
  std::erase_if(es, [&](const DeploymentRef& e) { return e.id == ref.id; });
  if (ref.createdAt.empty()) ref.createdAt = trust::nowRfc3339();
  es.push_back(std::move(ref));
  if (es.size() > kMaxEntries)
    es.erase(es.begin(), es.begin() + static_cast<std::ptrdiff_t>(es.size() - kMaxEntries));
  return fs::writeFileAtomic(path, toJson(es), 0600);
}

const DeploymentRef* DeploymentBook::find(std::string_view id) const {
  for (const auto& e : entries_) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

}  // namespace pc::cli
