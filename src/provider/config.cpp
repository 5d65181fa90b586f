#include "provider/config.hpp"

#include <toml++/toml.h>

#include <sstream>

#include "core/fs.hpp"
#include "core/units.hpp"
#include "provider/error.hpp"
#include "runtime/docker_api.hpp"

namespace pc::provider {
namespace {

Error bad(std::string_view source, const toml::node& n, std::string_view key,
          std::string_view why) {
  std::ostringstream os;
  os << source << ":" << n.source().begin.line << ": " << key << ": " << why;
  return fail(Errc::kConfig, os.str());
}

// Numbers may be given as integers or as strings with units ("4G", "2.5", "500m", "30s").
template <class Parse>
auto quantity(std::string_view source, const toml::node& n, std::string_view key, Parse parse)
    -> decltype(parse(std::string_view{})) {
  if (auto i = n.value<std::int64_t>()) {
    if (*i < 0) return bad(source, n, key, "must not be negative");
    return parse(std::to_string(*i));
  }
  if (auto s = n.value<std::string>()) {
    auto r = parse(*s);
    if (!r) return bad(source, n, key, r.error().message());
    return r;
  }
  return bad(source, n, key, "expected a number or a string with a unit");
}

Result<std::uint32_t> count(std::string_view source, const toml::node& n, std::string_view key) {
  auto i = n.value<std::int64_t>();
  if (!i || *i < 0 || *i > 100000) return bad(source, n, key, "expected an integer 0..100000");
  return static_cast<std::uint32_t>(*i);
}

Result<std::vector<std::string>> strings(std::string_view source, const toml::node& n,
                                         std::string_view key) {
  const auto* arr = n.as_array();
  if (arr == nullptr) return bad(source, n, key, "expected an array of strings");
  std::vector<std::string> out;
  for (const auto& e : *arr) {
    auto s = e.value<std::string>();
    if (!s) return bad(source, e, key, "expected an array of strings");
    out.push_back(*s);
  }
  return out;
}

}  // namespace

Result<std::uint32_t> parseMaxCpu(std::string_view text) {
  const bool digitsOnly =
      !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (digitsOnly) return units::parseCpu(std::string(text) + "m");
  return units::parseCpu(text);
}

runtime::PolicyConfig ProviderConfig::policy() const {
  runtime::PolicyConfig p;
  p.allowedRegistries = allowedRegistries;
  p.providerCapacity = {maxCpuMillis, maxMemoryBytes, maxDeployments};
  p.perRequesterQuota = {maxCpuPerPeer != 0 ? maxCpuPerPeer : maxCpuMillis,
                         maxMemoryPerPeer != 0 ? maxMemoryPerPeer : maxMemoryBytes, maxPerPeer};
  p.maxCpuMillisPerContainer = maxCpuPerDeployment != 0 ? maxCpuPerDeployment : maxCpuMillis;
  p.maxMemoryPerContainer = maxMemoryPerDeployment != 0 ? maxMemoryPerDeployment : maxMemoryBytes;
  return p;
}

Result<void> ProviderConfig::validate() const {
  if (listen.empty()) return fail(Errc::kConfig, "listen: at least one multiaddr is needed");
  if (maxCpuMillis == 0) return fail(Errc::kConfig, "max_cpu must be at least 1m");
  if (maxMemoryBytes < (6ULL << 20)) return fail(Errc::kConfig, "max_memory must be at least 6M");
  if (maxDeployments == 0) return fail(Errc::kConfig, "max_deployments must be at least 1");
  if (maxPerPeer == 0) return fail(Errc::kConfig, "max_per_peer must be at least 1");
  if (maxConnections < 2) return fail(Errc::kConfig, "max_connections must be at least 2");
  if (!networkPool.empty()) {
    if (auto sn = runtime::docker::poolSubnet(networkPool, 28, 0); !sn) {
      return fail(Errc::kConfig, sn.error().message());
    }
  }
  if (stopGrace.count() < 0 || stopGrace.count() > 3600) {
    return fail(Errc::kConfig, "stop_grace must be between 0s and 1h");
  }
  if (auto p = runtime::Policy::create(policy()); !p) {
    return fail(Errc::kConfig, p.error().message());
  }
  return {};
}

Result<void> applyToml(std::string_view text, std::string_view source, ProviderConfig& cfg) {
  toml::table t;
  try {
    // The packaged toml++ is built with exceptions; a syntax error is turned into a value here.
    t = toml::parse(text, source);
  } catch (const toml::parse_error& err) {
    std::ostringstream os;
    os << source << ":" << err.source().begin.line << ": " << err.description();
    return fail(Errc::kConfig, os.str());
  }
  for (const auto& kv : t) {
    // Named references, not a structured binding: clang 14 cannot capture bindings in lambdas.
    const toml::node& node = kv.second;
    const std::string_view key = kv.first.str();
    auto setMillis = [&](std::uint32_t& out) -> Result<void> {
      auto v = quantity(source, node, key, parseMaxCpu);
      if (!v) return v.error();
      out = *v;
      return {};
    };
    auto setBytes = [&](std::uint64_t& out) -> Result<void> {
      auto v = quantity(source, node, key, units::parseBytes);
      if (!v) return v.error();
      out = *v;
      return {};
    };
    auto setCount = [&](std::uint32_t& out) -> Result<void> {
      auto v = count(source, node, key);
      if (!v) return v.error();
      out = *v;
      return {};
    };
    auto setString = [&](std::string& out) -> Result<void> {
      auto v = node.value<std::string>();
      if (!v) return bad(source, node, key, "expected a string");
      out = *v;
      return {};
    };
    Result<void> r;
    if (key == "listen") {
      auto v = strings(source, node, key);
      if (!v) return v.error();
      cfg.listen = *v;
    } else if (key == "allowed_registries") {
      auto v = strings(source, node, key);
      if (!v) return v.error();
      cfg.allowedRegistries = *v;
    } else if (key == "max_cpu") {
      r = setMillis(cfg.maxCpuMillis);
    } else if (key == "max_cpu_per_peer") {
      r = setMillis(cfg.maxCpuPerPeer);
    } else if (key == "max_cpu_per_deployment") {
      r = setMillis(cfg.maxCpuPerDeployment);
    } else if (key == "max_memory") {
      r = setBytes(cfg.maxMemoryBytes);
    } else if (key == "max_memory_per_peer") {
      r = setBytes(cfg.maxMemoryPerPeer);
    } else if (key == "max_memory_per_deployment") {
      r = setBytes(cfg.maxMemoryPerDeployment);
    } else if (key == "max_deployments") {
      r = setCount(cfg.maxDeployments);
    } else if (key == "max_per_peer") {
      r = setCount(cfg.maxPerPeer);
    } else if (key == "max_connections") {
      r = setCount(cfg.maxConnections);
    } else if (key == "runtime") {
      r = setString(cfg.ociRuntime);
    } else if (key == "network_pool") {
      r = setString(cfg.networkPool);
    } else if (key == "gateway") {
      r = setString(cfg.gateway);
    } else if (key == "data_dir") {
      std::string d;
      r = setString(d);
      if (r) cfg.dataDir = d;
    } else if (key == "stop_on_exit") {
      auto v = node.value<bool>();
      if (!v) return bad(source, node, key, "expected true or false");
      cfg.stopOnExit = *v;
    } else if (key == "mdns") {
      auto v = node.value<bool>();
      if (!v) return bad(source, node, key, "expected true or false");
      cfg.mdns = *v;
    } else if (key == "stop_grace") {
      auto v = quantity(source, node, key, units::parseDuration);
      if (!v) return v.error();
      cfg.stopGrace = std::chrono::duration_cast<std::chrono::seconds>(*v);
    } else {
      return bad(source, node, key, "unknown key (see `peercomputed --help` for the keys)");
    }
    if (!r) return r.error();
  }
  return {};
}

Result<void> applyTomlFile(const std::filesystem::path& path, ProviderConfig& cfg) {
  constexpr std::size_t kMaxConfigFile = 1 << 20;
  auto text = fs::readFile(path, kMaxConfigFile);
  if (!text) return fail(Errc::kConfig, text.error().message());
  return applyToml(*text, path.string(), cfg);
}

}  // namespace pc::provider
