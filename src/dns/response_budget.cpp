#include "dns/response_budget.hpp"

#include <boost/asio/ip/address_v6.hpp>

namespace pc::dns {

namespace ip = boost::asio::ip;

namespace {

/// An IPv4-mapped IPv6 source (a dual-stack socket) counts as its IPv4 address.
ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  }
  return a;
}

}  // namespace

std::size_t ResponseBudget::KeyHash::operator()(const Key& k) const {
  std::uint64_t v = 0;
  for (auto b : k) v = (v << 8) | b;
  return std::hash<std::uint64_t>{}(v);
}

ResponseBudget::Key ResponseBudget::keyOf(const ip::address& source) {
  const auto a = unmapped(source);
  Key k{};
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    k[0] = 4;
    std::copy_n(b.begin(), kIpv4BlockBits / 8, k.begin() + 1);
  } else {
    const auto b = a.to_v6().to_bytes();
    k[0] = 6;
    std::copy_n(b.begin(), kIpv6BlockBits / 8, k.begin() + 1);
  }
  return k;
}

std::string ResponseBudget::blockName(const ip::address& source) {
  const auto a = unmapped(source);
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    std::fill(b.begin() + kIpv4BlockBits / 8, b.end(), 0);
    return ip::address_v4(b).to_string() + "/" + std::to_string(kIpv4BlockBits);
  }
  auto b = a.to_v6().to_bytes();
  std::fill(b.begin() + kIpv6BlockBits / 8, b.end(), 0);
  return ip::address_v6(b).to_string() + "/" + std::to_string(kIpv6BlockBits);
}

ResponseBudget::Entry* ResponseBudget::entryFor(const Key& key, Clock::time_point now) {
  if (auto it = blocks_.find(key); it != blocks_.end()) return &it->second;
  if (blocks_.size() >= kMaxBudgetBlocks && now - lastSweep_ >= kBudgetSweepInterval) {
    // A block whose bucket is full again carries no state: forgetting it changes nothing.
    lastSweep_ = now;
    std::erase_if(blocks_, [now](const auto& kv) { return kv.second.bucket.full(now); });
  }
  if (blocks_.size() >= kMaxBudgetBlocks) {
    // Still full: a flood from many blocks. They share one bucket rather than evicting the
    // blocks being limited (which would hand them a fresh burst).
    if (!overflow_) overflow_.emplace(Entry{TokenBucket(limits_.perSecond, limits_.burst, now), 0});
    return &*overflow_;
  }
  auto [it, _] = blocks_.emplace(key, Entry{TokenBucket(limits_.perSecond, limits_.burst, now), 0});
  return &it->second;
}

ResponseBudget::Verdict ResponseBudget::charge(Entry& e, Clock::time_point now) const {
  if (e.bucket.take(now)) return Verdict::kAnswer;
  if (limits_.slip == 0) return Verdict::kDrop;
  return (++e.overBudget % limits_.slip) == 0 ? Verdict::kSlip : Verdict::kDrop;
}

ResponseBudget::Verdict ResponseBudget::take(const ip::address& source, Clock::time_point now) {
  return charge(*entryFor(keyOf(source), now), now);
}

}  // namespace pc::dns
