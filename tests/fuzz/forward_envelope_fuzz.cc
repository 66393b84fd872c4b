// A forwarded request or answer from a peer cairn does not control: decoding
// must refuse with a typed status, never read past the input, and whatever it
// accepts must encode back to an envelope that decodes the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/forward/http_envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  cairn::http::Request req;
  std::string origin;
  if (cairn::forward::decode_request(in, req, origin).ok()) {
    std::string again;
    cairn::forward::encode_request(req, origin, again);
    cairn::http::Request req2;
    std::string origin2;
    if (!cairn::forward::decode_request(again, req2, origin2).ok() || req2.target != req.target ||
        req2.body != req.body || origin2 != origin)
      __builtin_trap();
  }
  cairn::http::Response resp;
  if (cairn::forward::decode_response(in, resp).ok()) {
    std::string again;
    cairn::forward::encode_response(resp, again);
    cairn::http::Response resp2;
    if (!cairn::forward::decode_response(again, resp2).ok() || resp2.status != resp.status ||
        resp2.body != resp.body)
      __builtin_trap();
  }
  return 0;
}
