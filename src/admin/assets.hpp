#pragma once
/// The dashboard's files (src/admin/assets/), embedded in the binary at build time
/// (cmake/PcEmbed.cmake writes assets_data.cpp): nothing is fetched from elsewhere.
#include <optional>
#include <string_view>
#include <vector>

namespace pc::admin {

struct Asset {
  std::string_view name;         ///< the file name ("dashboard.js")
  std::string_view contentType;  ///< by extension
  std::string_view body;
};

/// The file called `name`, if embedded.
std::optional<Asset> findAsset(std::string_view name);
/// Every embedded file's name.
std::vector<std::string_view> assetNames();

}  // namespace pc::admin
