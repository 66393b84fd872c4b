#include "agent/filter/go_strconv.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using namespace cairn::filter;

TEST_CASE("go_unquote expands Go escapes in double-quoted literals") {
  CHECK(go_unquote(R"("plain")") == "plain");
  CHECK(go_unquote(R"("")") == "");
  CHECK(go_unquote(R"("a\tb\nc\\d")") == "a\tb\nc\\d");
  CHECK(go_unquote(R"("\x41\101\u00e9\U0001F600")") == "AA\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(go_unquote(R"("\a\b\f\r\v")") == "\a\b\f\r\v");
  CHECK(go_unquote(R"("\xff")") == std::string("\xff"));  // \x is a byte, not a code point
  CHECK(go_unquote("\"caf\xC3\xA9\"") == "caf\xC3\xA9");
}

TEST_CASE("go_unquote rejects what strconv.Unquote rejects") {
  CHECK_FALSE(go_unquote(R"("\q")"));
  CHECK_FALSE(go_unquote(R"("\'")"));      // only valid in rune literals
  CHECK_FALSE(go_unquote(R"("\x4")"));     // two hex digits needed
  CHECK_FALSE(go_unquote(R"("\400")"));    // octal above 255
  CHECK_FALSE(go_unquote(R"("\12")"));     // three octal digits needed
  CHECK_FALSE(go_unquote(R"("\ud800")"));  // surrogate
  CHECK_FALSE(go_unquote(R"("\U00110000")"));
  CHECK_FALSE(go_unquote("\"a\nb\""));  // raw newline
  CHECK_FALSE(go_unquote(R"("trailing\")"));
  CHECK_FALSE(go_unquote("\"\xff\""));  // invalid UTF-8
  CHECK_FALSE(go_unquote("'x'"));
  CHECK_FALSE(go_unquote("\""));
}

TEST_CASE("go_unquote keeps raw strings as written, less carriage returns") {
  CHECK(go_unquote(R"(`a\nb`)") == R"(a\nb)");
  CHECK(go_unquote("`a\r\nb`") == "a\nb");
  CHECK(go_unquote("``") == "");
}

TEST_CASE("go_quote prints like Go's %q") {
  CHECK(go_quote("abc") == R"("abc")");
  CHECK(go_quote("a\"b\\c") == R"("a\"b\\c")");
  CHECK(go_quote("\n\t\x01\x7f") == R"("\n\t\x01\x7f")");
  CHECK(go_quote("caf\xC3\xA9") == "\"caf\xC3\xA9\"");
  CHECK(go_quote("\xff") == R"("\xff")");
  CHECK(go_quote("\xC2\x85") == R"("\u0085")");
}

TEST_CASE("go_parse_int follows strconv.ParseInt with base 0") {
  CHECK(go_parse_int("8080") == 8080);
  CHECK(go_parse_int("-42") == -42);
  CHECK(go_parse_int("+7") == 7);
  CHECK(go_parse_int("0x1F") == 31);
  CHECK(go_parse_int("0X1f") == 31);
  CHECK(go_parse_int("0o17") == 15);
  CHECK(go_parse_int("017") == 15);
  CHECK(go_parse_int("0b101") == 5);
  CHECK(go_parse_int("0") == 0);
  CHECK(go_parse_int("1_000") == 1000);
  CHECK(go_parse_int("0x_1F") == 31);
  CHECK(go_parse_int("9223372036854775807") == std::numeric_limits<int64_t>::max());
  CHECK(go_parse_int("-9223372036854775808") == std::numeric_limits<int64_t>::min());
  CHECK_FALSE(go_parse_int("9223372036854775808"));
  CHECK_FALSE(go_parse_int(""));
  CHECK_FALSE(go_parse_int("-"));
  CHECK_FALSE(go_parse_int("08"));
  CHECK_FALSE(go_parse_int("0x"));
  CHECK_FALSE(go_parse_int("1.5"));
  CHECK_FALSE(go_parse_int("_1"));
  CHECK_FALSE(go_parse_int("1__0"));
  CHECK_FALSE(go_parse_int("1_"));
  CHECK_FALSE(go_parse_int("abc"));
  CHECK_FALSE(go_parse_int(" 1"));
}

TEST_CASE("go_parse_uint takes no sign and the full 64 bits") {
  CHECK(go_parse_uint("18446744073709551615") == std::numeric_limits<uint64_t>::max());
  CHECK_FALSE(go_parse_uint("18446744073709551616"));
  CHECK_FALSE(go_parse_uint("+1"));
  CHECK_FALSE(go_parse_uint("-1"));
}

TEST_CASE("go_parse_bool accepts exactly strconv.ParseBool's words") {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) CHECK(go_parse_bool(t) == true);
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) CHECK(go_parse_bool(f) == false);
  for (const char* bad : {"", "yes", "tRUE", "2", "on"}) CHECK_FALSE(go_parse_bool(bad));
}

TEST_CASE("go_parse_float follows strconv.ParseFloat for decimal text") {
  CHECK(go_parse_float("1.5") == 1.5);
  CHECK(go_parse_float("-0.25") == -0.25);
  CHECK(go_parse_float("1e3") == 1000.0);
  CHECK(go_parse_float(".5") == 0.5);
  CHECK(go_parse_float("5.") == 5.0);
  CHECK(go_parse_float("1_000.5") == 1000.5);
  CHECK(go_parse_float("+Inf") == std::numeric_limits<double>::infinity());
  CHECK(std::isnan(*go_parse_float("NaN")));
  CHECK_FALSE(go_parse_float("1e400"));  // out of range is an error in Go
  CHECK_FALSE(go_parse_float(""));
  CHECK_FALSE(go_parse_float("1e"));
  CHECK_FALSE(go_parse_float("--1"));
  CHECK_FALSE(go_parse_float("abc"));
  CHECK_FALSE(go_parse_float("1.5x"));
}

TEST_CASE("utf8 helpers reject what Go's utf8 package rejects") {
  CHECK(first_invalid_utf8("ascii \xC3\xA9 \xF0\x9F\x98\x80") == std::string_view::npos);
  CHECK(first_invalid_utf8("ab\xff") == 2);
  CHECK(first_invalid_utf8("\xC0\x80") == 0);          // overlong
  CHECK(first_invalid_utf8("\xED\xA0\x80") == 0);      // surrogate
  CHECK(first_invalid_utf8("\xF4\x90\x80\x80") == 0);  // above U+10FFFF
  CHECK(first_invalid_utf8("x\xE2\x82") == 1);         // truncated
  std::string s;
  append_utf8(s, 0x1F600);
  CHECK(s == "\xF0\x9F\x98\x80");
}
