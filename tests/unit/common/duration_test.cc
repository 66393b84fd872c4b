#include "common/duration.h"

#include <doctest/doctest.h>

using namespace cairn;

TEST_CASE("parse_duration accepts Go's forms") {
  CHECK(parse_duration("10s") == 10 * kSecond);
  CHECK(parse_duration("1m30s") == 90 * kSecond);
  CHECK(parse_duration("500ms") == 500 * kMillisecond);
  CHECK(parse_duration("1.5h") == 90 * kMinute);
  CHECK(parse_duration("0") == 0);
  CHECK(parse_duration("-2s") == -2 * kSecond);
  CHECK(parse_duration("1us") == 1000);
  CHECK(parse_duration("1µs") == 1000);
  CHECK(parse_duration(".5s") == 500 * kMillisecond);
}

TEST_CASE("parse_duration rejects malformed text") {
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("10"));
  CHECK_FALSE(parse_duration("abc"));
  CHECK_FALSE(parse_duration("10x"));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("."));
  CHECK_FALSE(parse_duration("99999999999999999999h"));
}

TEST_CASE("format_duration matches Go's Duration.String") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(10 * kSecond) == "10s");
  CHECK(format_duration(90 * kSecond) == "1m30s");
  CHECK(format_duration(kHour + 2 * kMinute + 3500 * kMillisecond) == "1h2m3.5s");
  CHECK(format_duration(500 * kMillisecond) == "500ms");
  CHECK(format_duration(1500) == "1.5µs");
  CHECK(format_duration(15) == "15ns");
  CHECK(format_duration(-10 * kSecond) == "-10s");
  CHECK(format_duration(15 * kSecond) == "15s");
  CHECK(format_duration(72 * kHour) == "72h0m0s");
}

TEST_CASE("duration_error words refusals as Go's time.ParseDuration") {
  CHECK(duration_error("x") == "time: invalid duration \"x\"");
  CHECK(duration_error("") == "time: invalid duration \"\"");
  CHECK(duration_error("-") == "time: invalid duration \"-\"");
  CHECK(duration_error(".s") == "time: invalid duration \".s\"");
  CHECK(duration_error("10") == "time: missing unit in duration \"10\"");
  CHECK(duration_error("1s5") == "time: missing unit in duration \"1s5\"");
  CHECK(duration_error("1d") == "time: unknown unit \"d\" in duration \"1d\"");
  CHECK(duration_error("5sec") == "time: unknown unit \"sec\" in duration \"5sec\"");
  CHECK(duration_error("99999999999999999999h") ==
        "time: invalid duration \"99999999999999999999h\"");
  // Go escapes what is not printable ASCII, byte by byte.
  CHECK(duration_error("1\xC3\xA9") ==
        "time: unknown unit \"\\xc3\\xa9\" in duration \"1\\xc3\\xa9\"");
  CHECK(duration_error("\"q") == "time: invalid duration \"\\\"q\"");
}
