// Regular expressions as Consul's users write them: Go's syntax (RE2), matched by RE2 in time
// linear in the subject whatever the pattern. Every regex cairn evaluates goes through this
// class (event filters, Serf query tag filters, prepared-query templates, `?filter=` matches):
// patterns often arrive from the network, so none may cost more than a bounded amount to
// compile, to keep, or to run.
//
// A Regex is compiled once and is immutable afterwards; RE2 makes it safe to share between
// threads (the agent's DNS loops share prepared-query templates).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace cairn {

struct RegexError {
  enum class Code : uint8_t {
    none,
    too_long,   // the pattern is longer than Regex::kMaxPatternBytes
    syntax,     // not a valid Go regular expression
    too_large,  // valid, but compiles to more than Regex::kMaxProgramSize instructions
  };
  Code code = Code::none;
  // Go's wording, as Consul reports it: "error parsing regexp: missing closing ): `(abc`".
  std::string message;
};

class Regex {
 public:
  // Longest pattern accepted. Consul has no limit; real filters and templates are far shorter.
  static constexpr size_t kMaxPatternBytes = 1024;
  // Largest compiled program accepted, in RE2 instructions. Matching costs at most about this
  // many steps per subject byte, so the bound keeps one match of a node name or a tag under a
  // millisecond. "a{1000}" is 1004, "\pL+" about 1200, ".{1000}" 8004 (refused).
  static constexpr int kMaxProgramSize = 2500;
  // Memory RE2 may use for one regex (its program and its lazily built DFA cache). When the
  // DFA cache is full RE2 falls back to its NFA: slower, still linear.
  static constexpr int64_t kMaxMemoryBytes = 256 * 1024;

  // Compiles pattern with Go's semantics (leftmost-first, UTF-8, "." without "\n", "$" at the
  // end of text only, Perl classes ASCII-only). On error returns nullptr and fills error.
  static std::unique_ptr<const Regex> compile(std::string_view pattern, RegexError& error);

  // Unanchored search, as Go's regexp.MatchString.
  bool search(std::string_view subject) const;

  // The leftmost-first match and its groups, as Go's FindStringSubmatch: groups[0] is the whole
  // match, a group that did not take part is "". Returns false (groups emptied) on no match.
  bool search_groups(std::string_view subject, std::vector<std::string>& groups) const;

  const std::string& pattern() const { return pattern_; }

  // Patterns refused since the process started, by reason; /v1/agent/metrics reports them.
  static uint64_t refused(RegexError::Code code);

  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

 private:
  Regex(std::string pattern, std::unique_ptr<re2::RE2> re);
  std::string pattern_;  // as written (before the (?<name> spelling is rewritten for RE2)
  std::unique_ptr<re2::RE2> re_;
};

}  // namespace cairn
