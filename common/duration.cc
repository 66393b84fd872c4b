#include "common/duration.h"

#include <limits>

namespace cairn {

std::optional<Nanos> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  // Accumulate in unsigned nanoseconds with overflow checks, as Go does.
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t total = 0;
  while (!s.empty()) {
    uint64_t whole = 0;
    size_t i = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (whole > (kMax - 9) / 10) return std::nullopt;
      whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
      ++i;
      digits = true;
    }
    uint64_t frac = 0;
    uint64_t scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (scale < 1'000'000'000'000'000ULL) {
          frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
          scale *= 10;
        }
        ++i;
        digits = true;
      }
    }
    if (!digits) return std::nullopt;
    size_t u = i;
    while (u < s.size() && s[u] != '.' && (s[u] < '0' || s[u] > '9')) ++u;
    std::string_view unit = s.substr(i, u - i);
    uint64_t mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mult = 1'000;
    else if (unit == "ms") mult = 1'000'000;
    else if (unit == "s") mult = 1'000'000'000;
    else if (unit == "m") mult = 60'000'000'000ULL;
    else if (unit == "h") mult = 3'600'000'000'000ULL;
    else return std::nullopt;  // missing or unknown unit
    if (whole > kMax / mult) return std::nullopt;
    uint64_t v = whole * mult;
    if (frac > 0) {
      long double f = static_cast<long double>(frac) * static_cast<long double>(mult) /
                      static_cast<long double>(scale);
      v += static_cast<uint64_t>(f);
      if (v > kMax) return std::nullopt;
    }
    total += v;
    if (total > kMax) return std::nullopt;
    s.remove_prefix(u);
  }
  return neg ? -static_cast<Nanos>(total) : static_cast<Nanos>(total);
}

namespace {

// Go's time.quote: bytes outside printable ASCII become \xNN, '"' and '\\' are escaped.
std::string go_time_quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x80 || c < ' ') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += static_cast<char>(c);
  }
  return out + "\"";
}

bool is_duration_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_known_duration_unit(std::string_view u) {
  return u == "ns" || u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs" || u == "ms" || u == "s" ||
         u == "m" || u == "h";
}

}  // namespace

std::string duration_error(std::string_view orig) {
  // Walks the text as Go's ParseDuration does and names the first fault it
  // would report; anything else (overflow) is Go's generic "invalid duration".
  const std::string invalid = "time: invalid duration " + go_time_quote(orig);
  std::string_view s = orig;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return invalid;
  while (!s.empty()) {
    if (!(s[0] == '.' || is_duration_digit(s[0]))) return invalid;
    size_t i = 0;
    while (i < s.size() && is_duration_digit(s[i])) ++i;
    bool pre = i > 0;
    bool post = false;
    if (i < s.size() && s[i] == '.') {
      size_t f = ++i;
      while (i < s.size() && is_duration_digit(s[i])) ++i;
      post = i > f;
    }
    if (!pre && !post) return invalid;
    size_t u = i;
    while (u < s.size() && s[u] != '.' && !is_duration_digit(s[u])) ++u;
    if (u == i) return "time: missing unit in duration " + go_time_quote(orig);
    std::string_view unit = s.substr(i, u - i);
    if (!is_known_duration_unit(unit))
      return "time: unknown unit " + go_time_quote(unit) + " in duration " + go_time_quote(orig);
    s.remove_prefix(u);
  }
  return invalid;
}

namespace {

// Writes v/10^prec with trailing zeros of the fraction removed, like Go's fmtFrac+fmtInt.
void append_frac(std::string& out, uint64_t& v, int prec) {
  std::string digits;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    uint64_t digit = v % 10;
    print = print || digit != 0;
    if (print) digits.insert(digits.begin(), static_cast<char>('0' + digit));
    v /= 10;
  }
  if (print) out.insert(0, "." + digits);
}

}  // namespace

std::string format_duration(Nanos d) {
  if (d == 0) return "0s";
  bool neg = d < 0;
  uint64_t u = neg ? -static_cast<uint64_t>(d) : static_cast<uint64_t>(d);
  std::string out;  // built right to left
  if (u < 1'000'000'000ULL) {
    int prec;
    std::string unit;
    if (u < 1'000) {
      return (neg ? "-" : "") + std::to_string(u) + "ns";
    } else if (u < 1'000'000) {
      prec = 3;
      unit = "\xC2\xB5s";
    } else {
      prec = 6;
      unit = "ms";
    }
    append_frac(out, u, prec);
    out = std::to_string(u) + out + unit;
  } else {
    append_frac(out, u, 9);
    std::string tail = std::to_string(u % 60) + out + "s";
    u /= 60;
    if (u > 0) {
      tail = std::to_string(u % 60) + "m" + tail;
      u /= 60;
      if (u > 0) tail = std::to_string(u) + "h" + tail;
    }
    out = tail;
  }
  return (neg ? "-" : "") + out;
}

}  // namespace cairn
