// cairn's own dns_config keys for the limits of the agent's DNS interface
// (Consul hard-codes them inside miekg/dns and its recursor). The defaults
// are the values cairn had built in; each limit that fires is counted in
// /v1/agent/metrics (docs/compatibility.md lists them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/duration.h"

namespace cairn {
class Decoder;
struct Value;
}  // namespace cairn

namespace cairn::config {

struct DnsLimits {
  // Open DNS-over-TCP connections; the next one is closed at accept.
  size_t tcp_max_connections = 1024;
  // A TCP connection with no complete query for this long is closed
  // (miekg/dns's default, which Consul uses).
  Nanos tcp_idle_timeout = 8 * kSecond;
  // Answers queued for a TCP client that does not read them; beyond it the
  // connection is closed.
  size_t tcp_max_queued_bytes = 1024 * 1024;
  // Queries of one TCP connection being answered at once (waiting on
  // recursors); reading from it pauses beyond it.
  uint32_t tcp_max_in_flight = 64;
  // Queries waiting on recursors at once; beyond it a query is answered
  // SERVFAIL at once.
  size_t recursor_max_in_flight = 4096;
};

// Decodes one dns_config key (normalized: lower case, no underscores) when it
// is one of the limits above. False for any other key.
bool decode_dns_limit(Decoder& d, std::string_view key, const Value& v, DnsLimits& out);

}  // namespace cairn::config
