// HCL 1 config files: the parser, then the strict config decoder. A parsed
// tree must be within the depth bound, and written back as HCL (every string
// quoted and escaped, every list and object literal) it must parse to the same
// tree: what the parser accepts it reads one way only.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "agent/config/config.h"
#include "agent/config/hcl.h"

using namespace cairn;

namespace {

void write_quoted(const std::string& s, std::string& out) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7F || c == '$') {
      // '$' too: "${" would start an interpolation, read without escapes.
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void write_hcl(const Value& v, std::string& out);

void write_fields(const Value& v, std::string& out) {
  for (const auto& [key, field] : v.fields) {
    write_quoted(key, out);
    out += " = ";
    write_hcl(field, out);
    out += '\n';
  }
}

void write_hcl(const Value& v, std::string& out) {
  switch (v.kind) {
    case Value::Kind::string:
      write_quoted(v.s, out);
      break;
    case Value::Kind::integer:
      out += std::to_string(v.i);
      break;
    case Value::Kind::number: {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, v.d);
      std::string text(buf, r.ptr);
      if (text.find_first_of(".e") == std::string::npos) text += ".0";
      out += text;
      break;
    }
    case Value::Kind::boolean:
      out += v.b ? "true" : "false";
      break;
    case Value::Kind::array:
      out += '[';
      for (const auto& item : v.items) {
        write_hcl(item, out);
        out += ", ";
      }
      out += ']';
      break;
    case Value::Kind::object:
      out += "{\n";
      write_fields(v, out);
      out += '}';
      break;
    default:
      abort();  // HCL has no null, untyped scalar or unsigned kind
  }
}

bool same_tree(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::string:
      return a.s == b.s;
    case Value::Kind::integer:
      return a.i == b.i;
    case Value::Kind::number:
      return a.d == b.d;
    case Value::Kind::boolean:
      return a.b == b.b;
    case Value::Kind::array:
      if (a.items.size() != b.items.size()) return false;
      for (size_t i = 0; i < a.items.size(); ++i)
        if (!same_tree(a.items[i], b.items[i])) return false;
      return true;
    case Value::Kind::object:
      if (a.fields.size() != b.fields.size()) return false;
      for (size_t i = 0; i < a.fields.size(); ++i)
        if (a.fields[i].first != b.fields[i].first ||
            !same_tree(a.fields[i].second, b.fields[i].second))
          return false;
      return true;
    default:
      return false;
  }
}

int tree_depth(const Value& v) {
  int deepest = 0;
  for (const auto& item : v.items) deepest = std::max(deepest, 1 + tree_depth(item));
  for (const auto& field : v.fields) deepest = std::max(deepest, 1 + tree_depth(field.second));
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  Value root;
  ParseError err;
  if (!config::parse_hcl(text, root, err)) {
    if (err.message.empty() || err.line < 0) abort();
    return 0;
  }
  if (!root.is_object() || tree_depth(root) > kMaxParseDepth) abort();

  std::string again;
  write_fields(root, again);
  Value back;
  if (!config::parse_hcl(again, back, err)) abort();
  if (!same_tree(root, back)) abort();

  config::Config cfg;
  try {
    config::merge_file(cfg, "fuzz.hcl", text);
    config::validate(cfg);
  } catch (const DecodeError&) {
  }
  return 0;
}
