#include "provider/public_urls.hpp"

#include <algorithm>

namespace pc::provider {

std::optional<std::vector<std::string>> PublicUrls::set(const std::string& id, std::size_t gateway,
                                                        std::string url) {
  if (gateway >= gateways_) {
    return std::nullopt;
  }
  auto& byGw = answers_[id];
  byGw.resize(gateways_);
  if (byGw[gateway] == url) {
    return std::nullopt;
  }
  const auto before = distinct(byGw);
  byGw[gateway] = std::move(url);
  auto after = distinct(byGw);
  if (after == before) {
    return std::nullopt;
  }
  return after;
}

std::vector<std::string> PublicUrls::urls(const std::string& id) const {
  auto it = answers_.find(id);
  return it == answers_.end() ? std::vector<std::string>{} : distinct(it->second);
}

std::vector<std::string> PublicUrls::distinct(const std::vector<std::optional<std::string>>& byGw) {
  std::vector<std::string> out;
  for (const auto& u : byGw) {
    if (u && std::find(out.begin(), out.end(), *u) == out.end()) {
      out.push_back(*u);
    }
  }
  return out;
}

}  // namespace pc::provider
