#include "gateway/providers_cmd.hpp"

#include <boost/json.hpp>
#include <iostream>

#include "gateway/config.hpp"
#include "trust/trust_store.hpp"

namespace pc::gateway {
namespace {

int fail(const std::string& msg) {
  std::cerr << "error: " << msg << "\n";
  return 1;
}

int add(const std::filesystem::path& list, const ProvidersCommand& c) {
  auto id = crypto::PeerId::parse(c.provider);
  if (!id) return fail("'" + c.provider + "': " + id.error().message());
  const std::string base58 = id->toBase58();
  trust::TrustedPeer p{*id,
                       c.name.empty() ? "provider-" + base58.substr(base58.size() - 6) : c.name,
                       {},
                       trust::nowRfc3339()};
  auto r = trust::TrustStore::modify(list, [&](trust::TrustStore& s) { return s.add(p); });
  if (!r) return fail(r.error().message());
  std::cout << "Allowed provider " << base58 << " as '" << p.name << "'\n";
  return 0;
}

int remove(const std::filesystem::path& list, const ProvidersCommand& c) {
  auto r = trust::TrustStore::modify(list, [&](trust::TrustStore& s) -> Result<void> {
    auto removed = s.remove(c.provider);
    if (!removed) return removed.error();
    return {};
  });
  if (!r) return fail(r.error().message());
  std::cout << "Removed provider " << c.provider << "\n";
  return 0;
}

int list(const std::filesystem::path& path, const ProvidersCommand& c) {
  auto s = trust::TrustStore::load(path);
  if (!s) return fail(s.error().message());
  if (c.output == "json") {
    // The same shape as `peerctl peers list -o json`.
    boost::json::array arr;
    for (const auto& p : s->peers()) {
      arr.emplace_back(boost::json::object{
          {"peer_id", p.id.toBase58()}, {"name", p.name}, {"added_at", p.addedAt}});
    }
    std::cout << boost::json::serialize(arr) << "\n";
    return 0;
  }
  for (const auto& p : s->peers()) {
    std::cout << p.name << "\t" << p.id.toBase58() << "\t" << p.addedAt << "\n";
  }
  if (s->peers().empty()) {
    std::cout << "no providers allowed yet: peergateway providers add <peer-id>\n";
  }
  return 0;
}

}  // namespace

int runProvidersCommand(const ProvidersCommand& c) {
  const auto path = c.dataDir / kProvidersFile;
  switch (c.verb) {
    case ProvidersCommand::Verb::kAdd:
      return add(path, c);
    case ProvidersCommand::Verb::kRemove:
      return remove(path, c);
    case ProvidersCommand::Verb::kList:
      return list(path, c);
  }
  return 1;
}

}  // namespace pc::gateway
