// Evaluates a parsed filter against one result element in its JSON form.
//
// go-bexpr evaluates against Go structs whose types it knows; here only the JSON is known, so
// its rules are applied by the JSON type found at each step (docs/compatibility.md):
// - a selector walks object keys, case-sensitively; a list on the way is searched for any
//   element that matches the rest (`Checks.Status == passing`: some check is passing);
// - a key that is missing, or a null, behaves as bexpr's missing map key: == in matches and
//   "is not empty" are false, their negations true;
// - the literal is coerced to the type of the field, as Go's strconv would: `Port == 0x50`,
//   `Flag == T`; if it cannot be (`Port == abc`), the values are simply not equal.
#pragma once

#include "agent/filter/ast.h"
#include "common/value.h"

namespace cairn::filter {

// Coerces the match's value and compiles its regex; done once, at parse time. Returns false
// and sets error (bexpr's wording) if the regex does not compile.
bool prepare_match(Match& match, std::string& error);

bool evaluate(const Node& node, const Value& item);

}  // namespace cairn::filter
