#include "agent/config/http_limits.h"

#include <doctest/doctest.h>

#include "agent/config/config.h"

using namespace cairn;
using namespace cairn::config;

TEST_CASE("limits and http_config default to the server's former hard-coded values") {
  Config cfg;
  CHECK(cfg.limits.http_max_conns_per_client == 200);
  CHECK(cfg.limits.http_max_conns == 10'000);
  CHECK(cfg.limits.http_first_byte_timeout == 10 * kSecond);
  CHECK(cfg.limits.http_read_timeout == 30 * kSecond);
  CHECK(cfg.limits.http_idle_timeout == 120 * kSecond);
  CHECK(cfg.http_config.max_header_bytes == 64 * 1024);
  CHECK(cfg.http_config.max_body_bytes == 4 * 1024 * 1024);
  CHECK(cfg.http_config.response_headers.empty());
}

TEST_CASE("limits and http_config decode from YAML and Consul JSON") {
  Config cfg;
  merge_file(cfg, "a.yaml",
             "limits:\n  http_max_conns_per_client: 7\n  http_max_conns: 9\n"
             "  http_first_byte_timeout: 2s\n  http_read_timeout: 3s\n  http_idle_timeout: 4s\n"
             "http_config:\n  max_header_bytes: 4096\n  max_body_bytes: 0\n"
             "  response_headers:\n    Access-Control-Allow-Origin: \"*\"\n");
  CHECK(cfg.limits.http_max_conns_per_client == 7);
  CHECK(cfg.limits.http_max_conns == 9);
  CHECK(cfg.limits.http_first_byte_timeout == 2 * kSecond);
  CHECK(cfg.limits.http_read_timeout == 3 * kSecond);
  CHECK(cfg.limits.http_idle_timeout == 4 * kSecond);
  CHECK(cfg.http_config.max_header_bytes == 4096);
  CHECK(cfg.http_config.max_body_bytes == 0);
  CHECK(cfg.http_config.response_headers.at("Access-Control-Allow-Origin") == "*");

  // Consul's JSON spelling; a zero or negative max_header_bytes means the default (as in Go).
  merge_file(cfg, "b.json", R"({"http_config": {"max_header_bytes": 0,
      "response_headers": {"X-Frame-Options": "DENY"}}})");
  CHECK(cfg.http_config.max_header_bytes == 64 * 1024);
  CHECK(cfg.http_config.response_headers.size() == 2);  // merged
}

TEST_CASE("bad limits are refused with the file and key") {
  auto fails_with = [](const std::string& yaml, const std::string& message) {
    Config cfg;
    try {
      merge_file(cfg, "bad.yaml", yaml);
      FAIL("accepted: " << yaml);
    } catch (const DecodeError& e) {
      CHECK_MESSAGE(format_decode_error(e).find(message) != std::string::npos,
                    format_decode_error(e));
      CHECK(format_decode_error(e).find("bad.yaml") == 0);
    }
  };
  fails_with("limits:\n  http_idle_timeout: 0s\n", "at least 1ms");
  fails_with("limits:\n  http_max_conns: 0\n", "http_max_conns");
  fails_with("limits:\n  rpc_rates: 10\n", "rpc_rates");  // not a Consul key
  fails_with("http_config:\n  response_headers:\n    X-A: \"a\\r\\nSet-Cookie: b\"\n", "CR, LF");
  fails_with("http_config:\n  response_headers:\n    \"X A\": b\n", "valid HTTP token");
  fails_with("http_config:\n  max_body_bytes: -1\n", "max_body_bytes");
}
