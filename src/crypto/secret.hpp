#pragma once
/// Fixed-size secret storage wiped (OPENSSL_cleanse, which the optimiser cannot elide) when it
/// dies, so private keys do not linger in freed memory where a later bug could leak them.
#include <array>
#include <cstdint>
#include <span>

namespace pc::crypto {

void secureWipe(void* p, std::size_t n);

template <std::size_t N>
class Secret {
 public:
  Secret() { bytes_.fill(0); }
  explicit Secret(std::span<const std::uint8_t, N> in) {
    std::copy(in.begin(), in.end(), bytes_.begin());
  }
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  ~Secret() { secureWipe(bytes_.data(), N); }

  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  static constexpr std::size_t size() { return N; }
  std::span<const std::uint8_t, N> view() const { return std::span<const std::uint8_t, N>(bytes_); }

 private:
  std::array<std::uint8_t, N> bytes_;
};

}  // namespace pc::crypto
