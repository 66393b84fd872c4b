#include "agent/filter/parser.h"

#include <algorithm>
#include <initializer_list>
#include <utility>
#include <vector>

#include "agent/filter/go_strconv.h"

namespace cairn::filter {

namespace {

// The grammar's character classes, named by what they hold; text() is how pigeon lists each
// one among the expected tokens (its source text in grammar.peg).
enum class CharClass : uint8_t { whitespace, letter, identifier_char, nonzero_digit, digit };

const char* class_text(CharClass c) {
  switch (c) {
    case CharClass::whitespace:
      return "[ \\t\\r\\n]";
    case CharClass::letter:
      return "[a-zA-Z]";
    case CharClass::identifier_char:
      return "[a-zA-Z0-9_]";
    case CharClass::nonzero_digit:
      return "[1-9]";
    case CharClass::digit:
      return "[0-9]";
  }
  return "";
}

bool in_class(CharClass c, char ch) {
  bool letter = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
  bool digit = ch >= '0' && ch <= '9';
  switch (c) {
    case CharClass::whitespace:
      return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
    case CharClass::letter:
      return letter;
    case CharClass::identifier_char:
      return letter || digit || ch == '_';
    case CharClass::nonzero_digit:
      return ch >= '1' && ch <= '9';
    case CharClass::digit:
      return digit;
  }
  return false;
}

Node make_match(std::vector<std::string> selector, MatchOp op, std::string value) {
  Node n;
  n.kind = Node::Kind::match;
  n.match.selector = std::move(selector);
  n.match.op = op;
  n.match.value = std::move(value);
  return n;
}

// "not not x" is x, as bexpr folds it.
Node negate(Node operand) {
  if (operand.kind == Node::Kind::negation) return std::move(operand.operands.front());
  Node n;
  n.kind = Node::Kind::negation;
  n.operands.push_back(std::move(operand));
  return n;
}

Node combine(Node::Kind kind, std::vector<Node> operands) {
  if (operands.size() == 1) return std::move(operands.front());
  Node n;
  n.kind = kind;
  n.operands = std::move(operands);
  return n;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += separator;
    out += parts[i];
  }
  return out;
}

// Each rule function below is named after its grammar.peg rule and has the rule as its
// comment. A rule that fails leaves pos_ where it started.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  // Input <- _? "(" _? OrExpression _? ")" _? EOF / _? OrExpression _? EOF
  // The first alternative is a special case of the second that yields the same tree and
  // expects the same tokens, so only the second is run.
  std::optional<Node> parse(std::string& error) {
    Node root;
    optional_whitespace();
    bool ok = or_expression(root, 0);
    if (ok) {
      optional_whitespace();
      ok = at_end();
    }
    if (fatal_) {
      error = fatal_error_;
      return std::nullopt;
    }
    if (!errors_.empty()) {
      error = join(errors_, "\n");
      return std::nullopt;
    }
    if (ok) return root;
    error =
        pigeon_position(text_, max_fail_pos_) + ": no match found, expected: " + expected_list();
    return std::nullopt;
  }

 private:
  // ---- failure tracking, as pigeon's failAt: the tokens tried at the farthest offset ----

  bool tracked(bool matched, size_t pos) const {
    return matched == invert_ && pos >= max_fail_pos_;
  }

  void record(size_t pos, std::string_view want) {
    if (pos > max_fail_pos_) {
      max_fail_pos_ = pos;
      expected_.clear();
    }
    std::string entry = invert_ ? "!" + std::string(want) : std::string(want);
    if (std::find(expected_.begin(), expected_.end(), entry) == expected_.end())
      expected_.push_back(std::move(entry));
  }

  std::string expected_list() const {
    std::vector<std::string> items;
    bool eof = false;
    for (const auto& e : expected_) {
      if (e == "!.") {
        eof = true;
      } else {
        items.push_back(e);
      }
    }
    std::sort(items.begin(), items.end());
    if (eof) items.push_back("EOF");
    if (items.empty()) return "";
    if (items.size() == 1) return items[0];
    std::string out;
    for (size_t i = 0; i + 1 < items.size(); ++i) {
      if (i) out += ", ";
      out += items[i];
    }
    return out + " or " + items.back();
  }

  // An error raised by a rule's code: kept, and reported instead of "no match found".
  void add_error(size_t pos, std::string_view rule, std::string_view message) {
    std::string text =
        pigeon_position(text_, pos) + ": rule " + std::string(rule) + ": " + std::string(message);
    if (std::find(errors_.begin(), errors_.end(), text) == errors_.end())
      errors_.push_back(std::move(text));
  }

  bool enter(int depth) {
    if (depth <= kMaxNestingDepth) return true;
    if (!fatal_) {
      fatal_ = true;
      fatal_error_ = pigeon_position(text_, pos_) + ": expression nested too deeply (more than " +
                     std::to_string(kMaxNestingDepth) + " levels of parentheses and not)";
    }
    return false;
  }

  // ---- terminals ----

  bool literal(std::string_view s) {
    size_t start = pos_;
    bool matched = text_.substr(pos_, s.size()) == s;
    if (matched) pos_ += s.size();
    if (tracked(matched, start)) record(start, go_quote(s));
    return matched;
  }

  bool char_class(CharClass c) {
    size_t start = pos_;
    bool matched = pos_ < text_.size() && in_class(c, text_[pos_]);
    if (matched) ++pos_;
    if (tracked(matched, start)) record(start, class_text(c));
    return matched;
  }

  bool any_char() {
    size_t start = pos_;
    bool matched = pos_ < text_.size();
    if (matched) pos_ += std::max<size_t>(1, utf8_sequence_length(text_, pos_));
    if (tracked(matched, start)) record(start, ".");
    return matched;
  }

  // !"s": succeeds where s does not match, consuming nothing.
  bool not_literal(std::string_view s) {
    size_t start = pos_;
    invert_ = !invert_;
    bool matched = literal(s);
    invert_ = !invert_;
    pos_ = start;
    return !matched;
  }

  // EOF <- !.
  bool at_end() {
    size_t start = pos_;
    invert_ = !invert_;
    bool matched = any_char();
    invert_ = !invert_;
    pos_ = start;
    return !matched;
  }

  // _ "whitespace" <- [ \t\r\n]+
  bool whitespace() {
    if (!char_class(CharClass::whitespace)) return false;
    while (char_class(CharClass::whitespace)) {
    }
    return true;
  }

  void optional_whitespace() { whitespace(); }

  // ---- boolean structure ----

  // OrExpression <- AndExpression _ "or" _ OrExpression / AndExpression
  bool or_expression(Node& out, int depth) {
    std::vector<Node> operands(1);
    if (!and_expression(operands[0], depth)) return false;
    for (;;) {
      size_t save = pos_;
      Node next;
      if (whitespace() && literal("or") && whitespace() && and_expression(next, depth)) {
        operands.push_back(std::move(next));
        continue;
      }
      if (fatal_) return false;
      pos_ = save;
      break;
    }
    out = combine(Node::Kind::any_of, std::move(operands));
    return true;
  }

  // AndExpression <- NotExpression _ "and" _ AndExpression / NotExpression
  bool and_expression(Node& out, int depth) {
    std::vector<Node> operands(1);
    if (!not_expression(operands[0], depth)) return false;
    for (;;) {
      size_t save = pos_;
      Node next;
      if (whitespace() && literal("and") && whitespace() && not_expression(next, depth)) {
        operands.push_back(std::move(next));
        continue;
      }
      if (fatal_) return false;
      pos_ = save;
      break;
    }
    out = combine(Node::Kind::all_of, std::move(operands));
    return true;
  }

  // NotExpression <- "not" _ NotExpression / ParenthesizedExpression
  bool not_expression(Node& out, int depth) {
    if (!enter(depth)) return false;
    size_t start = pos_;
    if (literal("not") && whitespace()) {
      Node operand;
      if (not_expression(operand, depth + 1)) {
        out = negate(std::move(operand));
        return true;
      }
      if (fatal_) return false;
    }
    pos_ = start;
    return parenthesized_expression(out, depth);
  }

  // ParenthesizedExpression "grouping" <- "(" _? OrExpression _? ")"
  //     / MatchExpression
  //     / "(" _? OrExpression _? !")" &{ Unmatched parentheses }
  bool parenthesized_expression(Node& out, int depth) {
    size_t start = pos_;
    bool group_parsed = false;
    size_t after_group = 0;
    if (literal("(")) {
      optional_whitespace();
      Node inner;
      if (or_expression(inner, depth + 1)) {
        optional_whitespace();
        group_parsed = true;
        after_group = pos_;
        if (literal(")")) {
          out = std::move(inner);
          return true;
        }
      }
      if (fatal_) return false;
    }
    pos_ = start;
    if (match_expression(out)) return true;
    // The third alternative would parse the same group again and find no ")" after it.
    if (group_parsed) add_error(after_group, "\"grouping\"", "Unmatched parentheses");
    pos_ = start;
    return false;
  }

  // ---- match expressions ----

  // MatchExpression "match" <- MatchSelectorOpValue / MatchSelectorOp / MatchValueOpSelector
  bool match_expression(Node& out) {
    size_t start = pos_;
    if (match_selector_op_value(out)) return true;
    pos_ = start;
    if (match_selector_op(out)) return true;
    pos_ = start;
    if (match_value_op_selector(out)) return true;
    pos_ = start;
    return false;
  }

  // MatchSelectorOpValue <- Selector (MatchEqual / MatchNotEqual / MatchContains
  //     / MatchNotContains / MatchMatches / MatchNotMatches) Value
  bool match_selector_op_value(Node& out) {
    std::vector<std::string> path;
    if (!selector(path)) return false;
    MatchOp op;
    if (symbol_operator("==")) {
      op = MatchOp::equal;
    } else if (symbol_operator("!=")) {
      op = MatchOp::not_equal;
    } else if (word_operator({"contains"}, true)) {
      op = MatchOp::in;
    } else if (word_operator({"not", "contains"}, true)) {
      op = MatchOp::not_in;
    } else if (word_operator({"matches"}, true)) {
      op = MatchOp::matches;
    } else if (word_operator({"not", "matches"}, true)) {
      op = MatchOp::not_matches;
    } else {
      return false;
    }
    std::string raw;
    if (!value(raw)) return false;
    out = make_match(std::move(path), op, std::move(raw));
    return true;
  }

  // MatchSelectorOp <- Selector (MatchIsEmpty / MatchIsNotEmpty)
  bool match_selector_op(Node& out) {
    std::vector<std::string> path;
    if (!selector(path)) return false;
    MatchOp op;
    if (word_operator({"is", "empty"}, false)) {
      op = MatchOp::is_empty;
    } else if (word_operator({"is", "not", "empty"}, false)) {
      op = MatchOp::is_not_empty;
    } else {
      return false;
    }
    out = make_match(std::move(path), op, "");
    return true;
  }

  // MatchValueOpSelector <- Value (MatchIn / MatchNotIn) Selector
  //     / Value (MatchIn / MatchNotIn) !Selector &{ Invalid selector }
  bool match_value_op_selector(Node& out) {
    std::string raw;
    if (!value(raw)) return false;
    MatchOp op;
    if (word_operator({"in"}, true)) {
      op = MatchOp::in;
    } else if (word_operator({"not", "in"}, true)) {
      op = MatchOp::not_in;
    } else {
      return false;
    }
    size_t after_operator = pos_;
    std::vector<std::string> path;
    if (selector(path)) {
      out = make_match(std::move(path), op, std::move(raw));
      return true;
    }
    // The second alternative: the same value and operator, and no selector after them.
    add_error(after_operator, "\"match\"", "Invalid selector");
    return false;
  }

  // MatchEqual <- _? "==" _?   MatchNotEqual <- _? "!=" _?
  bool symbol_operator(std::string_view symbol) {
    size_t start = pos_;
    optional_whitespace();
    if (!literal(symbol)) {
      pos_ = start;
      return false;
    }
    optional_whitespace();
    return true;
  }

  // MatchIn <- _ "in" _, MatchNotContains <- _ "not" _ "contains" _,
  // MatchIsEmpty <- _ "is" _ "empty" (no trailing whitespace), and so on.
  bool word_operator(std::initializer_list<std::string_view> words, bool trailing_space) {
    size_t start = pos_;
    for (std::string_view w : words) {
      if (!whitespace() || !literal(w)) {
        pos_ = start;
        return false;
      }
    }
    if (trailing_space && !whitespace()) {
      pos_ = start;
      return false;
    }
    return true;
  }

  // ---- selectors and values ----

  // Selector "selector" <- Identifier SelectorOrIndex*
  bool selector(std::vector<std::string>& path) {
    std::string first;
    if (!identifier(first)) return false;
    path.clear();
    path.push_back(std::move(first));
    for (;;) {
      std::string segment;
      if (!selector_or_index(segment)) break;
      path.push_back(std::move(segment));
    }
    return true;
  }

  // Identifier <- [a-zA-Z] [a-zA-Z0-9_]*
  bool identifier(std::string& out) {
    size_t start = pos_;
    if (!char_class(CharClass::letter)) return false;
    while (char_class(CharClass::identifier_char)) {
    }
    out = std::string(text_.substr(start, pos_ - start));
    return true;
  }

  // SelectorOrIndex <- "." Identifier / IndexExpression
  bool selector_or_index(std::string& out) {
    size_t start = pos_;
    if (literal(".") && identifier(out)) return true;
    pos_ = start;
    return index_expression(out);
  }

  // IndexExpression "index" <- "[" _? StringLiteral _? "]"
  //     / "[" _? !StringLiteral &{ Invalid index }
  //     / "[" _? StringLiteral _? !"]" &{ Unclosed index expression }
  bool index_expression(std::string& out) {
    size_t start = pos_;
    if (!literal("[")) return false;
    optional_whitespace();
    size_t key_pos = pos_;
    std::string key;
    if (string_literal(key)) {
      optional_whitespace();
      size_t after_key = pos_;
      if (literal("]")) {
        out = std::move(key);
        return true;
      }
      add_error(after_key, "\"index\"", "Unclosed index expression");
    } else {
      add_error(key_pos, "\"index\"", "Invalid index");
    }
    pos_ = start;
    return false;
  }

  // Value "value" <- Selector / NumberLiteral / StringLiteral
  // An unquoted selector stands for its own text: `Status == passing`.
  bool value(std::string& raw) {
    size_t start = pos_;
    std::vector<std::string> path;
    if (selector(path)) {
      raw = join(path, ".");
      return true;
    }
    pos_ = start;
    if (number_literal(raw)) return true;
    pos_ = start;
    if (string_literal(raw)) return true;
    pos_ = start;
    return false;
  }

  // NumberLiteral "number" <- "-"? IntegerOrFloat &AfterNumbers
  //     / "-"? IntegerOrFloat !AfterNumbers &{ Invalid number literal }
  bool number_literal(std::string& raw) {
    size_t start = pos_;
    literal("-");
    if (!integer_or_float()) {
      pos_ = start;
      return false;
    }
    if (after_numbers()) {
      raw = std::string(text_.substr(start, pos_ - start));
      return true;
    }
    add_error(pos_, "\"number\"", "Invalid number literal");
    pos_ = start;
    return false;
  }

  // IntegerOrFloat <- ("0" / [1-9][0-9]*) ("." [0-9]+)?
  bool integer_or_float() {
    if (!literal("0")) {
      if (!char_class(CharClass::nonzero_digit)) return false;
      while (char_class(CharClass::digit)) {
      }
    }
    size_t save = pos_;
    if (literal(".") && char_class(CharClass::digit)) {
      while (char_class(CharClass::digit)) {
      }
    } else {
      pos_ = save;
    }
    return true;
  }

  // AfterNumbers <- &(_ / EOF / ")")
  bool after_numbers() {
    size_t start = pos_;
    bool ok = whitespace();
    if (!ok) {
      pos_ = start;
      ok = at_end();
    }
    if (!ok) {
      pos_ = start;
      ok = literal(")");
    }
    pos_ = start;
    return ok;
  }

  // StringLiteral "string" <- ('`' RawStringChar* '`' / '"' DoubleStringChar* '"') { Unquote }
  //     / ('`' RawStringChar* / '"' DoubleStringChar*) EOF &{ Unterminated string literal }
  // A double-quoted string ends at the first '"': there is no way to escape one (use `...`).
  bool string_literal(std::string& out) {
    size_t start = pos_;
    bool closed = false;
    if (literal("`")) {
      string_chars('`');
      closed = literal("`");
    }
    if (!closed) {
      pos_ = start;
      if (literal("\"")) {
        string_chars('"');
        closed = literal("\"");
      }
    }
    if (closed) {
      auto unquoted = go_unquote(text_.substr(start, pos_ - start));
      if (!unquoted) add_error(start, "\"string\"", "invalid syntax");  // strconv.ErrSyntax
      out = unquoted ? std::move(*unquoted) : std::string();
      return true;
    }
    pos_ = start;
    bool opened = false;
    if (literal("`")) {
      string_chars('`');
      opened = true;
    } else if (literal("\"")) {
      string_chars('"');
      opened = true;
    }
    if (opened && at_end()) add_error(pos_, "\"string\"", "Unterminated string literal");
    pos_ = start;
    return false;
  }

  // RawStringChar <- !'`' .    DoubleStringChar <- !'"' .
  void string_chars(char quote) {
    std::string_view q(&quote, 1);
    for (;;) {
      size_t save = pos_;
      if (!not_literal(q) || !any_char()) {
        pos_ = save;
        return;
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  bool invert_ = false;  // inside a !predicate: pigeon then records matches, not failures
  size_t max_fail_pos_ = 0;
  std::vector<std::string> expected_;  // tokens tried at max_fail_pos_, unique, in order
  std::vector<std::string> errors_;    // unique, in the order raised
  bool fatal_ = false;                 // a limit was hit: stop everything
  std::string fatal_error_;
};

}  // namespace

std::string pigeon_position(std::string_view text, size_t offset) {
  int line = 1, column = 0;
  for (size_t i = 0; i < offset && i < text.size();) {
    ++column;
    if (text[i] == '\n') {
      ++line;
      column = 0;
    }
    i += std::max<size_t>(1, utf8_sequence_length(text, i));
  }
  ++column;
  if (offset < text.size() && text[offset] == '\n') {
    ++line;
    column = 0;
  }
  return std::to_string(line) + ":" + std::to_string(column) + " (" + std::to_string(offset) + ")";
}

std::optional<Node> parse_syntax(std::string_view text, std::string& error) {
  return Parser(text).parse(error);
}

}  // namespace cairn::filter
