#include "agent/filter/go_regex.h"

#include <algorithm>
#include <vector>

#include "agent/filter/go_strconv.h"

#if !defined(__GLIBCXX__)
#error "the filter's regex support needs libstdc++ (its breadth-first std::regex executor)"
#endif

namespace cairn::filter {

namespace {

constexpr uint32_t kMaxRepeatCount = 1000;  // Go rejects {n,m} counts above 1000

bool is_octal(char c) {
  return c >= '0' && c <= '7';
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_ascii_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string hex_escape(uint32_t byte) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("\\x") + kHex[(byte >> 4) & 0xF] + kHex[byte & 0xF];
}

// Rewrites a Go (RE2) pattern as an ECMAScript one with the same meaning. Everything is
// spelled out explicitly (\d as [0-9], "." as [^\n], literals as \xHH) because std::regex's
// shorthands depend on the locale and its "." also excludes \r, unlike Go's.
class Translator {
 public:
  explicit Translator(std::string_view pattern) : in_(pattern) {}

  bool run() {
    if (!leading_flags()) return false;
    weights_.push_back(0);
    while (i_ < in_.size()) {
      char c = in_[i_];
      bool ok = true;
      switch (c) {
        case '\\':
          ok = escape();
          break;
        case '[':
          ok = char_class();
          break;
        case '(':
          ok = open_group();
          break;
        case ')':
          ok = close_group();
          break;
        case '|':
          out_ += '|';
          ++i_;
          have_atom_ = false;
          break;
        case '*':
        case '+':
        case '?':
          ok = simple_repeat();
          break;
        case '{':
          ok = counted_repeat_or_brace();
          break;
        case '^':
        case '$':
          out_ += c;
          ++i_;
          have_atom_ = false;
          break;
        case '.':
          out_ += dot_all_ ? "[\\s\\S]" : "[^\\n]";
          ++i_;
          ok = atom(1);
          break;
        default:
          ok = literal();
          break;
      }
      if (!ok) return false;
    }
    if (weights_.size() > 1) return fail("missing closing ): `" + std::string(in_) + "`");
    return true;
  }

  const std::string& translated() const { return out_; }
  const std::string& error() const { return error_; }
  bool ignore_case() const { return ignore_case_; }
  bool multi_line() const { return multi_line_; }

 private:
  bool fail(std::string message) {
    error_ = "error parsing regexp: " + std::move(message);
    return false;
  }

  bool unsupported(std::string what) {
    error_ = "error parsing regexp: " + std::move(what) + " is not supported by cairn";
    return false;
  }

  // Counts the pattern's expanded size so "(a{1000}){1000}"-style blow-ups stop here.
  bool add_weight(size_t w) {
    weights_.back() += w;
    if (weights_.back() > GoRegex::kMaxExpandedAtoms) return fail("expression too large");
    return true;
  }

  bool atom(size_t weight) {
    have_atom_ = true;
    last_repeat_.clear();
    last_atom_weight_ = weight;
    return add_weight(weight);
  }

  // Flags are only honoured at the very start, where they apply to the whole pattern, since
  // std::regex has no scoped flags.
  bool leading_flags() {
    while (in_.substr(i_, 2) == "(?") {
      size_t j = i_ + 2;
      bool ignore_case = ignore_case_, multi_line = multi_line_, dot_all = dot_all_;
      while (j < in_.size() && (in_[j] == 'i' || in_[j] == 'm' || in_[j] == 's')) {
        if (in_[j] == 'i') ignore_case = true;
        if (in_[j] == 'm') multi_line = true;
        if (in_[j] == 's') dot_all = true;
        ++j;
      }
      if (j == i_ + 2 || j >= in_.size() || in_[j] != ')') return true;  // not a flag group
      ignore_case_ = ignore_case;
      multi_line_ = multi_line;
      dot_all_ = dot_all;
      i_ = j + 1;
    }
    return true;
  }

  bool open_group() {
    size_t start = i_;
    if (in_.substr(i_, 2) == "(?") {
      if (in_.substr(i_, 3) == "(?:") {
        i_ += 3;
      } else if (in_.substr(i_, 4) == "(?P<" ||
                 (in_.substr(i_, 3) == "(?<" && in_.substr(i_, 4) != "(?<=" &&
                  in_.substr(i_, 4) != "(?<!")) {
        size_t j = i_ + (in_[i_ + 2] == 'P' ? 4 : 3);
        size_t name_start = j;
        while (j < in_.size() && (is_ascii_alnum(in_[j]) || in_[j] == '_')) ++j;
        if (j == name_start || j >= in_.size() || in_[j] != '>')
          return fail("invalid named capture: `" + std::string(in_.substr(start, j - start + 1)) +
                      "`");
        i_ = j + 1;
      } else {
        size_t j = i_ + 2;
        while (j < in_.size() &&
               (in_[j] == 'i' || in_[j] == 'm' || in_[j] == 's' || in_[j] == 'U' || in_[j] == '-'))
          ++j;
        if (j > i_ + 2 && j < in_.size() && (in_[j] == ')' || in_[j] == ':')) {
          std::string group(in_.substr(start, j - start + 1));
          if (group.find_first_of("U-") != std::string::npos)
            return unsupported("`" + group + "` (only the flags i, m and s are)");
          return unsupported("`" + group + "` (flags only apply at the start of the pattern)");
        }
        return fail("invalid or unsupported Perl syntax: `" + std::string(in_.substr(start, 3)) +
                    "`");
      }
    } else {
      ++i_;
    }
    out_ += "(?:";  // captures are never used; this keeps the executor's bookkeeping small
    weights_.push_back(0);
    have_atom_ = false;
    last_repeat_.clear();
    return true;
  }

  bool close_group() {
    if (weights_.size() == 1) return fail("unexpected ): `" + std::string(in_) + "`");
    size_t inner = weights_.back();
    weights_.pop_back();
    out_ += ')';
    ++i_;
    return atom(inner == 0 ? 1 : inner);
  }

  bool simple_repeat() {
    std::string op(1, in_[i_]);
    if (!have_atom_) return fail("missing argument to repetition operator: `" + op + "`");
    if (!last_repeat_.empty())
      return fail("invalid nested repetition operator: `" + last_repeat_ + op + "`");
    out_ += op;
    ++i_;
    if (i_ < in_.size() && in_[i_] == '?') {  // non-greedy
      out_ += '?';
      op += '?';
      ++i_;
    }
    last_repeat_ = op;
    last_atom_weight_ += 1;  // the repeat is a state of its own in the automaton
    return add_weight(1);
  }

  // {n}, {n,} and {n,m} repeat; any other "{" is a literal, as in Go.
  bool counted_repeat_or_brace() {
    size_t j = i_ + 1;
    auto number = [&](uint32_t& value) {
      size_t begin = j;
      value = 0;
      while (j < in_.size() && in_[j] >= '0' && in_[j] <= '9') {
        if (value <= kMaxRepeatCount) value = value * 10 + static_cast<uint32_t>(in_[j] - '0');
        ++j;
      }
      return j > begin;
    };
    uint32_t min = 0, max = 0;
    bool bounded = true;
    bool well_formed = number(min);
    if (well_formed) {
      max = min;
      if (j < in_.size() && in_[j] == ',') {
        ++j;
        bounded = number(max);
      }
      well_formed = j < in_.size() && in_[j] == '}';
    }
    if (!well_formed) {
      out_ += "\\{";
      ++i_;
      return atom(1);
    }
    std::string op(in_.substr(i_, j + 1 - i_));
    if (!have_atom_) return fail("missing argument to repetition operator: `" + op + "`");
    if (!last_repeat_.empty())
      return fail("invalid nested repetition operator: `" + last_repeat_ + op + "`");
    if (min > kMaxRepeatCount || (bounded && (max > kMaxRepeatCount || max < min)))
      return fail("invalid repeat count: `" + op + "`");
    out_ += op;
    i_ = j + 1;
    if (i_ < in_.size() && in_[i_] == '?') {
      out_ += '?';
      op += '?';
      ++i_;
    }
    // The automaton holds one copy of the atom per counted repetition.
    size_t copies = bounded ? max : min + 1;
    if (copies > 1 && !add_weight(last_atom_weight_ * (copies - 1))) return false;
    last_atom_weight_ *= copies > 1 ? copies : 1;
    last_repeat_ = op;
    return true;
  }

  bool literal() {
    unsigned char c = static_cast<unsigned char>(in_[i_]);
    if (c < 0x80) {
      ++i_;
      if (is_ascii_alnum(static_cast<char>(c)) || c == ' ' || c == '_') {
        out_ += static_cast<char>(c);
      } else {
        out_ += hex_escape(c);  // punctuation and controls: never special this way
      }
      return atom(1);
    }
    size_t n = utf8_sequence_length(in_, i_);
    if (n == 0) return fail("invalid UTF-8: `" + std::string(in_.substr(i_)) + "`");
    // Grouped so that a following repeat applies to the whole character, not its last byte.
    out_ += "(?:";
    out_.append(in_.substr(i_, n));
    out_ += ')';
    i_ += n;
    return atom(n);
  }

  bool emit_rune(uint32_t r) {
    if (r < 0x80) {
      out_ += hex_escape(r);
      return atom(1);
    }
    std::string bytes;
    append_utf8(bytes, r);
    out_ += "(?:" + bytes + ")";
    return atom(bytes.size());
  }

  // After a backslash (i_ at the escaped character): octal, hex and control escapes, or an
  // escaped punctuation character. Shared by escapes inside and outside classes.
  bool escaped_rune(uint32_t& r) {
    size_t start = i_ - 1;
    char e = in_[i_++];
    auto invalid = [&] {
      return fail("invalid escape sequence: `" + std::string(in_.substr(start, i_ - start)) + "`");
    };
    switch (e) {
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
        if (i_ >= in_.size() || !is_octal(in_[i_])) return invalid();  // a backreference
        [[fallthrough]];
      case '0':
        r = static_cast<uint32_t>(e - '0');
        for (int k = 0; k < 2 && i_ < in_.size() && is_octal(in_[i_]); ++k)
          r = r * 8 + static_cast<uint32_t>(in_[i_++] - '0');
        return true;
      case 'x': {
        if (i_ < in_.size() && in_[i_] == '{') {
          ++i_;
          r = 0;
          size_t digits = 0;
          while (i_ < in_.size() && in_[i_] != '}') {
            int h = hex_digit(in_[i_++]);
            if (h < 0) return invalid();
            r = r * 16 + static_cast<uint32_t>(h);
            if (r > 0x10FFFF) return invalid();
            ++digits;
          }
          if (i_ >= in_.size() || digits == 0) return invalid();
          ++i_;
          return true;
        }
        if (in_.size() - i_ < 2) {
          i_ = in_.size();
          return invalid();
        }
        int hi = hex_digit(in_[i_]), lo = hex_digit(in_[i_ + 1]);
        i_ += 2;
        if (hi < 0 || lo < 0) return invalid();
        r = static_cast<uint32_t>(hi * 16 + lo);
        return true;
      }
      case 'a':
        r = '\a';
        return true;
      case 'f':
        r = '\f';
        return true;
      case 't':
        r = '\t';
        return true;
      case 'n':
        r = '\n';
        return true;
      case 'r':
        r = '\r';
        return true;
      case 'v':
        r = '\v';
        return true;
      default:
        if (static_cast<unsigned char>(e) < 0x80 && !is_ascii_alnum(e)) {
          r = static_cast<unsigned char>(e);
          return true;
        }
        if (static_cast<unsigned char>(e) >= 0x80) {
          size_t n = utf8_sequence_length(in_, i_ - 1);
          if (n > 1) i_ += n - 1;
        }
        return invalid();
    }
  }

  bool escape() {
    ++i_;
    if (i_ >= in_.size()) return fail("trailing backslash at end of expression: ``");
    char e = in_[i_];
    switch (e) {
      case 'd':
        out_ += "[0-9]";
        ++i_;
        return atom(1);
      case 'D':
        out_ += "[^0-9]";
        ++i_;
        return atom(1);
      case 's':
        out_ += "[\\t\\n\\f\\r ]";
        ++i_;
        return atom(1);
      case 'S':
        out_ += "[^\\t\\n\\f\\r ]";
        ++i_;
        return atom(1);
      case 'w':
        out_ += "[0-9A-Za-z_]";
        ++i_;
        return atom(1);
      case 'W':
        out_ += "[^0-9A-Za-z_]";
        ++i_;
        return atom(1);
      case 'b':
      case 'B':
        out_ += '\\';
        out_ += e;
        ++i_;
        have_atom_ = false;
        return true;
      case 'A':
      case 'z':
        if (multi_line_) return unsupported(std::string("`\\") + e + "` with the m flag");
        out_ += e == 'A' ? '^' : '$';
        ++i_;
        have_atom_ = false;
        return true;
      case 'C':
        out_ += "[\\s\\S]";
        ++i_;
        return atom(1);
      case 'p':
      case 'P':
        return unsupported(std::string("Unicode class `\\") + e + "`");
      case 'Q': {
        ++i_;
        size_t end = in_.find("\\E", i_);
        std::string_view quoted = in_.substr(i_, end == std::string_view::npos ? end : end - i_);
        i_ = end == std::string_view::npos ? in_.size() : end + 2;
        for (size_t k = 0; k < quoted.size();) {
          size_t n = utf8_sequence_length(quoted, k);
          if (n == 0) return fail("invalid UTF-8: `" + std::string(quoted.substr(k)) + "`");
          if (n == 1) {
            if (!emit_rune(static_cast<unsigned char>(quoted[k]))) return false;
          } else {
            out_ += "(?:" + std::string(quoted.substr(k, n)) + ")";
            if (!atom(n)) return false;
          }
          k += n;
        }
        return true;
      }
      default: {
        uint32_t r;
        if (!escaped_rune(r)) return false;
        return emit_rune(r);
      }
    }
  }

  // One member of a class that stands for a single character: a literal or an escape.
  bool class_rune(uint32_t& r) {
    unsigned char c = static_cast<unsigned char>(in_[i_]);
    if (c == '\\') {
      ++i_;
      if (i_ >= in_.size()) return fail("trailing backslash at end of expression: ``");
      if (!escaped_rune(r)) return false;
    } else {
      r = c;
      ++i_;
    }
    // std::regex classes work on bytes, so a multi-byte character cannot be a member.
    if (r >= 0x80) return unsupported("a non-ASCII character in a character class");
    return true;
  }

  bool char_class() {
    size_t start = i_;
    std::string cls = "[";
    ++i_;
    if (i_ < in_.size() && in_[i_] == '^') {
      cls += '^';
      ++i_;
    }
    bool first = true;
    for (;;) {
      if (i_ >= in_.size())
        return fail("missing closing ]: `" + std::string(in_.substr(start)) + "`");
      char c = in_[i_];
      if (c == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      if (c == '[' && in_.substr(i_, 2) == "[:") {
        size_t close = in_.find(":]", i_ + 2);
        if (close != std::string_view::npos) {
          std::string name(in_.substr(i_ + 2, close - i_ - 2));
          static const char* const kNames[] = {"alnum", "alpha", "blank", "cntrl",
                                               "digit", "graph", "lower", "print",
                                               "punct", "space", "upper", "xdigit"};
          if (name == "word") {
            cls += "0-9A-Za-z_";
          } else if (name == "ascii") {
            cls += "\\x00-\\x7F";
          } else if (std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames)) {
            cls += "[:" + name + ":]";
          } else if (!name.empty() && name[0] == '^') {
            return unsupported("a negated POSIX class `[:" + name + ":]`");
          } else {
            return fail("invalid character class range: `[:" + name + ":]`");
          }
          i_ = close + 2;
          continue;
        }
      }
      if (c == '\\' && i_ + 1 < in_.size()) {
        char e = in_[i_ + 1];
        if (e == 'd' || e == 's' || e == 'w') {
          cls += e == 'd' ? "0-9" : e == 's' ? "\\t\\n\\f\\r " : "0-9A-Za-z_";
          i_ += 2;
          continue;
        }
        if (e == 'D' || e == 'S' || e == 'W' || e == 'p' || e == 'P')
          return unsupported(std::string("`\\") + e + "` inside a character class");
      }
      size_t member_start = i_;
      uint32_t lo;
      if (!class_rune(lo)) return false;
      if (i_ + 1 < in_.size() && in_[i_] == '-' && in_[i_ + 1] != ']') {
        ++i_;
        uint32_t hi;
        if (!class_rune(hi)) return false;
        if (hi < lo)
          return fail("invalid character class range: `" +
                      std::string(in_.substr(member_start, i_ - member_start)) + "`");
        cls += hex_escape(lo) + "-" + hex_escape(hi);
      } else {
        cls += hex_escape(lo);
      }
    }
    out_ += cls + "]";
    return atom(1);
  }

  std::string_view in_;
  size_t i_ = 0;
  std::string out_;
  std::string error_;
  bool ignore_case_ = false;
  bool multi_line_ = false;
  bool dot_all_ = false;
  std::vector<size_t> weights_;  // expanded size of each open group, outermost first
  size_t last_atom_weight_ = 0;
  bool have_atom_ = false;   // something a repeat operator could apply to
  std::string last_repeat_;  // the repeat just applied, to reject "a**" as Go does
};

}  // namespace

std::unique_ptr<GoRegex> GoRegex::compile(std::string_view pattern, std::string& error) {
  if (pattern.size() > kMaxPatternBytes) {
    error = "error parsing regexp: pattern is " + std::to_string(pattern.size()) +
            " bytes long, the limit is " + std::to_string(kMaxPatternBytes);
    return nullptr;
  }
  Translator t(pattern);
  if (!t.run()) {
    error = t.error();
    return nullptr;
  }
  // Searching is matching the whole subject against .*(re).*, which the breadth-first
  // executor does in one pass (regex_search would restart it at every offset).
  std::string wrapped = "[\\s\\S]*(?:" + t.translated() + ")[\\s\\S]*";
  auto flags = std::regex::ECMAScript | std::regex::nosubs | std::regex_constants::__polynomial;
  if (t.ignore_case()) flags |= std::regex::icase;
  if (t.multi_line()) flags |= std::regex::multiline;
  try {
    return std::unique_ptr<GoRegex>(new GoRegex(std::regex(wrapped, flags)));
  } catch (const std::exception& e) {
    error = std::string("error parsing regexp: ") + e.what();
    return nullptr;
  }
}

bool GoRegex::search(std::string_view subject) const {
  try {
    return std::regex_match(subject.begin(), subject.end(), re_);
  } catch (...) {
    return false;  // std::regex may only fail on resource exhaustion here
  }
}

}  // namespace cairn::filter
