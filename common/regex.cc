#include "common/regex.h"

#include <re2/re2.h>

#include <array>
#include <atomic>

namespace cairn {

namespace {

constexpr size_t kCodeCount = 4;
std::array<std::atomic<uint64_t>, kCodeCount> g_refused{};

// Go's regexp/syntax error texts for each RE2 parse error.
const char* go_error_text(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorBadEscape:
      return "invalid escape sequence";
    case RE2::ErrorBadCharClass:
      return "invalid character class";
    case RE2::ErrorBadCharRange:
      return "invalid character class range";
    case RE2::ErrorMissingBracket:
      return "missing closing ]";
    case RE2::ErrorMissingParen:
      return "missing closing )";
    case RE2::ErrorUnexpectedParen:
      return "unexpected )";
    case RE2::ErrorTrailingBackslash:
      return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument:
      return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize:
      return "invalid repeat count";
    case RE2::ErrorRepeatOp:
      return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp:
      return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8:
      return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture:
      return "invalid named capture";
    case RE2::ErrorPatternTooLarge:
      return "expression too large";
    default:
      return "regexp/syntax: internal error";
  }
}

std::string go_error(std::string_view what, std::string_view expr) {
  std::string out = "error parsing regexp: ";
  out += what;
  out += ": `";
  out += expr;
  out += '`';
  return out;
}

bool refuse(RegexError& error, RegexError::Code code, std::string message) {
  error.code = code;
  error.message = std::move(message);
  g_refused[static_cast<size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  return false;
}

// The two places where RE2's syntax and Go's differ for patterns people write: Go (1.22+)
// also spells a named group "(?<name>...)", which this RE2 only knows as "(?P<name>...)", and
// Go has no "\C" (any byte), which RE2 accepts. Rewrites the first and refuses the second,
// walking the pattern as Go's parser would: escapes, \Q...\E literals and classes are skipped.
bool go_to_re2(std::string_view pattern, std::string& out, RegexError& error) {
  out.clear();
  out.reserve(pattern.size() + 8);
  size_t i = 0;
  bool in_class = false;
  while (i < pattern.size()) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[i + 1];
      if (next == 'C')
        return refuse(error, RegexError::Code::syntax, go_error("invalid escape sequence", "\\C"));
      if (next == 'Q' && !in_class) {  // literal text up to \E (or the end)
        size_t end = pattern.find("\\E", i + 2);
        end = end == std::string_view::npos ? pattern.size() : end + 2;
        out.append(pattern.substr(i, end - i));
        i = end;
        continue;
      }
      out.append(pattern.substr(i, 2));
      i += 2;
      continue;
    }
    if (in_class) {
      if (c == '[' && pattern.substr(i, 2) == "[:") {  // [:alpha:] inside a class
        size_t end = pattern.find(":]", i + 2);
        if (end != std::string_view::npos) {
          out.append(pattern.substr(i, end + 2 - i));
          i = end + 2;
          continue;
        }
      }
      if (c == ']') in_class = false;
      out += c;
      ++i;
      continue;
    }
    if (c == '[') {
      // A "]" right after "[" or "[^" is a literal, not the end of the class.
      size_t j = i + 1;
      if (j < pattern.size() && pattern[j] == '^') ++j;
      if (j < pattern.size() && pattern[j] == ']') ++j;
      out.append(pattern.substr(i, j - i));
      i = j;
      in_class = true;
      continue;
    }
    if (pattern.substr(i, 3) == "(?<" && i + 3 < pattern.size() && pattern[i + 3] != '=' &&
        pattern[i + 3] != '!') {
      out += "(?P<";
      i += 3;
      continue;
    }
    out += c;
    ++i;
  }
  return true;
}

}  // namespace

Regex::Regex(std::string pattern, std::unique_ptr<re2::RE2> re)
    : pattern_(std::move(pattern)), re_(std::move(re)) {}

Regex::~Regex() = default;

std::unique_ptr<const Regex> Regex::compile(std::string_view pattern, RegexError& error) {
  error = {};
  if (pattern.size() > kMaxPatternBytes) {
    refuse(
        error, RegexError::Code::too_long,
        "error parsing regexp: pattern longer than " + std::to_string(kMaxPatternBytes) + " bytes");
    return nullptr;
  }
  std::string re2_pattern;
  if (!go_to_re2(pattern, re2_pattern, error)) return nullptr;

  RE2::Options options;
  options.set_log_errors(false);  // hostile patterns must not flood the log; callers report
  options.set_max_mem(kMaxMemoryBytes);
  auto re = std::make_unique<re2::RE2>(re2_pattern, options);
  if (!re->ok()) {
    const RE2::ErrorCode code = re->error_code();
    if (code == RE2::ErrorPatternTooLarge) {
      refuse(error, RegexError::Code::too_large, go_error("expression too large", pattern));
    } else {
      // RE2 names the offending piece, as Go does, except where Go shows the whole pattern.
      std::string_view arg = re->error_arg();
      if (code == RE2::ErrorBadUTF8) arg = pattern;
      refuse(error, RegexError::Code::syntax, go_error(go_error_text(code), arg));
    }
    return nullptr;
  }
  if (re->ProgramSize() > kMaxProgramSize) {
    refuse(error, RegexError::Code::too_large, go_error("expression too large", pattern));
    return nullptr;
  }
  return std::unique_ptr<const Regex>(new Regex(std::string(pattern), std::move(re)));
}

bool Regex::search(std::string_view subject) const {
  return re_->Match(re2::StringPiece(subject.data(), subject.size()), 0, subject.size(),
                    RE2::UNANCHORED, nullptr, 0);
}

bool Regex::search_groups(std::string_view subject, std::vector<std::string>& groups) const {
  groups.clear();
  const int n = re_->NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> found(static_cast<size_t>(n));
  if (!re_->Match(re2::StringPiece(subject.data(), subject.size()), 0, subject.size(),
                  RE2::UNANCHORED, found.data(), n))
    return false;
  groups.reserve(found.size());
  for (const re2::StringPiece& g : found)
    groups.emplace_back(g.data() ? std::string(g.data(), g.size()) : std::string());
  return true;
}

uint64_t Regex::refused(RegexError::Code code) {
  return g_refused[static_cast<size_t>(code)].load(std::memory_order_relaxed);
}

}  // namespace cairn
