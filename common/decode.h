// Typed reads from a Value with errors that name the file, line and field.
//
// Decoders for concrete types (service definitions, checks, agent config) are
// written against this so every source (YAML, Consul JSON files, HTTP bodies)
// reports mistakes the same way: "web.yaml:7: services[0].port: expected an
// integer, got \"http\"". Errors are thrown as DecodeError and caught at the
// boundary (config loader, HTTP handler); decoding is never on a hot path.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "common/value.h"

namespace cairn {

class DecodeError : public std::runtime_error {
 public:
  DecodeError(std::string file, int line, std::string path, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& path() const { return path_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  std::string path_;
  std::string message_;
};

class Decoder {
 public:
  // file is empty for HTTP bodies. strict: unknown keys are errors (config
  // files); HTTP bodies ignore them as Go's encoding/json does.
  Decoder(std::string file, bool strict) : file_(std::move(file)), strict_(strict) {}

  bool strict() const { return strict_; }
  const std::string& file() const { return file_; }

  // Path segments, pushed for the duration of a nested decode.
  class Scope {
   public:
    Scope(Decoder& d, std::string_view key);
    Scope(Decoder& d, size_t index);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Decoder& d_;
    size_t old_size_;
  };

  [[noreturn]] void fail(const Value& at, std::string message) const;
  std::string path() const { return path_; }

  // Visits each field of an object with its normalized key. The visitor
  // returns false for a key it does not know: an error when strict.
  void object(const Value& v, const std::function<bool(std::string_view key, const Value&)>& f);
  void array(const Value& v, const std::function<void(const Value&)>& f);

  std::string str(const Value& v) const;
  int64_t integer(const Value& v, int64_t min, int64_t max) const;
  uint64_t uinteger(const Value& v) const;
  double number(const Value& v) const;
  bool boolean(const Value& v) const;
  // A Go duration string; a bare number means nanoseconds (Consul's JSON rule).
  Nanos duration(const Value& v) const;
  std::vector<std::string> strings(const Value& v);
  std::map<std::string, std::string> string_map(const Value& v);
  std::map<std::string, std::vector<std::string>> string_list_map(const Value& v);

 private:
  std::string file_;
  bool strict_;
  std::string path_;
};

// "file:line: path: message" (parts left out when unknown).
std::string format_decode_error(const DecodeError& e);

}  // namespace cairn
