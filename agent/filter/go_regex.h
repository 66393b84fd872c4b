// Regular expressions written in Go's syntax (RE2, what `matches` takes in Consul), run by
// std::regex. The pattern is translated to an ECMAScript regex that means the same thing for
// ASCII text, and Go features std::regex lacks or gets wrong are rejected with an error rather
// than silently changing meaning (see docs/compatibility.md for the list).
//
// Safe on hostile patterns and subjects: patterns are capped in length and in compiled size,
// and matching uses libstdc++'s breadth-first executor, so time is O(subject x pattern) with
// stack depth independent of the subject (the default backtracking executor is exponential
// and recurses once per subject character).
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>

namespace cairn::filter {

class GoRegex {
 public:
  // Longest pattern accepted; go-bexpr's own default limit for a value.
  static constexpr size_t kMaxPatternBytes = 512;
  // Upper bound on the pattern's size once counted repetitions are expanded ("a{1000}" is
  // 1000, "(a*){10}" 20), which bounds the automaton and so the cost per subject byte: at
  // the limit, searching 4 KiB of text takes tens of milliseconds.
  static constexpr size_t kMaxExpandedAtoms = 1000;

  // On error returns nullptr and sets error to Go's wording ("error parsing regexp: ...").
  static std::unique_ptr<GoRegex> compile(std::string_view pattern, std::string& error);

  // Unanchored search, as Go's regexp.MatchString. Never throws.
  bool search(std::string_view subject) const;

 private:
  explicit GoRegex(std::regex re) : re_(std::move(re)) {}
  std::regex re_;
};

}  // namespace cairn::filter
