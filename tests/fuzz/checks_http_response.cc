// Fuzzes what an HTTP check reads from a target it does not control: the
// response parser (fed in pieces, as reads split it), the redirect Location
// resolution, and URL parsing. Nothing may crash, and memory stays bounded.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/checks/check_url.h"
#include "agent/checks/http_response.h"

using cairn::checks::HttpResponseParser;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // First byte: read size (1-256); second: body cap and HEAD flag.
  size_t step = static_cast<size_t>(data[0]) + 1;
  size_t cap = static_cast<size_t>(data[1] & 0x7f) * 64;
  bool head = data[1] & 0x80;
  const char* p = reinterpret_cast<const char*>(data + 2);
  size_t n = size - 2;

  static HttpResponseParser parser;  // reused across inputs, as a check reuses it across runs
  parser.reset(cap, head);
  HttpResponseParser::State st = HttpResponseParser::State::incomplete;
  for (size_t off = 0; off < n && st == HttpResponseParser::State::incomplete; off += step)
    st = parser.feed(p + off, std::min(step, n - off));
  if (st == HttpResponseParser::State::incomplete) st = parser.finish_eof();
  if (parser.body().size() > cap) __builtin_trap();
  if (parser.location().size() > HttpResponseParser::kMaxLocation) __builtin_trap();

  if (parser.has_location())
    (void)cairn::checks::resolve_location("http://127.0.0.1:8080/a/b?q", parser.location());
  std::string err;
  (void)cairn::checks::parse_check_url(std::string(p, n), &err);
  return 0;
}
