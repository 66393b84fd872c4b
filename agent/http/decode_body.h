// Reading a request's JSON body: parse it, decode it, or answer 400 in
// Consul's words ("Request decode failed: ...").
#pragma once

#include <utility>

#include "agent/http/reply.h"
#include "agent/http/router.h"
#include "common/decode.h"
#include "common/value.h"

namespace cairn::http_api {

// Parses a JSON request body; on failure answers 400 and returns false.
bool parse_json_body(const ExchangePtr& ex, Value& out, bool allow_empty = false);

// Parses the body and runs decode(Decoder&, const Value& body) on it; answers
// 400 and returns false when the body is not a JSON object or decode throws.
template <class Decode>
bool decode_json_body(const ExchangePtr& ex, Decode&& decode, bool allow_empty = false) {
  Value body;
  if (!parse_json_body(ex, body, allow_empty)) return false;
  try {
    Decoder d("", false);
    std::forward<Decode>(decode)(d, body);
  } catch (const DecodeError& e) {
    respond_error(ex, 400, "Request decode failed: " + format_decode_error(e));
    return false;
  }
  return true;
}

}  // namespace cairn::http_api
