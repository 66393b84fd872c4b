// The HTTP API's limits as agent configuration: Consul's `limits` block
// (http_max_conns_per_client; rpc_* keys join it once RPC exists) and
// `http_config` (response_headers, max_header_bytes), plus cairn's own keys for
// what Consul leaves to Go's net/http defaults (total connections, body size,
// first-byte, read and keep-alive idle timeouts). Defaults are the values the
// server used before they were configurable; docs/compatibility.md compares
// each with Consul.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/decode.h"
#include "common/duration.h"

namespace cairn::config {

struct Limits {
  int http_max_conns_per_client = 200;  // Consul's key and default
  // cairn: the rest have no Consul key.
  int http_max_conns = 10'000;
  // A new connection must send its first request byte this soon. Consul's
  // plain HTTP listener has no such deadline (its HTTPS one closes after
  // https_handshake_timeout, 5 s); 10 s is Go's usual ReadHeaderTimeout.
  Nanos http_first_byte_timeout = 10 * kSecond;
  Nanos http_read_timeout = 30 * kSecond;  // a started request must arrive whole
  // A keep-alive connection between requests. Longer than the clients' own
  // pools (Go's http.Transport: 90 s) so the client, not the server, closes
  // first and never sends a request on a connection being closed.
  Nanos http_idle_timeout = 120 * kSecond;
};

struct HttpConfig {
  std::map<std::string, std::string> response_headers;  // added to every answer
  int64_t max_header_bytes = 64 * 1024;                 // Consul's key; Go's default is 1 MiB
  int64_t max_body_bytes = 4 * 1024 * 1024;             // cairn: Consul has no general body limit
};

// Decode the `limits` and `http_config` blocks into the current values (merging).
void decode_limits(Decoder& d, const Value& v, Limits& out);
void decode_http_config(Decoder& d, const Value& v, HttpConfig& out);

}  // namespace cairn::config
