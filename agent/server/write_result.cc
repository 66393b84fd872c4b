#include "agent/server/write_result.h"

namespace cairn::server {

const char* write_code_name(WriteCode code) {
  switch (code) {
    case WriteCode::ok: return "ok";
    case WriteCode::conflict: return "conflict";
    case WriteCode::condition_failed: return "condition_failed";
    case WriteCode::not_found: return "not_found";
    case WriteCode::invalid: return "invalid";
    case WriteCode::unavailable: return "unavailable";
    case WriteCode::unknown_outcome: return "unknown_outcome";
  }
  return "unknown";
}

bool parse_write_code(std::string_view name, WriteCode& out) {
  for (WriteCode c : {WriteCode::ok, WriteCode::conflict, WriteCode::condition_failed,
                      WriteCode::not_found, WriteCode::invalid, WriteCode::unavailable,
                      WriteCode::unknown_outcome})
    if (name == write_code_name(c)) {
      out = c;
      return true;
    }
  return false;
}

}  // namespace cairn::server
