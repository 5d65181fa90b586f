#include "core/units.hpp"

#include "core/ascii.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace pc::units {
namespace {

// Parses a non-negative decimal "123" or "1.25" at the front of `s`; returns the number of
// characters used (0 when none). Exact integer arithmetic: no locale, no exponents.
std::size_t parseDecimal(std::string_view s, std::uint64_t& whole, std::uint64_t& frac,
                         int& fracDigits) {
  whole = 0;
  frac = 0;
  fracDigits = 0;
  std::size_t i = 0;
  std::size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    if (whole > (std::uint64_t{1} << 60)) return 0;
    whole = whole * 10 + static_cast<std::uint64_t>(s[i] - '0');
    ++i;
    ++digits;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (fracDigits >= 9) return 0;
      frac = frac * 10 + static_cast<std::uint64_t>(s[i] - '0');
      ++fracDigits;
      ++i;
      ++digits;
    }
  }
  return digits == 0 ? 0 : i;
}

std::uint64_t pow10(int n) {
  std::uint64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

Error invalid(std::string_view what, std::string_view text, std::string_view example) {
  return fail(Errc::kInvalidArgument, "'" + std::string(text) + "' is not a valid " +
                                          std::string(what) +
                                          " (examples: " + std::string(example) + ")");
}

}  // namespace

Result<std::uint64_t> parseBytes(std::string_view text) {
  constexpr std::string_view kExamples = "512M, 4G, 1.5GiB, 1048576";
  std::uint64_t whole = 0, frac = 0;
  int fracDigits = 0;
  const std::size_t used = parseDecimal(text, whole, frac, fracDigits);
  if (used == 0) return invalid("size", text, kExamples);
  const std::string unit = lowerAscii(text.substr(used));
  std::uint64_t mult = 0;
  if (unit.empty() || unit == "b") {
    mult = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    mult = 1ULL << 10;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    mult = 1ULL << 20;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    mult = 1ULL << 30;
  } else if (unit == "t" || unit == "tb" || unit == "tib") {
    mult = 1ULL << 40;
  } else {
    return invalid("size", text, kExamples);
  }
  constexpr std::uint64_t kMax = std::uint64_t{1} << 53;
  if (whole > kMax / mult)
    return fail(Errc::kTooLarge, "size '" + std::string(text) + "' is too large");
  const std::uint64_t value = whole * mult + frac * mult / pow10(fracDigits);
  if (value > kMax) return fail(Errc::kTooLarge, "size '" + std::string(text) + "' is too large");
  return value;
}

std::string formatBytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = static_cast<double>(bytes);
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0 || std::fabs(v - std::round(v)) < 0.05) {
    std::snprintf(buf, sizeof buf, "%.0f %s", v, kUnits[u]);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
  constexpr std::string_view kExamples = "30s, 5m, 1h30m, 250ms, 90";
  if (text.empty()) return invalid("duration", text, kExamples);
  std::uint64_t whole = 0, frac = 0;
  int fracDigits = 0;
  // A bare number is seconds.
  if (const std::size_t used = parseDecimal(text, whole, frac, fracDigits); used == text.size()) {
    if (whole > 100ULL * 365 * 86400) return invalid("duration", text, kExamples);
    return std::chrono::milliseconds(whole * 1000 + frac * 1000 / pow10(fracDigits));
  }
  std::uint64_t totalMs = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t used = parseDecimal(rest, whole, frac, fracDigits);
    if (used == 0) return invalid("duration", text, kExamples);
    rest.remove_prefix(used);
    std::size_t u = 0;
    while (u < rest.size() && std::isalpha(static_cast<unsigned char>(rest[u]))) ++u;
    const std::string unit = lowerAscii(rest.substr(0, u));
    rest.remove_prefix(u);
    std::uint64_t msPer = 0;
    if (unit == "ms") {
      msPer = 1;
    } else if (unit == "s") {
      msPer = 1000;
    } else if (unit == "m") {
      msPer = 60'000;
    } else if (unit == "h") {
      msPer = 3'600'000;
    } else if (unit == "d") {
      msPer = 86'400'000;
    } else {
      return invalid("duration", text, kExamples);
    }
    if (whole > 100ULL * 365 * 86400) return invalid("duration", text, kExamples);
    totalMs += whole * msPer + frac * msPer / pow10(fracDigits);
  }
  return std::chrono::milliseconds(totalMs);
}

Result<std::uint32_t> parseCpu(std::string_view text) {
  constexpr std::string_view kExamples = "0.5, 2, 250m";
  constexpr std::uint64_t kMaxMillis = 1'000'000;
  std::uint64_t whole = 0, frac = 0;
  int fracDigits = 0;
  const std::size_t used = parseDecimal(text, whole, frac, fracDigits);
  if (used == 0) return invalid("CPU amount", text, kExamples);
  std::uint64_t millis = 0;
  const std::string_view unit = text.substr(used);
  if (unit == "m") {
    if (fracDigits != 0) return invalid("CPU amount", text, kExamples);
    millis = whole;
  } else if (unit.empty()) {
    if (fracDigits > 3 || whole > kMaxMillis) return invalid("CPU amount", text, kExamples);
    millis = whole * 1000 + frac * pow10(3 - fracDigits);
  } else {
    return invalid("CPU amount", text, kExamples);
  }
  if (millis == 0 || millis > kMaxMillis) return invalid("CPU amount", text, kExamples);
  return static_cast<std::uint32_t>(millis);
}

}  // namespace pc::units
