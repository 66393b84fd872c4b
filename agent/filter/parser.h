// The filter grammar of go-bexpr v0.1.x (the version Consul builds with), parsed the way its
// pigeon-generated PEG parser does: rule for rule, so that what parses is the same and a syntax
// error is the same text, e.g. `1:4 (3): no match found, expected: "in", "not" or [ \t\r\n]`
// or `1:10 (9): rule "grouping": Unmatched parentheses`.
//
// Unlike the generated parser it never re-parses a sub-expression it has already parsed at the
// same place (pigeon without memoization is exponential in the nesting depth), and it stops
// at kMaxNestingDepth levels of parentheses and "not".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/filter/ast.h"

namespace cairn::filter {

inline constexpr int kMaxNestingDepth = 64;

// Syntax only: values are left as text (no coercion, no regex compilation). On error returns
// nullopt and sets error to the parser's message, without bexpr's "Failed to create..." prefix.
// The text must be valid UTF-8.
std::optional<Node> parse_syntax(std::string_view text, std::string& error);

// "line:column (offset)" of a byte offset as pigeon reports it: columns count characters from
// 1, and a newline character itself counts as column 0 of the next line.
std::string pigeon_position(std::string_view text, size_t offset);

}  // namespace cairn::filter
