// Reads the fields of a JSON object (simdjson DOM) with typed, optional
// fields and a first-error-wins report, for decoders of machine-written JSON
// (the etcd gateway's answers, rows cairn stores in etcd). Human-written
// config and HTTP bodies go through Value and Decoder instead, which name
// file, line and path.
#pragma once

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/base64.h"

namespace cairn {

// Parses json with parser, copying it into one reused, padded buffer per
// thread: simdjson needs padding after the text, and parse(ptr, len) would
// otherwise allocate a padded copy for every message (every watch line and
// every row of a re-list). The document lives in the parser's own buffers,
// so the scratch copy can be reused by the next parse, by any parser.
inline simdjson::simdjson_result<simdjson::dom::element> parse_document(
    simdjson::dom::parser& parser, std::string_view json) {
  thread_local std::string scratch;
  scratch.assign(json);
  scratch.resize(json.size() + simdjson::SIMDJSON_PADDING);
  return parser.parse(scratch.data(), json.size(), false);
}

// Reads the fields of one object; the first problem is kept in `error` and
// every later read becomes a no-op, so decoders read straight through.
class FieldReader {
  using array = simdjson::dom::array;
  using element = simdjson::dom::element;
  using element_type = simdjson::dom::element_type;
  using object = simdjson::dom::object;

 public:
  explicit FieldReader(std::string& error) : error_(error) {}

  bool failed() const { return !error_.empty(); }
  void fail(std::string_view field, std::string_view why) {
    if (error_.empty()) error_ = std::string(field) + ": " + std::string(why);
  }

  // int64 written as a JSON string (the gateway's form) or a number.
  void int64(object o, std::string_view field, int64_t& out) {
    element e;
    if (failed() || o[field].get(e)) return;
    if (e.type() == element_type::INT64) {
      out = e.get_int64().value_unsafe();
      return;
    }
    if (e.type() == element_type::UINT64) return fail(field, "out of the int64 range");
    std::string_view s;
    if (e.get_string().get(s)) return fail(field, "expected an integer");
    auto res = std::from_chars(s.data(), s.data() + s.size(), out);
    if (res.ec != std::errc() || res.ptr != s.data() + s.size()) fail(field, "expected an integer");
  }

  void uint64(object o, std::string_view field, uint64_t& out) {
    element e;
    if (failed() || o[field].get(e)) return;
    if (e.type() == element_type::UINT64 || e.type() == element_type::INT64) {
      if (e.get_uint64().get(out)) fail(field, "expected an unsigned integer");
      return;
    }
    std::string_view s;
    if (e.get_string().get(s)) return fail(field, "expected an unsigned integer");
    auto res = std::from_chars(s.data(), s.data() + s.size(), out);
    if (res.ec != std::errc() || res.ptr != s.data() + s.size())
      fail(field, "expected an unsigned integer");
  }

  void boolean(object o, std::string_view field, bool& out) {
    element e;
    if (failed() || o[field].get(e)) return;
    if (e.get_bool().get(out)) fail(field, "expected a boolean");
  }

  void text(object o, std::string_view field, std::string& out) {
    element e;
    if (failed() || o[field].get(e)) return;
    std::string_view s;
    if (e.get_string().get(s)) return fail(field, "expected a string");
    out.assign(s);
  }

  // bytes fields: standard base64 with padding.
  void bytes(object o, std::string_view field, std::string& out) {
    std::string encoded;
    text(o, field, encoded);
    if (failed() || encoded.empty()) return;
    auto decoded = base64_decode(encoded);
    if (!decoded) return fail(field, "invalid base64");
    out = std::move(*decoded);
  }

  void strings(object o, std::string_view field, std::vector<std::string>& out) {
    element e;
    if (failed() || o[field].get(e)) return;
    array a;
    if (e.get_array().get(a)) return fail(field, "expected an array");
    for (element item : a) {
      std::string_view s;
      if (item.get_string().get(s)) return fail(field, "expected an array of strings");
      out.emplace_back(s);
    }
  }

  void string_map(object o, std::string_view field, std::map<std::string, std::string>& out) {
    object sub;
    if (!sub_object(o, field, sub)) return;
    for (auto kv : sub) {
      std::string_view v;
      if (kv.value.get_string().get(v)) return fail(field, "expected string values");
      out.emplace(std::string(kv.key), std::string(v));
    }
  }

  // An optional sub-object; false when absent. A present non-object fails.
  bool sub_object(object o, std::string_view field, object& out) {
    element e;
    if (failed() || o[field].get(e)) return false;
    if (e.get_object().get(out)) {
      fail(field, "expected an object");
      return false;
    }
    return true;
  }

  // An optional array of objects; absent means empty.
  template <typename F>
  void objects(object o, std::string_view field, F&& each) {
    element e;
    if (failed() || o[field].get(e)) return;
    array a;
    if (e.get_array().get(a)) return fail(field, "expected an array");
    for (element item : a) {
      object sub;
      if (item.get_object().get(sub)) return fail(field, "expected an array of objects");
      each(sub);
      if (failed()) return;
    }
  }

 private:
  std::string& error_;
};

}  // namespace cairn
