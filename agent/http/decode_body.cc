#include "agent/http/decode_body.h"

namespace cairn::http_api {

// Bodies are bounded by the server's limit; JSON nesting by the parser's depth limit.
bool parse_json_body(const ExchangePtr& ex, Value& out, bool allow_empty) {
  const std::string& body = ex->request.body;
  bool blank = body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) {
    if (allow_empty) {
      out = Value{};
      return true;
    }
    respond_error(ex, 400, "Request decode failed: empty body, expected a JSON object");
    return false;
  }
  ParseError err;
  if (!parse_json(body, out, err)) {
    respond_error(ex, 400, "Request decode failed: " + err.message);
    return false;
  }
  if (!out.is_object()) {
    respond_error(ex, 400, "Request decode failed: expected a JSON object");
    return false;
  }
  return true;
}

}  // namespace cairn::http_api
