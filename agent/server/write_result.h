// What a replicated write came to, as a typed value.
//
// The same result travels to HTTP today and to the server RPC next: each
// transport maps the code to its own answer (HTTP: Consul's status codes).
// The codes keep apart what a client must treat differently: a write that
// was refused (nothing happened), one that could not be tried (nothing
// happened, try again), and one whose fate is unknown (it may have been
// applied: never report it as failed).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace cairn::server {

enum class WriteCode : uint8_t {
  ok,
  conflict,          // the rows kept moving under the plan: retries ran out
  condition_failed,  // a condition the client set did not hold (CAS, lock held, lock-delay)
  not_found,         // the thing the write names does not exist
  invalid,           // the plan refused the request (Consul's validation errors)
  unavailable,       // the store cannot take writes now (no quorum, member down): not applied
  unknown_outcome,   // sent, but no answer came: it may or may not have been applied
};

const char* write_code_name(WriteCode code);
// The name back to a code (the RPC carries names); false for an unknown name.
bool parse_write_code(std::string_view name, WriteCode& out);

// A plan's verdict. Built from a string so that existing plans, which return
// "" or Consul's error text, stay valid: a non-empty text is `invalid`.
struct PlanStatus {
  WriteCode code = WriteCode::ok;
  std::string message;

  PlanStatus() = default;
  PlanStatus(std::string error)  // NOLINT(google-explicit-constructor): see above
      : code(error.empty() ? WriteCode::ok : WriteCode::invalid), message(std::move(error)) {}
  PlanStatus(const char* error) : PlanStatus(std::string(error)) {}  // NOLINT
  PlanStatus(WriteCode c, std::string m) : code(c), message(std::move(m)) {}
  static PlanStatus condition_failed() { return {WriteCode::condition_failed, {}}; }
  bool ok() const { return code == WriteCode::ok; }
};

struct WriteResult {
  WriteCode code = WriteCode::ok;
  std::string message;
  uint64_t index = 0;  // the index the write was applied at (ok), else the store's

  bool ok() const { return code == WriteCode::ok; }
  static WriteResult success(uint64_t index) { return {WriteCode::ok, {}, index}; }
  static WriteResult failure(WriteCode code, std::string message, uint64_t index = 0) {
    return {code, std::move(message), index};
  }
};

}  // namespace cairn::server
