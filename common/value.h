// A parsed document tree shared by every config and body decoder.
//
// YAML files, Consul JSON config files and HTTP JSON bodies all become a Value,
// so one decoder per concept (service definition, check, agent config) handles
// every source, and errors can name the file and line the value came from.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn {

struct Value {
  enum class Kind : uint8_t {
    null,
    boolean,
    integer,   // fits int64
    uinteger,  // above INT64_MAX (KV flags can use all 64 bits)
    number,    // floating point
    string,    // quoted in the source
    scalar,    // untyped YAML plain scalar: its meaning depends on the field it fills
    array,
    object,
  };

  // Out of line: Value holds vectors of (pairs of) itself, and clang with
  // libstdc++ 12 cannot instantiate their members while Value is incomplete
  // (the fuzz build uses clang).
  Value();
  ~Value();
  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;

  Kind kind = Kind::null;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string s;  // string and scalar text
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> fields;
  int line = 0;  // 1-based source line; 0 when the source has no lines (HTTP bodies)

  bool is_null() const;
  bool is_object() const { return kind == Kind::object; }
  bool is_array() const { return kind == Kind::array; }
  // Returns the first field whose normalized name matches, or nullptr.
  const Value* find(std::string_view normalized_key) const;
};

// Consul matches JSON keys case-insensitively and accepts snake_case aliases:
// "EnableTagOverride", "enable_tag_override" and "enabletagoverride" are one key.
std::string normalize_key(std::string_view key);

struct ParseError {
  enum class Code : uint8_t {
    syntax,         // not YAML/JSON at all
    too_deep,       // nested deeper than kMaxParseDepth
    too_large,      // expands (through YAML aliases) beyond ParseLimits
    duplicate_key,  // a map names one key twice
  };
  Code code = Code::syntax;
  int line = 0;
  int column = 0;
  std::string message;
};

inline constexpr int kMaxParseDepth = 64;

// What one YAML document may expand to. YAML aliases (*name) repeat their
// anchor's whole subtree, so a few hundred bytes of nested aliases name
// billions of values ("billion laughs"). The bounds are on the expanded
// document and are counted before anything is built, in at most max_values
// steps, so a bomb costs neither time nor memory. Config files are the only
// YAML the daemons read; the defaults leave a config with tens of thousands of
// service definitions far below them.
struct ParseLimits {
  size_t max_values = 1'000'000;      // scalars, lists and maps after alias expansion
  size_t max_text_bytes = 64u << 20;  // scalar and key bytes after alias expansion
  bool reject_duplicate_keys = true;  // YAML 1.2 requires unique keys; last-wins hides mistakes
};

// YAML 1.2 (and therefore also JSON) text. Returns false and fills err on a
// syntax error, a document beyond limits or a repeated map key.
bool parse_yaml(std::string_view text, Value& out, ParseError& err,
                const ParseLimits& limits = ParseLimits{});
// Strict JSON (HTTP bodies); uses simdjson. Depth and size are bounded by the caller.
bool parse_json(std::string_view text, Value& out, ParseError& err);

}  // namespace cairn
