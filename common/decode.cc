#include "common/decode.h"

#include <charconv>
#include <cmath>

#include "common/utf8.h"

namespace cairn {

namespace {

std::string describe(const Value& v) {
  switch (v.kind) {
    case Value::Kind::null: return "null";
    case Value::Kind::boolean: return v.b ? "true" : "false";
    case Value::Kind::integer: return std::to_string(v.i);
    case Value::Kind::uinteger: return std::to_string(v.u);
    case Value::Kind::number: return "a number";
    case Value::Kind::string:
    case Value::Kind::scalar: {
      std::string s = v.s.size() > 40 ? v.s.substr(0, 40) + "..." : v.s;
      return "\"" + s + "\"";
    }
    case Value::Kind::array: return "a list";
    case Value::Kind::object: return "a map";
  }
  return "?";
}

}  // namespace

DecodeError::DecodeError(std::string file, int line, std::string path, std::string message)
    : std::runtime_error(message),
      file_(std::move(file)),
      line_(line),
      path_(std::move(path)),
      message_(std::move(message)) {}

std::string format_decode_error(const DecodeError& e) {
  std::string out;
  if (!e.file().empty()) {
    out += e.file();
    if (e.line() > 0) out += ":" + std::to_string(e.line());
    out += ": ";
  }
  if (!e.path().empty()) out += e.path() + ": ";
  out += e.message();
  return out;
}

Decoder::Scope::Scope(Decoder& d, std::string_view key) : d_(d), old_size_(d.path_.size()) {
  if (!d_.path_.empty()) d_.path_ += '.';
  d_.path_ += key;
}

Decoder::Scope::Scope(Decoder& d, size_t index) : d_(d), old_size_(d.path_.size()) {
  d_.path_ += "[" + std::to_string(index) + "]";
}

Decoder::Scope::~Scope() { d_.path_.resize(old_size_); }

void Decoder::fail(const Value& at, std::string message) const {
  throw DecodeError(file_, at.line, path_, std::move(message));
}

void Decoder::object(const Value& v, const std::function<bool(std::string_view, const Value&)>& f) {
  if (v.is_null()) return;
  if (v.kind != Value::Kind::object) fail(v, "expected a map, got " + describe(v));
  // Keys match case- and underscore-insensitively, so "NodeName" and
  // "node_name" are one field: in a config file, giving it twice is a mistake
  // that last-wins (or, for lists, both-apply) would hide.
  std::map<std::string, std::string_view> spelled_as;
  for (const auto& [key, field] : v.fields) {
    Scope scope(*this, key);
    std::string normalized = normalize_key(key);
    if (strict_) {
      auto [first, fresh] = spelled_as.emplace(normalized, key);
      if (!fresh)
        fail(field, "duplicate field (also given as \"" + std::string(first->second) + "\")");
    }
    if (!f(normalized, field) && strict_) fail(field, "unknown field");
  }
}

void Decoder::array(const Value& v, const std::function<void(const Value&)>& f) {
  if (v.is_null()) return;
  if (v.kind != Value::Kind::array) fail(v, "expected a list, got " + describe(v));
  for (size_t i = 0; i < v.items.size(); ++i) {
    Scope scope(*this, i);
    f(v.items[i]);
  }
}

std::string Decoder::str(const Value& v) const {
  if (v.kind == Value::Kind::string || v.kind == Value::Kind::scalar) {
    if (v.kind == Value::Kind::scalar && v.is_null()) return "";
    if (!is_valid_utf8(v.s)) fail(v, "not valid UTF-8");
    return v.s;
  }
  if (v.kind == Value::Kind::null) return "";
  fail(v, "expected a string, got " + describe(v));
}

int64_t Decoder::integer(const Value& v, int64_t min, int64_t max) const {
  int64_t out = 0;
  if (v.kind == Value::Kind::integer) {
    out = v.i;
  } else if (v.kind == Value::Kind::number && std::floor(v.d) == v.d && std::fabs(v.d) < 9e18) {
    out = static_cast<int64_t>(v.d);
  } else if (v.kind == Value::Kind::scalar) {
    auto r = std::from_chars(v.s.data(), v.s.data() + v.s.size(), out);
    if (r.ec != std::errc() || r.ptr != v.s.data() + v.s.size())
      fail(v, "expected an integer, got " + describe(v));
  } else {
    fail(v, "expected an integer, got " + describe(v));
  }
  if (out < min || out > max)
    fail(v, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                std::to_string(out));
  return out;
}

uint64_t Decoder::uinteger(const Value& v) const {
  if (v.kind == Value::Kind::uinteger) return v.u;
  if (v.kind == Value::Kind::integer && v.i >= 0) return static_cast<uint64_t>(v.i);
  if (v.kind == Value::Kind::scalar) {
    uint64_t out = 0;
    auto r = std::from_chars(v.s.data(), v.s.data() + v.s.size(), out);
    if (r.ec == std::errc() && r.ptr == v.s.data() + v.s.size()) return out;
  }
  fail(v, "expected a non-negative integer, got " + describe(v));
}

double Decoder::number(const Value& v) const {
  switch (v.kind) {
    case Value::Kind::integer: return static_cast<double>(v.i);
    case Value::Kind::uinteger: return static_cast<double>(v.u);
    case Value::Kind::number: return v.d;
    case Value::Kind::scalar: {
      try {
        size_t used = 0;
        double d = std::stod(v.s, &used);
        if (used == v.s.size()) return d;
      } catch (...) {
      }
      break;
    }
    default: break;
  }
  fail(v, "expected a number, got " + describe(v));
}

bool Decoder::boolean(const Value& v) const {
  if (v.kind == Value::Kind::boolean) return v.b;
  if (v.kind == Value::Kind::scalar) {
    if (v.s == "true" || v.s == "True" || v.s == "TRUE") return true;
    if (v.s == "false" || v.s == "False" || v.s == "FALSE") return false;
  }
  fail(v, "expected true or false, got " + describe(v));
}

Nanos Decoder::duration(const Value& v) const {
  if (v.is_null()) return 0;
  if (v.kind == Value::Kind::integer) return v.i;
  if (v.kind == Value::Kind::string || v.kind == Value::Kind::scalar) {
    if (auto d = parse_duration(v.s)) return *d;
    if (v.kind == Value::Kind::scalar) {
      // YAML plain numbers are nanoseconds, as JSON numbers are.
      int64_t n = 0;
      auto r = std::from_chars(v.s.data(), v.s.data() + v.s.size(), n);
      if (r.ec == std::errc() && r.ptr == v.s.data() + v.s.size()) return n;
    }
    // HTTP bodies are Consul's JSON: its decoders answer with Go's own text,
    // which clients match on; files keep the hint below.
    if (!strict_) fail(v, duration_error(v.s));
  }
  fail(v, "expected a duration like \"10s\" or \"1m30s\", got " + describe(v));
}

std::vector<std::string> Decoder::strings(const Value& v) {
  std::vector<std::string> out;
  array(v, [&](const Value& item) { out.push_back(str(item)); });
  return out;
}

std::map<std::string, std::string> Decoder::string_map(const Value& v) {
  std::map<std::string, std::string> out;
  if (v.is_null()) return out;
  if (v.kind != Value::Kind::object) fail(v, "expected a map, got " + describe(v));
  for (const auto& [key, item] : v.fields) {
    Scope scope(*this, key);
    if (!is_valid_utf8(key)) fail(item, "key is not valid UTF-8");
    out[key] = str(item);
  }
  return out;
}

std::map<std::string, std::vector<std::string>> Decoder::string_list_map(const Value& v) {
  std::map<std::string, std::vector<std::string>> out;
  if (v.is_null()) return out;
  if (v.kind != Value::Kind::object) fail(v, "expected a map, got " + describe(v));
  for (const auto& [key, item] : v.fields) {
    Scope scope(*this, key);
    if (!is_valid_utf8(key)) fail(item, "key is not valid UTF-8");
    out[key] = strings(item);
  }
  return out;
}

}  // namespace cairn
