#include "agent/config/hcl.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cairn::config {

namespace {

enum class HclToken : uint8_t {
  eof,
  ident,
  boolean,
  string,
  heredoc,
  integer,
  floating,
  lbrace,
  rbrace,
  lbrack,
  rbrack,
  assign,
  comma,
};

struct HclLexeme {
  HclToken kind = HclToken::eof;
  int line = 1;
  int column = 1;
  std::string text;  // an identifier, a decoded string or heredoc, a number's spelling
  bool b = false;
  int64_t i = 0;
  double d = 0;
};

// Thrown inside the parse and turned into the ParseError at parse_hcl's boundary.
struct HclFailure {
  ParseError error;
};

[[noreturn]] void hcl_fail(ParseError::Code code, int line, int column, std::string message) {
  ParseError err;
  err.code = code;
  err.line = line;
  err.column = column;
  err.message = std::move(message);
  throw HclFailure{std::move(err)};
}

bool hcl_ident_start(unsigned char c) {
  // HCL 1 takes Unicode letters too; any non-ASCII byte is let through here
  // and the decoder refuses what is not a key it knows.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

bool hcl_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

bool hcl_ident_part(unsigned char c) {
  return hcl_ident_start(c) || hcl_digit(c) || c == '-' || c == '.';
}

int hcl_hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void hcl_append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string hcl_describe_char(unsigned char c) {
  if (c >= 0x21 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
  static const char* hex = "0123456789abcdef";
  return std::string("byte 0x") + hex[c >> 4] + hex[c & 15];
}

std::string hcl_describe(const HclLexeme& t) {
  switch (t.kind) {
    case HclToken::eof:
      return "end of file";
    case HclToken::ident:
      return "\"" + t.text + "\"";
    case HclToken::boolean:
      return t.b ? "true" : "false";
    case HclToken::string:
      return "a string";
    case HclToken::heredoc:
      return "a heredoc";
    case HclToken::integer:
    case HclToken::floating:
      return "the number " + t.text;
    case HclToken::lbrace:
      return "'{'";
    case HclToken::rbrace:
      return "'}'";
    case HclToken::lbrack:
      return "'['";
    case HclToken::rbrack:
      return "']'";
    case HclToken::assign:
      return "'='";
    case HclToken::comma:
      return "','";
  }
  return "?";
}

// Tokens of HCL 1 as hashicorp/hcl's scanner reads them. Newlines are
// whitespace: an object's items are separated by nothing (or a comma).
class HclLexer {
 public:
  explicit HclLexer(std::string_view src) : src_(src) {
    if (src_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = line_start_ = 3;  // a UTF-8 byte order mark
  }

  HclLexeme next() {
    skip_space_and_comments();
    HclLexeme t;
    t.line = line_;
    t.column = column();
    if (at_end()) return t;
    unsigned char c = cur();
    switch (c) {
      case '{':
        return punct(t, HclToken::lbrace);
      case '}':
        return punct(t, HclToken::rbrace);
      case '[':
        return punct(t, HclToken::lbrack);
      case ']':
        return punct(t, HclToken::rbrack);
      case '=':
        return punct(t, HclToken::assign);
      case ',':
        return punct(t, HclToken::comma);
      case '"':
        scan_string(t);
        return t;
      default:
        break;
    }
    if (c == '<' && peek(1) == '<') {
      scan_heredoc(t);
    } else if (hcl_digit(c) || (c == '-' && peek(1) >= 0 && hcl_digit(peek(1)))) {
      scan_number(t);
    } else if (hcl_ident_start(c)) {
      scan_ident(t);
    } else {
      fail(t.line, t.column, "unexpected " + hcl_describe_char(c));
    }
    return t;
  }

 private:
  [[noreturn]] void fail(int line, int column, std::string message) const {
    hcl_fail(ParseError::Code::syntax, line, column, std::move(message));
  }

  bool at_end() const { return pos_ >= src_.size(); }
  unsigned char cur() const { return static_cast<unsigned char>(src_[pos_]); }
  // The byte `ahead` places on, or -1 past the end.
  int peek(size_t ahead) const {
    return pos_ + ahead < src_.size() ? static_cast<unsigned char>(src_[pos_ + ahead]) : -1;
  }
  int column() const { return static_cast<int>(pos_ - line_start_) + 1; }

  void advance() {
    if (src_[pos_] == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    ++pos_;
  }

  HclLexeme& punct(HclLexeme& t, HclToken kind) {
    t.kind = kind;
    advance();
    return t;
  }

  void skip_line() {
    while (!at_end() && cur() != '\n') advance();
  }

  void skip_space_and_comments() {
    while (!at_end()) {
      unsigned char c = cur();
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        advance();
      } else if (c == '#' || (c == '/' && peek(1) == '/')) {
        skip_line();
      } else if (c == '/' && peek(1) == '*') {
        int line = line_, col = column();
        advance();
        advance();
        while (!(at_end() || (cur() == '*' && peek(1) == '/'))) advance();
        if (at_end()) fail(line, col, "comment /* is not closed with */");
        advance();
        advance();
      } else {
        return;
      }
    }
  }

  void scan_ident(HclLexeme& t) {
    size_t start = pos_;
    while (!at_end() && hcl_ident_part(cur())) advance();
    t.text = std::string(src_.substr(start, pos_ - start));
    if (t.text == "true" || t.text == "false") {
      t.kind = HclToken::boolean;
      t.b = t.text == "true";
    } else {
      t.kind = HclToken::ident;
    }
  }

  // Go's strconv.ParseInt(s, 0, 64) for integers (0x hex, leading-0 octal),
  // ParseFloat for anything with a fraction or an exponent.
  void scan_number(HclLexeme& t) {
    size_t start = pos_;
    bool negative = cur() == '-';
    if (negative) advance();
    size_t digits = pos_;
    int base = 10;
    bool floating = false;
    if (cur() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      base = 16;
      advance();
      advance();
      digits = pos_;
      while (!at_end() && hcl_hex_value(cur()) >= 0) advance();
    } else {
      while (!at_end() && hcl_digit(cur())) advance();
      if (!at_end() && cur() == '.' && peek(1) >= 0 && hcl_digit(peek(1))) {
        floating = true;
        advance();
        while (!at_end() && hcl_digit(cur())) advance();
      }
      if (!at_end() && (cur() == 'e' || cur() == 'E')) {
        size_t ahead = (peek(1) == '+' || peek(1) == '-') ? 2 : 1;
        if (peek(ahead) >= 0 && hcl_digit(peek(ahead))) {
          floating = true;
          for (size_t k = 0; k < ahead; ++k) advance();
          while (!at_end() && hcl_digit(cur())) advance();
        }
      }
      if (!floating && pos_ - digits > 1 && src_[digits] == '0') base = 8;
    }
    // "10s" is a number run into a word: the usual slip is an unquoted duration.
    size_t end = pos_;
    while (end < src_.size() && hcl_ident_part(static_cast<unsigned char>(src_[end]))) ++end;
    t.text = std::string(src_.substr(start, end - start));
    if (end != pos_ || pos_ == digits)
      fail(t.line, t.column,
           "invalid number " + t.text + " (strings, durations too, are quoted: \"10s\")");
    if (floating) {
      t.kind = HclToken::floating;
      auto r = std::from_chars(src_.data() + start, src_.data() + pos_, t.d);
      if (r.ec != std::errc()) fail(t.line, t.column, "number " + t.text + " is out of range");
      return;
    }
    t.kind = HclToken::integer;
    uint64_t magnitude = 0;
    auto r = std::from_chars(src_.data() + digits, src_.data() + pos_, magnitude, base);
    if (r.ptr != src_.data() + pos_)
      fail(t.line, t.column, "invalid octal number " + t.text + " (digits 0-7 after a leading 0)");
    uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
    if (r.ec != std::errc() || magnitude > limit)
      fail(t.line, t.column, "integer " + t.text + " is out of range (64-bit signed)");
    t.i = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  }

  // One escape after a backslash, as Go's strconv.Unquote reads it.
  void scan_escape(std::string& out) {
    int line = line_, col = column();
    advance();  // the backslash
    if (at_end()) fail(line, col, "unfinished escape at end of file");
    unsigned char c = cur();
    const char* simple = nullptr;
    switch (c) {
      case 'a':
        simple = "\a";
        break;
      case 'b':
        simple = "\b";
        break;
      case 'f':
        simple = "\f";
        break;
      case 'n':
        simple = "\n";
        break;
      case 'r':
        simple = "\r";
        break;
      case 't':
        simple = "\t";
        break;
      case 'v':
        simple = "\v";
        break;
      case '\\':
        simple = "\\";
        break;
      case '"':
        simple = "\"";
        break;
      default:
        break;
    }
    if (simple) {
      out += simple;
      advance();
      return;
    }
    if (c >= '0' && c <= '7') {
      unsigned v = 0;
      for (int k = 0; k < 3; ++k) {
        if (at_end() || cur() < '0' || cur() > '7')
          fail(line, col, "octal escape needs three digits 0-7 (\\101)");
        v = v * 8 + (cur() - '0');
        advance();
      }
      if (v > 255) fail(line, col, "octal escape above \\377");
      out += static_cast<char>(v);
      return;
    }
    int width = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (width == 0) fail(line, col, "unknown escape: backslash before " + hcl_describe_char(c));
    advance();
    uint32_t v = 0;
    for (int k = 0; k < width; ++k) {
      int h = at_end() ? -1 : hcl_hex_value(cur());
      if (h < 0)
        fail(line, col,
             "\\" + std::string(1, static_cast<char>(c)) + " escape needs " +
                 std::to_string(width) + " hex digits");
      v = v * 16 + static_cast<uint32_t>(h);
      advance();
    }
    if (c == 'x') {
      out += static_cast<char>(v);
      return;
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
      fail(line, col, "escape names no Unicode character");
    hcl_append_utf8(out, v);
  }

  // A quoted string on one line. HCL 1 keeps "${...}" interpolations as they
  // are written (quotes and newlines inside them included); Consul does not
  // interpolate, so they stay text.
  void scan_string(HclLexeme& t) {
    t.kind = HclToken::string;
    advance();  // the opening quote
    int braces = 0;
    for (;;) {
      if (at_end()) fail(t.line, t.column, "string is not closed with '\"'");
      unsigned char c = cur();
      if (braces == 0) {
        if (c == '\n')
          fail(t.line, t.column,
               "string is not closed on its line (several lines need a heredoc: <<EOF)");
        if (c == '"') {
          advance();
          return;
        }
        if (c == '\\') {
          scan_escape(t.text);
          continue;
        }
        if (c == '$' && peek(1) == '{') {
          braces = 1;
          t.text += "${";
          advance();
          advance();
          continue;
        }
      } else if (c == '{') {
        ++braces;
      } else if (c == '}') {
        --braces;
      }
      t.text += static_cast<char>(c);
      advance();
    }
  }

  // <<EOF or <<-EOF at the end of a line, then lines up to one that holds
  // only EOF (leading blanks allowed). The value is the lines between, each
  // with its newline. <<-EOF removes the closing line's indentation from every
  // line when they all have it, as HCL 1 does.
  void scan_heredoc(HclLexeme& t) {
    t.kind = HclToken::heredoc;
    advance();
    advance();
    bool unindent = !at_end() && cur() == '-';
    if (unindent) advance();
    size_t marker_start = pos_;
    while (!at_end() && (hcl_ident_start(cur()) || hcl_digit(cur()))) advance();
    std::string_view marker = src_.substr(marker_start, pos_ - marker_start);
    if (marker.empty()) fail(t.line, t.column, "heredoc needs a marker: <<EOF");
    if (!at_end() && cur() == '\r') advance();
    if (at_end() || cur() != '\n')
      fail(t.line, t.column, "heredoc marker <<" + std::string(marker) + " must end its line");
    advance();
    std::vector<std::string_view> lines;
    std::string_view indent;
    for (;;) {
      size_t eol = src_.find('\n', pos_);
      bool last = eol == std::string_view::npos;
      if (last) eol = src_.size();
      std::string_view line = src_.substr(pos_, eol - pos_);
      std::string_view bare = line;
      if (!bare.empty() && bare.back() == '\r') bare.remove_suffix(1);
      size_t blanks = bare.find_first_not_of(" \t");
      if (blanks != std::string_view::npos && bare.substr(blanks) == marker) {
        indent = bare.substr(0, blanks);
        skip_to(eol, last);
        break;
      }
      if (last)
        fail(t.line, t.column,
             "heredoc <<" + std::string(marker) + " is not closed (no line \"" +
                 std::string(marker) + "\")");
      lines.push_back(line);
      skip_to(eol, last);
    }
    bool strip = unindent && !indent.empty();
    for (auto l : lines)
      if (l.substr(0, indent.size()) != indent) strip = false;
    for (auto l : lines) {
      if (strip) l.remove_prefix(indent.size());
      t.text += l;
      t.text += '\n';
    }
  }

  // Moves past the newline at eol (or to the end of the input).
  void skip_to(size_t eol, bool last) {
    pos_ = eol;
    if (!last) advance();
  }

  std::string_view src_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int line_ = 1;
};

bool hcl_container(const Value& v) {
  return v.is_object() || v.is_array();
}

// Consul's checks and services are slices of definitions: HCL 1 blocks under
// them decode to lists even when there is one (a lone `checks { }` block is one
// check, where a lone `check { }` or `ports { }` block is a map).
bool hcl_always_list(std::string_view key) {
  std::string k = normalize_key(key);
  return k == "checks" || k == "services";
}

class HclParser {
 public:
  HclParser(std::string_view text, const ParseLimits& limits) : lex_(text), limits_(limits) {
    tok_ = lex_.next();
  }

  void parse_document(Value& out) {
    out = Value{};
    out.kind = Value::Kind::object;
    out.line = 1;
    count(tok_);
    parse_body(out, HclToken::eof, 0, 0);
    check_depth(out, 0);
  }

 private:
  [[noreturn]] void fail_at(const HclLexeme& t, std::string message) const {
    hcl_fail(ParseError::Code::syntax, t.line, t.column, std::move(message));
  }

  void advance() { tok_ = lex_.next(); }

  void count(const HclLexeme& at) {
    if (++values_ > limits_.max_values)
      hcl_fail(ParseError::Code::too_large, at.line, at.column,
               "document has more than " + std::to_string(limits_.max_values) + " values");
  }

  void too_deep(const HclLexeme& at) const {
    hcl_fail(
        ParseError::Code::too_deep, at.line, at.column,
        "document nested too deeply (more than " + std::to_string(kMaxParseDepth) + " levels)");
  }

  // The items of one object, up to `end` (not consumed). obj sits at depth.
  void parse_body(Value& obj, HclToken end, int depth, int open_line) {
    std::unordered_map<std::string, size_t> index;  // key -> its field
    while (tok_.kind != end) {
      if (tok_.kind == HclToken::eof)
        fail_at(tok_, "end of file inside the block opened at line " + std::to_string(open_line) +
                          " (missing '}')");
      parse_item(obj, index, depth);
      if (tok_.kind == HclToken::comma) advance();
    }
  }

  // key = value, or key ["label"...] { ... }.
  void parse_item(Value& obj, std::unordered_map<std::string, size_t>& index, int depth) {
    std::vector<HclLexeme> keys;
    while (tok_.kind == HclToken::ident || tok_.kind == HclToken::string) {
      if (depth + static_cast<int>(keys.size()) >= kMaxParseDepth) too_deep(tok_);
      keys.push_back(std::move(tok_));
      advance();
    }
    if (keys.empty()) {
      if (tok_.kind == HclToken::rbrace) fail_at(tok_, "unexpected '}' (no block is open)");
      fail_at(tok_, "expected a key, got " + hcl_describe(tok_));
    }
    Value value;
    if (tok_.kind == HclToken::assign) {
      if (keys.size() > 1)
        fail_at(keys[1], "expected '=' after \"" + keys[0].text + "\", got " +
                             hcl_describe(keys[1]) +
                             " (only a block takes labels: key \"label\" { ... })");
      advance();
      parse_value(value, depth + 1);
    } else if (tok_.kind == HclToken::lbrace) {
      parse_object(value, depth + static_cast<int>(keys.size()));
      // key "a" "b" { body } is key { a { b { body } } }.
      for (size_t k = keys.size() - 1; k > 0; --k) {
        Value outer;
        outer.kind = Value::Kind::object;
        outer.line = keys[k].line;
        count(keys[k]);
        std::unordered_map<std::string, size_t> one;
        insert(outer, one, keys[k], std::move(value));
        value = std::move(outer);
      }
    } else {
      fail_at(tok_,
              "expected '=' or '{' after \"" + keys.back().text + "\", got " + hcl_describe(tok_));
    }
    insert(obj, index, keys[0], std::move(value));
  }

  void parse_value(Value& out, int depth) {
    out.line = tok_.line;
    switch (tok_.kind) {
      case HclToken::string:
      case HclToken::heredoc:
        out.kind = Value::Kind::string;
        out.s = std::move(tok_.text);
        break;
      case HclToken::integer:
        out.kind = Value::Kind::integer;
        out.i = tok_.i;
        break;
      case HclToken::floating:
        out.kind = Value::Kind::number;
        out.d = tok_.d;
        break;
      case HclToken::boolean:
        out.kind = Value::Kind::boolean;
        out.b = tok_.b;
        break;
      case HclToken::lbrace:
        parse_object(out, depth);
        return;
      case HclToken::lbrack:
        parse_list(out, depth);
        return;
      case HclToken::ident:
        fail_at(tok_,
                "unquoted value " + tok_.text + " (strings are quoted: \"" + tok_.text + "\")");
      default:
        fail_at(tok_, "expected a value, got " + hcl_describe(tok_));
    }
    count(tok_);
    advance();
  }

  void parse_object(Value& out, int depth) {
    if (depth > kMaxParseDepth) too_deep(tok_);
    int open_line = tok_.line;
    out.kind = Value::Kind::object;
    out.line = open_line;
    count(tok_);
    advance();
    parse_body(out, HclToken::rbrace, depth, open_line);
    advance();
  }

  void parse_list(Value& out, int depth) {
    if (depth > kMaxParseDepth) too_deep(tok_);
    int open_line = tok_.line;
    out.kind = Value::Kind::array;
    out.line = open_line;
    count(tok_);
    advance();
    for (;;) {
      if (tok_.kind == HclToken::rbrack) break;
      if (tok_.kind == HclToken::eof)
        fail_at(tok_, "end of file inside the list opened at line " + std::to_string(open_line) +
                          " (missing ']')");
      parse_value(out.items.emplace_back(), depth + 1);
      if (tok_.kind == HclToken::comma) {
        advance();
      } else if (tok_.kind != HclToken::rbrack) {
        fail_at(tok_, "expected ',' or ']' in the list opened at line " +
                          std::to_string(open_line) + ", got " + hcl_describe(tok_));
      }
    }
    advance();
  }

  // Adds key = value to obj, merging a repeated key as HCL 1 does.
  void insert(Value& obj, std::unordered_map<std::string, size_t>& index, const HclLexeme& key,
              Value value) {
    if (value.is_object() && hcl_always_list(key.text)) value = wrap_in_list(std::move(value), key);
    auto [it, fresh] = index.emplace(key.text, obj.fields.size());
    if (fresh) {
      obj.fields.emplace_back(key.text, std::move(value));
      return;
    }
    Value& old = obj.fields[it->second].second;
    if (!hcl_container(old) || !hcl_container(value)) {
      if (limits_.reject_duplicate_keys)
        hcl_fail(
            ParseError::Code::duplicate_key, key.line, key.column,
            "duplicate key \"" + key.text + "\" (first at line " + std::to_string(old.line) + ")");
      old = std::move(value);
      return;
    }
    // Repeated blocks make a list of them; repeated lists are concatenated.
    if (old.is_object()) old = wrap_in_list(std::move(old), key);
    if (value.is_object()) {
      old.items.push_back(std::move(value));
    } else {
      for (auto& item : value.items) old.items.push_back(std::move(item));
    }
  }

  Value wrap_in_list(Value v, const HclLexeme& at) {
    Value list;
    list.kind = Value::Kind::array;
    list.line = v.line;
    count(at);
    list.items.push_back(std::move(v));
    return list;
  }

  // Lists made of repeated blocks nest one level deeper than the text shows:
  // the tree, which every decoder walks recursively, is bounded here. Stops
  // descending at the bound, so this recursion is bounded too.
  void check_depth(const Value& v, int depth) const {
    if (depth > kMaxParseDepth)
      hcl_fail(
          ParseError::Code::too_deep, v.line, 0,
          "document nested too deeply (more than " + std::to_string(kMaxParseDepth) + " levels)");
    for (const auto& item : v.items) check_depth(item, depth + 1);
    for (const auto& field : v.fields) check_depth(field.second, depth + 1);
  }

  HclLexer lex_;
  const ParseLimits& limits_;
  HclLexeme tok_;
  size_t values_ = 0;
};

}  // namespace

bool parse_hcl(std::string_view text, Value& out, ParseError& err, const ParseLimits& limits) {
  try {
    if (text.size() > limits.max_text_bytes)
      hcl_fail(ParseError::Code::too_large, 0, 0,
               "file is larger than " + std::to_string(limits.max_text_bytes) + " bytes");
    Value root;
    HclParser(text, limits).parse_document(root);
    out = std::move(root);
    return true;
  } catch (HclFailure& f) {
    err = std::move(f.error);
    return false;
  }
}

}  // namespace cairn::config
