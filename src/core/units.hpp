#pragma once
/// Human-friendly quantities on the command line and in config files: byte sizes ("256M",
/// "4G", "1.5GiB", "1048576"), durations ("30s", "5m", "1h30m", "250ms") and CPU amounts
/// ("0.5" cores → 500 millicores, "1500m" → 1500 millicores).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace pc::units {

/// Bytes from "<number>[unit]" with units B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB (all binary,
/// as `docker run --memory` reads them; case-insensitive). Errors: kInvalidArgument naming the
/// text, kTooLarge past 2^53.
Result<std::uint64_t> parseBytes(std::string_view text);
/// "256 MiB", "4 GiB", "1.5 GiB", "512 B".
std::string formatBytes(std::uint64_t bytes);

/// A duration from one or more "<number><unit>" parts (ms, s, m, h, d) or a bare number of
/// seconds. Errors: kInvalidArgument.
Result<std::chrono::milliseconds> parseDuration(std::string_view text);

/// Millicores from cores ("0.5", "2") or millicores ("500m"). Errors: kInvalidArgument for
/// zero, negative, more than 3 decimals, or over 1,000,000 millicores.
Result<std::uint32_t> parseCpu(std::string_view text);

}  // namespace pc::units
