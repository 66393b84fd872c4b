#include "agent/forward/http_envelope.h"

#include <doctest/doctest.h>

using namespace cairn;
using namespace cairn::forward;

namespace {

http::Request sample_request() {
  http::Request r;
  r.method = "GET";
  r.target = "/v1/kv/a%2Fb?index=7&wait=1s&near=_agent";
  r.headers = {{"x-consul-token", "t"},
               {"connection", "keep-alive"},
               {"content-length", "0"},
               {"host", "127.0.0.1:8500"}};
  r.body = std::string("\0body", 5);
  return r;
}

}  // namespace

TEST_CASE("a forwarded request arrives as the HTTP server would have parsed it") {
  std::string bytes;
  encode_request(sample_request(), "client-1", bytes);
  http::Request got;
  std::string origin;
  REQUIRE(decode_request(bytes, got, origin).ok());
  CHECK(origin == "client-1");
  CHECK(got.method == "GET");
  CHECK(got.path == "/v1/kv/a/b");
  CHECK(got.raw_path == "/v1/kv/a%2Fb");
  REQUIRE(got.param("index") != nullptr);
  CHECK(*got.param("index") == "7");
  CHECK(got.has_param("near"));
  // Only what describes the request crosses: not the client connection's headers.
  REQUIRE(got.headers.size() == 1);
  CHECK(got.headers[0].first == "x-consul-token");
  CHECK(got.body == std::string("\0body", 5));
}

TEST_CASE("a response keeps its status, headers and body") {
  http::Response r = http::Response::json("[1]", 200);
  r.set_header("X-Consul-Index", "42");
  std::string bytes;
  encode_response(r, bytes);
  http::Response got;
  REQUIRE(decode_response(bytes, got).ok());
  CHECK(got.status == 200);
  REQUIRE(got.header("X-Consul-Index") != nullptr);
  CHECK(*got.header("X-Consul-Index") == "42");
  CHECK(got.body == "[1]");
}

TEST_CASE("every truncation, a wrong version and trailing bytes are refused, typed") {
  std::string bytes;
  encode_request(sample_request(), "c", bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    http::Request r;
    std::string origin;
    CHECK_FALSE(decode_request(std::string_view(bytes).substr(0, n), r, origin).ok());
  }
  http::Request r;
  std::string origin;
  CHECK(decode_request(bytes + "x", r, origin).code == EnvelopeStatus::Code::bad_field);
  std::string v2 = bytes;
  v2[0] = 2;
  CHECK(decode_request(v2, r, origin).code == EnvelopeStatus::Code::bad_version);
  http::Response resp;
  std::string bad_status = std::string("\x01\x00\x05\x00\x00", 5) + std::string(4, '\0');
  CHECK(decode_response(bad_status, resp).code == EnvelopeStatus::Code::bad_field);
}

TEST_CASE("a header count over the bound is refused before anything is read") {
  http::Response resp;
  CHECK(decode_response(std::string(1, 1) + std::string("\x00\xc8", 2) + "\xff\xff", resp).code ==
        EnvelopeStatus::Code::too_many_headers);
}
