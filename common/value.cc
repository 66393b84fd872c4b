#include "common/value.h"

#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <string>
#include <unordered_map>

namespace cairn {

Value::Value() = default;
Value::~Value() = default;
Value::Value(const Value&) = default;
Value::Value(Value&&) noexcept = default;
Value& Value::operator=(const Value&) = default;
Value& Value::operator=(Value&&) noexcept = default;

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

int yaml_line(const YAML::Mark& m) {
  return m.line >= 0 ? m.line + 1 : 0;
}

// Thrown inside the YAML walks and turned into the ParseError at their boundary.
struct YamlConversionFailure {
  ParseError error;
};

[[noreturn]] void fail_yaml(ParseError::Code code, const YAML::Mark& at, std::string message) {
  ParseError err;
  err.code = code;
  err.line = yaml_line(at);
  err.column = at.column >= 0 ? at.column + 1 : 0;
  err.message = std::move(message);
  throw YamlConversionFailure{std::move(err)};
}

// Walks the document as the conversion will, every alias use again (yaml-cpp
// gives an alias the very node of its anchor), and stops at the first bound
// crossed: at most max_values steps and no allocation per value, whatever the
// document would expand to.
class YamlExpansionMeter {
 public:
  explicit YamlExpansionMeter(const ParseLimits& limits) : limits_(limits) {}

  void measure(const YAML::Node& root) {
    entry_ = root.Mark();
    visit(root, 0, true);
  }

 private:
  void visit(const YAML::Node& n, int depth, bool top) {
    if (depth > kMaxParseDepth)
      fail_yaml(ParseError::Code::too_deep, n.Mark(), "document nested too deeply");
    count(n.IsScalar() ? n.Scalar().size() : 0);
    if (n.IsSequence()) {
      for (const auto& item : n) {
        if (top) entry_ = item.Mark();
        visit(item, depth + 1, false);
      }
    } else if (n.IsMap()) {
      for (const auto& kv : n) {
        if (top) entry_ = kv.first.Mark();
        count(kv.first.IsScalar() ? kv.first.Scalar().size() : 0);
        visit(kv.second, depth + 1, false);
      }
    }
  }

  void count(size_t text_bytes) {
    ++values_;
    text_bytes_ += text_bytes;
    if (values_ > limits_.max_values)
      fail_yaml(ParseError::Code::too_large, entry_,
                "document expands to more than " + std::to_string(limits_.max_values) +
                    " values (YAML aliases repeat their anchor's whole contents)");
    if (text_bytes_ > limits_.max_text_bytes)
      fail_yaml(ParseError::Code::too_large, entry_,
                "document expands to more than " + std::to_string(limits_.max_text_bytes) +
                    " bytes of text (YAML aliases repeat their anchor's whole contents)");
  }

  const ParseLimits& limits_;
  size_t values_ = 0;
  size_t text_bytes_ = 0;
  YAML::Mark entry_;  // the top-level entry being walked: where a too_large error points
};

// yaml-cpp keeps quoted scalars tagged "!" and plain ones "?". Runs after the
// meter, so depth and size are known to be bounded.
class YamlConverter {
 public:
  explicit YamlConverter(const ParseLimits& limits) : limits_(limits) {}

  void convert(const YAML::Node& n, Value& out) {
    out.line = yaml_line(n.Mark());
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
        out.items.reserve(n.size());
        for (const auto& item : n) convert(item, out.items.emplace_back());
        break;
      case YAML::NodeType::Map:
        convert_map(n, out);
        break;
    }
  }

 private:
  void convert_map(const YAML::Node& n, Value& out) {
    out.kind = Value::Kind::object;
    out.fields.reserve(n.size());
    // Views into the document's own scalars, which outlive this walk.
    std::unordered_map<std::string_view, int> first_line;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar())
        fail_yaml(ParseError::Code::syntax, kv.first.Mark(), "map keys must be plain strings");
      const std::string& key = kv.first.Scalar();
      if (limits_.reject_duplicate_keys) {
        auto [it, fresh] = first_line.emplace(key, yaml_line(kv.first.Mark()));
        if (!fresh)
          fail_yaml(
              ParseError::Code::duplicate_key, kv.first.Mark(),
              "duplicate key \"" + key + "\" (first at line " + std::to_string(it->second) + ")");
      }
      out.fields.emplace_back(key, Value{});
      convert(kv.second, out.fields.back().second);
    }
  }

  const ParseLimits& limits_;
};

void from_json(simdjson::dom::element e, Value& out, int depth) {
  using simdjson::dom::element_type;
  if (depth > kMaxParseDepth) throw std::runtime_error("document nested too deeply");
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

bool parse_yaml(std::string_view text, Value& out, ParseError& err, const ParseLimits& limits) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    YamlExpansionMeter(limits).measure(root);
    out = Value{};
    YamlConverter(limits).convert(root, out);
    return true;
  } catch (const YAML::Exception& e) {
    err = ParseError{};
    err.line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    err.column = e.mark.column >= 0 ? e.mark.column + 1 : 0;
    err.message = e.msg;
    return false;
  } catch (YamlConversionFailure& f) {
    err = std::move(f.error);
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
