// Go's time.Duration text form, which Consul uses everywhere ("10s", "1m30s",
// "500ms"): parsing and printing byte-compatible with Go.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn {

using Nanos = int64_t;
inline constexpr Nanos kMillisecond = 1'000'000;
inline constexpr Nanos kSecond = 1'000'000'000;
inline constexpr Nanos kMinute = 60 * kSecond;
inline constexpr Nanos kHour = 60 * kMinute;

// time.ParseDuration: "300ms", "-1.5h", "2h45m"; units ns us µs ms s m h; "0" alone is allowed.
std::optional<Nanos> parse_duration(std::string_view text);
// The error time.ParseDuration gives for text that parse_duration refuses, word
// for word: clients match on it (`time: invalid duration "x"`, `time: missing
// unit in duration "1"`, `time: unknown unit "d" in duration "1d"`).
std::string duration_error(std::string_view text);
// time.Duration.String(): "1h2m3.5s", "10s", "1.5µs", "0s".
std::string format_duration(Nanos d);

}  // namespace cairn
