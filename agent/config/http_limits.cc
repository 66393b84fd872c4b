#include "agent/config/http_limits.h"

#include <cctype>
#include <cstdint>
#include <string_view>

#include "agent/config/settings_support.h"

namespace cairn::config {

namespace {

Nanos positive_duration(Decoder& d, const Value& v) {
  Nanos n = d.duration(v);
  if (n < kMillisecond) d.fail(v, "must be at least 1ms");
  return n;
}

bool is_token_char(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// A header the server writes verbatim must not be able to split the response.
void check_response_header(Decoder& d, const Value& at, const std::string& name,
                           const std::string& value) {
  if (name.empty()) d.fail(at, "header name must not be empty");
  for (unsigned char c : name)
    if (!is_token_char(c)) d.fail(at, "header name \"" + name + "\" is not a valid HTTP token");
  for (unsigned char c : value)
    if (c == '\r' || c == '\n' || c == '\0')
      d.fail(at, "value of header \"" + name + "\" must not contain CR, LF or NUL");
}

}  // namespace

void decode_limits(Decoder& d, const Value& v, Limits& out) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "httpmaxconnsperclient")
      out.http_max_conns_per_client = static_cast<int>(d.integer(f, 1, 1 << 20));
    else if (k == "httpmaxconns")
      out.http_max_conns = static_cast<int>(d.integer(f, 1, 1 << 20));
    else if (k == "httpfirstbytetimeout")
      out.http_first_byte_timeout = positive_duration(d, f);
    else if (k == "httpreadtimeout")
      out.http_read_timeout = positive_duration(d, f);
    else if (k == "httpidletimeout")
      out.http_idle_timeout = positive_duration(d, f);
    else
      return decode_classified_key(d, "limits", k, f);
    return true;
  });
}

void decode_http_config(Decoder& d, const Value& v, HttpConfig& out) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "responseheaders") {
      for (auto& [name, value] : d.string_map(f)) {
        check_response_header(d, f, name, value);
        out.response_headers[name] = value;
      }
    } else if (k == "maxheaderbytes") {
      // Consul (Go): zero or negative means the default.
      int64_t n = d.integer(f, INT32_MIN, 16 * 1024 * 1024);
      out.max_header_bytes = n > 0 ? n : HttpConfig{}.max_header_bytes;
    } else if (k == "maxbodybytes")
      out.max_body_bytes = d.integer(f, 0, 1LL << 30);
    else if (k == "usecache") {
      // Consul's default, true, is cairn's only behaviour: ?cached reads the store.
      if (!d.boolean(f)) note_no_effect("http_config.use_cache");
    }
    else
      return decode_classified_key(d, "http_config", k, f);
    return true;
  });
}

}  // namespace cairn::config
