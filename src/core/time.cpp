#include "core/time.hpp"

#include <charconv>
#include <cstdio>
#include <limits>

namespace pc::time {
namespace {
namespace chr = std::chrono;

Error malformed(std::string_view text) {
  return fail(Errc::kMalformed, "\"" + std::string(text.substr(0, 64)) +
                                    "\" is not an RFC 3339 time (like 2026-12-02T10:00:00Z)");
}

// Reads exactly `len` decimal digits at `pos`.
bool digits(std::string_view t, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > t.size()) {
    return false;
  }
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (t[i] < '0' || t[i] > '9') {
      return false;
    }
  }
  std::from_chars(t.data() + pos, t.data() + pos + len, out);
  return true;
}

struct Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::int64_t nanos = 0;
  std::int64_t offsetSeconds = 0;
};

bool readDateTime(std::string_view t, Fields& f) {
  const bool separator = t.size() > 10 && (t[10] == 'T' || t[10] == 't' || t[10] == ' ');
  return digits(t, 0, 4, f.year) && t.size() > 4 && t[4] == '-' && digits(t, 5, 2, f.month) &&
         t.size() > 7 && t[7] == '-' && digits(t, 8, 2, f.day) && separator &&
         digits(t, 11, 2, f.hour) && t.size() > 13 && t[13] == ':' && digits(t, 14, 2, f.minute) &&
         t.size() > 16 && t[16] == ':' && digits(t, 17, 2, f.second) && f.hour <= 23 &&
         f.minute <= 59 && f.second <= 60;
}

// The fraction after the seconds (if any), then the zone; `pos` starts after the seconds.
bool readFractionAndZone(std::string_view t, std::size_t pos, Fields& f) {
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int count = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (count < 9) {
        f.nanos = f.nanos * 10 + (t[pos] - '0');
        ++count;
      }
      ++pos;
    }
    if (count == 0) {
      return false;
    }
    for (; count < 9; ++count) {
      f.nanos *= 10;
    }
  }
  if (pos + 1 == t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    return true;
  }
  int oh = 0;
  int om = 0;
  if (pos + 6 != t.size() || (t[pos] != '+' && t[pos] != '-') || t[pos + 3] != ':' ||
      !digits(t, pos + 1, 2, oh) || !digits(t, pos + 4, 2, om) || oh > 23 || om > 59) {
    return false;
  }
  f.offsetSeconds = (t[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  return true;
}

}  // namespace

std::int64_t unixMillisNow() { return toUnixMillis(chr::system_clock::now()); }

std::int64_t toUnixMillis(SystemTime t) {
  return chr::floor<chr::milliseconds>(t.time_since_epoch()).count();
}

SystemTime fromUnixMillis(std::int64_t unixMs) {
  return SystemTime(chr::duration_cast<SystemTime::duration>(chr::milliseconds(unixMs)));
}

std::string formatRfc3339(SystemTime t, Precision precision) {
  const auto ms = chr::floor<chr::milliseconds>(t);
  const auto day = chr::floor<chr::days>(ms);
  const chr::year_month_day ymd(day);
  const chr::hh_mm_ss hms(ms - day);
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", int(ymd.year()),
                        unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                        int(hms.minutes().count()), int(hms.seconds().count()));
  if (precision == Precision::kMillis) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%03d",
                       int(hms.subseconds().count()));
  }
  return std::string(buf, static_cast<std::size_t>(n)) + "Z";
}

Result<SystemTime> parseRfc3339(std::string_view text) {
  Fields f;
  if (!readDateTime(text, f) || !readFractionAndZone(text, 19, f)) {
    return malformed(text);
  }
  const chr::year_month_day ymd{chr::year(f.year), chr::month(static_cast<unsigned>(f.month)),
                                chr::day(static_cast<unsigned>(f.day))};
  if (!ymd.ok()) {
    return malformed(text);
  }
  // Seconds since the epoch fit easily in 64 bits for 4-digit years; the clock's own duration
  // (nanoseconds on Linux) may not, so the range is checked before converting.
  const std::int64_t secs = chr::sys_days(ymd).time_since_epoch().count() * 86400 + f.hour * 3600 +
                            f.minute * 60 + f.second - f.offsetSeconds;
  using Rep = SystemTime::duration::rep;
  constexpr auto kPerSecond = SystemTime::duration::period::den / SystemTime::duration::period::num;
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<Rep>::max() / kPerSecond - 1;
  if (secs > kMaxSeconds || secs < -kMaxSeconds) {
    return fail(Errc::kTooLarge, "\"" + std::string(text.substr(0, 64)) +
                                     "\" is outside the range of the system clock");
  }
  return SystemTime(chr::seconds(secs)) +
         chr::duration_cast<SystemTime::duration>(chr::nanoseconds(f.nanos));
}

}  // namespace pc::time
