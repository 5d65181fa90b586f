#include "runtime/policy.hpp"

#include "core/ascii.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "runtime/error.hpp"

namespace pc::runtime {
namespace {

std::string mib(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// Saturating add: an attacker-chosen request near UINT64_MAX must not wrap around a total.
std::uint64_t addSat(std::uint64_t a, std::uint64_t b) {
  return a > std::numeric_limits<std::uint64_t>::max() - b
             ? std::numeric_limits<std::uint64_t>::max()
             : a + b;
}

Error over(std::string_view what, std::string_view key, const std::string& asked,
           const std::string& used, const std::string& limit) {
  return fail(Errc::kLimitExceeded, std::string(what) + ": asks for " + asked +
                                        (used.empty() ? "" : " with " + used + " already in use") +
                                        " but the limit " + std::string(key) + " is " + limit +
                                        "; ask for less, or stop another deployment");
}

}  // namespace

Result<Policy> Policy::create(PolicyConfig config) {
  std::vector<Entry> entries;
  for (const auto& raw : config.allowedRegistries) {
    // Parse each entry with the reference parser itself (with a dummy tag) so the allowlist and
    // the references it is compared against are normalised identically.
    const auto slash = raw.find('/');
    const std::string domainPart = raw.substr(0, slash);
    const bool hasPath = slash != std::string::npos;
    // "/x" is appended and removed again so a one-component Docker Hub prefix ("docker.io/acme")
    // is not rewritten to "library/acme" by the Hub normalisation.
    auto probe =
        ImageRef::parse(domainPart + "/" + (hasPath ? raw.substr(slash + 1) + "/x" : "x/x") + ":t");
    const std::string wantDomain = domainPart == "index.docker.io" ? "docker.io" : domainPart;
    if (!probe || lowerAscii(probe->domain) != lowerAscii(wantDomain)) {
      return fail(
          Errc::kInvalidSpec,
          "allowed_registries entry \"" + raw +
              "\" is not a registry (host[:port]) optionally followed by /repository-prefix");
    }
    std::string prefix = hasPath ? probe->path.substr(0, probe->path.size() - 2) : "";
    entries.push_back({lowerAscii(probe->domain), std::move(prefix)});
  }
  return Policy(std::move(config), std::move(entries));
}

Result<ImageRef> Policy::checkImage(std::string_view image) const {
  auto ref = ImageRef::parse(image);
  if (!ref) return ref.error();
  // Compare normalised values only: "docker.io.evil.example" is not "docker.io", and the
  // repository prefix must end on a path-component boundary, so "docker.io/library" does not
  // admit "docker.io/library-evil/x".
  const std::string domain = lowerAscii(ref->domain);
  for (const auto& e : entries_) {
    if (e.domain != domain) continue;
    if (e.pathPrefix.empty() || ref->path == e.pathPrefix ||
        (ref->path.size() > e.pathPrefix.size() && ref->path.starts_with(e.pathPrefix) &&
         ref->path[e.pathPrefix.size()] == '/')) {
      return ref;
    }
  }
  std::string allowed;
  for (const auto& e : entries_) {
    allowed +=
        (allowed.empty() ? "" : ", ") + e.domain + (e.pathPrefix.empty() ? "" : "/" + e.pathPrefix);
  }
  return fail(Errc::kImageNotAllowed,
              "image " + ref->toString() + " is not allowed: its registry/repository is not in " +
                  "allowed_registries [" + allowed +
                  "]; use an image from an allowed registry, or ask the provider to add it");
}

Result<void> Policy::admit(const ResourceRequest& request, const Usage& providerUsed,
                           const Usage& requesterUsed) const {
  const auto& c = config_;
  if (request.cpuMillis == 0) {
    return fail(Errc::kInvalidSpec, "cpu_millis must be at least 1 (1000 = one CPU)");
  }
  if (request.memoryBytes < c.minMemoryPerContainer) {
    return fail(Errc::kInvalidSpec, "memory must be at least " + mib(c.minMemoryPerContainer) +
                                        " (asked for " + std::to_string(request.memoryBytes) +
                                        " bytes)");
  }
  if (request.cpuMillis > c.maxCpuMillisPerContainer) {
    return over("cpu", "max_cpu_per_deployment", std::to_string(request.cpuMillis) + "m", "",
                std::to_string(c.maxCpuMillisPerContainer) + "m");
  }
  if (request.memoryBytes > c.maxMemoryPerContainer) {
    return over("memory", "max_memory_per_deployment", mib(request.memoryBytes), "",
                mib(c.maxMemoryPerContainer));
  }
  // Provider totals.
  if (addSat(providerUsed.cpuMillis, request.cpuMillis) > c.providerCapacity.cpuMillis) {
    return over("provider cpu", "max_cpu", std::to_string(request.cpuMillis) + "m",
                std::to_string(providerUsed.cpuMillis) + "m",
                std::to_string(c.providerCapacity.cpuMillis) + "m");
  }
  if (addSat(providerUsed.memoryBytes, request.memoryBytes) > c.providerCapacity.memoryBytes) {
    return over("provider memory", "max_memory", mib(request.memoryBytes),
                mib(providerUsed.memoryBytes), mib(c.providerCapacity.memoryBytes));
  }
  if (providerUsed.containers >= c.providerCapacity.containers) {
    return over("provider containers", "max_deployments", "1 more container",
                std::to_string(providerUsed.containers),
                std::to_string(c.providerCapacity.containers));
  }
  // Per-requester quota: one trusted peer cannot take the whole provider.
  if (addSat(requesterUsed.cpuMillis, request.cpuMillis) > c.perRequesterQuota.cpuMillis) {
    return over("requester cpu", "max_cpu_per_peer", std::to_string(request.cpuMillis) + "m",
                std::to_string(requesterUsed.cpuMillis) + "m",
                std::to_string(c.perRequesterQuota.cpuMillis) + "m");
  }
  if (addSat(requesterUsed.memoryBytes, request.memoryBytes) > c.perRequesterQuota.memoryBytes) {
    return over("requester memory", "max_memory_per_peer", mib(request.memoryBytes),
                mib(requesterUsed.memoryBytes), mib(c.perRequesterQuota.memoryBytes));
  }
  if (requesterUsed.containers >= c.perRequesterQuota.containers) {
    return over("requester containers", "max_per_peer", "1 more container",
                std::to_string(requesterUsed.containers),
                std::to_string(c.perRequesterQuota.containers));
  }
  return {};
}

}  // namespace pc::runtime
