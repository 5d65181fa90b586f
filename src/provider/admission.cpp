#include "provider/admission.hpp"

#include "provider/error.hpp"

namespace pc::provider {

runtime::Usage usageOf(const std::map<std::string, Deployment>& records,
                       const std::string* requester) {
  runtime::Usage u;
  for (const auto& [id, d] : records) {
    if (!d.active() || (requester != nullptr && d.requester != *requester)) {
      continue;
    }
    u.cpuMillis += d.cpuMillis;
    u.memoryBytes += d.memoryBytes;
    ++u.containers;
  }
  return u;
}

Result<runtime::ImageRef> decideAdmission(const runtime::Policy& policy,
                                          const std::map<std::string, Deployment>& records,
                                          const DeployParams& p, bool shuttingDown) {
  if (shuttingDown) {
    return fail(Errc::kShuttingDown, "the provider is shutting down; try again once it is back");
  }
  // Policy before capacity: an image that may not run is refused whatever it asks for.
  auto ref = policy.checkImage(p.image);
  if (!ref) {
    return ref.error();
  }
  const runtime::ResourceRequest req{p.cpuMillis, p.memoryBytes};
  if (auto r = policy.admit(req, usageOf(records, nullptr), usageOf(records, &p.requester)); !r) {
    return r.error();
  }
  return ref;
}

}  // namespace pc::provider
