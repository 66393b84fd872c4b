#include "agent/filter/go_strconv.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace cairn::filter {

namespace {

char lower(char c) {
  return static_cast<char>(c | 0x20);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool valid_rune(uint32_t r) {
  return r <= 0x10FFFF && (r < 0xD800 || r > 0xDFFF);
}

// Go's underscoreOK: '_' only between digits, or between a base prefix and a digit.
bool underscores_ok(std::string_view s) {
  char saw = '^';  // ^ start, 0 digit or prefix, _ underscore, ! anything else
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    if ((c >= '0' && c <= '9') || (hex && hex_value(c) >= 0)) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

// One escape of a double-quoted literal, after the backslash (Go's UnquoteChar for '"').
bool unquote_escape(std::string_view s, size_t& i, std::string& out) {
  if (i >= s.size()) return false;
  char c = s[i++];
  switch (c) {
    case 'a':
      out += '\a';
      return true;
    case 'b':
      out += '\b';
      return true;
    case 'f':
      out += '\f';
      return true;
    case 'n':
      out += '\n';
      return true;
    case 'r':
      out += '\r';
      return true;
    case 't':
      out += '\t';
      return true;
    case 'v':
      out += '\v';
      return true;
    case '\\':
      out += '\\';
      return true;
    case '"':
      out += '"';
      return true;
    case 'x':
    case 'u':
    case 'U': {
      size_t digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
      if (s.size() - i < digits) return false;
      uint32_t v = 0;
      for (size_t j = 0; j < digits; ++j) {
        int h = hex_value(s[i + j]);
        if (h < 0) return false;
        v = (v << 4) | static_cast<uint32_t>(h);
      }
      i += digits;
      if (c == 'x') {
        out += static_cast<char>(v);  // a byte, not a code point
        return true;
      }
      if (!valid_rune(v)) return false;
      append_utf8(out, v);
      return true;
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      uint32_t v = static_cast<uint32_t>(c - '0');
      if (s.size() - i < 2) return false;
      for (size_t j = 0; j < 2; ++j) {
        char d = s[i + j];
        if (d < '0' || d > '7') return false;
        v = (v << 3) | static_cast<uint32_t>(d - '0');
      }
      i += 2;
      if (v > 255) return false;
      out += static_cast<char>(v);
      return true;
    }
    default:
      return false;  // includes \' which is only valid in rune literals
  }
}

}  // namespace

size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n;
  uint32_t r;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    r = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    r = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    r = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    r = (r << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && r < 0x800) || (n == 4 && (r < 0x10000 || r > 0x10FFFF))) return 0;
  if (r >= 0xD800 && r <= 0xDFFF) return 0;
  return n;
}

size_t first_invalid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence_length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

void append_utf8(std::string& out, uint32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

std::optional<std::string> go_unquote(std::string_view literal) {
  if (literal.size() < 2) return std::nullopt;
  char quote = literal.front();
  if (literal.back() != quote || (quote != '"' && quote != '`')) return std::nullopt;
  std::string_view body = literal.substr(1, literal.size() - 2);
  std::string out;
  out.reserve(body.size());
  if (quote == '`') {
    if (body.find('`') != std::string_view::npos) return std::nullopt;
    if (first_invalid_utf8(body) != std::string_view::npos) return std::nullopt;
    for (char c : body)
      if (c != '\r') out += c;  // Go drops carriage returns from raw strings
    return out;
  }
  for (size_t i = 0; i < body.size();) {
    char c = body[i];
    if (c == '"' || c == '\n') return std::nullopt;
    if (c == '\\') {
      ++i;
      if (!unquote_escape(body, i, out)) return std::nullopt;
      continue;
    }
    size_t n = utf8_sequence_length(body, i);
    if (n == 0) return std::nullopt;
    out.append(body.substr(i, n));
    i += n;
  }
  return out;
}

std::string go_quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
      continue;
    }
    if (n > 1) {
      // C1 controls are not printable; everything else above ASCII is shown as is.
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if (c == 0xC2 && c1 < 0xA0) {
        out += "\\u00";
        out += kHex[c1 >> 4];
        out += kHex[c1 & 0xF];
      } else {
        out.append(s.substr(i, n));
      }
      i += n;
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\a':
        out += "\\a";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\v':
        out += "\\v";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

std::optional<uint64_t> go_parse_uint(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string_view whole = s;
  unsigned base = 10;
  if (s[0] == '0') {
    if (s.size() >= 3 && lower(s[1]) == 'b') {
      base = 2;
      s.remove_prefix(2);
    } else if (s.size() >= 3 && lower(s[1]) == 'o') {
      base = 8;
      s.remove_prefix(2);
    } else if (s.size() >= 3 && lower(s[1]) == 'x') {
      base = 16;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  uint64_t n = 0;
  bool underscores = false;
  for (char c : s) {
    if (c == '_') {
      underscores = true;
      continue;
    }
    int d = hex_value(c);
    if (d < 0 || static_cast<unsigned>(d) >= base) return std::nullopt;
    if (n > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) / base)
      return std::nullopt;
    n = n * base + static_cast<uint64_t>(d);
  }
  if (underscores && !underscores_ok(whole)) return std::nullopt;
  return n;
}

std::optional<int64_t> go_parse_int(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  auto magnitude = go_parse_uint(s);
  if (!magnitude) return std::nullopt;
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!negative) {
    if (*magnitude > kMaxPositive) return std::nullopt;
    return static_cast<int64_t>(*magnitude);
  }
  if (*magnitude > kMaxPositive + 1) return std::nullopt;
  if (*magnitude == kMaxPositive + 1) return std::numeric_limits<int64_t>::min();
  return -static_cast<int64_t>(*magnitude);
}

std::optional<bool> go_parse_bool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False")
    return false;
  return std::nullopt;
}

std::optional<double> go_parse_float(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  std::string_view unsigned_part = s;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    unsigned_part.remove_prefix(1);
  }
  std::string lowered;
  for (char c : unsigned_part) lowered += static_cast<char>(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
  if (lowered == "inf" || lowered == "infinity")
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  if (lowered == "nan") return std::numeric_limits<double>::quiet_NaN();
  // Decimal only: from_chars would also take "inf" spellings Go rejects, and hex floats
  // never appear in Consul data.
  std::string digits;
  for (char c : unsigned_part) {
    if (c == '_') continue;
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      return std::nullopt;
    digits += c;
  }
  if (digits.size() != unsigned_part.size() && !underscores_ok(s)) return std::nullopt;
  if (digits.empty() || digits[0] == '+' || digits[0] == '-') return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (std::isinf(v)) return std::nullopt;
  return negative ? -v : v;
}

}  // namespace cairn::filter
