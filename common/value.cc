#include "common/value.h"

#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <cctype>

namespace cairn {

Value::Value() = default;
Value::Value(const Value&) = default;
Value::Value(Value&&) noexcept = default;
Value& Value::operator=(const Value&) = default;
Value& Value::operator=(Value&&) noexcept = default;
Value::~Value() = default;

bool Value::is_null() const {
  if (kind == Kind::null) return true;
  if (kind == Kind::scalar) return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
  return false;
}

const Value* Value::find(std::string_view normalized_key) const {
  for (const auto& [k, v] : fields)
    if (normalize_key(k) == normalized_key) return &v;
  return nullptr;
}

std::string normalize_key(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '_' || c == '-') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

namespace {

// yaml-cpp keeps quoted scalars tagged "!" and plain ones "?".
void from_yaml(const YAML::Node& n, Value& out, int depth) {
  if (depth > 64) throw YAML::ParserException(n.Mark(), "document nested too deeply");
  out.line = n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out.kind = Value::Kind::null;
      break;
    case YAML::NodeType::Scalar:
      out.s = n.Scalar();
      out.kind = n.Tag() == "!" ? Value::Kind::string : Value::Kind::scalar;
      break;
    case YAML::NodeType::Sequence:
      out.kind = Value::Kind::array;
      out.items.resize(n.size());
      for (size_t i = 0; i < n.size(); ++i) from_yaml(n[i], out.items[i], depth + 1);
      break;
    case YAML::NodeType::Map:
      out.kind = Value::Kind::object;
      out.fields.reserve(n.size());
      for (const auto& kv : n) {
        if (!kv.first.IsScalar())
          throw YAML::ParserException(kv.first.Mark(), "map keys must be plain strings");
        out.fields.emplace_back(kv.first.Scalar(), Value{});
        from_yaml(kv.second, out.fields.back().second, depth + 1);
      }
      break;
  }
}

void from_json(simdjson::dom::element e, Value& out, int depth) {
  using simdjson::dom::element_type;
  if (depth > 64) throw std::runtime_error("document nested too deeply");
  switch (e.type()) {
    case element_type::NULL_VALUE: out.kind = Value::Kind::null; break;
    case element_type::BOOL:
      out.kind = Value::Kind::boolean;
      out.b = e.get_bool().value_unsafe();
      break;
    case element_type::INT64:
      out.kind = Value::Kind::integer;
      out.i = e.get_int64().value_unsafe();
      break;
    case element_type::UINT64:
      out.kind = Value::Kind::uinteger;
      out.u = e.get_uint64().value_unsafe();
      break;
    case element_type::DOUBLE:
      out.kind = Value::Kind::number;
      out.d = e.get_double().value_unsafe();
      break;
    case element_type::STRING:
      out.kind = Value::Kind::string;
      out.s = std::string(e.get_string().value_unsafe());
      break;
    case element_type::ARRAY: {
      out.kind = Value::Kind::array;
      simdjson::dom::array arr;
      if (e.get_array().get(arr)) break;
      out.items.reserve(arr.size());
      for (auto item : arr) {
        out.items.emplace_back();
        from_json(item, out.items.back(), depth + 1);
      }
      break;
    }
    case element_type::OBJECT: {
      out.kind = Value::Kind::object;
      simdjson::dom::object obj;
      if (e.get_object().get(obj)) break;
      for (auto field : obj) {
        out.fields.emplace_back(std::string(field.key), Value{});
        from_json(field.value, out.fields.back().second, depth + 1);
      }
      break;
    }
  }
}

}  // namespace

bool parse_yaml(std::string_view text, Value& out, ParseError& err) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    out = Value{};
    from_yaml(root, out, 0);
    return true;
  } catch (const YAML::Exception& e) {
    err.line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    err.column = e.mark.column >= 0 ? e.mark.column + 1 : 0;
    err.message = e.msg;
    return false;
  }
}

bool parse_json(std::string_view text, Value& out, ParseError& err) {
  // One parser per thread: it keeps its buffers between bodies.
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  auto doc = parser.parse(padded);
  if (doc.error()) {
    err.message = simdjson::error_message(doc.error());
    return false;
  }
  try {
    out = Value{};
    from_json(doc.value_unsafe(), out, 0);
  } catch (const std::exception& e) {
    err.message = e.what();
    return false;
  }
  return true;
}

}  // namespace cairn
