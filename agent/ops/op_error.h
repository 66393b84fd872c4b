// Why a request was refused before it reached the writer, in a form every
// transport can answer: the HTTP API turns it into Consul's status and text,
// and the server RPC sends the code and message over the wire. The messages
// are Consul's (or documented cairn ones) because clients and the
// integration tests match them byte for byte.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/state/input_limits.h"

namespace cairn::ops {

enum class OpErrorCode {
  invalid,    // malformed or contradictory input
  limit,      // an input limit refused it (counted per limit by the HTTP API)
  too_large,  // a value or a transaction over its size bound
};

struct OpError {
  OpErrorCode code = OpErrorCode::invalid;
  std::string message;
  // For OpErrorCode::limit: the limit's name, a metric label (static storage).
  std::string_view limit;

  // The status Consul's HTTP API answers with: 413 for oversized input, 400
  // otherwise (a refused limit is a bad request too).
  int http_status() const { return code == OpErrorCode::too_large ? 413 : 400; }
};

// No error, or the reason a request is refused.
using OpCheck = std::optional<OpError>;

inline OpError invalid_input(std::string message) {
  return OpError{OpErrorCode::invalid, std::move(message), {}};
}
inline OpError too_large(std::string message) {
  return OpError{OpErrorCode::too_large, std::move(message), {}};
}
inline OpError limit_refused(const state::LimitError& e) {
  return OpError{OpErrorCode::limit, e.message, e.limit};
}

}  // namespace cairn::ops
