// A small streaming JSON writer that matches Go's encoding/json output byte
// for byte (Consul's responses come from it): HTML-safe escaping of <, > and &,
// U+2028/U+2029 escaped, shortest float form, and json.MarshalIndent's layout
// with four spaces for `?pretty`.
//
// It appends to a caller-owned string so a connection can reuse one buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out, bool pretty = false) : out_(out), pretty_(pretty) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view k);

  void string(std::string_view s);
  void number(int64_t v);
  void number(uint64_t v);
  void number(int v) { number(static_cast<int64_t>(v)); }
  void number(unsigned v) { number(static_cast<uint64_t>(v)); }
  void number(double v);
  void boolean(bool b);
  void null();
  // Inserts already-encoded JSON (e.g. a stored opaque object) as one value.
  void raw(std::string_view json);

  // Shorthands for a key followed by a value.
  void field(std::string_view k, std::string_view v) { key(k), string(v); }
  void field(std::string_view k, const char* v) { key(k), string(v); }
  void field(std::string_view k, const std::string& v) { key(k), string(v); }
  void field(std::string_view k, int64_t v) { key(k), number(v); }
  void field(std::string_view k, uint64_t v) { key(k), number(v); }
  void field(std::string_view k, int v) { key(k), number(static_cast<int64_t>(v)); }
  void field(std::string_view k, double v) { key(k), number(v); }
  void field(std::string_view k, bool v) { key(k), boolean(v); }
  void string_array(std::string_view k, const std::vector<std::string>& items);

  // Appends a JSON string literal for s to out (Go's escaping rules).
  static void quote(std::string& out, std::string_view s);

 private:
  void before_value();
  void newline_indent();

  struct Frame {
    bool array;
    bool empty;
  };
  std::string& out_;
  bool pretty_;
  bool after_key_ = false;
  std::vector<Frame> stack_;
};

}  // namespace cairn
