#include "agent/filter/evaluate.h"

#include "agent/filter/go_strconv.h"

namespace cairn::filter {

namespace {

bool is_text(const Value& v) {
  return v.kind == Value::Kind::string || v.kind == Value::Kind::scalar;
}

bool negated(MatchOp op) {
  return op == MatchOp::not_equal || op == MatchOp::not_in || op == MatchOp::is_not_empty ||
         op == MatchOp::not_matches;
}

// The literal equals a field value once coerced to the field's type.
bool equals(const Match& m, const Value& v) {
  switch (v.kind) {
    case Value::Kind::string:
    case Value::Kind::scalar:
      return v.s == m.value;
    case Value::Kind::integer:
      if (m.as_int) return v.i == *m.as_int;
      return m.as_float && static_cast<double>(v.i) == *m.as_float;
    case Value::Kind::uinteger:
      if (m.as_uint) return v.u == *m.as_uint;
      return m.as_float && static_cast<double>(v.u) == *m.as_float;
    case Value::Kind::number:
      return m.as_float && v.d == *m.as_float;
    case Value::Kind::boolean:
      return m.as_bool && v.b == *m.as_bool;
    default:
      return false;  // null, list, object: never equal to a literal
  }
}

// "in" and "contains": a substring of text, an element of a list, a key of an object.
bool contains(const Match& m, const Value& v) {
  if (is_text(v)) return v.s.find(m.value) != std::string::npos;
  if (v.is_array()) {
    for (const Value& item : v.items)
      if (equals(m, item)) return true;
    return false;
  }
  if (v.is_object()) {
    for (const auto& [key, field] : v.fields)
      if (key == m.value) return true;
    return false;
  }
  return false;
}

bool is_empty(const Value& v) {
  switch (v.kind) {
    case Value::Kind::null:
      return true;
    case Value::Kind::string:
    case Value::Kind::scalar:
      return v.s.empty();
    case Value::Kind::array:
      return v.items.empty();
    case Value::Kind::object:
      return v.fields.empty();
    default:
      return false;  // a number or a boolean always holds something
  }
}

// The operator applied to the value the selector reached; nullptr when there is none.
bool apply(const Match& m, const Value* v) {
  if (v && v->kind == Value::Kind::null) v = nullptr;
  bool positive = false;
  switch (m.op) {
    case MatchOp::equal:
    case MatchOp::not_equal:
      positive = v && equals(m, *v);
      break;
    case MatchOp::in:
    case MatchOp::not_in:
      positive = v && contains(m, *v);
      break;
    case MatchOp::is_empty:
    case MatchOp::is_not_empty:
      positive = !v || is_empty(*v);
      break;
    case MatchOp::matches:
    case MatchOp::not_matches:
      positive = v && is_text(*v) && m.regex->search(v->s);
      break;
  }
  return negated(m.op) ? !positive : positive;
}

const Value* field(const Value& object, std::string_view key) {
  for (const auto& [k, v] : object.fields)
    if (k == key) return &v;  // exact: bexpr selectors are case-sensitive
  return nullptr;
}

// Follows selector[depth...] from v. A list met before the end is searched: the match holds
// if it holds for any element (an empty list holds nothing), as bexpr does for slices.
bool match_from(const Match& m, const Value& v, size_t depth) {
  if (depth == m.selector.size()) return apply(m, &v);
  if (v.is_object()) {
    const Value* next = field(v, m.selector[depth]);
    return next ? match_from(m, *next, depth + 1) : apply(m, nullptr);
  }
  if (v.is_array()) {
    for (const Value& item : v.items)
      if (match_from(m, item, depth)) return true;
    return false;
  }
  return apply(m, nullptr);  // null, or a scalar with no fields to select
}

}  // namespace

bool prepare_match(Match& m, std::string& error) {
  if (m.op == MatchOp::matches || m.op == MatchOp::not_matches) {
    RegexError why;
    auto re = Regex::compile(m.value, why);
    if (!re) {
      error = "Failed to compile regular expression " + go_quote(m.value) + ": " + why.message;
      return false;
    }
    m.regex = std::move(re);
    return true;
  }
  if (m.op == MatchOp::is_empty || m.op == MatchOp::is_not_empty) return true;
  m.as_int = go_parse_int(m.value);
  m.as_uint = go_parse_uint(m.value);
  m.as_float = go_parse_float(m.value);
  m.as_bool = go_parse_bool(m.value);
  return true;
}

bool evaluate(const Node& node, const Value& item) {
  switch (node.kind) {
    case Node::Kind::all_of:
      for (const Node& operand : node.operands)
        if (!evaluate(operand, item)) return false;
      return true;
    case Node::Kind::any_of:
      for (const Node& operand : node.operands)
        if (evaluate(operand, item)) return true;
      return false;
    case Node::Kind::negation:
      return !evaluate(node.operands.front(), item);
    case Node::Kind::match:
      return match_from(node.match, item, 0);
  }
  return false;
}

}  // namespace cairn::filter
