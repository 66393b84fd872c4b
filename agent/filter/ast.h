// The parsed form of a filter expression, shared by the parser and the evaluator.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/regex.h"

namespace cairn::filter {

// bexpr's match operators. "contains" parses as in and "not contains" as not_in: they are
// the same test with selector and value written the other way round.
enum class MatchOp : uint8_t {
  equal,
  not_equal,
  in,
  not_in,
  is_empty,
  is_not_empty,
  matches,
  not_matches,
};

struct Match {
  std::vector<std::string> selector;  // "Service.Meta[\"a.b\"]" is {"Service", "Meta", "a.b"}
  MatchOp op = MatchOp::equal;
  std::string value;  // as written, unquoted; empty for the emptiness checks

  // The value coerced once, at parse time, to each JSON type it may be compared with;
  // nullopt where Go's strconv would reject it for a field of that type.
  std::optional<int64_t> as_int;
  std::optional<uint64_t> as_uint;
  std::optional<double> as_float;
  std::optional<bool> as_bool;
  std::shared_ptr<const cairn::Regex> regex;  // for matches / not_matches
};

struct Node {
  enum class Kind : uint8_t { all_of, any_of, negation, match };
  Kind kind = Kind::match;
  std::vector<Node> operands;  // all_of and any_of: two or more; negation: one
  Match match;                 // Kind::match only
};

}  // namespace cairn::filter
