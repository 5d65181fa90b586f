#pragma once
/// Wall-clock time as the project writes and reads it: unix milliseconds (the wire protocol) and
/// RFC 3339 text in UTC (files, logs, the command line, the container engine's API).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace pc::time {

using SystemTime = std::chrono::system_clock::time_point;

/// Unix milliseconds now (system clock, UTC).
std::int64_t unixMillisNow();
/// `t` as unix milliseconds (rounded toward negative infinity).
std::int64_t toUnixMillis(SystemTime t);
/// The time `unixMs` milliseconds after the epoch.
SystemTime fromUnixMillis(std::int64_t unixMs);

enum class Precision {
  kSeconds,  ///< "2026-12-02T10:00:00Z"
  kMillis    ///< "2026-12-02T10:00:00.123Z"
};

/// `t` in RFC 3339 form, UTC ("Z"), truncated to `precision`. Times are rounded toward the past,
/// also before 1970, so the text never names a moment later than `t`.
std::string formatRfc3339(SystemTime t, Precision precision = Precision::kSeconds);

/// Parses RFC 3339 date-time text: "YYYY-MM-DD" 'T' "HH:MM:SS", an optional fraction of any
/// length (digits past nanoseconds are dropped), then "Z" or a "+HH:MM" / "-HH:MM" offset. Also
/// accepted, as RFC 3339 §5.6 allows: lower-case 't' and 'z', and a space for 'T'. A leap second
/// (":60") reads as the next second. Errors: Errc::kMalformed for anything else (an invalid date
/// such as February 30 included), Errc::kTooLarge for a time the system clock cannot represent
/// (about 1678..2261 with nanosecond clocks; Go's zero time "0001-01-01T00:00:00Z" is one).
Result<SystemTime> parseRfc3339(std::string_view text);

}  // namespace pc::time
